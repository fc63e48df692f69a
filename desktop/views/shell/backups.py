"""Backups in the app (DESIGN §14): on close, daily, File → Back up now… and File → Restore from backup….

The main window calls these; the work itself is desktop.models.backups. A backup on close or a daily one
never gets in the user's way: a failure is logged and the app goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...models import backups
from ...models.changes import Changes
from ..kit import messages, output_guard
from ..kit.tasks import WorkspaceWorker, start_task
from .startup import WORKSPACE_FILTER

if TYPE_CHECKING:
    from ...settings import Settings
    from .main_window import MainWindow

log = logging.getLogger(__name__)
# The daily backup waits until well after start-up (cold start has a 2 s budget), then looks again every hour
# for a window left open overnight or another workspace opened since.
DAILY_FIRST_MS = 30_000
DAILY_EVERY_MS = 3_600_000
KINDS = {
    "": "Automatic",
    backups.MANUAL: "Back up now",
    backups.BEFORE_RESTORE: "Before a restore",
    "other": "Other file",
}


def keep(settings: Settings) -> int:
    return max(0, settings.get("backups_keep"))


def back_up_on_close(window: MainWindow) -> Path | None:
    """A rolling backup of the window's workspace, with a busy cursor; a failure is logged, never raised."""
    session = window.session
    if session is None:
        return None
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        out = backups.rolling(session.db, keep=keep(window.settings), reason="close", actor=session.actor)
    except Exception:  # closing must never be blocked by a backup
        log.warning("The backup on close of %s failed; closing anyway", session.path, exc_info=True)
        return None
    finally:
        QApplication.restoreOverrideCursor()
    if out is not None:
        log.info("Backed up %s on close to %s", session.path, out)
    return out


