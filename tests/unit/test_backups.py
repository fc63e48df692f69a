"""Backups (DESIGN §14): online-backup copies, rolling keep-N, the daily check, restore and its undo, the CLI."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.models import audit, backups
from desktop.models.db import open_workspace, schema_version
from desktop.models.errors import StorageUnavailable
from desktop.models.migrations import SCHEMA_VERSION

GOLDEN = Path(__file__).resolve().parents[1] / "data"
T0 = dt.datetime(2026, 3, 2, 9, 30, 0)
AUDIT = ("audit", "sqlite_sequence")  # the audit grows with each backup and restore; the rest must match


def content(path: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """A hash of every table's rows (in any order) and of the schema, read without touching the file."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        found = {"(schema)": _digest(conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name"))}
        for table in tables:
            # Sync's bookkeeping: a connection that wrote captures its marks as it closes (desktop.models.db), so
            # the ledger and where this copy started move with no change to the records.
            if table not in skip and table != "_sync_rows":
                where = " WHERE key <> 'sync_start'" if table == "meta" else ""
                found[table] = _digest(conn.execute(f'SELECT * FROM "{table}"{where}'))
        found["(user_version)"] = str(conn.execute("PRAGMA user_version").fetchone()[0])
        return found
    finally:
        conn.close()


def _digest(rows) -> str:
    h = hashlib.sha256()
    for text in sorted(repr(tuple(r)) for r in rows):
        h.update(text.encode())
    return h.hexdigest()


def _rename_a_practice(db, name: str) -> str:
    code = next(iter(db.query("SELECT ods_code FROM practices ORDER BY ods_code LIMIT 1")))["ods_code"]
    with db.atomic():
        db.execute("UPDATE practices SET name = ? WHERE ods_code = ?", [name, code])
    return code


def _practice_name(db, code: str) -> str:
    return db.execute("SELECT name FROM practices WHERE ods_code = ?", [code]).fetchone()[0]


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "backups"
    path.mkdir()
    return path


# -- one backup -------------------------------------------------------------------------------------------
def test_a_backup_holds_every_row_even_while_another_connection_reads(small_world, small_world_path, tmp_path):
    reader = sqlite3.connect(small_world_path)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM practices").fetchone()[0] > 0  # a read transaction stays open
    code = _rename_a_practice(small_world, "Written after the reader began")  # newer than the reader's snapshot
    expected = content(small_world_path)
    out = backups.backup(small_world, tmp_path / "copy.sqlite")
    assert reader.in_transaction
    reader.rollback()
    reader.close()

    assert content(out) == expected
    assert len(expected) > 20  # every table was compared, not an empty schema
    backups.check_backup(out)
    copy = open_workspace(out, create=False)
    assert _practice_name(copy, code) == "Written after the reader began"
    copy.close()
    entry = audit.entries(small_world, "workspace")[0]
    assert entry["action"] == "backup" and "copy.sqlite" in entry["summary"]
    assert sorted(p.name for p in tmp_path.glob("*copy*")) == ["copy.sqlite"]  # no temporary file left


def test_a_backup_of_a_path_is_audited_in_that_workspace(small_world_path, tmp_path):
    expected = content(small_world_path, skip=AUDIT)
    out = backups.backup(small_world_path, tmp_path / "copy.sqlite")
    assert content(out, skip=AUDIT) == expected
    db = open_workspace(small_world_path, create=False)
    assert audit.entries(db, "workspace")[0]["action"] == "backup"
    db.close()


def test_a_copy_that_fails_its_check_never_gets_the_backup_name(small_world, tmp_path, monkeypatch):
    def damaged(_conn, path, *, full):
        raise backups._damaged(path)

    audited = len(audit.entries(small_world))
    monkeypatch.setattr(backups, "_verify", damaged)
    with pytest.raises(StorageUnavailable, match="damaged"):
        backups.backup(small_world, tmp_path / "copy.sqlite")
    assert not any(tmp_path.glob("*copy*"))
    assert len(audit.entries(small_world)) == audited


def test_a_backup_to_a_missing_folder_or_onto_the_workspace_is_refused(small_world, small_world_path, tmp_path):
    before = content(small_world_path)
    with pytest.raises(StorageUnavailable, match="does not exist"):
        backups.backup(small_world, tmp_path / "nowhere" / "copy.sqlite")
    with pytest.raises(StorageUnavailable, match="is a folder"):
        backups.backup(small_world, tmp_path)
    with pytest.raises(StorageUnavailable, match="workspace itself"):
        backups.backup(small_world, small_world_path)
    assert content(small_world_path) == before


# -- rolling backups --------------------------------------------------------------------------------------
def test_rolling_backups_keep_the_newest_n_and_never_delete_labelled_ones(small_world, folder):
    manual = folder / backups.file_name("world", T0 - dt.timedelta(days=30), backups.MANUAL)
    undo = folder / backups.file_name("world", T0 - dt.timedelta(days=29), backups.BEFORE_RESTORE)
    for labelled in (manual, undo):
        shutil.copy(backups.backup(small_world, folder / "x.sqlite"), labelled)
    (folder / "x.sqlite").unlink()
    made = [
        backups.rolling(small_world, folder, keep=3, reason="close", now=T0 + dt.timedelta(hours=h)) for h in range(5)
    ]
    assert all(re.fullmatch(r"world-\d{8}-\d{6}\.sqlite", p.name) for p in made)
    assert made[0].name == "world-20260302-093000.sqlite"
    listed = backups.list_backups(folder)
    assert [b.path for b in listed] == [made[4], made[3], made[2], undo, manual]  # newest first
    assert [b.label for b in listed] == ["", "", "", "before-restore", "manual"]
    assert all(b.size == b.path.stat().st_size > 0 for b in listed)
    assert listed[0].when == T0 + dt.timedelta(hours=4)


