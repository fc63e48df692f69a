"""GUI fixtures: real widgets on a private copy of the small demo world, settings in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_helpers import EXTRACT_DATE, choose_locality, wait_loaded
from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QFileDialog
from return_files import trust_teams
from task_helpers import finish_tasks

from desktop.models.cohort.risk_import import import_extract
from desktop.models.demo.extract import write_extract
from desktop.models.workspace import create_workspace
from desktop.settings import Settings, qsettings
from desktop.views.kit import messages
from desktop.views.kit.session import Session
from desktop.views.kit.style import apply_style
from desktop.views.shell.main_window import MainWindow


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _no_task_left_running(qtbot):
    """A test that started a background task sees it through, so its thread never outlives the workspace."""
    yield
    finish_tasks(qtbot)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path):
    """Never read or write the real user's settings, whatever constructs a QSettings."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture(autouse=True)
def _no_unanswered_file_dialogs(monkeypatch):
    """A native file dialog nobody answers would wait for ever and stall the whole run: fail the test instead.
    Tests that expect one replace it with their own answer, which overrides this."""

    def unexpected(*args, **_kwargs):
        title = next((a for a in args if isinstance(a, str)), "?")
        raise AssertionError(f"A file dialog opened that the test did not answer: {title!r}")

    for name in ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, unexpected)


@pytest.fixture
def settings(tmp_path) -> Settings:
    store = qsettings()
    assert store.fileName().startswith(str(tmp_path))
    settings = Settings(store)
    # Each window a test closes would write a checked backup of its workspace (0.1-0.3 s each, over a minute of
    # the suite): off, as a user may switch them off; tests/gui/test_backups_gui.py switches them back on.
    settings.set("backups_keep", 0)
    return settings


@pytest.fixture
def session(small_world_path, settings) -> Session:
    return Session.open(small_world_path, settings)


@pytest.fixture(scope="session")
def styled_app(qapp):
    # Once: setting a style sheet re-polishes every widget alive, which grows slower test by test.
    apply_style(qapp)
    return qapp


@pytest.fixture(autouse=True)
def _delete_closed_widgets(qapp):
    yield
    # pytest-qt closes widgets with deleteLater(); without an event loop running, delete them now.
    qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def make_window(qtbot, styled_app, settings):
    """Show the main window over a session; pytest-qt closes it after the test."""

    def make(session: Session) -> MainWindow:
        win = MainWindow(settings, session)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        return win

    return make


@pytest.fixture
def window(make_window, session) -> MainWindow:
    return make_window(session)


@pytest.fixture
def commissioner_window(make_window, settings, tmp_path) -> MainWindow:
    """The main window over a new, empty commissioner workspace (which never holds patients)."""
    path = tmp_path / "icb.sqlite"
    db = create_workspace(path, "commissioner")
    trust_teams(db)
    db.close()
    return make_window(Session.open(path, settings))


@pytest.fixture
def practices(window):
    """The Practices screen, shown."""
    window.show_screen("practices")
    return window.current_page()


# -- the cohort screen ---------------------------------------------------------------------------------------
@pytest.fixture
def extract(tmp_path) -> Path:
    """A synthetic 3,000-row risk extract for Charnwood (about a third of its rows are other practices')."""
    path = tmp_path / "cha-extract.csv"
    write_extract(path, "CHA", 3000)
    return path


@pytest.fixture
def cohort_page(qtbot, window):
    """The Cohort screen of Charnwood, shown, its frame loaded."""
    choose_locality(window, "CHA")
    window.show_screen("cohort")
    wait_loaded(qtbot, window.current_page())
    return window.current_page()


@pytest.fixture
def loaded(qtbot, cohort_page, session, extract):
    """The Cohort screen after the extract was imported (through the domain, as the dialog would)."""
    result = import_extract(session.db, session.actor, "CHA", extract, EXTRACT_DATE)
    session.publish(result.changes)
    wait_loaded(qtbot, cohort_page)
    assert cohort_page.model.rowCount() > 0
    return cohort_page


# The app's message boxes would block a test: these record what they would have said.
@pytest.fixture
def warnings(monkeypatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: seen.append((title, text)))
    return seen


@pytest.fixture
def confirmed(monkeypatch) -> list[str]:
    asked: list[str] = []

    def confirm(_parent, title, text, _action):
        asked.append(f"{title} {text}")
        return True

    monkeypatch.setattr(messages, "confirm", confirm)
    return asked


@pytest.fixture
def history_window(make_window, history_world_template, tmp_path, settings):
    """The main window over a copy of the demo world with its history (meetings, visits, returns), on Charnwood."""
    from worlds import copy_world

    window = make_window(Session.open(copy_world(history_world_template, tmp_path / "history.sqlite"), settings))
    choose_locality(window, "CHA")
    return window
