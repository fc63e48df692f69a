"""Migrations, pragmas and the refusal of files from a newer Locality Desk."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from desktop.models.db import open_workspace, schema_version
from desktop.models.errors import SchemaTooNew, StorageUnavailable
from desktop.models.migrations import SCHEMA_VERSION

GOLDEN = Path(__file__).resolve().parents[1] / "data"


def test_new_file_gets_every_migration_and_the_pragmas(tmp_path):
    db = open_workspace(tmp_path / "w.sqlite")
    assert schema_version(db) == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert {"localities", "practices", "care_homes", "staff", "pcns", "audit", "meta"} <= set(db.table_names())
    for table in ("localities", "practices", "care_homes", "staff", "pcns"):
        columns = set(db[table].columns_dict)
        assert {"id", "created_at", "updated_at", "updated_by", "device_id"} <= columns, table


def test_reopening_applies_nothing_twice(tmp_path):
    path = tmp_path / "w.sqlite"
    open_workspace(path).close()
    db = open_workspace(path)
    names = [r["name"] for r in db.query("SELECT name FROM _sqlite_migrations")]
    assert len(names) == len(set(names)) == SCHEMA_VERSION


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_from_a_newer_version_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.sqlite"
    db = open_workspace(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.conn.commit()
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.execute("PRAGMA journal_mode=DELETE")
    db.close()
    before = _digest(path)
    with pytest.raises(SchemaTooNew, match="newer Locality Desk"):
        open_workspace(path)
    assert _digest(path) == before
    assert not Path(str(path) + "-wal").exists()


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("workspace-schema*.sqlite")), ids=lambda p: p.name)
def test_golden_workspaces_of_every_released_schema_upgrade(golden, tmp_path):
    path = tmp_path / golden.name
    shutil.copy(golden, path)
    db = open_workspace(path)
    assert schema_version(db) == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM localities").fetchone()[0] == 11
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_there_is_a_golden_file_for_the_current_schema():
    assert (GOLDEN / f"workspace-schema{SCHEMA_VERSION}.sqlite").exists()


def test_a_file_that_is_not_a_workspace_gives_a_clear_message(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StorageUnavailable, match="not a Locality Desk workspace"):
        open_workspace(path)


def test_missing_file_is_not_created_when_asked_not_to(tmp_path):
    with pytest.raises(StorageUnavailable, match="No workspace"):
        open_workspace(tmp_path / "nothing.sqlite", create=False)
    assert not (tmp_path / "nothing.sqlite").exists()


def test_a_failed_migration_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    from desktop.models import migrations

    path = tmp_path / "w.sqlite"
    open_workspace(path).close()

    @migrations.MIGRATIONS(name="m999_broken_for_test")
    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("simulated failure")

    try:
        with pytest.raises(sqlite3.OperationalError):
            open_workspace(path)
        db = sqlite3.connect(path)
        assert "half_done" not in {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    finally:
        migrations.MIGRATIONS._migrations = [
            m for m in migrations.MIGRATIONS._migrations if m.name != "m999_broken_for_test"
        ]


def test_another_programs_database_is_refused_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE meta (x)")
    conn.execute("INSERT INTO meta VALUES (1)")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StorageUnavailable, match="not a Locality Desk workspace"):
        open_workspace(path)
    assert _digest(path) == before


def test_upgrading_to_schema_6_gives_each_intervention_its_patients_locality(tmp_path):
    path = tmp_path / "five.sqlite"
    shutil.copy(GOLDEN / "workspace-schema5.sqlite", path)
    raw = sqlite3.connect(path)
    locality = raw.execute("SELECT id FROM localities ORDER BY code LIMIT 1").fetchone()[0]
    stamp = ("2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "test", "device")
    raw.execute(
        "INSERT INTO patients (id, nhs_number, locality_id, date_of_birth, practice_code, created_at, "
        "updated_at, updated_by, device_id) VALUES ('p1', '9000000009', ?, '1940-01-01', 'C82001', ?, ?, ?, ?)",
        [locality, *stamp],
    )
    raw.execute(
        "INSERT INTO interventions (id, patient_id, type, delivered_on, created_at, updated_at, updated_by, "
        "device_id) VALUES ('i1', 'p1', 'care-plan review', '2025-12-01', ?, ?, ?, ?)",
        stamp,
    )
    raw.commit()
    raw.close()
    db = open_workspace(path)
    assert db.execute("SELECT locality_id FROM interventions WHERE id = 'i1'").fetchone()[0] == locality
