"""Start-up: the demo world built off the GUI thread on first start, Cancel, and unusable files."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QProgressDialog, QPushButton
from task_helpers import finish_tasks

from desktop import app, paths
from desktop.models import workspace
from desktop.models.demo import build_demo
from desktop.views.kit import messages
from desktop.views.shell import startup
from desktop.views.shell.crash import CrashDialog, ExceptionHandler
from desktop.views.shell.main_window import MainWindow


@pytest.fixture
def answers(monkeypatch):
    """Script the answers to messages.ask; record the questions."""
    questions, replies = [], []

    def ask(parent, title, text, options):
        questions.append(text)
        return replies.pop(0)

    monkeypatch.setattr(messages, "ask", ask)
    return questions, replies


def _open_at_start(qtbot, target, settings):
    """What startup.open_at_start hands on, once any build it started has reported back."""
    opened = []
    startup.open_at_start(target, settings, opened.append)
    finish_tasks(qtbot)
    assert len(opened) == 1
    return opened[0]


def test_first_start_builds_the_demo_world_on_a_worker_thread(qtbot, monkeypatch, settings):
    threads = []

    def job(db, progress, cancel):
        threads.append(threading.current_thread())
        build_demo(db, small=True, history=False, progress=progress, cancel=cancel)  # its history: test_demo.py

    monkeypatch.setattr(startup, "_build_demo_job", job)
    target = paths.default_workspace()
    opened = []
    startup.open_at_start(target, settings, opened.append)
    assert not opened  # the build reports back from the event loop, not before open_at_start returns
    finish_tasks(qtbot)
    (session,) = opened
    assert threads and threads[0] is not threading.main_thread()
    assert len(session.localities()) == 11
    assert workspace.get_meta(session.db, "demo_seed") is not None
    assert settings.recent_workspaces() == [target.resolve()]
    session.close()


def _slow_job_until_cancelled(db, progress, cancel):
    deadline = time.monotonic() + 10
    while not cancel() and time.monotonic() < deadline:
        time.sleep(0.01)
    build_demo(db, small=True, progress=progress, cancel=cancel)


def _press_cancel():
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QProgressDialog))
    next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel").click()


@pytest.mark.parametrize("reply", [startup.QUIT, startup.EMPTY])
def test_cancelling_the_demo_world_leaves_nothing_then_quits_or_starts_empty(
    qtbot, monkeypatch, settings, answers, reply
):
    questions, replies = answers
    replies.append(reply)
    monkeypatch.setattr(startup, "_build_demo_job", _slow_job_until_cancelled)
    target = paths.default_workspace()
    QTimer.singleShot(100, _press_cancel)
    session = _open_at_start(qtbot, target, settings)

    assert "nothing was saved" in questions[0]
    if reply == startup.QUIT:
        assert session is None
        assert not target.exists()
        assert not list(target.parent.glob("workspace.sqlite*"))
    else:
        assert workspace.get_meta(session.db, "demo_seed") is None
        assert len(session.localities()) == 11
        session.close()


def test_an_unusable_workspace_lets_the_user_pick_another(
    qtbot, monkeypatch, tmp_path, settings, answers, small_world_path
):
    questions, replies = answers
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    replies.append(startup.OPEN_OTHER)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(small_world_path), ""))

    session = _open_at_start(qtbot, newer, settings)
    assert "newer Locality Desk" in questions[0]
    assert session.path == small_world_path.resolve()
    session.close()


def test_quitting_instead_of_picking_another_file(qtbot, tmp_path, settings, answers):
    _, replies = answers
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("not a database, just some notes", encoding="utf-8")
    replies.append(startup.QUIT)
    assert _open_at_start(qtbot, garbage, settings) is None


def test_run_gui_opens_the_main_window_on_the_given_workspace(qtbot, qapp, monkeypatch, small_world_path):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app, "_route_qt_messages", lambda: None)
    monkeypatch.setattr(type(qapp), "exec", lambda self: 0)
    handlers = list(logging.getLogger().handlers)
    try:
        assert app.run_gui(small_world_path) == 0
    finally:
        for handler in logging.getLogger().handlers[len(handlers) :]:
            logging.getLogger().removeHandler(handler)
            handler.close()
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    assert len(windows) == 1
    assert windows[0].session.path == small_world_path.resolve()
    assert "Locality Desk" in (paths.log_dir() / "locality-desk.log").read_text(encoding="utf-8")
    assert isinstance(sys.excepthook, ExceptionHandler)
    qtbot.addWidget(windows[0])


def test_an_unexpected_error_at_start_is_shown_before_quitting(qapp, monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app, "_route_qt_messages", lambda: None)
    monkeypatch.setattr(app, "setup_logging", lambda: tmp_path / "app.log")

    def broken(*a):
        raise RuntimeError("the store exploded")

    shown = []
    monkeypatch.setattr(startup, "open_at_start", broken)
    monkeypatch.setattr(CrashDialog, "exec", lambda self: shown.append(self.details.toPlainText()) or 0)
    assert app.run_gui(tmp_path / "any.sqlite") == 1
    assert "RuntimeError: the store exploded" in shown[0]


@pytest.fixture
def gui(qtbot, qapp, monkeypatch):
    """run_gui as `locality-desk gui --db PATH` runs it, with a stand-in for its event loop in which the start-up's
    background build reports back; an end without a window is the code given to app.exit. Returns the exit code,
    the windows opened, the codes given to app.exit, and whether Qt would have quit on its last window closing."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app, "_route_qt_messages", lambda: None)
    exits: list[int] = []
    quit_on_close: list[bool] = []

    def event_loop(self):
        quit_on_close.append(self.quitOnLastWindowClosed())
        finish_tasks(qtbot)
        return exits[-1] if exits else 0

    monkeypatch.setattr(type(qapp), "exec", event_loop)
    monkeypatch.setattr(type(qapp), "exit", staticmethod(lambda code=0: exits.append(code)))

    def run(db_path):
        handlers = list(logging.getLogger().handlers)
        try:
            code = app.run_gui(db_path)
        finally:
            for handler in logging.getLogger().handlers[len(handlers) :]:
                logging.getLogger().removeHandler(handler)
                handler.close()
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        for window in windows:
            qtbot.addWidget(window)
        return code, windows, exits, quit_on_close

    return run


