"""The first start: the wizard (who, where you work, demo or empty, where to keep it) driven with the keyboard
through the real app start-up; Cancel, a second start, an explicit --db and a folder that cannot be written."""

from __future__ import annotations

import errno
import logging
import sqlite3
import sys
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QLineEdit, QRadioButton, QWizard
from task_helpers import finish_tasks

from desktop import app, paths
from desktop.models import at_rest, workspace
from desktop.models.db import open_workspace
from desktop.settings import qsettings
from desktop.views.shell import first_run, startup
from desktop.views.shell.crash import CrashDialog
from desktop.views.shell.help_window import HelpWindow
from desktop.views.shell.main_window import MainWindow
from desktop.views.shell.who_dialog import WhoDialog


@pytest.fixture
def start(qtbot, qapp, monkeypatch):
    """Run the app's start-up as `locality-desk gui [--db PATH]` does, with a stand-in for its event loop; the main
    window it opened, or None when it quit."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app, "_route_qt_messages", lambda: None)
    exits: list[int] = []

    def event_loop(self):  # stands in for app.exec(): the start-up's background build reports back in it
        finish_tasks(qtbot)
        return exits[-1] if exits else 0

    monkeypatch.setattr(type(qapp), "exec", event_loop)
    monkeypatch.setattr(type(qapp), "exit", staticmethod(lambda code=0: exits.append(code)))
    crashes: list[str] = []
    monkeypatch.setattr(CrashDialog, "exec", lambda self: crashes.append(self.details.toPlainText()) or 0)

    before = set()

    def run(db_path: Path | None = None) -> MainWindow | None:
        handlers = list(logging.getLogger().handlers)
        before.update(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        try:
            code = app.run_gui(db_path)
            assert not crashes, crashes[0]
            assert code == 0
        finally:
            for handler in logging.getLogger().handlers[len(handlers) :]:
                logging.getLogger().removeHandler(handler)
                handler.close()
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible() and w not in before
        ]
        for w in windows:
            qtbot.addWidget(w)
        assert len(windows) <= 1
        return windows[0] if windows else None

    return run


@pytest.fixture
def wizard_script(monkeypatch, qtbot):
    """Stand in for the wizard's modal exec(): show the real wizard and let the test's script answer it.
    The start-up deletes the wizard once answered, so what the test looks at afterwards is noted here."""
    seen: list[dict] = []
    script: dict = {}

    def run(wizard) -> bool:
        wizard.show()
        wizard.activateWindow()  # as exec() makes it: the keys go to it
        qtbot.waitActive(wizard)
        script["answer"](qtbot, wizard)
        seen.append(
            {"result": wizard.result(), "visible": wizard.isVisible(), "demo_note": wizard.start_page.demo_note.text()}
        )
        wizard.close()
        return wizard.result() == QWizard.DialogCode.Accepted

    monkeypatch.setattr(first_run, "run_wizard", run)
    return seen, script


def _choose(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))


def _enter(qtbot, wizard) -> None:
    qtbot.keyClick(wizard.focusWidget(), Qt.Key.Key_Return)


def answers(
    name="Sam Patel",
    role="community matron",
    team="MHA",
    start=first_run.EMPTY,
    path: Path | None = None,
    cancel_at_end=False,
):
    """A script that fills each page with the keyboard, checking the first field has focus, and presses Enter."""

    def answer(qtbot, wizard) -> None:
        assert wizard.currentPage() is wizard.who and wizard.focusWidget() is wizard.who.name
        qtbot.keyClicks(wizard.who.name, name)
        _choose(wizard.who.role, role)
        _enter(qtbot, wizard)
        assert wizard.currentPage() is wizard.where and wizard.focusWidget() is wizard.where.team
        _choose(wizard.where.team, team)
        _enter(qtbot, wizard)
        page = wizard.start_page
        assert wizard.currentPage() is page and wizard.focusWidget() is page.demo
        if start != first_run.DEMO:
            button = page.empty if start == first_run.EMPTY else page.open
            button.setFocus()  # as Tab or an arrow key would
            qtbot.keyClick(button, Qt.Key.Key_Space)
        assert page.start() == start
        _enter(qtbot, wizard)
        assert wizard.currentPage() is wizard.path_page and wizard.focusWidget() is wizard.path_page.path_edit
        if path is not None:
            qtbot.keyClicks(wizard.path_page.path_edit, str(path))  # replaces the selected default
        _enter(qtbot, wizard)
        if cancel_at_end and wizard.isVisible():
            wizard.button(QWizard.WizardButton.CancelButton).click()

    return answer


def _nothing_remembered() -> bool:
    return qsettings().allKeys() == []


def test_a_team_member_starts_an_empty_workspace_and_the_window_opens_on_their_team(
    start, wizard_script, settings, tmp_path
):
    _, script = wizard_script
    target = tmp_path / "team" / "harborough.sqlite"
    script["answer"] = answers(team="MHA", start=first_run.EMPTY, path=target)

    window = start()

    db = open_workspace(target, create=False)
    assert workspace.kind(db) == "locality" and workspace.get_meta(db, "demo_seed") is None
    assert len(workspace.localities(db)) == 11
    # Truly empty: the invented practices, care homes and staff are the demo's alone (issue 21).
    counts = workspace.info(db)["counts"]
    assert [counts[t] for t in ("pcns", "practices", "care_homes", "staff")] == [0, 0, 0, 0]
    db.close()
    assert {n: settings.get(n) for n in ("user_name", "user_role", "home_locality", "first_run_done")} == {
        "user_name": "Sam Patel",
        "user_role": "community matron",
        "home_locality": "MHA",
        "first_run_done": True,
    }
    assert Path(settings.get("start_workspace")) == target.resolve()
    assert window.session.path == target.resolve()
    assert window.current_locality()["code"] == "MHA"
    assert window.session.actor.label == "Sam Patel · community matron"
    # Just answered in the wizard: "Who is using Locality Desk?" is not asked again now.
    assert not any(isinstance(w, WhoDialog) and w.isVisible() for w in QApplication.topLevelWidgets())
    assert not paths.default_workspace().exists()


def test_a_commissioner_gets_a_commissioner_workspace(start, wizard_script, settings, tmp_path):
    _, script = wizard_script
    target = tmp_path / "icb.sqlite"
    script["answer"] = answers(
        name="Alex Moore", role="commissioner", team=first_run.COMMISSIONER, start=first_run.EMPTY, path=target
    )

    window = start()

    assert window.session.kind == "commissioner"
    assert window.current_screen().key == "commissioner"
    assert "cohort" not in window.pages  # no patient screens, not even empty ones
    assert settings.get("home_locality") == "" and settings.get("user_role") == "commissioner"


def test_a_commissioner_workspace_asks_for_a_commissioner_role(qtbot, settings):
    wizard = first_run.FirstRunWizard(paths.default_workspace())
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.who.name, "Dr Kim Lee")
    _choose(wizard.who.role, "GP")
    wizard.next()
    _choose(wizard.where.team, first_run.COMMISSIONER)
    next_button = wizard.button(QWizard.WizardButton.NextButton)
    assert not next_button.isEnabled()
    assert wizard.where.problem.isVisible() and "commissioners and analysts" in wizard.where.problem.text()
    _choose(wizard.where.team, "CTE")
    assert next_button.isEnabled() and not wizard.where.problem.isVisible()


def copy_into(template, db) -> None:
    source = sqlite3.connect(template)
    source.backup(db.conn)
    source.close()


def test_a_commissioner_choosing_the_demo_gets_the_demo_world_on_its_commissioner_screen(
    start, wizard_script, settings, tmp_path, monkeypatch, history_world_template
):
    # The demo world arrives as the session's small one: the build itself is test_startup's and test_demo's.
    monkeypatch.setattr(startup, "_build_demo_job", lambda db, progress, cancel: copy_into(history_world_template, db))
    seen, script = wizard_script
    target = tmp_path / "practice-run.sqlite"
    script["answer"] = answers(role="analyst", team=first_run.COMMISSIONER, start=first_run.DEMO, path=target)

    window = start()

    assert "no separate commissioner demo" in seen[0]["demo_note"]
    assert workspace.get_meta(window.session.db, "demo_seed") is not None
    assert window.current_screen().key == "commissioner"
    assert window.pages["commissioner"].held  # the demo world holds the teams' returns to compare


def test_cancel_quits_without_a_file_or_a_setting(start, wizard_script, tmp_path):
    seen, script = wizard_script
    target = tmp_path / "mine.sqlite"
    script["answer"] = lambda qtbot, wizard: _fill_then_cancel(qtbot, wizard, target)

    assert start() is None

    assert seen[0]["result"] == QWizard.DialogCode.Rejected and not seen[0]["visible"]
    assert not target.exists() and not paths.default_workspace().exists()
    assert _nothing_remembered()


def _fill_then_cancel(qtbot, wizard, target: Path) -> None:
    qtbot.keyClicks(wizard.who.name, "Sam Patel")
    _choose(wizard.who.role, "GP")
    _enter(qtbot, wizard)
    _choose(wizard.where.team, "CHA")
    _enter(qtbot, wizard)
    _enter(qtbot, wizard)
    qtbot.keyClicks(wizard.path_page.path_edit, str(target))
    qtbot.keyClick(wizard.path_page.path_edit, Qt.Key.Key_Escape)


def test_a_second_start_opens_the_chosen_workspace_without_the_wizard(start, wizard_script, settings, tmp_path):
    seen, script = wizard_script
    target = tmp_path / "cha.sqlite"
    script["answer"] = answers(name="Sam Patel", role="GP", team="CHA", path=target)
    start().close()
    assert len(seen) == 1

    window = start()

    assert len(seen) == 1  # not shown again
    assert window.session.path == target.resolve() and window.current_locality()["code"] == "CHA"
    who = window.who  # asked as on every later start, pre-filled with the wizard's answers
    assert who.isVisible() and who.name.text() == "Sam Patel" and who.role.currentData() == "GP"


def test_an_explicit_workspace_never_shows_the_wizard(start, wizard_script, small_world_path):
    seen, _ = wizard_script
    window = start(small_world_path)
    assert not seen
    assert window.session.path == small_world_path.resolve()
    assert not paths.default_workspace().exists()


@pytest.fixture
def locked_folder(tmp_path, monkeypatch):
    """A folder this user may not write in: read-only by its mode, and refused as the OS refuses a non-root user
    (root ignores the mode, so the refusal is made here too)."""
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    real = tempfile.TemporaryFile

    def refused(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EACCES, "Permission denied", str(dir))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    yield folder
    folder.chmod(0o755)


@pytest.mark.parametrize("where", ["locked", "file"])
def test_a_folder_that_cannot_be_written_is_explained_and_nothing_is_written(
    start, wizard_script, warnings, tmp_path, locked_folder, where
):
    seen, script = wizard_script
    folder = locked_folder
    if where == "file":
        folder = tmp_path / "notes.txt"
        folder.write_text("a file where the folder should be", encoding="utf-8")
    target = folder / "sub" / "team.sqlite" if where == "file" else folder / "team.sqlite"
    script["answer"] = answers(path=target, cancel_at_end=True)

    assert start() is None  # the user gave up after the message

    title, text = warnings[0]
    assert title == "Cannot keep the workspace there"
    assert ("cannot write in" in text) if where == "locked" else ("is a file, not a folder" in text)
    assert seen[0]["result"] == QWizard.DialogCode.Rejected
    assert not target.exists() and not paths.default_workspace().exists()
    assert list(locked_folder.iterdir()) == []
    assert _nothing_remembered()


def test_an_existing_file_is_offered_to_be_opened_instead(
    start, wizard_script, settings, small_world_path, monkeypatch
):
    asked = []
    monkeypatch.setattr(
        first_run.messages, "ask", lambda parent, title, text, options: asked.append(text) or first_run.OPEN_IT
    )
    _, script = wizard_script
    script["answer"] = answers(team="CTN", path=small_world_path)

    window = start()

    assert "already exists" in asked[0]
    assert window.session.path == small_world_path.resolve() and window.current_locality()["code"] == "CTN"
    assert workspace.get_meta(window.session.db, "demo_seed") is not None  # the same world, not a new one
    assert settings.get("first_run_done")


def test_a_workspace_already_had_is_chosen_on_the_start_page_and_opened(
    start, wizard_script, settings, small_world_path, monkeypatch
):
    monkeypatch.setattr(first_run.messages, "ask", lambda *a: pytest.fail("an existing file is not a surprise here"))
    _, script = wizard_script
    script["answer"] = answers(team="CTN", start=first_run.OPEN, path=small_world_path)

    window = start()

    assert window.session.path == small_world_path.resolve() and window.current_locality()["code"] == "CTN"
    assert workspace.get_meta(window.session.db, "demo_seed") is not None  # the same world, not a new one
    assert settings.get("first_run_done")


def test_opening_a_file_that_is_not_there_is_explained_and_nothing_is_written(
    start, wizard_script, tmp_path, monkeypatch
):
    warned = []
    monkeypatch.setattr(first_run.messages, "warn", lambda parent, title, text: warned.append((title, text)))
    seen, script = wizard_script
    missing = tmp_path / "nowhere.sqlite"
    script["answer"] = answers(start=first_run.OPEN, path=missing, cancel_at_end=True)

    assert start() is None

    assert warned and warned[0][0] == "There is no workspace there" and "go Back to start a new one" in warned[0][1]
    assert not missing.exists() and not paths.default_workspace().exists()
    assert _nothing_remembered()


@pytest.mark.parametrize("team", ["CHA", first_run.COMMISSIONER])
def test_the_start_page_offers_three_and_never_calls_the_invented_data_llrs(qtbot, team):
    wizard = first_run.FirstRunWizard(paths.default_workspace())
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.who.name, "Sam Patel")
    _choose(wizard.who.role, "commissioner" if team == first_run.COMMISSIONER else "GP")
    wizard.next()
    _choose(wizard.where.team, team)
    wizard.next()
    page = wizard.start_page
    assert [b.text().replace("&", "") for b in page.choices.buttons()][2] == "Open a workspace file you already have"
    words = " ".join(w.text() for w in page.findChildren(QLabel) + page.findChildren(QRadioButton))
    words += wizard.where.subTitle() + page.subTitle()
    assert "LLR reference data" not in words and "only the 11 localities" in words
    if team != first_run.COMMISSIONER:
        assert "Update reference data from NHS files" in page.empty_note.text()
        assert "real work" in page.empty.text() and "invented" in page.demo.text()


def test_the_link_on_the_start_page_opens_the_guide_at_setting_up_a_real_workspace(qtbot):
    wizard = first_run.FirstRunWizard(paths.default_workspace())
    qtbot.addWidget(wizard)
    wizard.show()
    qtbot.keyClicks(wizard.who.name, "Sam Patel")
    _choose(wizard.who.role, "GP")
    wizard.next()
    _choose(wizard.where.team, "CHA")
    wizard.next()
    note = wizard.start_page.empty_note
    assert 'href="setting-up-real-workspace.md"' in note.text()
    assert "<" not in wizard.start_page.empty.accessibleDescription()
    note.linkActivated.emit("setting-up-real-workspace.md")
    guide = wizard.findChild(HelpWindow, "helpWindow")
    assert guide is not None and guide.isVisible() and guide.page() == "setting-up-real-workspace.md"
    assert "real workspace" in guide.browser.toPlainText()


def test_someone_who_already_has_the_default_workspace_is_not_shown_the_wizard(start, wizard_script, small_world_path):
    seen, _ = wizard_script
    default = paths.default_workspace()
    small_world_path.rename(default)  # from before the wizard existed: first_run_done was never set
    window = start()
    assert not seen and window.session.path == default.resolve()


def test_every_field_has_a_label_and_an_accessible_name(qtbot):
    wizard = first_run.FirstRunWizard(paths.default_workspace())
    qtbot.addWidget(wizard)
    for page in (wizard.who, wizard.where, wizard.start_page, wizard.path_page):
        wizard.show()
        page.initializePage()
        fields = page.findChildren(QLineEdit) + page.findChildren(QComboBox) + page.findChildren(QRadioButton)
        buddies = {label.buddy() for label in page.findChildren(QLabel) if label.buddy() is not None}
        assert fields
        for field in fields:
            assert field.accessibleName(), field
            assert isinstance(field, QRadioButton) or field in buddies, field  # a radio button is its own label


# -- what the app says of the workspace's disk (issue 20, point 5) ---------------------------------------------
def _canned_disks(monkeypatch) -> list[Path]:
    """desktop.models.at_rest answers as a laptop with an unencrypted disk would, and warns of a OneDrive folder;
    the paths asked about are noted."""
    asked: list[Path] = []

    def protection(path):
        asked.append(Path(path))
        if "OneDrive" in str(path):
            return at_rest.Protection(True, "BitLocker", "C:", at_rest.CLOUD, "OneDrive", "BitLocker")
        return at_rest.Protection(False, "BitLocker is off", "C:", scheme="BitLocker")

    monkeypatch.setattr(at_rest, "volume_protection", protection)
    return asked


def _to_the_last_page(qtbot, wizard) -> None:
    wizard.show()
    qtbot.keyClicks(wizard.who.name, "Sam Patel")
    _choose(wizard.who.role, "GP")
    wizard.next()
    _choose(wizard.where.team, "CHA")
    wizard.next()
    wizard.next()
    assert wizard.currentPage() is wizard.path_page


def test_the_last_page_says_whether_the_disk_is_encrypted_and_warns_of_a_synced_folder(qtbot, monkeypatch, tmp_path):
    asked = _canned_disks(monkeypatch)
    wizard = first_run.FirstRunWizard(tmp_path / "team.sqlite")
    qtbot.addWidget(wizard)
    _to_the_last_page(qtbot, wizard)
    line = wizard.path_page.disk

    qtbot.waitUntil(lambda: "not encrypted" in line.text())
    assert asked == [tmp_path / "team.sqlite"]
    assert "turn on BitLocker" in line.text() and "Keeping patient data safe" in line.text()
    assert "beside it, on the same disk" in " ".join(label.text() for label in wizard.path_page.findChildren(QLabel))

    synced = tmp_path / "OneDrive - NHS" / "team.sqlite"
    wizard.path_page.path_edit.setText(str(synced))
    qtbot.waitUntil(lambda: "synced by OneDrive" in line.text())
    assert asked[-1] == synced and "is encrypted" in line.text()
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()  # it informs; it never stops anyone


def test_the_link_on_the_last_page_opens_the_guide_at_its_page(qtbot, monkeypatch, tmp_path):
    _canned_disks(monkeypatch)
    wizard = first_run.FirstRunWizard(tmp_path / "team.sqlite")
    qtbot.addWidget(wizard)
    _to_the_last_page(qtbot, wizard)
    qtbot.waitUntil(lambda: "href" in wizard.path_page.disk.text())
    wizard.path_page.disk.linkActivated.emit(at_rest.GUIDE_PAGE)
    guide = wizard.findChild(HelpWindow, "helpWindow")
    assert guide is not None and guide.isVisible() and guide.page() == at_rest.GUIDE_PAGE


def test_help_about_says_whether_the_workspaces_disk_is_encrypted(window, qtbot, monkeypatch):
    asked = _canned_disks(monkeypatch)
    window.show_about()
    box = window.about
    qtbot.waitUntil(lambda: "not encrypted" in box.informativeText())
    assert asked == [window.session.path]
    text = box.informativeText()
    assert str(window.session.path) in text and "backups in a folder beside it" in text
    box.guide_button.click()
    guide = window.findChild(HelpWindow, "helpWindow")
    assert guide is not None and guide.page() == at_rest.GUIDE_PAGE
    assert "Where the data is" in guide.browser.toPlainText()


def test_an_unknown_answer_is_said_plainly_and_never_blocks(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(
        at_rest, "volume_protection", lambda path: at_rest.Protection(None, "could not tell on plan9", str(path))
    )
    wizard = first_run.FirstRunWizard(tmp_path / "team.sqlite")
    qtbot.addWidget(wizard)
    _to_the_last_page(qtbot, wizard)
    qtbot.waitUntil(lambda: "could not tell whether" in wizard.path_page.disk.text())
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
