"""File menu: new, open, open recent; Help → About; switching re-opens everything on the new file."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from desktop import __version__
from desktop.models import audit, reference, workspace
from desktop.models.db import open_workspace
from desktop.views.reference import operations
from desktop.views.shell.menus import fill_recent


def menu_action(window, menu_title, text):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append(text))
    return shown


def test_file_new_workspace_creates_a_commissioner_workspace_and_opens_it(qtbot, window, tmp_path):
    menu_action(window, "File", "New workspace…").trigger()
    dialog = window.new_dialog
    assert dialog.isVisible()
    # On its label, not the middle of the row: a radio button answers only to its indicator and text.
    qtbot.mouseClick(dialog.kind_buttons["commissioner"], Qt.MouseButton.LeftButton, pos=QPoint(8, 10))
    assert dialog.kind() == "commissioner"
    target = tmp_path / "icb"
    qtbot.keyClicks(dialog.path_edit, str(target))
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    created = tmp_path / "icb.sqlite"
    assert created.exists()
    db = open_workspace(created, create=False)
    assert workspace.kind(db) == "commissioner"
    assert len(workspace.localities(db)) == 11
    db.close()
    assert window.session.path == created.resolve()
    assert window.kind_label.text() == "Commissioner workspace"
    assert window.locality_box.count() == 11
    # It opens on the Commissioner screen; the patient screens are absent.
    assert window.current_screen().key == "commissioner"
    assert "cohort" not in window.pages and "returns" not in window.pages


def test_file_new_workspace_is_truly_empty_and_says_how_to_fill_it(qtbot, window, tmp_path):
    menu_action(window, "File", "New workspace…").trigger()
    dialog = window.new_dialog
    words = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "LLR reference data" not in words and "Update reference data from NHS files" in words
    qtbot.keyClicks(dialog.path_edit, str(tmp_path / "team"))
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    db = open_workspace(tmp_path / "team.sqlite", create=False)
    counts = workspace.info(db)["counts"]
    assert counts["localities"] == 11
    # The demo's invented practices, care homes and staff never come with a workspace made for real work.
    assert [counts[t] for t in ("pcns", "practices", "care_homes", "staff")] == [0, 0, 0, 0]
    db.close()


def test_new_workspace_refuses_an_existing_file_and_stays_open(qtbot, window, small_world_path):
    before = small_world_path.stat().st_size
    menu_action(window, "File", "New workspace…").trigger()
    dialog = window.new_dialog
    dialog.path_edit.setText(str(small_world_path))
    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "already exists" in dialog.error.text()
    assert small_world_path.stat().st_size == before


def test_open_workspace_switches_every_screen_to_the_new_file(qtbot, window, tmp_path, monkeypatch, settings):
    other = tmp_path / "other.sqlite"
    db = workspace.create_workspace(other, "locality")
    db.close()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    window.show_screen("practices")
    old_page = window.current_page()
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)

    assert window.session.path == other.resolve()
    assert window.path_label.text() == str(other.resolve())
    assert window.current_screen().key == "practices"
    assert window.current_page() is not old_page
    assert settings.recent_workspaces()[0] == other.resolve()
    assert settings.state("last_directory") == str(tmp_path)


def test_a_workspace_from_a_newer_app_is_refused_and_the_current_one_stays(window, tmp_path, warnings):
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    current = window.session.path
    assert not window.open_path(newer)
    assert window.session.path == current
    assert "newer Locality Desk" in warnings[0] and "current workspace stays open" in warnings[0]


def test_open_recent_lists_workspaces_newest_first(window, tmp_path, settings, small_world_path):
    other = tmp_path / "recent.sqlite"
    workspace.create_workspace(other, "locality").close()
    window.open_path(other)
    fill_recent(window, window.recent_menu)
    entries = [a for a in window.recent_menu.actions() if a.text().startswith("&")]
    assert entries[0].text().startswith("&1  recent.sqlite")
    assert entries[1].text().startswith(f"&2  {small_world_path.name}")
    entries[1].trigger()
    assert window.session.path == small_world_path.resolve()


def test_about_says_the_version_and_that_demo_data_is_invented(window):
    menu_action(window, "Help", "About Locality Desk").trigger()
    text = window.about.text() + window.about.informativeText()
    assert __version__ in text
    assert "synthetic" in text and "invented" in text


def test_your_name_is_what_the_audit_trail_records(window, practices, settings):
    menu_action(window, "File", "Who is using this…").trigger()
    window.who.name.setText("  Dr Jo Example ")
    window.who.role.setCurrentIndex(window.who.role.findData("GP"))
    window.who.ok.click()
    assert settings.get("user_name") == "Dr Jo Example"
    target = practices.visible_rows()[0]
    operations.save_record(
        window.session,
        "practices",
        {**reference.get(window.session.db, "practices", target["id"]), "list_size": 4321},
        target["id"],
    )
    assert audit.entries(window.session.db, "practices", target["id"])[0]["user"] == "Dr Jo Example"
