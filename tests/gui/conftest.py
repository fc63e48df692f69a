"""GUI fixtures: real widgets on a private copy of the small demo world, settings in tmp_path."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QSettings

from desktop.settings import Settings, qsettings
from desktop.views.main_window import MainWindow
from desktop.views.session import Session
from desktop.views.style import apply_style


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/gui/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path):
    """Never read or write the real user's settings, whatever constructs a QSettings."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    store = qsettings()
    assert store.fileName().startswith(str(tmp_path))
    return Settings(store)


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
def window(qtbot, styled_app, settings, session) -> MainWindow:
    win = MainWindow(settings, session)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def practices(window):
    """The Practices screen, shown."""
    window.show_screen("practices")
    return window.current_page()
