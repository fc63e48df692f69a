"""Reference data → Update from NHS files… through the real dialog: the real ODS files (December 2019) previewed on
a new workspace, applied, listed, undone; a file that is not an NHS file refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.workspace import create_workspace
from desktop.views.kit.session import Session
from desktop.views.shell import menus

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
FILES = [str(REFERENCE / "epraccur-2019-12.csv"), str(REFERENCE / "ePCN-2019-12.xlsx")]


@pytest.fixture
def new_window(make_window, settings, tmp_path):
    """The main window over a new locality workspace: LLR's localities, no practices or PCNs yet."""
    path = tmp_path / "llr.sqlite"
    create_workspace(path, "locality").close()
    return make_window(Session.open(path, settings))


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append((title, text)))
    return shown


def choose(monkeypatch, files):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (list(files), ""))


def count(db, table: str) -> int:
    return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_preview_apply_list_and_undo_on_the_real_files(qtbot, new_window, monkeypatch):
    db = new_window.session.db
    new_window.show_screen("practices")
    page = new_window.current_page()
    assert page.update_button.isVisible()
    choose(monkeypatch, FILES)
    qtbot.mouseClick(page.update_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)

    dialog = page.update_dialog
    assert dialog is not None and dialog.isVisible()
    assert len(dialog.rows("new_practices")) == 134 and len(dialog.rows("new_pcns")) == 25
    assert "The files hold 134 practices and 25 PCNs for the area" in dialog.summary.text()
    tabs = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())]
    assert "New practices (134)" in tabs and "New PCNs (25)" in tabs
    # No locality of a new PCN can be inferred on a new workspace: each says it is a guess.
    assert {r["basis"] for r in dialog.rows("new_pcns")} == {"to confirm"}
    assert count(db, "practices") == 0  # a preview writes nothing

    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.applied and not dialog.isVisible()
    assert (count(db, "practices"), count(db, "pcns")) == (134, 25)
    assert audit.entries(db, "reference")[0]["action"] == "import"
    page.set_all_localities(True)
    page.reload_if_stale()
    shown = {r["ods_code"] for r in page.visible_rows()}
    assert len(shown) == 134 and "C82001" in shown

    undo = new_window.edit_menu.undo_action
    assert undo.isEnabled() and undo.text() == "&Undo Update from NHS files"
    undo.trigger()
    assert (count(db, "practices"), count(db, "pcns")) == (0, 0)
    page.reload_if_stale()
    assert page.visible_rows() == []


def test_the_file_menu_opens_the_same_preview_and_cancel_writes_nothing(qtbot, new_window, monkeypatch):
    choose(monkeypatch, FILES)
    action = next(
        a for a in new_window.menuBar().actions()[0].menu().actions() if "NHS files" in a.text().replace("&", "")
    )
    action.trigger()
    finish_tasks(qtbot)
    page = new_window.current_page()
    assert page.screen.key == "practices"
    dialog = page.update_dialog
    assert len(dialog.rows("new_practices")) == 134
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.applied
    assert count(new_window.session.db, "practices") == 0
    assert not new_window.edit_menu.undo_action.isEnabled()


def test_a_file_that_is_not_an_nhs_file_is_a_plain_message_and_nothing_is_written(
    qtbot, new_window, monkeypatch, warnings, tmp_path
):
    db = new_window.session.db
    before = len(audit.entries(db))
    bad = tmp_path / "practices.csv"
    bad.write_text("Practice,List size\nSomewhere Surgery,1234\n", encoding="utf-8")
    choose(monkeypatch, [bad])
    menus.update_reference_data(new_window)
    finish_tasks(qtbot)

    assert len(warnings) == 1
    title, text = warnings[0]
    assert title == "Reference data not updated"
    assert "practices.csv" in text and "Traceback" not in text
    assert new_window.current_page().update_dialog is None  # no preview of a refused file
    assert (count(db, "practices"), count(db, "pcns"), len(audit.entries(db))) == (0, 0, before)


def test_the_button_is_on_the_screens_the_nhs_files_feed(new_window):
    for key, shown in (("practices", True), ("pcns", True), ("localities", False), ("staff", False)):
        new_window.show_screen(key)
        assert new_window.current_page().update_button.isVisible() is shown, key
