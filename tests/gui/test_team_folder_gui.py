"""Issue 23 point 5 in the app: File → Team folder…, applying the teammates' new bundles on open (with the preview
when there are conflicts), dropping this laptop's bundle on close and hourly, and a folder that is not there."""

from __future__ import annotations

import pytest
from a11y_helpers import reachable, unnamed
from PySide6.QtWidgets import QFileDialog
from sync_helpers import actor as _actor
from sync_helpers import edit_first_practice
from task_helpers import finish_tasks
from worlds import copy_world

from desktop import paths
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import folder as team_folder
from desktop.views.kit import messages
from desktop.views.kit.session import Session
from desktop.views.shell import sync_dialogs
from desktop.views.shell import team_folder as team_folder_view

PASS = "correct horse battery staple"
WAIT_MS = 120_000  # each step starts a child process


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


@pytest.fixture
def asked(monkeypatch) -> list:
    """The passphrase dialog answered with PASS; what it was asked is kept. The environment holds none."""
    monkeypatch.delenv(sync_bundle.PASSPHRASE_ENV, raising=False)
    calls: list = []

    def ask(_parent, title, intro, confirm=False, **kwargs):
        calls.append((title, intro, confirm, kwargs))
        return PASS

    monkeypatch.setattr(sync_dialogs, "ask_passphrase", ask)
    return calls


@pytest.fixture
def team(small_world_path, tmp_path):
    """Two laptops' copies of one team's workspace and their shared folder, named on A."""
    a = small_world_path
    sync_bundle.ensure_team_id(a)
    b = copy_world(a, tmp_path / "b.sqlite")
    shared = tmp_path / "shared"
    shared.mkdir()
    _name_folder(a, shared)
    return {"a": a, "b": b, "folder": shared}


def _name_folder(path, folder) -> None:
    db = open_workspace(path)
    try:
        team_folder.set_folder(db, folder, _actor("ann"))
    finally:
        db.close()


def _here(user: str, at: str) -> Actor:
    """Who edits on this laptop (the window's device): its own edits are what a teammate's can conflict with."""
    return Actor(user, paths.device_id(), fixed_time=at)


def _practice(win, row_id: str) -> dict:
    return next(iter(win.session.db.query("SELECT * FROM practices WHERE id = ?", [row_id])))


def _open(make_window, settings, path, user="ann"):
    win = make_window(Session.open(path, settings))
    win.session.set_user(user)
    return win


def _status(qtbot, win, words: str) -> None:
    qtbot.waitUntil(lambda: words in win.team_folder.last_status, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not win.team_folder.busy, timeout=WAIT_MS)  # its worker thread winds down
    finish_tasks(qtbot)


def test_the_file_menu_names_and_clears_the_team_folder(window, tmp_path, monkeypatch, asked, qtbot):
    texts = [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]
    assert "Team folder…" in texts
    shared = tmp_path / "shared"
    shared.mkdir()
    dialog = team_folder_view.name_team_folder(window)
    qtbot.waitExposed(dialog)
    assert dialog.path.text() == "" and unnamed(dialog) == [] and len(reachable(dialog)) >= 3
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *_a, **_k: str(shared))
    dialog.choose_button.click()
    assert dialog.path.text() == str(shared)
    dialog.ok_button.click()
    assert team_folder.get_folder(window.session.db) == shared
    assert "Team folder:" in window.statusBar().currentMessage()
    _status(qtbot, window, "Nothing new from teammates")  # naming it looks there at once
    assert asked == []  # nothing to apply: no passphrase needed yet

    again = team_folder_view.name_team_folder(window)
    assert again.path.text() == str(shared)
    again.clear_button.click()
    again.ok_button.click()
    assert team_folder.get_folder(window.session.db) is None
    assert "No team folder" in window.statusBar().currentMessage()


def test_a_folder_that_is_not_there_is_refused_when_named(window, tmp_path, monkeypatch, qtbot):
    warned: list = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warned.append((title, text)))
    dialog = team_folder_view.name_team_folder(window)
    dialog.path.setText(str(tmp_path / "not-plugged-in"))
    dialog.ok_button.click()
    assert team_folder.get_folder(window.session.db) is None
    assert warned and "not a folder this laptop can reach" in warned[0][1]


def test_on_open_the_teammates_new_changes_are_applied_and_on_close_mine_are_dropped(
    team, make_window, settings, asked, qtbot
):
    row_id = edit_first_practice(team["b"], _actor("bob", "2026-07-02T09:00:00+00:00"), name="Renamed on B")
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))
    win = _open(make_window, settings, team["a"])
    _status(qtbot, win, "Applied")
    assert "(bob)" in win.team_folder.last_status
    assert _practice(win, row_id)["name"] == "Renamed on B"
    assert len(asked) == 1 and asked[0][2] is False  # the team's passphrase exists: asked once, not twice
    assert team_folder.pending(team["a"], team["folder"]).wanted == []

    win.close()  # the drop on close takes the passphrase given on open: not asked again
    assert len(asked) == 1
    mine = [p for p in team["folder"].iterdir() if p.name.startswith("ann-")]
    assert len(mine) == 1 and sync_bundle.read_header(mine[0])["user"] == "ann"
    assert team_folder.pending(team["b"], team["folder"]).wanted[0].name == mine[0].name


