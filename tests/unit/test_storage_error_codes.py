"""Storage failures are told apart by SQLite's result code, not by the words of its message: each kind of
failure is provoked for real and must reach the user in the same words, and an error that merely quotes those
words (a trigger's message, a table's name, some other exception) stays what it is."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from storage_helpers import damage

from desktop.models.db import connect, open_workspace
from desktop.models.errors import (
    DeskError,
    StorageError,
    WorkspaceDamaged,
    is_damage,
    sqlite_primary_code,
    translate_sqlite_error,
)

BUSY = "busy in another window"
FULL = "disk is full"
READ_ONLY = "workspace file is read-only"
NOT_A_DATABASE = "not a Locality Desk workspace, or it is damaged"
DAMAGED = "The workspace file is damaged"
DISK = "could not be read or written"
CANNOT_OPEN = "cannot be opened"


def raised(action: Callable[[], object]) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        action()
    return caught.value


def a_table(path: Path, rows: int = 2_000) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 100,)] * rows)
    conn.commit()
    conn.close()
    return path


# -- each storage failure, provoked for real ------------------------------------------------------------------
def busy(tmp_path: Path) -> sqlite3.Error:
    """Another connection holds the write lock and this one will not wait."""
    path = a_table(tmp_path / "busy.sqlite")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        return raised(lambda: sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES ('y')"))
    finally:
        holder.close()


def locked(tmp_path: Path) -> sqlite3.Error:
    """Two connections of one process sharing a cache: a table another one is writing cannot be read."""
    name = f"file:locked-{tmp_path.name}?mode=memory&cache=shared"
    writer = sqlite3.connect(name, uri=True, isolation_level=None)
    reader = sqlite3.connect(name, uri=True, isolation_level=None, timeout=0)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN")
    writer.execute("INSERT INTO t VALUES (1)")
    try:
        return raised(lambda: reader.execute("SELECT * FROM t").fetchall())
    finally:
        reader.close()
        writer.close()


def full(tmp_path: Path) -> sqlite3.Error:
    """The file may not grow: as a full disk looks to SQLite."""
    conn = sqlite3.connect(a_table(tmp_path / "full.sqlite"))
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        return raised(lambda: conn.executemany("INSERT INTO t VALUES (?)", [("z" * 500,)] * 100))
    finally:
        conn.close()


def read_only(tmp_path: Path) -> sqlite3.Error:
    """A write through a read-only connection (chmod would not do: the suite may run as root)."""
    path = a_table(tmp_path / "ro.sqlite")
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return raised(lambda: conn.execute("INSERT INTO t VALUES ('y')"))
    finally:
        conn.close()


def not_a_database(tmp_path: Path) -> sqlite3.Error:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    conn = sqlite3.connect(path)
    try:
        return raised(lambda: conn.execute("SELECT * FROM sqlite_master").fetchall())
    finally:
        conn.close()


def corrupt(tmp_path: Path) -> sqlite3.Error:
    path = a_table(tmp_path / "corrupt.sqlite")
    damage(path)
    conn = sqlite3.connect(path)
    try:
        return raised(lambda: conn.execute("SELECT COUNT(*), MAX(x) FROM t").fetchall())
    finally:
        conn.close()


def disk_error(tmp_path: Path) -> sqlite3.Error:
    """The open file swapped, under SQLite, for a read-only handle: its next lock fails as a failing disk would."""
    path = a_table(tmp_path / "disk.sqlite")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("SELECT COUNT(*) FROM t").fetchall()
    held = [int(fd) for fd in os.listdir("/proc/self/fd") if Path(f"/proc/self/fd/{fd}").resolve() == path.resolve()]
    assert len(held) == 1
    spoiler = os.open(path, os.O_RDONLY)
    os.dup2(spoiler, held[0])
    os.close(spoiler)
    try:
        return raised(lambda: conn.execute("INSERT INTO t VALUES ('y')"))
    finally:
        conn.close()


def cannot_open(tmp_path: Path) -> sqlite3.Error:
    return raised(lambda: sqlite3.connect(tmp_path / "no such folder" / "w.sqlite").execute("SELECT 1"))


LINUX_PROC = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="swaps a file handle through /proc")
FAILURES = [
    pytest.param(busy, sqlite3.SQLITE_BUSY, BUSY, id="busy"),
    pytest.param(locked, sqlite3.SQLITE_LOCKED, BUSY, id="locked"),
    pytest.param(full, sqlite3.SQLITE_FULL, FULL, id="full"),
    pytest.param(read_only, sqlite3.SQLITE_READONLY, READ_ONLY, id="read-only"),
    pytest.param(not_a_database, sqlite3.SQLITE_NOTADB, NOT_A_DATABASE, id="not-a-database"),
    pytest.param(corrupt, sqlite3.SQLITE_CORRUPT, DAMAGED, id="corrupt"),
    pytest.param(disk_error, sqlite3.SQLITE_IOERR, DISK, id="disk-error", marks=LINUX_PROC),
    pytest.param(cannot_open, sqlite3.SQLITE_CANTOPEN, CANNOT_OPEN, id="cannot-open"),
]


@pytest.mark.parametrize(("provoke", "code", "words"), FAILURES)
def test_each_storage_failure_is_told_by_its_code(tmp_path, provoke, code, words):
    exc = provoke(tmp_path)
    assert sqlite_primary_code(exc) == code
    translated = translate_sqlite_error(exc, tmp_path / "w.sqlite")
    assert isinstance(translated, StorageError) and isinstance(translated, DeskError)
    assert words in str(translated) and str(tmp_path / "w.sqlite") in str(translated)
    # The user's words, with SQLite's own code kept for any caller that must tell the failures apart.
    assert translated.sqlite_errorcode == exc.sqlite_errorcode
    assert translated.sqlite_errorname == exc.sqlite_errorname
    assert is_damage(translated) == is_damage(exc) == (code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB))


@pytest.mark.parametrize(
    ("extended", "words"),
    [
        (sqlite3.SQLITE_BUSY_SNAPSHOT, BUSY),
        (sqlite3.SQLITE_LOCKED_SHAREDCACHE, BUSY),
        (sqlite3.SQLITE_READONLY_DBMOVED, READ_ONLY),
        (sqlite3.SQLITE_READONLY_DIRECTORY, READ_ONLY),
        (sqlite3.SQLITE_IOERR_FSYNC, DISK),
        (sqlite3.SQLITE_IOERR_SHORT_READ, DISK),
        (sqlite3.SQLITE_CORRUPT_INDEX, DAMAGED),
        (sqlite3.SQLITE_CANTOPEN_ISDIR, CANNOT_OPEN),
    ],
)
def test_an_extended_code_counts_as_its_primary_code_whatever_the_message(extended, words):
    exc = sqlite3.OperationalError("a message SQLite might word differently in another version")
    exc.sqlite_errorcode = extended
    assert words in str(translate_sqlite_error(exc))


def test_a_storage_failure_through_a_workspace_connection_arrives_as_storage_error(tmp_path):
    path = a_table(tmp_path / "w.sqlite")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    conn = connect(path, busy_timeout_ms=0)
    try:
        with pytest.raises(StorageError, match=BUSY) as caught:
            conn.execute("INSERT INTO t VALUES ('y')")
        assert caught.value.sqlite_errorname == "SQLITE_BUSY"
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    finally:
        conn.close()
        holder.close()


# -- the same words, but not a storage failure ------------------------------------------------------------------
@pytest.fixture
def conn(tmp_path):
    conn = connect(a_table(tmp_path / "w.sqlite", rows=1))
    yield conn
    conn.close()


@pytest.mark.parametrize(
    "words",
    [
        "database is locked",
        "database or disk is full",
        "attempt to write a readonly database",
        "database disk image is malformed",
    ],
)
def test_a_trigger_quoting_storage_words_stays_a_constraint_error(conn, words):
    conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON t BEGIN SELECT RAISE(ABORT, '{words}'); END")
    with pytest.raises(sqlite3.IntegrityError) as caught:
        conn.execute("INSERT INTO t VALUES ('y')")
    assert str(caught.value) == words
    assert sqlite_primary_code(caught.value) == sqlite3.SQLITE_CONSTRAINT
    assert not isinstance(caught.value, DeskError)
    assert translate_sqlite_error(caught.value) is caught.value


def test_a_table_named_like_a_storage_failure_stays_a_plain_error(conn):
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute('SELECT * FROM "database is locked"')
    assert "database is locked" in str(caught.value)
    assert sqlite_primary_code(caught.value) == sqlite3.SQLITE_ERROR
    assert not isinstance(caught.value, DeskError)


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("database is locked"),  # made in Python: SQLite reported nothing
        sqlite3.DatabaseError("file is not a database"),
        ValueError("database is locked"),
        OSError("database or disk is full"),
    ],
    ids=repr,
)
def test_an_error_sqlite_did_not_raise_is_never_a_storage_failure(exc):
    assert sqlite_primary_code(exc) is None
    assert not is_damage(exc)
    assert translate_sqlite_error(exc) is exc


def test_a_desk_error_passes_through_untouched():
    already = StorageError("already in the user's words")
    assert translate_sqlite_error(already) is already


# -- opening: damage found by code ----------------------------------------------------------------------------
def test_a_file_that_is_not_a_database_is_refused_as_damaged_untouched(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = path.read_bytes()
    with pytest.raises(WorkspaceDamaged, match=NOT_A_DATABASE):
        open_workspace(path)
    assert path.read_bytes() == before


def test_a_workspace_with_a_malformed_schema_is_refused_as_damaged(tmp_path):
    """SQLite words this SQLITE_CORRUPT "malformed database schema": matching the message missed it before."""
    path = tmp_path / "w.sqlite"
    open_workspace(path).close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA writable_schema = ON")
    raw.execute("UPDATE sqlite_master SET sql = 'CREATE TABLE meta (key' WHERE name = 'meta'")
    raw.commit()
    raw.close()
    with pytest.raises(WorkspaceDamaged, match=DAMAGED):
        open_workspace(path)