class DailyBackups(QObject):
    """Writes the day's rolling backup on a worker thread, after start-up and then hourly, when one is due."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.worker: WorkspaceWorker | None = None
        self.first = QTimer(self)
        self.first.setSingleShot(True)
        self.first.setInterval(DAILY_FIRST_MS)
        self.first.timeout.connect(self.run_if_due)
        self.hourly = QTimer(self)
        self.hourly.setInterval(DAILY_EVERY_MS)
        self.hourly.timeout.connect(self.run_if_due)

    def start(self) -> None:
        self.first.start()
        self.hourly.start()

    def stop(self) -> None:
        """Stop looking and wait for a backup under way (a small file's takes milliseconds)."""
        self.first.stop()
        self.hourly.stop()
        if self.worker is not None:
            self.worker.wait()

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.isRunning()

    @Slot()
    def run_if_due(self) -> bool:
        """Start the daily backup when the workspace has none from the last 24 hours; True when started."""
        session, count = self.window.session, keep(self.window.settings)
        if session is None or count == 0 or self.running:
            return False
        folder = backups.default_folder(session.path)
        if not backups.daily_due(folder):
            return False
        actor = session.actor

        def job(db, _progress, _cancel):
            return backups.rolling(db, folder, keep=count, reason="daily", actor=actor)

        self.worker = WorkspaceWorker(session.path, job)
        self.worker.succeeded.connect(self._done)
        self.worker.failed.connect(self._failed)
        self.worker.start()
        return True

    @Slot(object)
    def _done(self, path: Path | None) -> None:
        log.info("Daily backup written to %s", path)
        messages.show_status(self.window, f"Daily backup written to {path}")

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        log.warning("The daily backup failed: %s", exc, exc_info=exc)


def back_up_now(window: MainWindow) -> None:
    """File → Back up now…: a checked copy where the user says (suggested: the workspace's backups folder)."""
    session = window.session
    folder = backups.default_folder(session.path)
    suggested = folder / backups.file_name(session.path.stem, label=backups.MANUAL)
    name, _ = QFileDialog.getSaveFileName(window, "Back up the workspace", str(suggested), WORKSPACE_FILTER)
    if not name:
        return
    out = Path(name) if Path(name).suffix else Path(name).with_suffix(backups.SUFFIX)
    if not output_guard.allowed(window, out, session.path, backup=True):
        return
    actor = session.actor

    def backed_up(_path: Path) -> None:
        session.publish(Changes.of("audit"))
        messages.show_status(window, f"Backed up to {out}")

    start_task(
        window,
        "Backing up the workspace…",
        session.path,
        lambda db, _progress, _cancel: backups.backup(db, out, actor=actor, reason="manual"),
        backed_up,
        failure_title="No backup was made",
    )


def restore_from_backup(window: MainWindow) -> RestoreDialog:
    """File → Restore from backup…: the workspace's backups, newest first, or any file the user picks."""
    folder = backups.default_folder(window.session.path)
    window.restore_dialog = RestoreDialog(
        backups.workspace_backups(window.session.path), folder, window.session.path.name, window
    )
    window.restore_dialog.chosen.connect(lambda path: restore(window, path))
    window.restore_dialog.open()
    return window.restore_dialog


def restore(window: MainWindow, backup_path: Path) -> None:
    """Confirm, restore *backup_path* over the open workspace, then reopen it so every screen shows it."""
    session = window.session
    target = session.path
    with messages.reported(window, "Cannot restore from this file") as failed:
        backups.check_backup(backup_path, full=False)  # a quick first look; restore runs the full check
    if failed:
        return
    folder = backups.default_folder(target)
    text = (
        f"Replace everything in the workspace {target.name} with the content of the backup "
        f"{backup_path.name}?\n\nAll that was changed in {target.name} since that backup was made (records, "
        f"imports, returns, the audit trail) is replaced by what the backup holds.\n\nThe current state is "
        f"kept first as a before-restore backup in {folder}, so restoring that file undoes this."
    )
    if not messages.confirm(window, "Restore from backup", text, "Restore"):
        return
    actor = session.actor

    def job(db, progress, cancel):
        return backups.restore(backup_path, db, actor=actor, folder=folder, progress=progress, cancel=cancel)

    def restored(before: Path) -> None:
        log.info("Restored %s from %s; the state before is in %s", target, backup_path, before)
        window.open_path(target)  # a new session: every screen reloads from the restored file
        messages.show_status(window, f"Restored from {backup_path.name}. The state before is kept in {before.name}.")

    start_task(
        window, "Restoring the workspace…", target, job, restored, failure_title="The workspace was not restored"
    )


class RestoreDialog(QDialog):
    """The rolling backups with date, time and size, newest first, plus "Choose a file…"."""

    chosen = Signal(object)  # the backup file to restore

    def __init__(
        self, found: list[backups.BackupFile], folder: Path, workspace_name: str, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.folder = folder
        self.setWindowTitle("Restore from backup")
        self.setMinimumWidth(620)
        intro = QLabel(
            f"Choose a backup of {workspace_name} to restore. Its content replaces the workspace's; the "
            "current state is kept as a before-restore backup first."
        )
        intro.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("backupList")
        self.list.setHeaderLabels(["Made", "Kind", "Size"])
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        for found_file in found:
            item = QTreeWidgetItem(
                [found_file.when.strftime("%d/%m/%Y  %H:%M:%S"), KINDS[found_file.label], _size(found_file.size)]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, found_file.path)
            item.setToolTip(0, str(found_file.path))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.list.addTopLevelItem(item)
        self.list.setColumnWidth(0, 200)
        self.list.setColumnWidth(1, 160)
        self.empty = QLabel(
            f"No backups of {workspace_name} yet in {folder}. They are made each time the app "
            "closes and once a day; choose a file to restore another one."
        )
        self.empty.setWordWrap(True)
        self.empty.setVisible(not found)
        self.list.setVisible(bool(found))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.choose_button = QPushButton("Choose a file…")
        self.restore_button = QPushButton("Restore…")
        buttons.addButton(self.choose_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.choose_button.clicked.connect(self._choose)
        self.restore_button.clicked.connect(self._restore_selected)
        self.list.itemDoubleClicked.connect(self._restore_selected)
        self.list.currentItemChanged.connect(lambda *_: self.restore_button.setEnabled(self.selected() is not None))
        if found:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self.restore_button.setEnabled(self.selected() is not None)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)

    def selected(self) -> Path | None:
        item = self.list.currentItem()
        return item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None

    def _restore_selected(self) -> None:
        path = self.selected()
        if path is not None:
            self.accept()
            self.chosen.emit(path)

    def _choose(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Restore from a backup file", str(self.folder), WORKSPACE_FILTER)
        if name:
            self.accept()
            self.chosen.emit(Path(name))


def _size(size: int) -> str:
    if size >= 1024**3:
        return f"{size / 1024**3:.1f} GB"
    if size >= 1024**2:
        return f"{size / 1024**2:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"
