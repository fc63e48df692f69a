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


def test_first_start_builds_the_demo_world_on_a_worker_thread(monkeypatch, settings):
    threads = []

    def job(db, progress, cancel):
        threads.append(threading.current_thread())
        build_demo(db, small=True, progress=progress, cancel=cancel)

    monkeypatch.setattr(startup, "_build_demo_job", job)
    target = paths.default_workspace()
    session = startup.open_at_start(target, settings)
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
def test_cancelling_the_demo_world_leaves_nothing_then_quits_or_starts_empty(monkeypatch, settings, answers, reply):
    questions, replies = answers
    replies.append(reply)
    monkeypatch.setattr(startup, "_build_demo_job", _slow_job_until_cancelled)
    target = paths.default_workspace()
    QTimer.singleShot(100, _press_cancel)
    session = startup.open_at_start(target, settings)

    assert "nothing was saved" in questions[0]
    if reply == startup.QUIT:
        assert session is None
        assert not target.exists()
        assert not list(target.parent.glob("workspace.sqlite*"))
    else:
        assert workspace.get_meta(session.db, "demo_seed") is None
        assert len(session.localities()) == 11
        session.close()


def test_an_unusable_workspace_lets_the_user_pick_another(monkeypatch, tmp_path, settings, answers, small_world_path):
    questions, replies = answers
    newer = tmp_path / "newer.sqlite"
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    replies.append(startup.OPEN_OTHER)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(small_world_path), ""))

    session = startup.open_at_start(newer, settings)
    assert "newer Locality Desk" in questions[0]
    assert session.path == small_world_path.resolve()
    session.close()


def test_quitting_instead_of_picking_another_file(tmp_path, settings, answers):
    _, replies = answers
    garbage = tmp_path / "notes.sqlite"
    garbage.write_text("not a database, just some notes", encoding="utf-8")
    replies.append(startup.QUIT)
    assert startup.open_at_start(garbage, settings) is None


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
