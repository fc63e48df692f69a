"""Long workspace jobs off the GUI thread, with a late progress dialog and a cooperative Cancel.

A sqlite-utils Database may only be used on the thread that created it, so the worker opens its own
connection to the workspace file, runs the job there, and closes it before reporting back. The job is
any `fn(db, progress, cancel)` following desktop.models.progress; a cancel raises Cancelled inside the
job's transaction, which rolls it back (STYLE practice 6).
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from ...models.db import open_workspace
from ...models.progress import CancelCheck, Cancelled, Progress
from . import messages

Job = Callable[[sqlite_utils.Database, Progress, CancelCheck], Any]
# Show nothing for quick jobs; a dialog that flashes for 50 ms is worse than none.
SHOW_AFTER_MS = 600
READ_CACHE_KB = 2048  # a quiet load's page cache: SQLite's default


class BackgroundWorker(QThread):
    """Runs `work(progress, cancel)` off the GUI thread and hands its result or exception back by signal."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, work: Callable[[Progress, CancelCheck], Any], parent: QWidget | None = None):
        super().__init__(parent)
        self._work: Callable[[Progress, CancelCheck], Any] | None = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        work, self._work = self._work, None  # the job's closure (often holding a screen) is not kept past its run
        try:
            result = work(self._report, self._cancel.is_set)
        except Exception as exc:  # handed to the GUI thread, which decides how to show it
            self.failed.emit(exc)
            return
        finally:
            del work
        self.succeeded.emit(result)

    def _report(self, fraction: float, message: str) -> None:
        self.progressed.emit(fraction, message)


class WorkspaceWorker(BackgroundWorker):
    """A job on its own connection to the workspace file, closed before the result is reported."""

    def __init__(self, path: Path, job: Job, parent: QWidget | None = None):
        def work(progress: Progress, cancel: CancelCheck) -> Any:
            db = open_workspace(Path(path))
            try:
                return job(db, progress, cancel)
            finally:
                db.close()

        super().__init__(work, parent)


Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class Task(QObject):
    """One background job the user waits for: a progress dialog shown after SHOW_AFTER_MS, a cooperative Cancel,
    and its outcome handed to exactly one callback on the GUI thread — *done(result)*, *failed(exc)* or
    *cancelled()* — instead of a nested event loop (Anki's `QueryOp`/`CollectionOp` do the same).

    The dialog is application-modal, so nothing else writes meanwhile. Defaults: a failure is shown by its kind
    (messages.show_error, titled *failure_title*); a cancel leaves a note in the status bar. The task is a child
    of *parent* (tests find running tasks with `running()`), and deletes itself when it has reported.
    """

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        worker: BackgroundWorker,
        done: Done,
        failed: Failed | None = None,
        cancelled: Callable[[], None] | None = None,
        failure_title: str = "Not done",
    ):
        super().__init__(parent if parent is not None else QApplication.instance())
        self.worker = worker
        self.running = False
        self._moving = False  # inside the dialog's setValue
        self._done: Done | None = done
        self._failed: Failed | None = failed
        self._cancelled: Callable[[], None] | None = cancelled
        self._failure_title = failure_title
        self._outcome: tuple[str, Any] = ("failed", RuntimeError("the background job ended without a result"))
        self.dialog = QProgressDialog(title, "Cancel", 0, 1000, parent)
        self.dialog.setWindowTitle("Locality Desk")
        self.dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumWidth(420)
        self.dialog.canceled.connect(self.cancel)
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.finished.connect(self._on_finished)

    def start(self) -> Task:
        self.running = True
        self.worker.start()
        return self

    @Slot()
    def cancel(self) -> None:
        self.worker.cancel()
        self.dialog.setLabelText("Cancelling; undoing what was done so far…")

    @Slot(float, str)
    def _on_progress(self, fraction: float, message: str) -> None:
        if not self.running:
            return
        if not self.worker.cancelled:
            self.dialog.setLabelText(message)
        # Once shown, a modal QProgressDialog runs the event loop inside setValue, where this job's queued end may
        # be delivered: _on_finished then waits for setValue to return instead of deleting the dialog under it.
        self._moving = True
        try:
            self.dialog.setValue(round(fraction * 1000))
        finally:
            self._moving = False

    @Slot(object)
    def _on_succeeded(self, result: Any) -> None:
        self._outcome = ("done", result)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        self._outcome = ("cancelled", None) if isinstance(exc, Cancelled) else ("failed", exc)

    @Slot()
    def _on_finished(self) -> None:
        if self._moving:
            QTimer.singleShot(0, self._on_finished)
            return
        # `finished` follows the outcome signal from the same thread, so the outcome is known here.
        self.worker.wait()
        self.dialog.close()
        self.dialog.deleteLater()
        self.worker.deleteLater()
        self.running = False
        kind, value = self._outcome
        done, failed, cancelled = self._done, self._failed, self._cancelled
        # The callbacks are usually the asking screen's methods, and the screen owns this task: a cycle only
        # Python's garbage collector would break, at a moment of its choosing, possibly mid-way through Qt
        # deleting this object (a crash). So the task lets go of everything before it reports.
        self._done = self._failed = self._cancelled = None
        self._outcome = ("done", None)
        try:
            if kind == "done":
                done(value)
            elif kind == "cancelled":
                (cancelled or self._default_cancelled)()
            else:
                (failed or self._default_failed)(value)
        finally:
            self.deleteLater()

    def _shown_over(self) -> QWidget | None:
        parent = self.parent()
        return parent if isinstance(parent, QWidget) else None

    def _default_failed(self, exc: BaseException) -> None:
        messages.show_error(self._shown_over(), self._failure_title, exc)

    def _default_cancelled(self) -> None:
        messages.show_error(self._shown_over(), self._failure_title, Cancelled())