def test_two_rolling_backups_in_one_second_both_survive(small_world, folder):
    first = backups.rolling(small_world, folder, keep=5, now=T0)
    second = backups.rolling(small_world, folder, keep=5, now=T0)
    assert first != second and first.exists() and second.exists()
    assert backups.list_backups(folder)[0].path == second


def test_rolling_goes_beside_the_workspace_on_its_own_disk(small_world, small_world_path):
    out = backups.rolling(small_world, reason="daily")
    assert out.parent == small_world_path.parent / "backups" / small_world_path.stem  # not the user's profile
    assert '"reason": "daily"' in audit.entries(small_world, "workspace")[0]["detail"]


def test_keep_zero_switches_rolling_backups_off(small_world, folder):
    assert backups.rolling(small_world, folder, keep=0) is None
    assert list(folder.iterdir()) == []


def test_a_daily_backup_is_due_after_24_hours_without_one(small_world, folder, tmp_path):
    assert backups.daily_due(tmp_path / "no such folder")
    assert backups.daily_due(folder)
    backups.rolling(small_world, folder, now=T0)
    assert not backups.daily_due(folder, now=T0 + dt.timedelta(hours=23))
    assert backups.daily_due(folder, now=T0 + dt.timedelta(hours=25))
    (folder / ".partial-and-other-files.txt").write_text("not a backup")
    assert backups.daily_due(folder, now=T0 + dt.timedelta(hours=25))


# -- restore ----------------------------------------------------------------------------------------------
def test_restore_brings_back_the_backup_and_can_itself_be_undone(small_world, small_world_path, folder):
    code = _rename_a_practice(small_world, "As backed up")
    saved = backups.rolling(small_world, folder, now=T0)
    _rename_a_practice(small_world, "Changed later")
    later = content(small_world_path, skip=AUDIT)

    before = backups.restore(saved, small_world_path, folder=folder)
    assert content(small_world_path, skip=AUDIT) == content(saved, skip=AUDIT)
    assert _practice_name(small_world, code) == "As backed up"  # a connection open all along sees it too
    assert before.exists() and backups.list_backups(folder)[0].label == "before-restore"
    assert content(before, skip=AUDIT) == later
    entry = audit.entries(small_world, "workspace")[0]
    assert entry["action"] == "restore" and before.name in entry["summary"]

    backups.restore(before, small_world_path, folder=folder)  # the undo
    assert content(small_world_path, skip=AUDIT) == later
    assert _practice_name(small_world, code) == "Changed later"
    backups.check_backup(small_world_path)


def test_restoring_a_backup_from_an_older_version_brings_it_up_to_date(small_world, small_world_path, tmp_path):
    old = tmp_path / "old.sqlite"
    shutil.copy(GOLDEN / "workspace-schema5.sqlite", old)
    backups.restore(old, small_world, folder=tmp_path / "undo")
    assert schema_version(small_world) == SCHEMA_VERSION
    assert open_workspace(small_world_path, create=False).execute("PRAGMA quick_check").fetchone()[0] == "ok"


def _corrupt(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2)
        f.write(b"\xa5\x5a" * (4096 * 3 // 2))


@pytest.mark.parametrize("kind", ["damaged", "not a workspace", "text file", "missing"])
def test_a_bad_backup_is_refused_and_nothing_changes(small_world, small_world_path, folder, tmp_path, kind):
    bad = tmp_path / "bad.sqlite"
    if kind == "damaged":
        backups.backup(small_world, bad)
        _corrupt(bad)
    elif kind == "not a workspace":
        other = sqlite3.connect(bad)
        other.execute("CREATE TABLE notes (text)")
        other.commit()
        other.close()
    elif kind == "text file":
        bad.write_text("NHS number,name\n")
    _rename_a_practice(small_world, "Kept")
    before = content(small_world_path)
    reason = {
        "damaged": "damaged",
        "not a workspace": "not a Locality Desk",
        "text file": "damaged",
        "missing": "no backup file",
    }[kind]
    with pytest.raises(StorageUnavailable, match=reason):
        backups.restore(bad, small_world_path, folder=folder)
    assert content(small_world_path) == before
    assert list(folder.iterdir()) == []  # not even a before-restore backup


# -- command line -----------------------------------------------------------------------------------------
def test_cli_backup_writes_a_checked_copy(small_world_path, tmp_path, capsys):
    out = tmp_path / "copy.sqlite"
    expected = content(small_world_path, skip=AUDIT)
    assert main(["backup", "--db", str(small_world_path), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert content(out, skip=AUDIT) == expected


@pytest.mark.parametrize("case", ["missing workspace", "missing folder", "folder as file"])
def test_cli_backup_refuses_with_a_reason(small_world_path, tmp_path, capsys, case):
    db, out = small_world_path, tmp_path / "copy.sqlite"
    if case == "missing workspace":
        db = tmp_path / "absent.sqlite"
    elif case == "missing folder":
        out = tmp_path / "absent" / "copy.sqlite"
    else:
        out = tmp_path
    assert main(["backup", "--db", str(db), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("locality-desk: ")
        and {"missing workspace": "No workspace", "missing folder": "does not exist", "folder as file": "is a folder"}[
            case
        ]
        in err
    )
    assert not (tmp_path / "copy.sqlite").exists() and not (tmp_path / "absent.sqlite").exists()