def test_conflicts_on_open_show_the_preview_before_anything_is_applied(team, make_window, settings, asked, qtbot):
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))  # a first exchange, both ways
    team_folder.catch_up(team["a"], team["folder"], PASS, actor=_actor("ann"))
    team_folder.drop(team["a"], team["folder"], PASS, actor=_actor("ann"))
    team_folder.catch_up(team["b"], team["folder"], PASS, actor=_actor("bob"))
    row_id = edit_first_practice(team["a"], _here("ann", "2026-07-03T09:00:00+00:00"), list_size="11111")
    edit_first_practice(team["b"], _actor("bob", "2026-07-03T10:00:00+00:00"), list_size="22222")
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))

    win = _open(make_window, settings, team["a"])
    win.sync_preview = None
    qtbot.waitUntil(lambda: win.sync_preview is not None and win.sync_preview.isVisible(), timeout=WAIT_MS)
    finish_tasks(qtbot)
    preview = win.sync_preview
    assert preview.conflicts.topLevelItemCount() == 1
    assert _practice(win, row_id)["list_size"] == 11111  # nothing changed yet
    preview.apply_button.click()
    assert "not applied" not in win.team_folder.last_status  # Apply is not taken for a Cancel
    _status(qtbot, win, "Applied")
    assert "1 conflict" in win.team_folder.last_status
    assert _practice(win, row_id)["list_size"] == 22222  # B's later edit kept
    win.close()


def test_cancelling_the_preview_leaves_the_bundle_for_next_time(team, make_window, settings, asked, qtbot):
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))
    team_folder.catch_up(team["a"], team["folder"], PASS, actor=_actor("ann"))
    team_folder.drop(team["a"], team["folder"], PASS, actor=_actor("ann"))
    team_folder.catch_up(team["b"], team["folder"], PASS, actor=_actor("bob"))
    edit_first_practice(team["a"], _here("ann", "2026-07-03T09:00:00+00:00"), list_size="11111")
    edit_first_practice(team["b"], _actor("bob", "2026-07-03T10:00:00+00:00"), list_size="22222")
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))
    win = _open(make_window, settings, team["a"])
    win.sync_preview = None
    qtbot.waitUntil(lambda: win.sync_preview is not None and win.sync_preview.isVisible(), timeout=WAIT_MS)
    finish_tasks(qtbot)
    win.sync_preview.reject()
    assert "offered again" in win.team_folder.last_status
    assert len(team_folder.pending(team["a"], team["folder"]).wanted) == 1
    win.close()


def test_an_absent_folder_gives_a_quiet_status_and_asks_nothing(team, make_window, settings, asked, qtbot, monkeypatch):
    warned: list = []
    monkeypatch.setattr(messages, "warn", lambda *args: warned.append(args))
    team["folder"].rmdir()  # the stick is not plugged in
    win = _open(make_window, settings, team["a"])
    _status(qtbot, win, "not reachable")
    assert "catch up next time" in win.statusBar().currentMessage()
    assert win.team_folder.drop_now() is False
    win.close()
    assert asked == [] and warned == [] and not team["folder"].exists()


def test_the_hourly_drop_writes_quietly(team, make_window, settings, asked, qtbot):
    win = _open(make_window, settings, team["a"])
    _status(qtbot, win, "Nothing new")
    assert win.team_folder.hourly.isActive() and win.team_folder.hourly.interval() == 3_600_000
    assert win.team_folder.drop_now() is True
    _status(qtbot, win, "Your changes are in the team folder")
    assert len(asked) == 1
    assert [p.name for p in team["folder"].iterdir() if p.name.startswith("ann-")]
    assert win.team_folder.drop_now() is True
    _status(qtbot, win, "Nothing has changed since your last bundle")
    assert len(asked) == 1
    win.close()


def test_a_wrong_passphrase_is_shown_and_not_kept(team, make_window, settings, monkeypatch, qtbot):
    monkeypatch.delenv(sync_bundle.PASSPHRASE_ENV, raising=False)
    monkeypatch.setattr(sync_dialogs, "ask_passphrase", lambda *_a, **_k: "not the team passphrase at all")
    warned: list = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warned.append((title, text)))
    team_folder.drop(team["b"], team["folder"], PASS, actor=_actor("bob"))
    win = _open(make_window, settings, team["a"])
    _status(qtbot, win, "Nothing was applied")
    assert warned and "passphrase does not open" in warned[0][1]
    assert win.team_folder.passphrases == {}  # asked again next time, never used for a drop
    assert len(team_folder.pending(team["a"], team["folder"]).wanted) == 1
    monkeypatch.setattr(sync_dialogs, "ask_passphrase", lambda *_a, **_k: None)  # closing: the user cancels
    win.close()
    assert [p.name for p in team["folder"].iterdir() if p.name.startswith("ann-")] == []
