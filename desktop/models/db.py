"""Opening a workspace: pragmas, the too-new guard, and migrations applied on open."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import NoReturn

import sqlite_utils

from . import clock
from .errors import (
    RESTORE_HINT,
    SchemaTooNew,
    StorageError,
    StorageUnavailable,
    WorkspaceDamaged,
    is_damage,
    translate_sqlite_error,
)
from .migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
# A full PRAGMA quick_check reads every page: ~0.45 s warm for the whole-LLR demo world (265 MB), far more
# when the file is not in the OS cache. Files up to this size (every single-locality workspace) are checked
# on every open (< ~0.25 s warm); a larger one at most once a day, the day recorded in meta.
CHECK_EVERY_OPEN_BYTES = 128 * 1024 * 1024
QUICK_CHECK_KEY = "quick_check_on"


class DeskConnection(sqlite3.Connection):
    """A connection whose storage failures (busy, full, read-only, damaged) arrive as StorageError, a DeskError
    the user reads, instead of a bare sqlite3 error that would reach the crash dialog.

    Errors are translated where statements run and transactions end (execute, executemany, executescript,
    commit, rollback, `with conn:`); rows fetched later from a cursor are not wrapped, to keep scans fast.
    """

    desk_path: object = None

    def cursor(self, factory: type[sqlite3.Cursor] | None = None) -> sqlite3.Cursor:
        return super().cursor(factory or DeskCursor)

    def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            _raise_translated(exc, self.desk_path)

    def executemany(self, sql: str, parameters: object, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            _raise_translated(exc, self.desk_path)

    def executescript(self, script: str, /) -> sqlite3.Cursor:
        try:
            return super().executescript(script)
        except sqlite3.Error as exc:
            _raise_translated(exc, self.desk_path)

    def commit(self) -> None:
        try:
            super().commit()
        except sqlite3.Error as exc:
            _raise_translated(exc, self.desk_path)

    def rollback(self) -> None:
        try:
            super().rollback()
        except sqlite3.Error as exc:
            _raise_translated(exc, self.desk_path)

    def __exit__(self, exc_type, exc, tb):
        try:
            return super().__exit__(exc_type, exc, tb)
        except sqlite3.Error as error:
            _raise_translated(error, self.desk_path)

    def close(self) -> None:
        try:
            wrote = self.total_changes and not self.in_transaction
        except sqlite3.ProgrammingError:  # closed already
            wrote = False
        if wrote:
            _capture_sync_marks(self)
        super().close()


def _capture_sync_marks(conn: sqlite3.Connection) -> None:
    """Give what this connection changed its sync clocks before the file is let go (desktop.models.sync.tracking).

    A workspace copied while closed (how a second laptop is set up) then holds no change its copies could each
    claim as their own later; clocks are made from the records themselves, so capturing now or at the next export
    gives the same ones. Best effort: a busy or read-only file is captured by the next export instead."""
    from .. import paths
    from .errors import DeskError
    from .sync import state, tracking

    try:
        if conn.execute(f"SELECT 1 FROM {tracking.LEDGER} WHERE dirty <> 0 LIMIT 1").fetchone() is None:
            return
        conn.execute("PRAGMA busy_timeout = 250")
        conn.execute("BEGIN IMMEDIATE")
        state.prepare(conn, conn.desk_path, paths.device_id(), record=False)
        conn.execute("COMMIT")
    except (sqlite3.Error, DeskError, ValueError):  # a ledger it cannot read is left to the next export to refuse
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error, DeskError):
                conn.execute("ROLLBACK")


class DeskCursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: object = (), /) -> sqlite3.Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.Error as exc:
            _raise_translated(exc, getattr(self.connection, "desk_path", None))

    def executemany(self, sql: str, parameters: object, /) -> sqlite3.Cursor:
        try:
            return super().executemany(sql, parameters)
        except sqlite3.Error as exc:
            _raise_translated(exc, getattr(self.connection, "desk_path", None))


def _raise_translated(exc: sqlite3.Error, path: object) -> NoReturn:
    translated = translate_sqlite_error(exc, path)
    if translated is exc:
        raise exc
    raise translated from exc


def connect(target: str | Path, *, uri: bool = False, busy_timeout_ms: int | None = None) -> DeskConnection:
    """A DeskConnection to *target* (a path, or a file: URI when *uri*), waiting *busy_timeout_ms* for locks
    (BUSY_TIMEOUT_MS, read when called, unless given)."""
    busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
    conn = sqlite3.connect(str(target), timeout=busy_timeout_ms / 1000, uri=uri, factory=DeskConnection)
    conn.desk_path = target
    return conn


def open_workspace(
    path: str | Path, *, create: bool = True, busy_timeout_ms: int | None = None
) -> sqlite_utils.Database:
    """Open (or create) the workspace at *path* and bring its schema up to date.

    A file written by a newer Locality Desk, a read-only file and a damaged file are refused before anything
    touches them. A write that waits longer than *busy_timeout_ms* for another window's transaction fails
    with StorageError ("busy in another window"); 5 s rides over any other window's ordinary save or an import's
    final write, and only a stuck window makes the user wait that long before being told.
    """
    path = Path(path)
    busy_timeout_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else busy_timeout_ms
    if not path.exists() and not create:
        raise StorageUnavailable(f"No workspace at {path}. Choose File → Open to pick another file.")
    if path.exists() and path.is_dir():
        raise StorageUnavailable(f"{path} is a folder, not a workspace file.")
    check_day = None
    if path.exists():
        _refuse_if_read_only(path)
        check_day = _check_before_opening(path, existing_only=not create)
    try:
        conn = connect(path, busy_timeout_ms=busy_timeout_ms)
        # No sqlite-utils plugins: the app registers none, and looking for them scans every installed package's
        # entry points (~25 ms of each start, issue 26).
        db = sqlite_utils.Database(conn, execute_plugins=False)
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        conn.execute("PRAGMA cache_size=-32768")  # 32 MB: imports touch tens of thousands of index pages
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal" and str(path) != ":memory:":
            raise StorageUnavailable(f"Cannot use write-ahead logging on {path}; is the folder read-only?")
        MIGRATIONS.apply(db)
        _track_changes(db, path)
        if check_day:
            _record_check_day(db, check_day)
    except sqlite3.Error as exc:
        _raise_translated(exc, path)
    return db


def _track_changes(db: sqlite_utils.Database, path: Path) -> None:
    """Sync's triggers, current for the schema as it now stands (desktop.models.sync.tracking), and, the first time
    a workspace is opened anywhere, where it starts: so a copy of it opened elsewhere knows it is a copy."""
    from .sync import state, tracking

    first = (
        str(path) != ":memory:" and db.execute("SELECT 1 FROM meta WHERE key = ?", [state.START_KEY]).fetchone() is None
    )
    if first or tracking.install(db.conn, check_only=True):
        with db.atomic():
            tracking.install(db.conn)
            if first:
                state.note_start(db.conn, path)


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def _refuse_if_read_only(path: Path) -> None:
    """Refuse a file marked read-only (or in a folder the user may not write to) with a way forward.

    Opening read-only was the alternative; refused because opening writes (the WAL index next to the file,
    migrations) and nearly every screen saves something, so a half-working window would fail at each step.
    The permission bits are read rather than os.access, which says yes to everything when run as root.
    """
    if not path.stat().st_mode & 0o222 or not os.access(path.parent, os.W_OK):
        raise StorageUnavailable(
            f"{path.name} is read-only, and Locality Desk needs to save to the workspace it opens. Copy it to a "
            "folder you can write to (or change its permissions) and open that, or open another workspace."
        )


def _check_before_opening(path: Path, *, existing_only: bool = False) -> str | None:
    """Refuse, untouched, a file from a newer Locality Desk, another program's database or a damaged file; and,
    when *existing_only*, a file that is not yet a workspace at all (0 bytes, or a database with no tables).

    Returns the day to record as the last full check of a large file (None: nothing to record).
    """
    # Read-only URI connection: such a file must not be modified, not even by a WAL checkpoint.
    record: str | None = None
    try:
        conn = connect(f"file:{path}?mode=ro", uri=True)
        conn.desk_path = path  # messages name the file, not the URI it was opened by
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            _refuse_if_too_new(path, version, tables)
            if existing_only and not tables:
                _refuse_empty(path)
            size = conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
            today = clock.today().isoformat()
            last = None
            if size > CHECK_EVERY_OPEN_BYTES and "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = ?", [QUICK_CHECK_KEY]).fetchone()
                last = row[0] if row else None
            if last != today:
                problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise WorkspaceDamaged(f"{path.name} is damaged ({problems[0]}). " + RESTORE_HINT)
                record = today if size > CHECK_EVERY_OPEN_BYTES else None
        finally:
            conn.close()
    except sqlite3.Error as exc:
        # Usually already a StorageError (the connection translates), which keeps SQLite's code for this.
        if is_damage(exc):
            raise WorkspaceDamaged(str(translate_sqlite_error(exc, path))) from exc
        _raise_translated(exc, path)
    return record


def _record_check_day(db: sqlite_utils.Database, day: str) -> None:
    """Remember the day of a large file's full check; skipped when another window holds the write lock."""
    try:
        with db.atomic():
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [QUICK_CHECK_KEY, day],
            )
    except StorageError:
        pass  # checked again at the next open


def _refuse_empty(path: Path) -> NoReturn:
    """Only `new`, `demo` and the first-start wizard make a workspace: opening one that should exist (create=False)
    never turns an empty file, such as a 0-byte file a cancelled download or copy left, into an empty workspace."""
    raise StorageUnavailable(
        f"{path.name} is empty: it is not a Locality Desk workspace, and it was left untouched. Choose the "
        "workspace file (File → Open), or make a new one (File → New workspace, or `locality-desk new`)."
    )


def _refuse_if_too_new(path: Path, version: int, tables: set[str]) -> None:
    """Refuse a file from a newer Locality Desk or a database some other program owns."""
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
