"""Writing a file that names patients (a worklist, the rejected rows of an extract): marked OFFICIAL-SENSITIVE,
never onto the workspace or its backups (outputs.check_output), whole or nothing (outputs.atomic_output), and
audited in the same transaction, so a refused audit entry leaves no file and a failed write no audit entry."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from ..outputs import atomic_output, check_output

# The Government Security Classification marking of patient-identifiable data.
MARKING = "OFFICIAL-SENSITIVE"


def marked(out: str | Path) -> Path:
    """*out* with the marking in its name (cha-new.csv -> cha-new.OFFICIAL-SENSITIVE.csv), unless it has it."""
    out = Path(out)
    return out if MARKING.lower() in out.name.lower() else out.with_name(f"{out.stem}.{MARKING}{out.suffix}")


def workspace_of(db: sqlite_utils.Database) -> list[Path]:
    """The file *db* is open on (none for a database in memory), for check_output to protect."""
    return [Path(row[2]) for row in db.execute("PRAGMA database_list").fetchall() if row[1] == "main" and row[2]]


@contextlib.contextmanager
def written(db: sqlite_utils.Database, out: str | Path) -> Iterator[Path]:
    """A path to write in place of *out*, inside a transaction: write it and audit the export in the block; *out*
    appears, in one rename, only when the block ends without an error (and the audit entry only with it)."""
    out = Path(out)
    if out.is_dir() or not out.parent.is_dir():
        # What the file system itself refuses, as opening the file would have said it: the screens word an OSError
        # as a file that cannot be written (open in Excel, perhaps), naming *out*.
        code = errno.EISDIR if out.is_dir() else errno.ENOENT
        raise (IsADirectoryError if out.is_dir() else FileNotFoundError)(code, os.strerror(code), str(out))
    check_output(out, workspace_of(db))
    with db.atomic(), atomic_output(out) as temp:
        yield temp
