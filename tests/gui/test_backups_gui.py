"""Backups in the app: on close, daily after start-up, File → Back up now… and File → Restore from backup…."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop import paths
from desktop.models import audit, backups
from desktop.models.changes import Changes
from desktop.models.db import open_workspace
from desktop.models.errors import DeskError
from desktop.models.progress import Cancelled
from desktop.settings import SETTINGS
from desktop.views.shell import backups as backup_ops


@pytest.fixture(autouse=True)
def _backups_on(settings):
    """The rolling backups as a user has them (the other GUI tests switch them off)."""
    settings.set("backups_keep", SETTINGS["backups_keep"].default)


def _file_action(window, text: str):
    menu = window.menuBar().actions()[0].menu()
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


def _rename(session, practice_id: str, name: str) -> None:
    with session.db.atomic():
        session.db.execute("UPDATE practices SET name = ? WHERE id = ?", [name, practice_id])
    session.publish(Changes.of("practices"))


def _shown_name(window, practice_id: str) -> str:
    return next(r for r in window.pages["practices"].visible_rows() if r["id"] == practice_id)["name"]


def test_restore_from_backup_brings_the_backup_back_on_every_screen(qtbot, window, session, practices, confirmed):
    target = practices.visible_rows()[0]
    original = target["name"]
    saved = backups.rolling(session.db, reason="close")
    _rename(session, target["id"], "Renamed after the backup")
    assert _shown_name(window, target["id"]) == "Renamed after the backup"

    _file_action(window, "Restore from backup…").trigger()
    dialog = window.restore_dialog
    assert dialog.list.topLevelItemCount() == 1 and dialog.selected() == saved
    assert dialog.list.topLevelItem(0).text(1) == "Automatic" and dialog.list.topLevelItem(0).text(2).endswith("KB")
    dialog.restore_button.click()
    finish_tasks(qtbot)

    assert len(confirmed) == 1 and session.path.name in confirmed[0] and "before-restore backup" in confirmed[0]
    assert window.session is not session  # reopened: every screen reads the restored file
    window.show_screen("practices")
    assert _shown_name(window, target["id"]) == original
    undo = [b for b in backups.list_backups(saved.parent) if b.label == "before-restore"]
    assert len(undo) == 1
    assert audit.entries(window.session.db, "workspace")[0]["action"] == "restore"

    # The before-restore backup undoes it, through the same dialog.
    _file_action(window, "Restore from backup…").trigger()
    dialog = window.restore_dialog
    assert dialog.selected() == undo[0].path  # newest first
    dialog.restore_button.click()
    finish_tasks(qtbot)
    window.show_screen("practices")
    assert _shown_name(window, target["id"]) == "Renamed after the backup"


def test_a_damaged_file_chosen_to_restore_is_refused_and_nothing_changes(
    window, session, practices, confirmed, warnings, monkeypatch, tmp_path
):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x17" * 8000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(bad), ""))
    before = [dict(r) for r in practices.visible_rows()]
    _file_action(window, "Restore from backup…").trigger()
    assert window.restore_dialog.empty.isVisibleTo(window.restore_dialog)  # no backups yet
    window.restore_dialog.choose_button.click()
    assert warnings and "bad.sqlite" in warnings[0][1] and confirmed == []
    assert window.session is session
    assert [dict(r) for r in window.pages["practices"].visible_rows()] == before
    assert backups.list_backups(backups.default_folder(session.path)) == []


def test_closing_the_window_writes_a_rolling_backup(window, session):
    folder = backups.default_folder(session.path)
    assert backups.list_backups(folder) == []
    path = session.path
    window.close()
    made = backups.list_backups(folder)
    assert [b.label for b in made] == [""] and made[0].path.name.startswith(f"{path.stem}-")
    backups.check_backup(made[0].path)
    db = open_workspace(path, create=False)
    assert json.loads(audit.entries(db, "workspace")[0]["detail"])["reason"] == "close"
    db.close()


def test_the_backup_on_close_lands_beside_the_workspace_on_its_disk_not_in_the_user_data_folder(window, session):
    # Issue 20: a workspace kept on an encrypted USB drive must not leave copies of its patients on the laptop.
    path = session.path
    window.close()
    beside = path.parent / "backups" / path.stem
    made = backups.list_backups(beside)
    assert len(made) == 1 and made[0].path.stat().st_dev == path.stat().st_dev
    assert not (paths.backups_dir() / path.stem).exists()


def test_a_failed_backup_on_close_never_stops_the_window_closing(window, session, monkeypatch):
    def broken(*_a, **_k):
        raise OSError("disk gone")

    monkeypatch.setattr(backups, "rolling", broken)
    window.close()
    assert not window.isVisible() and window.session is None


def test_the_daily_backup_runs_after_start_up_off_the_gui_thread(qtbot, make_window, session, monkeypatch):
    monkeypatch.setattr(backup_ops, "DAILY_FIRST_MS", 0)
    folder = backups.default_folder(session.path)
    window = make_window(session)
    qtbot.waitUntil(lambda: window.daily_backups.worker is not None and not window.daily_backups.running)
    made = backups.list_backups(folder)
    assert [b.label for b in made] == [""]
    assert not backups.daily_due(folder)
    assert window.daily_backups.run_if_due() is False  # one a day


def test_back_up_now_suggests_the_backups_folder_and_writes_the_chosen_file(
    qtbot, window, session, monkeypatch, tmp_path
):
    suggested: list[str] = []

    def save_as(_parent, _title, start, _filter):
        suggested.append(start)
        return str(tmp_path / "mine"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    _file_action(window, "Back up now…").trigger()
    finish_tasks(qtbot)
    start = Path(suggested[0])
    assert start.parent == backups.default_folder(session.path) and start.name.endswith("-manual.sqlite")
    backups.check_backup(tmp_path / "mine.sqlite")
    assert audit.entries(session.db, "workspace")[0]["action"] == "backup"
    assert window.statusBar().currentMessage() == f"Backed up to {tmp_path / 'mine.sqlite'}"


@pytest.mark.parametrize("stop", [Cancelled("Cancelled; nothing was changed."), DeskError("The backup is too new.")])
def test_a_restore_stopped_part_way_says_so_and_keeps_the_workspace(
    qtbot, window, session, confirmed, warnings, monkeypatch, stop
):
    saved = backups.rolling(session.db, reason="close")

    def stopped(*_a, **_k):
        raise stop

    monkeypatch.setattr(backups, "restore", stopped)
    backup_ops.restore(window, saved)
    finish_tasks(qtbot)
    assert window.session is session  # not reopened
    if isinstance(stop, Cancelled):
        assert warnings == []
        assert window.statusBar().currentMessage() == "The workspace was not restored: cancelled. Nothing was changed."
    else:
        assert warnings == [("The workspace was not restored", "The backup is too new.")]
