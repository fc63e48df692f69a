"""Issue 23 point 5: the team folder, where each laptop drops its latest bundle and picks up its teammates'."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sync_helpers import actor as _actor
from sync_helpers import edit_first_practice
from worlds import copy_world

from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import folder as team_folder

PASS = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


@pytest.fixture
def team(small_world_template, tmp_path) -> dict[str, Path]:
    """Two laptops' copies of one workspace (made after the team id was set) and their shared folder."""
    a = copy_world(small_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(a)
    shared = tmp_path / "shared"
    shared.mkdir()
    return {"a": a, "b": copy_world(a, tmp_path / "b.sqlite"), "folder": shared, "tmp": tmp_path}


def ann(at: str = "2026-07-01T09:00:00+00:00") -> Actor:
    return _actor("ann", at)


def bob(at: str = "2026-07-01T09:00:00+00:00") -> Actor:
    return _actor("bob", at)


def practice(path: Path, row_id: str) -> dict:
    db = open_workspace(path)
    try:
        return next(iter(db.query("SELECT * FROM practices WHERE id = ?", [row_id])))
    finally:
        db.close()


def audit_actions(path: Path, action: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM audit WHERE action = ?", [action]).fetchone()[0]
    finally:
        conn.close()


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- the setting


def test_the_folder_is_named_cleared_and_audited_in_the_workspace(team):
    db = open_workspace(team["a"])
    try:
        assert team_folder.get_folder(db) is None
        assert team_folder.set_folder(db, team["folder"], ann()) == team["folder"]
        assert team_folder.get_folder(db) == team["folder"]
        assert team_folder.set_folder(db, "", ann()) is None
        assert team_folder.get_folder(db) is None
    finally:
        db.close()
    assert audit_actions(team["a"], "team-folder") == 2


def test_a_missing_or_relative_folder_is_refused_and_nothing_changes(team):
    db = open_workspace(team["a"])
    try:
        with pytest.raises(ValidationError, match="not a folder this laptop can reach"):
            team_folder.set_folder(db, team["tmp"] / "not-there", ann())
        with pytest.raises(ValidationError, match="full path"):
            team_folder.set_folder(db, "shared", ann())
        assert team_folder.get_folder(db) is None
    finally:
        db.close()


# ---------------------------------------------------------------- drop


def test_drop_keeps_one_file_per_laptop_and_replaces_it(team):
    first = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    assert first.reachable and first.file and not first.unchanged
    header = sync_bundle.read_header(first.file)
    assert Path(first.file).name == f"ann-{header['sender'][:8]}.ldsync"
    assert files(team["folder"]) == [Path(first.file).name]
    edit_first_practice(team["a"], ann("2026-07-02T09:00:00+00:00"), list_size="12345")
    second = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    assert second.file == first.file
    assert files(team["folder"]) == [Path(first.file).name]  # replaced, no leftover temporary file
    assert sync_bundle.read_header(second.file)["seq"] == header["seq"] + 1


def test_drop_writes_nothing_when_nothing_changed_unless_forced(team):
    first = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    exports = audit_actions(team["a"], "sync-export")
    again = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    assert again.unchanged and again.reachable and again.summary is None
    assert audit_actions(team["a"], "sync-export") == exports
    assert sync_bundle.read_header(first.file)["seq"] == first.summary.seq
    forced = team_folder.drop(team["a"], team["folder"], PASS, actor=ann(), force=True)
    assert not forced.unchanged and forced.summary.seq == first.summary.seq + 1


def test_drop_writes_again_when_its_file_was_removed_from_the_folder(team):
    first = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    Path(first.file).unlink()
    again = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    assert not again.unchanged and Path(again.file).exists()


def test_a_laptop_whose_user_changed_name_leaves_only_its_newest_file(team):
    first = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    renamed = Actor("Ann Other", "laptop-ann", fixed_time="2026-07-01T09:00:00+00:00")
    second = team_folder.drop(team["a"], team["folder"], PASS, actor=renamed, force=True)
    assert Path(second.file).name.startswith("Ann-Other-")
    assert files(team["folder"]) == [Path(second.file).name]
    assert not Path(first.file).exists()


def test_a_copy_of_a_laptop_drops_under_a_name_of_its_own(team):
    first = team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    copy = copy_world(team["a"], team["tmp"] / "copy.sqlite")  # the second-laptop recipe: a copy of the file
    dropped = team_folder.drop(copy, team["folder"], PASS, actor=ann())
    assert not dropped.unchanged
    assert dropped.file != first.file and len(files(team["folder"])) == 2
    assert sync_bundle.read_header(dropped.file)["sender"] != sync_bundle.read_header(first.file)["sender"]


# ---------------------------------------------------------------- pending and catch up


def test_a_teammates_drop_is_pending_then_applied_and_own_files_never_are(team):
    row_id = edit_first_practice(team["a"], ann("2026-07-02T09:00:00+00:00"), name="Renamed on A")
    team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    team_folder.drop(team["b"], team["folder"], PASS, actor=bob())
    assert team_folder.pending(team["a"], team["folder"]).wanted[0].header["user"] == "bob"
    scan = team_folder.pending(team["b"], team["folder"])
    assert [f.header["user"] for f in scan.wanted] == ["ann"]
    assert scan.up_to_date == 1 and scan.skipped == [] and "1 new bundle" in scan.message

    preview = team_folder.catch_up(team["b"], team["folder"], PASS, actor=bob(), dry_run=True)
    assert preview.dry_run and len(preview.applied) == 1 and "nothing has changed yet" in preview.message
    assert practice(team["b"], row_id)["name"] != "Renamed on A"

    done = team_folder.catch_up(team["b"], team["folder"], PASS, actor=bob())
    assert [a.header["user"] for a in done.applied] == ["ann"] and done.refused == []
    assert "Applied" in done.message and "(ann)" in done.message
    assert practice(team["b"], row_id)["name"] == "Renamed on A"
    assert team_folder.pending(team["b"], team["folder"]).wanted == []
    again = team_folder.catch_up(team["b"], team["folder"], PASS, actor=bob())
    assert again.applied == [] and again.message == "Nothing new from teammates in the team folder."


def test_catch_up_reports_conflicts_in_the_dry_run(team):
    team_folder.drop(team["b"], team["folder"], PASS, actor=bob())  # a first exchange: B's whole workspace
    team_folder.catch_up(team["a"], team["folder"], PASS, actor=ann())
    team_folder.drop(team["a"], team["folder"], PASS, actor=ann())
    team_folder.catch_up(team["b"], team["folder"], PASS, actor=bob())
    edit_first_practice(team["a"], ann("2026-07-03T09:00:00+00:00"), list_size="11111")
    edit_first_practice(team["b"], bob("2026-07-03T10:00:00+00:00"), list_size="22222")
    team_folder.drop(team["b"], team["folder"], PASS, actor=bob())
    preview = team_folder.catch_up(team["a"], team["folder"], PASS, actor=ann(), dry_run=True)
    assert preview.conflicts == 1
    only_none = team_folder.catch_up(team["a"], team["folder"], PASS, actor=ann(), only=[])
    assert only_none.applied == []
    done = team_folder.catch_up(team["a"], team["folder"], PASS, actor=ann())
    assert done.conflicts == 1 and "Sync conflicts" in done.message


def test_unreadable_and_other_teams_files_are_skipped_with_a_reason(team, small_world_template):
    (team["folder"] / "notes.ldsync").write_text("not a bundle")
    (team["folder"] / "readme.txt").write_text("ignored: not a bundle name")
    (team["folder"] / ".abc.ldsync-new").write_text("a drop being written")
    other = copy_world(small_world_template, team["tmp"] / "other.sqlite")
    sync_bundle.ensure_team_id(other)
    team_folder.drop(other, team["folder"], PASS, actor=_actor("eve"))
    team_folder.drop(team["b"], team["folder"], PASS, actor=bob())
    team_folder.catch_up(team["a"], team["folder"], PASS, actor=ann())  # A has a team: the first exchange with B
    scan = team_folder.pending(team["a"], team["folder"])
    reasons = {s.name: s.reason for s in scan.skipped}
    assert "not a Locality Desk sync bundle" in reasons["notes.ldsync"]
    assert any(name.startswith("eve-") and "another team" in why for name, why in reasons.items())
    assert scan.wanted == [] and "readme.txt" not in reasons and ".abc.ldsync-new" not in reasons


def test_a_wrong_passphrase_refuses_each_bundle_and_raises_nothing(team):
    team_folder.drop(team["b"], team["folder"], PASS, actor=bob())
    result = team_folder.catch_up(team["a"], team["folder"], "not the team passphrase", actor=ann())
    assert result.applied == [] and len(result.refused) == 1
    assert "passphrase does not open" in result.refused[0].reason
    assert "refused" in result.message
    assert len(team_folder.pending(team["a"], team["folder"]).wanted) == 1  # offered again next time


def test_a_short_passphrase_is_refused_before_anything_is_written(team):
    with pytest.raises(ValidationError):
        team_folder.drop(team["a"], team["folder"], "short", actor=ann())
    assert files(team["folder"]) == []


# ---------------------------------------------------------------- offline


def test_an_absent_folder_is_a_status_never_an_error_and_nothing_is_written(team):
    gone = team["tmp"] / "unplugged-stick"
    exports = audit_actions(team["a"], "sync-export")
    dropped = team_folder.drop(team["a"], gone, PASS, actor=ann())
    assert not dropped.reachable and dropped.file is None
    assert "not reachable" in dropped.message and "catch up next time" in dropped.message
    assert audit_actions(team["a"], "sync-export") == exports
    scan = team_folder.pending(team["a"], gone)
    assert not scan.reachable and scan.wanted == [] and "not reachable" in scan.message
    caught = team_folder.catch_up(team["a"], gone, PASS, actor=ann())
    assert not caught.reachable and caught.applied == [] and "not reachable" in caught.message
    assert not gone.exists()


def test_the_name_of_a_laptops_file_is_safe_whatever_the_user_is_called():
    assert team_folder.bundle_name("Dr A. O'Neil", "0123456789abcdef") == "Dr-A-O-Neil-01234567.ldsync"
    assert team_folder.bundle_name("../..", "0123456789abcdef") == "laptop-01234567.ldsync"
