"""Issue 11: offline sync between the workspaces of one team, by encrypted change bundles (desktop.models.sync).

Convergence is judged on a hash of every synced table's rows. Excluded: `audit` (each laptop's own trail, never
synced: imports and conflicts add rows there), `meta` (this workspace's settings) and SQLite's and the
migrations' bookkeeping (sqlite_sequence, _sqlite_migrations).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from sync_helpers import actor as _actor
from sync_helpers import has as _has
from sync_helpers import unused_home as _unused_home
from worlds import copy_world

from desktop.cli import main
from desktop.models import reference
from desktop.models.care_homes import visits
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.mdt import actions
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import conflicts as sync_conflicts
from desktop.models.sync import merge as sync_merge

PASS = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


EXCLUDED_FROM_HASH = {"audit", "meta", "sqlite_sequence", "_sqlite_migrations"}


@pytest.fixture
def team(small_world_template, tmp_path) -> dict[str, Path]:
    """Three laptops' copies of one workspace, made after the team id was set (as a team would copy it)."""
    first = copy_world(small_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(first)
    return {"a": first, "b": copy_world(first, tmp_path / "b.sqlite"), "c": copy_world(first, tmp_path / "c.sqlite")}


def content_hash(path: Path) -> str:
    conn = sqlite3.connect(path)
    digest = hashlib.sha256()
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        if table in EXCLUDED_FROM_HASH or table.startswith("_sync"):  # the ledger's versions are each laptop's own
            continue
        digest.update(table.encode())
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY 1, 2'):
            digest.update(json.dumps(row, default=repr).encode())
    conn.close()
    return digest.hexdigest()


def audit_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    finally:
        conn.close()


def export(path: Path, name: str) -> Path:
    out = path.parent / f"{path.stem}-{name}.ldsync"
    sync_bundle.export_bundle(path, out, PASS, actor=_actor(path.stem, "2026-06-01T00:00:00+00:00"))
    return out


def imp(path: Path, bundle: Path, **kw) -> sync_bundle.SyncSummary:
    return sync_merge.import_bundle(path, bundle, PASS, actor=_actor(path.stem, "2026-06-01T00:00:00+00:00"), **kw)


def practice(path: Path, code: str | None = None) -> dict:
    db = open_workspace(path)
    try:
        sql = "SELECT * FROM practices " + ("WHERE ods_code = ?" if code else "ORDER BY ods_code LIMIT 1")
        return next(iter(db.query(sql, [code] if code else [])))
    finally:
        db.close()


def edit_practice(path: Path, code: str, actor: Actor, **values) -> None:
    db = open_workspace(path)
    try:
        p = next(iter(db.query("SELECT * FROM practices WHERE ods_code = ?", [code])))
        reference.save(db, actor, "practices", {**p, **values}, p["id"])
    finally:
        db.close()


def exchange_all(paths: list[Path], tag: str) -> None:
    """Everyone exports, then everyone imports everyone else's bundle."""
    bundles = {p: export(p, tag) for p in paths}
    for p in paths:
        for q, b in bundles.items():
            if q != p:
                imp(p, b)


def test_three_laptops_converge_with_concurrent_edits_deletes_and_a_lost_bundle(team):
    a, b, c = team["a"], team["b"], team["c"]
    exchange_all([a, b, c], "r0")  # the first exchange sets every laptop's base
    assert len({content_hash(p) for p in (a, b, c)}) == 1
    code = practice(a)["ods_code"]
    second = practice(a, None)
    db = open_workspace(a)
    codes = [r[0] for r in db.execute("SELECT ods_code FROM practices ORDER BY ods_code LIMIT 4")]
    home = next(iter(db.query("SELECT * FROM care_homes ORDER BY cqc_id LIMIT 1")))
    db.close()
    assert second["ods_code"] == codes[0] == code

    # Concurrent edits of one practice's list size: B's is later and wins everywhere.
    edit_practice(a, code, _actor("a", "2026-07-01T09:00:00+00:00"), list_size="11111")
    edit_practice(b, code, _actor("b", "2026-07-01T10:00:00+00:00"), list_size="22222")
    # A edits another practice; C deletes a care home; A edits that home too (edit beats delete).
    edit_practice(a, codes[1], _actor("a", "2026-07-01T09:05:00+00:00"), name="Renamed on A")
    db = open_workspace(c)
    reference.delete(db, _actor("c", "2026-07-01T09:10:00+00:00"), "care_homes", home["id"])
    db.close()
    db = open_workspace(a)
    reference.save(db, _actor("a", "2026-07-01T11:00:00+00:00"), "care_homes", {**home, "beds": "77"}, home["id"])
    db.close()

    lost = export(a, "lost")  # never arrives anywhere
    assert lost.exists()
    edit_practice(a, codes[2], _actor("a", "2026-07-02T09:00:00+00:00"), list_size="3333")
    a1, b1, c1 = export(a, "r1"), export(b, "r1"), export(c, "r1")
    # Different orders on each laptop.
    summary_a = imp(a, b1)
    imp(a, c1)
    imp(b, c1)
    imp(b, a1)
    imp(c, a1)
    imp(c, b1)
    conflict = next(x for x in summary_a.conflicts if x.kind == "edited on both")
    assert (conflict.table, conflict.winner) == ("practices", "theirs")
    assert (conflict.mine["list_size"], conflict.theirs["list_size"]) == (11111, 22222)
    assert conflict.their_by == "b"
    # A second round carries the winners back (A restores C's deleted home; nobody changes further after that).
    exchange_all([a, b, c], "r2")
    exchange_all([a, b, c], "r3")
    hashes = {content_hash(p) for p in (a, b, c)}
    assert len(hashes) == 1
    assert practice(c, code)["list_size"] == 22222
    assert practice(b, codes[1])["name"] == "Renamed on A"
    assert practice(c, codes[2])["list_size"] == 3333  # the edit in the lost bundle arrived with the next one
    conn = sqlite3.connect(c)
    assert conn.execute("SELECT beds FROM care_homes WHERE id = ?", [home["id"]]).fetchone() == (77,)
    conn.close()
    conn = sqlite3.connect(a)  # C's delete met A's edit on A's laptop: the edit was kept and the clash recorded
    kinds = {
        r[0] for r in conn.execute("SELECT json_extract(detail, '$.kind') FROM audit WHERE action = 'sync-conflict'")
    }
    assert "deleted there, edited here" in kinds
    kept = conn.execute("SELECT detail FROM audit WHERE action = 'sync-conflict' AND entity = 'practices'").fetchone()
    conn.close()
    assert json.loads(kept[0])["mine"]["list_size"] == 11111  # the losing version stays in the record's history


def test_a_deletion_reaches_everyone(team):
    a, b, c = team["a"], team["b"], team["c"]
    exchange_all([a, b, c], "r0")
    db = open_workspace(b)
    home = next(iter(db.query("SELECT * FROM care_homes ORDER BY cqc_id LIMIT 1")))
    reference.delete(db, _actor("b", "2026-08-01T09:00:00+00:00"), "care_homes", home["id"])
    db.close()
    bundle = export(b, "del")
    imp(a, bundle)
    summary = imp(c, bundle)
    assert summary.applied.get("deleted") == 1 and not summary.conflicts
    assert len({content_hash(p) for p in (a, b, c)}) == 1


def test_a_bundle_applied_twice_is_refused_and_changes_nothing(team):
    a, b = team["a"], team["b"]
    edit_practice(a, practice(a)["ods_code"], _actor("a", "2026-07-01T09:00:00+00:00"), list_size="4242")
    bundle = export(a, "once")
    imp(b, bundle)
    before, audits = content_hash(b), audit_count(b)
    with pytest.raises(ValidationError, match="already applied"):
        imp(b, bundle)
    assert (content_hash(b), audit_count(b)) == (before, audits)
    assert practice(b)["list_size"] == 4242


def test_dry_run_reports_and_changes_nothing(team):
    a, b = team["a"], team["b"]
    edit_practice(a, practice(a)["ods_code"], _actor("a", "2026-07-01T09:00:00+00:00"), list_size="4242")
    bundle = export(a, "dry")
    before, audits = content_hash(b), audit_count(b)
    summary = imp(b, bundle, dry_run=True)
    assert summary.dry_run and sum(summary.changes.values()) > 0
    assert (content_hash(b), audit_count(b)) == (before, audits)
    imp(b, bundle)  # not recorded as seen by the dry run
    assert practice(b)["list_size"] == 4242


@pytest.mark.parametrize("damage", ["ciphertext", "header"])
def test_a_tampered_bundle_is_refused(team, damage):
    a, b = team["a"], team["b"]
    bundle = export(a, "t")
    raw = bundle.read_bytes()
    head, body = raw.split(b"\n", 1)
    envelope = json.loads(body)
    if damage == "ciphertext":
        text = envelope["ciphertext"]
        envelope["ciphertext"] = text[:40] + ("A" if text[40] != "A" else "B") + text[41:]
    else:
        envelope["header"]["user"] = "mallory"
    bundle.write_bytes(head + b"\n" + json.dumps(envelope).encode())
    before, audits = content_hash(b), audit_count(b)
    with pytest.raises(ValidationError, match="damaged or was altered"):
        imp(b, bundle)
    assert (content_hash(b), audit_count(b)) == (before, audits)


def test_wrong_passphrase_foreign_team_and_own_bundle_are_refused(team, small_world_template, tmp_path):
    a, b = team["a"], team["b"]
    edit_practice(a, practice(a)["ods_code"], _actor("a", "2026-07-01T09:00:00+00:00"), list_size="4242")
    bundle = export(a, "x")
    before, audits = content_hash(b), audit_count(b)
    with pytest.raises(ValidationError, match="passphrase does not open"):
        sync_merge.import_bundle(b, bundle, "not the passphrase")
    with pytest.raises(ValidationError, match="made by this workspace"):
        imp(a, bundle)
    other = copy_world(small_world_template, tmp_path / "other.sqlite")
    sync_bundle.ensure_team_id(other)
    with pytest.raises(ValidationError, match="another team"):
        imp(other, bundle)
    with pytest.raises(ValidationError, match="not a Locality Desk sync bundle"):
        imp(b, a)
    assert (content_hash(b), audit_count(b)) == (before, audits)


def test_a_bundle_of_another_schema_version_is_refused(team):
    a, b = team["a"], team["b"]
    bundle = export(a, "v")
    conn = sqlite3.connect(b)
    conn.execute("PRAGMA user_version = 8")  # an older Locality Desk's workspace, as far as the check can tell
    conn.commit()
    conn.close()
    before = content_hash(b)
    with pytest.raises(ValidationError, match="schema"):
        sync_merge.import_bundle(b, bundle, PASS)
    assert content_hash(b) == before


def test_cli_sync_export_and_import_exit_codes(team, monkeypatch, capsys):
    a, b = team["a"], team["b"]
    out = a.parent / "cli.ldsync"
    monkeypatch.setenv("LOCALITY_DESK_PASSPHRASE", PASS)
    assert main(["sync", "export", "--db", str(a), "--out", str(out)]) == 0
    assert "Wrote sync bundle 1" in capsys.readouterr().out
    assert main(["sync", "import", "--db", str(b), str(out), "--dry-run", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] is True and report["conflicts"] == []
    assert main(["sync", "import", "--db", str(b), str(out)]) == 0
    assert main(["sync", "import", "--db", str(b), str(out)]) == 1
    assert "already applied" in capsys.readouterr().err
    monkeypatch.setenv("LOCALITY_DESK_PASSPHRASE", "wrong")
    assert main(["sync", "import", "--db", str(b), str(out)]) == 1
    assert "passphrase" in capsys.readouterr().err


def _log_visit(path: Path, home_id: str, user: str) -> str:
    db = open_workspace(path)
    try:
        visit_id, _ = visits.log_visit(
            db,
            _actor(user, "2026-07-01T09:00:00+00:00"),
            home_id,
            "2026-07-01",
            visits.TYPES[0],
            today=dt.date(2026, 7, 2),
        )
        return visit_id
    finally:
        db.close()


def test_a_record_deleted_there_but_used_here_is_kept_and_given_back(team):
    a, b, c = team["a"], team["b"], team["c"]
    exchange_all([a, b, c], "r0")
    home = _unused_home(b)
    db = open_workspace(b)
    reference.delete(db, _actor("b", "2026-07-01T08:00:00+00:00"), "care_homes", home["id"])
    db.close()
    visit = _log_visit(a, home["id"], "a")  # meanwhile, on A, a visit to that home
    from_b = export(b, "del")

    summary = imp(a, from_b)
    assert _has(a, "care_homes", home["id"]) and _has(a, "visits", visit)
    assert [(x.table, x.kind, x.winner) for x in summary.conflicts] == [
        ("care_homes", "deleted there, still in use here", "mine")
    ]
    imp(c, from_b)
    assert not _has(c, "care_homes", home["id"])  # nothing used it on C

    from_a = export(a, "back")
    imp(b, from_a)
    imp(c, from_a)
    assert all(_has(p, "care_homes", home["id"]) and _has(p, "visits", visit) for p in (a, b, c))
    assert len({content_hash(p) for p in (a, b, c)}) == 1


def test_a_record_deleted_with_everything_that_used_it_goes_everywhere(team):
    a, b = team["a"], team["b"]
    home = _unused_home(b)
    visit = _log_visit(b, home["id"], "b")
    exchange_all([a, b], "r0")
    assert _has(a, "visits", visit)
    conn = sqlite3.connect(b)
    with conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("UPDATE actions SET visit_id = NULL WHERE visit_id = ?", [visit])
        conn.execute("DELETE FROM visits WHERE id = ?", [visit])
        conn.execute("DELETE FROM care_homes WHERE id = ?", [home["id"]])
    conn.close()

    summary = imp(a, export(b, "gone"))
    assert not summary.conflicts
    assert not _has(a, "care_homes", home["id"]) and not _has(a, "visits", visit)
    assert content_hash(a) == content_hash(b)


def test_a_record_made_here_and_deleted_later_is_deleted_everywhere_even_if_a_bundle_is_lost(team):
    a, b, c = team["a"], team["b"], team["c"]
    exchange_all([a, b, c], "r0")
    db = open_workspace(a)
    template = {k: v for k, v in practice(a).items() if k not in ("id", "created_at", "updated_at")}
    new_id, _ = reference.save(
        db,
        _actor("a", "2026-07-01T09:00:00+00:00"),
        "practices",
        {**template, "name": "Brand New Surgery", "ods_code": "Z99990"},
    )
    db.close()
    with_it = export(a, "made")
    imp(b, with_it)
    imp(c, with_it)
    db = open_workspace(a)
    reference.delete(db, _actor("a", "2026-07-02T09:00:00+00:00"), "practices", new_id)
    db.close()
    export(a, "lost")  # never arrives
    latest = export(a, "latest")
    for p in (b, c):
        assert imp(p, latest).applied.get("deleted") == 1
        assert not _has(p, "practices", new_id)
    assert len({content_hash(p) for p in (a, b, c)}) == 1


def _new_action(path: Path, user: str, at: str, what: str) -> tuple[str, str]:
    db = open_workspace(path)
    try:
        locality = db.execute("SELECT id FROM localities ORDER BY code LIMIT 1").fetchone()[0]
        values = {
            "description": what,
            "owner_name": "Duty matron",
            "owner_organisation": "community health",
            "due_date": "2026-08-01",
        }
        action_id, _ = actions.create(db, _actor(user, at), locality, values, today=dt.date(2026, 7, 1))
        return action_id, db.execute("SELECT reference FROM actions WHERE id = ?", [action_id]).fetchone()[0]
    finally:
        db.close()


def _references(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT id, reference FROM actions"))
    finally:
        conn.close()


@pytest.mark.parametrize("first", ["a", "b"])
def test_two_new_actions_numbered_alike_end_with_different_numbers_everywhere(team, first):
    a, b, c = team["a"], team["b"], team["c"]
    exchange_all([a, b, c], "r0")
    early, ref_a = _new_action(a, "a", "2026-07-01T09:00:00+00:00", "Ring the district nurses")
    late, ref_b = _new_action(b, "b", "2026-07-01T10:00:00+00:00", "Book the pharmacist review")
    assert ref_a == ref_b  # each laptop took the next number it knew of

    order = [a, b] if first == "a" else [b, a]
    for _ in range(2):  # whoever imports first, two rounds settle it
        exchange_all(order + [c], f"round-{_}")
    refs = [_references(p) for p in (a, b, c)]
    assert refs[0] == refs[1] == refs[2]
    assert refs[0][early] == ref_a  # the earlier-made action keeps its number
    assert refs[0][late] not in (ref_a, "") and len(set(refs[0].values())) == len(refs[0])
    assert len({content_hash(p) for p in (a, b, c)}) == 1
    conn = sqlite3.connect(b)
    renumbered = conn.execute("SELECT entity_id FROM audit WHERE action = 'sync-renumber'").fetchall()
    conn.close()
    assert renumbered == [(late,)]  # by the laptop that made it, once


def test_the_same_practice_added_on_two_laptops_is_shown_as_a_conflict_and_neither_copy_is_lost(team):
    a, b = team["a"], team["b"]
    exchange_all([a, b], "r0")
    template = {k: v for k, v in practice(a).items() if k not in ("id", "created_at", "updated_at")}
    made = {}
    for path, name in ((a, "Added on A"), (b, "Added on B")):
        db = open_workspace(path)
        made[path], _ = reference.save(
            db,
            _actor(path.stem, "2026-07-01T09:00:00+00:00"),
            "practices",
            {**template, "name": name, "ods_code": "Z99995"},
        )
        db.close()
    for tag in ("r1", "r2"):
        exchange_all([a, b], tag)
        assert _has(a, "practices", made[a]) and _has(b, "practices", made[b])  # nobody's row deleted back
    db = open_workspace(a)
    shown = sync_conflicts.conflicts(db)
    db.close()
    assert shown and shown[0]["table"] == "practices" and shown[0]["kind"] == "refused by a constraint"
    assert shown[0]["theirs"]["name"] == "Added on B"
    db = open_workspace(a)
    before = content_hash(a)
    with pytest.raises(ValidationError, match="same code"):
        sync_conflicts.keep_version(db, _actor("a", "2026-07-02T09:00:00+00:00"), shown[0]["seq"], "theirs")
    db.close()
    assert content_hash(a) == before
