"""Damaged, busy, read-only and full workspaces: each gives a clear message (a DeskError), never a bare
sqlite3 error, and loses no committed work."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import stat
import time
from pathlib import Path

import pytest
import sqlite_utils
from storage_helpers import damage

from desktop.models import clock
from desktop.models import db as db_module
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import QUICK_CHECK_KEY, connect, open_workspace
from desktop.models.demo.extract import write_extract
from desktop.models.errors import DeskError, StorageError, StorageUnavailable, WorkspaceDamaged
from desktop.models.workspace import get_meta, set_meta

ACTOR = Actor.local("test-device", "Tester")


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows_digest(db: sqlite_utils.Database) -> str:
    out = hashlib.sha256()
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
        out.update(table.encode())
        for row in sorted(repr(r) for r in db.execute(f'SELECT * FROM "{table}"')):
            out.update(row.encode())
    return out.hexdigest()


def test_a_damaged_file_is_refused_untouched_with_a_way_forward(small_world_path):
    page = damage(small_world_path)
    assert page > 2
    before = file_digest(small_world_path)
    with pytest.raises(WorkspaceDamaged) as caught:
        open_workspace(small_world_path)
    message = str(caught.value)
    assert "damaged" in message and "backup" in message and "open another workspace" in message
    assert "Traceback" not in message
    assert file_digest(small_world_path) == before
    assert not Path(f"{small_world_path}-wal").exists()


def test_a_large_file_is_fully_checked_at_most_once_a_day(small_world_path, monkeypatch):
    monkeypatch.setattr(db_module, "CHECK_EVERY_OPEN_BYTES", 0)  # the small world counts as large
    db = open_workspace(small_world_path)
    assert get_meta(db, QUICK_CHECK_KEY) == clock.today().isoformat()
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    damage(small_world_path)
    open_workspace(small_world_path).close()  # checked today already: opens (the damage waits for tomorrow)

    conn = sqlite3.connect(small_world_path)
    conn.execute("UPDATE meta SET value = '2000-01-01' WHERE key = ?", [QUICK_CHECK_KEY])
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceDamaged, match="damaged"):
        open_workspace(small_world_path)


def test_a_small_file_is_checked_at_every_open_without_writing_anything(small_world_path):
    open_workspace(small_world_path).close()
    db = open_workspace(small_world_path)
    assert get_meta(db, QUICK_CHECK_KEY) is None
    db.close()
    damage(small_world_path)
    with pytest.raises(WorkspaceDamaged):
        open_workspace(small_world_path)


def test_a_write_while_another_window_holds_the_workspace_says_busy_and_loses_nothing(small_world_path, cha, tmp_path):
    extract = tmp_path / "cha.csv"
    write_extract(extract, "CHA", 3_000)
    first = open_workspace(small_world_path)
    first.conn.execute("BEGIN IMMEDIATE")
    set_meta(first, note="saved by the first window")
    # A second window opens fine while the first writes (WAL readers are not blocked)...
    second = open_workspace(small_world_path, busy_timeout_ms=300)
    before = rows_digest(second)
    started = time.monotonic()
    with pytest.raises(StorageError) as caught:
        import_extract(second, ACTOR, "CHA", extract, dt.date(2026, 11, 15))
    waited = time.monotonic() - started
    assert isinstance(caught.value, DeskError)
    assert "busy in another window" in str(caught.value) and "not saved" in str(caught.value)
    assert 0.25 <= waited < 5
    assert not second.conn.in_transaction
    assert rows_digest(second) == before
    # ...the first window's work commits whole, and the second's import succeeds once it is free.
    first.conn.commit()
    first.close()
    result = import_extract(second, ACTOR, "CHA", extract, dt.date(2026, 11, 15))
    assert result.run_id
    assert get_meta(second, "note") == "saved by the first window"
    second.close()


def test_the_default_busy_timeout_rides_over_another_windows_save():
    assert db_module.BUSY_TIMEOUT_MS == 5000


def test_a_read_only_file_is_refused_untouched(small_world_path):
    small_world_path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # 0444; root could still write it
    before = file_digest(small_world_path)
    with pytest.raises(StorageUnavailable) as caught:
        open_workspace(small_world_path)
    assert "read-only" in str(caught.value) and "open another workspace" in str(caught.value)
    assert file_digest(small_world_path) == before
    assert not Path(f"{small_world_path}-wal").exists()


def test_a_write_to_a_read_only_connection_gives_the_translated_message(small_world_path):
    open_workspace(small_world_path).close()  # WAL mode, as a workspace in use
    db = sqlite_utils.Database(connect(f"file:{small_world_path}?mode=ro", uri=True))
    before = rows_digest(db)
    with pytest.raises(StorageError, match="read-only.*not saved"), db.atomic():
        set_meta(db, note="cannot land")
    assert rows_digest(db) == before
    db.close()


def test_a_full_disk_during_an_import_says_so_and_keeps_the_previous_state(small_world_path, cha, tmp_path):
    extract = tmp_path / "cha.csv"
    write_extract(extract, "CHA", 20_000)
    db = open_workspace(small_world_path)
    set_meta(db, note="committed before the disk filled")
    db.conn.commit()
    before = rows_digest(db)
    db.execute("VACUUM")  # no free pages left inside the file either
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + 2}")  # the file may grow by two pages: a disk all but full
    with pytest.raises(StorageError) as caught:
        import_extract(db, ACTOR, "CHA", extract, dt.date(2026, 11, 15))
    assert "disk is full" in str(caught.value) and "not saved" in str(caught.value)
    assert not db.conn.in_transaction
    assert rows_digest(db) == before
    db.close()
    db = open_workspace(small_world_path)  # space freed (a new connection has no page limit)
    assert rows_digest(db) == before
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    import_extract(db, ACTOR, "CHA", extract, dt.date(2026, 11, 15))
    db.close()


def test_other_sqlite_errors_stay_bugs(small_world):
    with pytest.raises(sqlite3.OperationalError) as caught:
        small_world.execute("SELECT nothing FROM nowhere")
    assert not isinstance(caught.value, DeskError)
    with pytest.raises(sqlite3.IntegrityError) as integrity:
        small_world.execute("INSERT INTO meta (key, value) VALUES ('k', NULL)")
    assert not isinstance(integrity.value, DeskError)
