"""Opening a workspace: pragmas, the too-new guard, and migrations applied on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from .errors import SchemaTooNew, StorageUnavailable, translate_sqlite_error
from .migrations import MIGRATIONS, SCHEMA_VERSION


def open_workspace(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open (or create) the workspace at *path* and bring its schema up to date.

    A file written by a newer Locality Desk is refused before anything touches it.
    """
    path = Path(path)
    if not path.exists() and not create:
        raise StorageUnavailable(f"No workspace at {path}. Choose File → Open to pick another file.")
    if path.exists() and path.is_dir():
        raise StorageUnavailable(f"{path} is a folder, not a workspace file.")
    if path.exists():
        _refuse_if_too_new(path)
    try:
        conn = sqlite3.connect(str(path), timeout=5.0)
        db = sqlite_utils.Database(conn)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: imports touch tens of thousands of index pages
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal" and str(path) != ":memory:":
            raise StorageUnavailable(f"Cannot use write-ahead logging on {path}; is the folder read-only?")
        MIGRATIONS.apply(db)
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path) from exc
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def _refuse_if_too_new(path: Path) -> None:
    """Refuse, untouched, a file from a newer Locality Desk or a database some other program owns."""
    # Read-only URI connection: such a file must not be modified, not even by a WAL checkpoint.
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path) from exc
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path.name} was written by a newer Locality Desk (schema {version}; this version reads up to "
            f"{SCHEMA_VERSION}). Install the newer version to open it; the file was left untouched."
        )
    if tables and (version == 0 or "_sqlite_migrations" not in tables):
        raise StorageUnavailable(
            f"{path.name} is a database, but not a Locality Desk workspace (another program's file?). "
            "It was left untouched; choose a workspace file, or File → New to make one."
        )
