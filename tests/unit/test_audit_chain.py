"""Issue 20, point 4: the audit log is tamper-evident. Each entry carries the hash of the one before, triggers
refuse UPDATE and DELETE, `locality-desk audit verify` says where the chain breaks, the operating-system account
is recorded beside the typed name, and every writer (the app, the sync's apsw connection, a restore, the
migration of an older workspace) keeps the chain whole."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import apsw
import pytest
from worlds import copy_world

from desktop.cli import main
from desktop.models import audit, backups, clock, reference
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.migrations import SCHEMA_VERSION
from desktop.models.sync import base as sync_base
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.models.sync.state import audit_row

GOLDEN = Path(__file__).resolve().parents[1] / "data"
GP = Actor("Dr Ann Example", "dev-1", "2026-11-20T09:00:00+00:00", "GP")


@pytest.fixture
def path(tmp_path) -> Path:
    """A new workspace with five entries in its log."""
    path = tmp_path / "w.sqlite"
    db = open_workspace(path)
    for n in range(1, 6):
        audit.record(db, GP, "update", "patients", f"p{n}", f"Changed status ({n})", {"n": n})
    db.close()
    return path


def shell(path: Path, *statements: str) -> None:
    """What someone with the sqlite3 shell can do: anything, triggers included."""
    conn = sqlite3.connect(path)
    for sql in statements:
        conn.execute(sql)
    conn.commit()
    conn.close()


def verify(path: Path) -> audit.VerifyResult:
    db = open_workspace(path, create=False)
    try:
        return audit.verify(db)
    finally:
        db.close()


def log(path: Path) -> list[dict]:
    db = open_workspace(path, create=False)
    try:
        return list(db.query("SELECT * FROM audit ORDER BY seq"))
    finally:
        db.close()


# -- the chain ------------------------------------------------------------------------------------------------
def test_each_entry_carries_its_hash_and_the_hash_of_the_one_before(path):
    entries = log(path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev_hash"] == audit.GENESIS == "0" * 64
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == before["hash"]
    for entry in entries:
        values = [entry[f] for f in audit.FIELDS]
        assert entry["hash"] == audit.entry_hash(entry["seq"], values, entry["prev_hash"])
        assert len(entry["hash"]) == 64
    result = verify(path)
    assert result.intact and result.entries == 5 and result.head == entries[-1]["hash"] and result.protected


def test_the_hash_covers_every_field_and_the_entry_number():
    values = audit.row(GP, "update", "patients", "p1", "Changed status", {"a": 1})
    digest = audit.entry_hash(7, values, audit.GENESIS)
    assert audit.entry_hash(8, values, audit.GENESIS) != digest
    assert audit.entry_hash(7, values, "1" * 64) != digest
    for i in range(len(values)):
        changed = list(values)
        changed[i] = (changed[i] or "") + "x"
        assert audit.entry_hash(7, changed, audit.GENESIS) != digest, audit.FIELDS[i]


def test_an_entry_id_given_as_a_number_hashes_as_the_text_sqlite_keeps(tmp_path):
    db = open_workspace(tmp_path / "w.sqlite")
    audit.record(db, GP, "update", "meetings", 42, "Changed")  # the column is TEXT: 42 is stored as '42'
    assert audit.verify(db).intact


# -- the triggers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("UPDATE audit SET summary = 'nothing happened' WHERE seq = 2", "cannot be changed"),
        ("DELETE FROM audit WHERE seq = 2", "cannot be deleted"),
        ("DELETE FROM audit", "cannot be deleted"),
        (
            "INSERT OR REPLACE INTO audit (seq, at, user, device_id, action, entity, summary) "
            "VALUES (2, 'x', 'x', 'x', 'x', 'x', 'x')",
            "cannot be replaced",
        ),
    ],
)
def test_the_app_cannot_change_delete_or_replace_an_entry(path, sql, words):
    db = open_workspace(path)
    with pytest.raises(sqlite3.IntegrityError, match=words), db.atomic():
        db.execute(sql)
    db.close()
    assert len(log(path)) == 5 and verify(path).intact


def test_nothing_in_the_app_updates_or_deletes_audit_rows():
    """The triggers would refuse it, and every entry is written by audit.append (or record), which chains it.
    The migration that made the chain hashed the entries already there before it made the triggers."""
    root = Path(__file__).resolve().parents[2] / "desktop"
    allowed = {"models/audit.py", "models/migrations.py"}
    offenders = []
    for source in root.rglob("*.py"):
        text = " ".join(source.read_text(encoding="utf-8").split()).lower()
        for phrase in ("update audit", "delete from audit", "insert into audit", "insert or replace into audit"):
            if phrase in text and source.relative_to(root).as_posix() not in allowed:
                offenders.append(f"{source.relative_to(root).as_posix()}: {phrase}")
    assert offenders == [] or offenders == ["models/demo/care_home_history.py: insert into audit"]


# -- audit verify: the "Done when" -----------------------------------------------------------------------
def test_a_row_deleted_with_the_sqlite_shell_makes_audit_verify_exit_1_naming_it(path, capsys):
    assert main(["audit", "verify", "--db", str(path)]) == 0
    assert "intact: 5 entries" in capsys.readouterr().out

    shell(path, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq = 3")

    assert main(["audit", "verify", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line
    assert "broken at entry 3: entry 3 is missing (deleted)" in out
    assert main(["audit", "verify", "--db", str(path), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["intact"] is False and found["broken_at"] == 3 and found["code"] == "missing"
    assert found["entries"] == 4 and found["protected"] is False
    assert found["workspace"] == str(path)


def test_the_intact_verdict_as_json(path, capsys):
    assert main(["audit", "verify", "--db", str(path), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found == {
        "workspace": str(path),
        "intact": True,
        "entries": 5,
        "head": log(path)[-1]["hash"],
        "broken_at": None,
        "code": None,
        "problem": None,
        "protected": True,
    }


def test_several_rows_deleted_are_named_together(path):
    shell(path, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq IN (2, 3)")
    result = verify(path)
    assert (result.broken_at, result.code) == (2, "missing") and "entries 2 to 3 are missing" in result.problem


def test_the_newest_rows_deleted_are_found_even_after_more_are_written(path):
    shell(path, "DROP TRIGGER audit_no_delete", "DELETE FROM audit WHERE seq >= 4")
    result = verify(path)
    assert (result.broken_at, result.code) == (4, "missing") and "end of the log" in result.problem
    db = open_workspace(path)
    audit.record(db, GP, "update", "patients", "p6", "Changed status (6)")
    db.close()
    assert log(path)[-1]["seq"] == 6  # the deleted numbers are not handed out again
    result = verify(path)
    assert (result.broken_at, result.code) == (4, "missing") and "entries 4 to 5 are missing" in result.problem


def test_an_edited_entry_is_found(path):
    shell(path, "DROP TRIGGER audit_no_update", "UPDATE audit SET user = 'Someone Else' WHERE seq = 2")
    result = verify(path)
    assert (result.broken_at, result.code) == (2, "altered")
    assert result.verdict().startswith("The audit log is broken at entry 2: entry 2 was changed after it was written")


def test_an_entry_replaced_with_a_fresh_hash_breaks_the_link_to_the_next(path):
    first = log(path)[0]
    forged = audit.row(GP, "update", "patients", "p2", "Nothing to see", None)
    digest = audit.entry_hash(2, forged, first["hash"])
    columns = ", ".join(("seq", *audit.FIELDS, "prev_hash", "hash"))
    marks = ", ".join("?" * (len(audit.FIELDS) + 3))
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER audit_no_delete")
    conn.execute("DELETE FROM audit WHERE seq = 2")
    conn.execute(f"INSERT INTO audit ({columns}) VALUES ({marks})", (2, *forged, first["hash"], digest))
    conn.commit()
    conn.close()
    result = verify(path)
    assert (result.broken_at, result.code) == (3, "relinked")


def test_an_entry_written_around_the_app_has_no_hash(path):
    shell(
        path,
        "INSERT INTO audit (at, user, device_id, action, entity, entity_id, summary) "
        "VALUES ('2026-11-20T10:00:00+00:00', 'x', 'x', 'delete', 'patients', 'p1', 'x')",
    )
    result = verify(path)
    assert (result.broken_at, result.code) == (6, "unchained")


def test_removing_the_triggers_alone_is_reported(path, capsys):
    shell(path, "DROP TRIGGER audit_no_update")
    result = verify(path)
    assert (result.broken_at, result.code, result.protected) == (None, "unprotected", False)
    assert main(["audit", "verify", "--db", str(path)]) == 1
    assert "triggers" in capsys.readouterr().out


def test_verify_on_a_missing_workspace_says_so_with_exit_1(tmp_path, capsys):
    assert main(["audit", "verify", "--db", str(tmp_path / "none.sqlite")]) == 1
    assert "No workspace" in capsys.readouterr().err


# -- every writer keeps the chain ---------------------------------------------------------------------------------
def test_entries_from_two_windows_and_the_sync_connection_interleave_into_one_chain(path):
    one, two = open_workspace(path), open_workspace(path)
    ws = apsw.Connection(str(path))
    for n in range(3):
        audit.record(one, GP, "update", "patients", f"a{n}", "From the first window")
        audit.record(two, GP, "update", "patients", f"b{n}", "From the second window")
        with ws:  # as the sync writes: inside its own transaction on its own apsw connection
            audit_row(ws, GP, "sync-import", "workspace", None, "From the sync", {"n": n})
    ws.close()
    one.close()
    two.close()
    assert [e["seq"] for e in log(path)] == list(range(1, 15))
    assert verify(path).intact


def test_an_entry_rolled_back_with_its_change_leaves_the_chain_whole(path):
    db = open_workspace(path)
    with pytest.raises(RuntimeError), db.atomic():
        audit.record(db, GP, "update", "patients", "p9", "Never happened")
        raise RuntimeError("the change failed")
    audit.record(db, GP, "update", "patients", "p9", "Happened")
    db.close()
    assert [e["summary"] for e in log(path)][-1] == "Happened" and verify(path).intact


def test_an_entry_written_outside_a_transaction_is_committed_at_once(path):
    db = open_workspace(path)
    audit.record(db, GP, "export", "audit", None, "Exported")
    assert not db.conn.in_transaction  # not left open for whatever writes next to commit or lose
    db.close()
    assert log(path)[-1]["summary"] == "Exported"


def test_a_restore_keeps_a_chain_that_verifies(path, tmp_path):
    saved = backups.backup(path, tmp_path / "saved.sqlite", actor=GP)
    db = open_workspace(path)
    audit.record(db, GP, "update", "patients", "p7", "After the backup")
    backups.restore(saved, db, actor=GP, folder=tmp_path / "kept")
    db.close()
    assert [e["action"] for e in log(path)][-1] == "restore" and verify(path).intact


def test_a_sync_exchange_keeps_each_laptops_own_chain(small_world_template, tmp_path):
    """The audit table never travels (each laptop's own trail), so two chains never have to merge: each
    workspace verifies on its own, copies of one workspace sharing the entries made before the copy."""
    assert "audit" in sync_base.EXCLUDED
    a = copy_world(small_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(a)
    b = copy_world(a, tmp_path / "b.sqlite")
    db = open_workspace(a)
    practice = db.execute("SELECT id FROM practices ORDER BY ods_code LIMIT 1").fetchone()[0]
    reference.save(
        db,
        Actor("Ann", "laptop-a"),
        "practices",
        {**reference.get(db, "practices", practice), "list_size": 4321},
        practice,
    )
    db.close()
    before_b = len(log(b))
    out = tmp_path / "a.ldsync"
    phrase = "correct horse battery staple"
    sync_bundle.export_bundle(a, out, phrase, actor=Actor("Ann", "laptop-a"))
    sync_merge.import_bundle(b, out, phrase, actor=Actor("Bea", "laptop-b"))
    b_log = log(b)
    assert {e["user"] for e in b_log[before_b:]} == {"Bea"}  # only b's own record of the import, not a's entries
    assert verify(a).intact and verify(b).intact


def test_the_migration_chains_the_entries_an_older_workspace_holds(tmp_path):
    path = tmp_path / "nine.sqlite"
    shutil.copy(GOLDEN / "workspace-schema9.sqlite", path)
    raw = sqlite3.connect(path)
    for n in range(3):
        raw.execute(
            "INSERT INTO audit (at, user, role, device_id, action, entity, entity_id, summary, detail) "
            "VALUES (?, 'Jo', NULL, 'dev', 'update', 'practices', ?, 'Changed list size', '{}')",
            (f"2026-0{n + 1}-01T09:00:00+00:00", f"r{n}"),
        )
    raw.commit()
    raw.close()
    db = open_workspace(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    result = audit.verify(db)
    assert result.intact and result.entries == 3 and result.protected
    audit.record(db, GP, "update", "practices", "r9", "After the upgrade")
    assert audit.verify(db).intact
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM audit")
    db.close()


def test_the_demo_world_verifies_intact(history_world_template, tmp_path):
    assert verify(copy_world(history_world_template, tmp_path / "demo.sqlite")).intact


# -- who: the typed name and the operating-system account ------------------------------------------------------
def test_the_operating_system_account_is_recorded_beside_the_typed_name(tmp_path, monkeypatch):
    monkeypatch.setattr(clock.getpass, "getuser", lambda: "jexample01")
    actor = Actor.local("dev-1", "Dr Typed Name", "GP")
    assert (actor.user, actor.os_account) == ("Dr Typed Name", "jexample01")
    assert Actor.local("dev-1").user == "jexample01"  # no name typed: the login name stands for both
    db = open_workspace(tmp_path / "w.sqlite")
    audit.record(db, actor, "sign-off", "returns", "q1", "Signed off")
    entry = audit.entries(db)[0]
    assert (entry["user"], entry["os_account"], entry["role"]) == ("Dr Typed Name", "jexample01", "GP")
    assert [e["seq"] for e in audit.search(db, text="jexample01")] == [entry["seq"]]
    out = tmp_path / "log.csv"
    audit.export_csv(db, actor, out, action="sign-off")
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["User"] == "Dr Typed Name" and rows[0]["Computer account"] == "jexample01"
    assert rows[0]["Entry hash"] == entry["hash"]
    assert audit.verify(db).intact
    db.close()


def test_a_made_up_writer_records_no_account():
    assert Actor("demo generator", "demo-00000000").os_account is None
    assert audit.row(GP, "x", "y", None, "z", None)[audit.FIELDS.index("os_account")] is None


# -- a look at a patient's record -----------------------------------------------------------------------------
def test_viewing_a_record_is_logged_with_initials_not_the_name(tmp_path):
    db = open_workspace(tmp_path / "w.sqlite")
    patient = {"id": "p-1", "given_name": "Łucja", "family_name": "Wiśniewska-Ağaoğlu"}
    audit.record_view(db, GP, patient)
    audit.record_view(db, GP, {"id": "p-2", "given_name": "", "family_name": ""})
    first, second = reversed(audit.entries(db))
    assert (first["action"], first["entity"], first["entity_id"]) == ("view", "patients", "p-1")
    assert first["summary"] == "Viewed the record of Ł.W."
    assert second["summary"] == "Viewed a patient's record"
    assert audit.verify(db).intact
    db.close()
