"""The expected-error tier: messages here are written for the user and safe to show.

Anything that is not one of these is a bug and goes to the crash dialog (desktop/views/crash.py).
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


_STORAGE_HINTS = {
    "database is locked": "The workspace is busy in another window or program. Close it there and try again.",
    "database or disk is full": "The disk is full. Free some space and try again; nothing was saved.",
    "attempt to write a readonly database": "The workspace file is read-only. Copy it somewhere you can write "
    "to, or change its permissions.",
    "file is not a database": "This file is not a Locality Desk workspace, or it is damaged.",
    "database disk image is malformed": "The workspace file is damaged. Restore it from a backup.",
    "unable to open database file": "The workspace file cannot be opened. Check the folder exists and you "
    "may write to it.",
}


def translate_sqlite_error(exc: sqlite3.Error, path: object = None) -> Exception:
    """Map an sqlite3 error onto the two tiers, once, here (STYLE practice 10)."""
    text = str(exc).lower()
    for needle, hint in _STORAGE_HINTS.items():
        if needle in text:
            where = f" ({path})" if path else ""
            return StorageUnavailable(f"{hint}{where}")
    return exc
