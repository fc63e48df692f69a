"""Issue 11: unresolved sync conflicts, and keeping one version by choice (desktop.models.sync.conflicts)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sync_helpers import actor as _actor
from worlds import copy_world

from desktop.models import reference
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import conflicts as sync_conflicts
from desktop.models.sync import merge as sync_merge

PASS = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


@pytest.fixture
def clash(small_world_template, tmp_path) -> dict:
    """A and B edit one practice's list size (B later); A applies B's bundle: one conflict, theirs won."""
    a = copy_world(small_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(a)
    b = copy_world(a, tmp_path / "b.sqlite")
    db = open_workspace(a)
    practice = next(iter(db.query("SELECT * FROM practices ORDER BY ods_code LIMIT 1")))
    reference.save(
        db, _actor("ann", "2026-07-01T09:00:00+00:00"), "practices", {**practice, "list_size": "11111"}, practice["id"]
    )
    db.close()
    db = open_workspace(b)
    reference.save(
        db, _actor("bob", "2026-07-01T10:00:00+00:00"), "practices", {**practice, "list_size": "22222"}, practice["id"]
    )
    db.close()
    bundle = tmp_path / "b.ldsync"
    sync_bundle.export_bundle(b, bundle, PASS, actor=_actor("bob", "2026-07-01T10:30:00+00:00"))
    sync_merge.import_bundle(a, bundle, PASS, actor=_actor("ann", "2026-07-01T11:00:00+00:00"))
    return {"a": a, "b": b, "id": practice["id"]}


def _list_size(path: Path, row_id: str) -> dict:
    db = open_workspace(path)
    try:
        return next(iter(db.query("SELECT * FROM practices WHERE id = ?", [row_id])))
    finally:
        db.close()


def test_conflicts_lists_both_versions_and_the_winner(clash):
    db = open_workspace(clash["a"])
    try:
        found = sync_conflicts.conflicts(db)
    finally:
        db.close()
    assert len(found) == 1
    c = found[0]
    assert (c["table"], c["id"], c["kind"], c["winner"]) == ("practices", clash["id"], "edited on both", "theirs")
    assert (c["mine"]["list_size"], c["theirs"]["list_size"]) == (11111, 22222)
    assert (c["my_by"], c["their_by"]) == ("ann", "bob")
    assert c["my_at"] < c["their_at"]
    assert "list_size" in sync_conflicts.differing(c) and "updated_at" not in sync_conflicts.differing(c)


def test_keep_mine_writes_it_back_as_a_new_edit_that_wins_at_the_next_exchange(clash, tmp_path):
    a, b = clash["a"], clash["b"]
    assert _list_size(a, clash["id"])["list_size"] == 22222
    db = open_workspace(a)
    try:
        seq = sync_conflicts.conflicts(db)[0]["seq"]
        changes = sync_conflicts.keep_version(db, _actor("ann", "2026-07-02T09:00:00+00:00"), seq, "mine")
        assert changes.touches("practices")
        assert sync_conflicts.conflicts(db) == []
        resolve = next(iter(db.query("SELECT * FROM audit WHERE action = 'sync-resolve'")))
        assert resolve["entity_id"] == clash["id"] and "kept mine" in resolve["summary"]
        with pytest.raises(ValidationError, match="already resolved"):
            sync_conflicts.keep_version(db, _actor("ann", "2026-07-02T09:01:00+00:00"), seq, "theirs")
    finally:
        db.close()
    row = _list_size(a, clash["id"])
    assert (row["list_size"], row["updated_by"], row["updated_at"]) == (11111, "ann", "2026-07-02T09:00:00+00:00")
    bundle = tmp_path / "a.ldsync"
    sync_bundle.export_bundle(a, bundle, PASS, actor=_actor("ann", "2026-07-02T09:05:00+00:00"))
    sync_merge.import_bundle(b, bundle, PASS, actor=_actor("bob", "2026-07-02T10:00:00+00:00"))
    assert _list_size(b, clash["id"])["list_size"] == 11111


def test_keeping_the_winner_only_marks_it_resolved(clash):
    db = open_workspace(clash["a"])
    try:
        seq = sync_conflicts.conflicts(db)[0]["seq"]
        changes = sync_conflicts.keep_version(db, _actor("ann", "2026-07-02T09:00:00+00:00"), seq, "theirs")
        assert not changes.touches("practices")
        assert sync_conflicts.conflicts(db) == []
    finally:
        db.close()
    row = _list_size(clash["a"], clash["id"])
    assert (row["list_size"], row["updated_by"]) == (22222, "bob")


def test_bad_choice_or_unknown_conflict_is_refused(clash):
    db = open_workspace(clash["a"])
    try:
        seq = sync_conflicts.conflicts(db)[0]["seq"]
        with pytest.raises(ValidationError):
            sync_conflicts.keep_version(db, _actor("ann", "2026-07-02T09:00:00+00:00"), seq, "both")
        with pytest.raises(ValidationError, match="no sync conflict"):
            sync_conflicts.keep_version(db, _actor("ann", "2026-07-02T09:00:00+00:00"), 10**9, "mine")
        assert len(sync_conflicts.conflicts(db)) == 1
    finally:
        db.close()


def test_records_and_tables_are_named_as_people_know_them():
    practice = {"id": "3f1c0000-aaaa", "name": "Hawthorn Surgery", "ods_code": "Z82049"}
    assert sync_conflicts.record_label("practices", None, practice) == "Hawthorn Surgery (Z82049)"
    assert sync_conflicts.record_label("actions", {"id": "x", "reference": "CHA-2026-0001"}) == "CHA-2026-0001"
    assert sync_conflicts.record_label("visits", {"id": "0123456789"}) == "record 01234567"
    assert sync_conflicts.table_label("care_homes") == "Care homes" and sync_conflicts.table_label("pcns") == "PCNs"
