"""The expected-error tier: messages here are written for the user and safe to show.

Anything that is not one of these is a bug and goes to the crash dialog (desktop/views/shell/crash.py).
"""

from __future__ import annotations

import sqlite3


class DeskError(Exception):
    """Base of every error the user is meant to read."""

    exit_code = 1


class ValidationError(DeskError):
    """Input was refused; nothing was written."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class NotFound(DeskError):
    pass


class StorageUnavailable(DeskError):
    """The workspace file cannot be used: locked, full disk, read-only, damaged or too new."""


class SchemaTooNew(StorageUnavailable):
    pass


class StorageError(StorageUnavailable, sqlite3.OperationalError):
    """A storage failure SQLite reported while the workspace was in use: busy, full, read-only or damaged.

    Still an sqlite3.OperationalError, so code (ours or sqlite-utils') that catches those behaves as before;
    a DeskError, so the user reads the message instead of a traceback. The transaction it interrupted was
    rolled back: nothing of it was saved, and everything saved before is kept.
    """


class WorkspaceDamaged(StorageUnavailable):
    """PRAGMA quick_check found the file damaged when opening it; nothing was written to it."""


RESTORE_HINT = (
    "Restore it from a backup (File → Restore from backup), or open another workspace; "
    "the damaged file was left as it is."
)

_BUSY = (
    "The workspace is busy in another window or program, so this change was not saved (everything saved "
    "before is kept). Finish or close the work there and try again."
)

# Keyed by SQLite's primary result code, never by message text: an error whose message merely quotes these
# words (a trigger's RAISE, a table named "database is locked") is not a storage problem, and SQLite's own
# wording varies by version and by extended code (READONLY_DBMOVED, IOERR_FSYNC, CORRUPT_INDEX...).
_STORAGE_HINTS: dict[int, str] = {
    sqlite3.SQLITE_BUSY: _BUSY,
    sqlite3.SQLITE_LOCKED: _BUSY,  # another connection of this process holds the table
    sqlite3.SQLITE_FULL: "The disk is full, so this change was not saved (everything saved before is kept). "
    "Free some space and try again.",
    sqlite3.SQLITE_READONLY: "The workspace file is read-only, so this change was not saved. Copy it to a folder "
    "you can write to, or change its permissions, and open it again.",
    sqlite3.SQLITE_NOTADB: "This file is not a Locality Desk workspace, or it is damaged. " + RESTORE_HINT,
    sqlite3.SQLITE_CORRUPT: "The workspace file is damaged. " + RESTORE_HINT,
    sqlite3.SQLITE_IOERR: "The workspace file could not be read or written (a disk or network problem?); this "
    "change was not saved. Check the drive and try again.",
    sqlite3.SQLITE_CANTOPEN: "The workspace file cannot be opened. Check the folder exists and you may write to it.",
}
_DAMAGE_CODES = frozenset({sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT})


def sqlite_primary_code(exc: BaseException) -> int | None:
    """SQLite's primary result code for *exc*, or None when SQLite did not raise it.

    Python reports the extended code (SQLITE_IOERR_FSYNC, SQLITE_BUSY_SNAPSHOT...); its low byte is the primary
    code those share, and the user's remedy depends only on that.
    """
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def is_damage(exc: BaseException) -> bool:
    """True when SQLite found the file damaged or not a database at all (SQLITE_CORRUPT, SQLITE_NOTADB)."""
    return sqlite_primary_code(exc) in _DAMAGE_CODES


def translate_sqlite_error(exc: sqlite3.Error, path: object = None) -> Exception:
    """Map an sqlite3 error onto the two tiers, once, here (STYLE practice 10).

    Storage problems become a StorageError (a DeskError the user reads) carrying SQLite's code and name;
    anything else is returned as it is.
    """
    if isinstance(exc, DeskError):
        return exc
    hint = _STORAGE_HINTS.get(sqlite_primary_code(exc))
    if hint is None:
        return exc
    where = f" ({path})" if path else ""
    translated = StorageError(f"{hint}{where}")
    translated.sqlite_errorcode = exc.sqlite_errorcode
    translated.sqlite_errorname = getattr(exc, "sqlite_errorname", None)
    return translated