def start_task(
    parent: QWidget | None,
    title: str,
    path: Path,
    job: Job,
    done: Done,
    failed: Failed | None = None,
    cancelled: Callable[[], None] | None = None,
    failure_title: str = "Not done",
) -> Task:
    """Run *job(db, progress, cancel)* on its own connection to the workspace at *path*, off the GUI thread;
    its result goes to *done*, a failure to *failed* (default: shown by kind), a Cancel to *cancelled*."""
    worker = WorkspaceWorker(path, job)
    return Task(parent, title, worker, done, failed, cancelled, failure_title).start()


def start_off_thread(
    parent: QWidget | None,
    title: str,
    work: Callable[[Progress, CancelCheck], Any],
    done: Done,
    failed: Failed | None = None,
    cancelled: Callable[[], None] | None = None,
    failure_title: str = "Not done",
) -> Task:
    """start_task for work that opens no connection of its own (e.g. it starts a child process)."""
    return Task(parent, title, BackgroundWorker(work), done, failed, cancelled, failure_title).start()


def start_quiet(path: Path, job: Job, done: Done, failed: Failed) -> WorkspaceWorker:
    """A load the user does not wait for (no dialog, no Cancel): e.g. the figures behind a screen's charts.

    The worker belongs to the application, not to the screen that asked, so a screen closed meanwhile cannot
    destroy a running thread; the screen's slots are simply not called once it is gone. wait_for_workers()
    lets any still running finish when the application quits.

    A load only reads, so its connection keeps SQLite's own 2 MB page cache rather than the 32 MB an import's
    writes want, and what it freed is handed back to the system once it is over: each costs the app's peak
    memory tens of MB otherwise (issue 26)."""

    def read(db: sqlite_utils.Database, progress: Progress, cancel: CancelCheck) -> Any:
        db.execute(f"PRAGMA cache_size=-{READ_CACHE_KB}")
        try:
            return job(db, progress, cancel)
        finally:
            release_memory()  # on the worker's thread, as the load ends: never a pause on the GUI's

    worker = WorkspaceWorker(path, read)
    worker.setParent(QApplication.instance())
    worker.succeeded.connect(done)
    worker.failed.connect(failed)
    worker.finished.connect(worker.deleteLater)
    worker.start()
    return worker


def release_memory() -> None:
    """Give the system back the memory that allocators keep after a load frees it: Arrow's pool holds on to
    what decoded a stored cohort, and glibc to the freed parts of each thread's heap."""
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl has no malloc_trim): nothing to trim
            ctypes.CDLL(None).malloc_trim(0)


def quiet_loads_running() -> bool:
    """Whether a load started by start_quiet is still at work (the screenshot tool waits for them)."""
    app = QApplication.instance()
    return app is not None and any(worker.isRunning() for worker in app.findChildren(BackgroundWorker))


def wait_for_workers() -> None:
    """Let every background thread finish (at exit: a QThread must not be destroyed while it runs)."""
    app = QApplication.instance()
    for worker in app.findChildren(BackgroundWorker) if app is not None else []:
        worker.wait()


def running() -> list[Task]:
    """The tasks still at work, wherever they are parented (tests wait on this; nothing global is kept)."""
    app = QApplication.instance()
    if app is None:
        return []
    found: list[Task] = []
    for root in [app, *QApplication.topLevelWidgets()]:
        try:
            found += [task for task in root.findChildren(Task) if task.running]
        except RuntimeError:  # a window Qt has deleted while its Python wrapper was still listed
            continue
    return found
