"""Background tasks report by callback: the result, a failure shown by its kind, or a cancel that rolled back."""

from __future__ import annotations

import sys
import time

import pytest
from PySide6.QtWidgets import QWidget
from task_helpers import finish_tasks

from desktop.models.errors import StorageError, ValidationError
from desktop.models.progress import check_cancel
from desktop.models.workspace import create_workspace
from desktop.views.kit import messages, tasks


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "w.db"
    db = create_workspace(path, "locality")
    db["notes_for_test"].insert({"n": 0})
    db.close()
    return path


@pytest.fixture
def parent(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: shown.append((title, text)))
    return shown


def test_the_result_reaches_done_and_only_done(qtbot, parent, workspace):
    outcome = []
    task = tasks.start_task(
        parent,
        "Counting…",
        workspace,
        lambda db, _p, _c: db["notes_for_test"].count,
        done=outcome.append,
        failed=lambda exc: outcome.append(("failed", exc)),
        cancelled=lambda: outcome.append("cancelled"),
    )
    assert task.running and tasks.running() == [task]
    finish_tasks(qtbot)
    assert outcome == [1]
    assert tasks.running() == []


def test_a_refusal_is_shown_in_the_job_s_words_under_the_given_title(qtbot, parent, workspace, warnings):
    def job(db, _p, _c):
        raise ValidationError("Row 3: the NHS number fails its check digit.")

    tasks.start_task(parent, "Checking…", workspace, job, done=pytest.fail, failure_title="Not imported")
    finish_tasks(qtbot)
    assert warnings == [("Not imported", "Row 3: the NHS number fails its check digit.")]


def test_a_storage_failure_also_says_nothing_was_written(qtbot, parent, workspace, warnings):
    def job(db, _p, _c):
        raise StorageError("The disk is full.")

    tasks.start_task(parent, "Writing…", workspace, job, done=pytest.fail, failure_title="Not saved")
    finish_tasks(qtbot)
    [(title, text)] = warnings
    assert title == "Not saved" and text.startswith("The disk is full.") and messages.NOTHING_WRITTEN in text


def test_a_file_the_system_refuses_is_named_with_what_to_do(qtbot, parent, workspace, warnings, tmp_path):
    target = tmp_path / "held.pdf"

    def job(db, _p, _c):
        raise PermissionError(13, "Permission denied", str(target))

    tasks.start_task(parent, "Writing…", workspace, job, done=pytest.fail, failure_title="Not written")
    finish_tasks(qtbot)
    [(title, text)] = warnings
    assert title == "Not written" and str(target) in text and "open in another program" in text


def test_a_bug_goes_to_the_crash_handler_with_its_traceback(qtbot, parent, workspace, warnings, monkeypatch):
    caught = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: caught.append((kind, tb is not None)))
    tasks.start_task(parent, "Working…", workspace, lambda db, _p, _c: 1 / 0, done=pytest.fail)
    finish_tasks(qtbot)
    assert caught == [(ZeroDivisionError, True)] and warnings == []


def test_cancel_rolls_the_job_back_and_reaches_cancelled(qtbot, parent, workspace):
    outcome = []
    started = []

    def job(db, _progress, cancel):
        with db.atomic():
            db["notes_for_test"].insert({"n": 1})
            started.append(True)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                check_cancel(cancel)
                time.sleep(0.01)
        return "finished"

    task = tasks.start_task(
        parent, "Working…", workspace, job, done=outcome.append, cancelled=lambda: outcome.append("cancelled")
    )
    qtbot.waitUntil(lambda: bool(started))
    task.dialog.canceled.emit()  # what the dialog's Cancel button sends
    finish_tasks(qtbot)
    assert outcome == ["cancelled"]
    from desktop.models.db import open_workspace

    db = open_workspace(workspace)
    try:
        assert db["notes_for_test"].count == 1
    finally:
        db.close()


def test_by_default_a_cancel_leaves_a_note_and_no_message_box(qtbot, workspace, warnings, monkeypatch):
    notes = []
    monkeypatch.setattr(messages, "show_status", lambda _w, text, ms=10_000: notes.append(text))
    parent = QWidget()
    qtbot.addWidget(parent)

    def job(db, _p, cancel):
        while True:
            check_cancel(cancel)
            time.sleep(0.01)

    task = tasks.start_task(parent, "Working…", workspace, job, done=pytest.fail, failure_title="Not exported")
    task.cancel()
    finish_tasks(qtbot)
    assert warnings == [] and notes == ["Not exported: cancelled. Nothing was changed."]


def test_a_finish_that_arrives_while_the_progress_bar_moves_waits_for_it(qtbot, parent):
    """A shown, modal progress dialog runs the event loop inside setValue; the job's end can arrive right there.
    The task must not close and delete the dialog under its own setValue (a crash seen in CI), and still report
    once, after."""
    outcome = []
    task = tasks.Task(parent, "Checking…", tasks.BackgroundWorker(lambda _p, _c: "ok"), done=outcome.append)
    task.start()
    task.worker.wait()  # the job has ended: its result and `finished` wait in the event queue
    task.dialog.forceShow()  # shown, as after SHOW_AFTER_MS: from now on setValue runs the event loop
    task._on_progress(0.5, "Half way")  # the last progress, handled just before the queued end
    assert outcome == [], "the task reported from inside the progress dialog's setValue"
    finish_tasks(qtbot)
    assert outcome == ["ok"]
    assert tasks.running() == []