def _copy_into(template, db) -> None:
    source = sqlite3.connect(template)
    source.backup(db.conn)
    source.close()


def test_a_new_workspace_given_at_start_is_built_in_the_event_loop_then_opened(
    gui, qapp, monkeypatch, tmp_path, small_world_template
):
    monkeypatch.setattr(startup, "_build_demo_job", lambda db, progress, cancel: _copy_into(small_world_template, db))
    target = tmp_path / "new.sqlite"
    code, windows, exits, quit_on_close = gui(target)
    assert code == 0 and exits == []
    # While the build ran in the event loop, its progress dialog closing was not taken for the last window closing.
    assert quit_on_close == [False]
    (window,) = windows
    assert window.session.path == target.resolve() and workspace.get_meta(window.session.db, "demo_seed")
    assert qapp.quitOnLastWindowClosed()  # the main window is up: closing it quits again


def test_cancelling_the_build_at_start_then_quitting_ends_the_event_loop(gui, qapp, monkeypatch, tmp_path, answers):
    questions, replies = answers
    replies.append(startup.QUIT)
    monkeypatch.setattr(startup, "_build_demo_job", _slow_job_until_cancelled)
    target = tmp_path / "new.sqlite"
    QTimer.singleShot(100, _press_cancel)
    code, windows, exits, _ = gui(target)
    assert "nothing was saved" in questions[0]
    assert (code, exits, windows) == (0, [0], [])
    assert not list(tmp_path.glob("new.sqlite*"))
    assert qapp.quitOnLastWindowClosed()


def test_an_unexpected_error_in_the_build_at_start_is_shown_then_ends_the_event_loop(gui, monkeypatch, tmp_path):
    def broken(db, progress, cancel):
        raise RuntimeError("the build exploded")

    monkeypatch.setattr(startup, "_build_demo_job", broken)
    shown = []
    monkeypatch.setattr(CrashDialog, "exec", lambda self: shown.append(self.details.toPlainText()) or 0)
    code, windows, exits, _ = gui(tmp_path / "new.sqlite")
    assert (code, exits, windows) == (1, [1], [])
    assert "RuntimeError: the build exploded" in shown[0]
