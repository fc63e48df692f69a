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


RESTORE_HINT = ("Restore it from a backup (File → Restore from backup), or open another workspace; "
                "the damaged file was left as it is.")

_STORAGE_HINTS = {
    "database is locked": "The workspace is busy in another window or program, so this change was not saved "
    "(everything saved before is kept). Finish or close the work there and try again.",
    "database table is locked": "The workspace is busy in another window or program, so this change was not saved "
    "(everything saved before is kept). Finish or close the work there and try again.",
    "database or disk is full": "The disk is full, so this change was not saved (everything saved before is kept). "
    "Free some space and try again.",
    "attempt to write a readonly database": "The workspace file is read-only, so this change was not saved. Copy "
    "it to a folder you can write to, or change its permissions, and open it again.",
    "file is not a database": "This file is not a Locality Desk workspace, or it is damaged. " + RESTORE_HINT,
    "database disk image is malformed": "The workspace file is damaged. " + RESTORE_HINT,
    "disk i/o error": "The workspace file could not be read or written (a disk or network problem?); this change "
    "was not saved. Check the drive and try again.",
    "unable to open database file": "The workspace file cannot be opened. Check the folder exists and you "
    "may write to it.",
}


def translate_sqlite_error(exc: sqlite3.Error, path: object = None) -> Exception:
    """Map an sqlite3 error onto the two tiers, once, here (STYLE practice 10).

    Storage problems become a StorageError (a DeskError the user reads); anything else is returned as it is.
    """
    if isinstance(exc, DeskError):
        return exc
    text = str(exc).lower()
    for needle, hint in _STORAGE_HINTS.items():
        if needle in text:
            where = f" ({path})" if path else ""
            return StorageError(f"{hint}{where}")
    return exc
