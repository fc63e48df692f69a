"""The team folder in the app (issue 23, point 5): File → Team folder… names it; then the window applies the
teammates' new bundles when a workspace opens and drops this laptop's bundle on close and every hour.

The work is desktop.models.sync.folder. On open: list what is new (quietly, off the GUI thread), ask the team's
passphrase if it is not known yet, do a dry run, and when any bundle has conflicts show the preview
(sync_dialogs.SyncPreviewDialog) before applying it; the others are applied at once and the status bar says so.
The passphrase is asked at most once per session and kept in memory only, or taken from LOCALITY_DESK_PASSPHRASE.
A folder that cannot be reached gets a quiet note in the status bar, never a message box: the next open, hourly
drop or close catches up. Like the other sync work, everything runs in a child process (apsw).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models import child_process
from ...models.changes import Changes
from ..kit import messages
from ..kit.field_help import explain
from ..kit.tasks import BackgroundWorker, start_off_thread
from .later import Later

# Imported on first use: the window makes its TeamFolderSync before its first paint, and first looks at the
# folder after it.
sync_bundle = Later("desktop.models.sync.bundle")
team_folder = Later("desktop.models.sync.folder")
sync_dialogs = Later("desktop.views.shell.sync_dialogs")

if TYPE_CHECKING:
    from ..kit.session import Session
    from .main_window import MainWindow

log = logging.getLogger(__name__)
DROP_EVERY_MS = 3_600_000
FOLDER_HELP = (
    "The folder every laptop of the team can reach: a network drive or an encrypted USB stick. Each laptop names "
    "its own path to it. Bundles left there are encrypted with the team's sync passphrase."
)


# ---------------------------------------------------------------- naming the folder


class TeamFolderDialog(QDialog):
    """File → Team folder…: choose the shared folder, or clear it."""

    chosen = Signal(object)  # the folder (Path), or None to clear it

    def __init__(self, current: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Team folder")
        self.setMinimumWidth(560)
        intro = QLabel(
            "Name a folder the whole team can reach (a network drive or an encrypted USB stick). Locality Desk "
            "leaves your changes there when it closes and every hour, and applies your teammates' new changes when "
            "the workspace opens. When the folder cannot be reached, it catches up next time."
        )
        intro.setWordWrap(True)
        self.path = QLineEdit(str(current) if current else "")
        self.path.setObjectName("teamFolder")
        self.path.setAccessibleName("Team folder")
        self.path.setPlaceholderText("No team folder: changes are exchanged by hand")
        explain(self.path, FOLDER_HELP)
        self.choose_button = QPushButton("Choose…")
        self.choose_button.setObjectName("chooseTeamFolder")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setObjectName("clearTeamFolder")
        self.clear_button.setToolTip("Stop using a team folder on this laptop; nothing in the folder is removed")
        self.choose_button.clicked.connect(self._choose)
        self.clear_button.clicked.connect(self.path.clear)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.choose_button)
        row.addWidget(self.clear_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def _choose(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose the team folder", self.path.text())
        if name:
            self.path.setText(str(Path(name)))

    def _accept(self) -> None:
        text = self.path.text().strip()
        self.accept()
        self.chosen.emit(Path(text) if text else None)


def name_team_folder(window: MainWindow) -> TeamFolderDialog:
    """File → Team folder…: the dialog; OK stores the choice and, for a folder, catches up at once."""
    dialog = TeamFolderDialog(team_folder.get_folder(window.session.db), window)
    dialog.chosen.connect(lambda folder: set_team_folder(window, folder))
    window.team_folder_dialog = dialog
    dialog.open()
    return dialog


def set_team_folder(window: MainWindow, folder: Path | None) -> bool:
    session = window.session
    with messages.reported(window, "The team folder was not changed") as failed:
        chosen = team_folder.set_folder(session.db, folder, session.actor)
    if failed:
        return False
    session.publish(Changes.of("audit", "meta"))
    if chosen is None:
        messages.show_status(window, "No team folder: changes are exchanged by hand (File → Send changes…).")
        return True
    messages.show_status(window, f"Team folder: {chosen}. Your changes go there on close and every hour.")
    window.team_folder.catch_up()
    return True


# ---------------------------------------------------------------- the exchange


class TeamFolderSync(QObject):
    """The window's exchange with the team folder: catch up on open, drop hourly and on close."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.passphrases: dict[str, str] = {}  # per workspace file, this session only
        self.declined: set[str] = set()  # asked and cancelled: not asked again this session
        self.last_status = ""
        self.jobs: list[_QuietJob] = []  # quiet work under way (the look on open, the hourly drop)
        self.hourly = QTimer(self)
        self.hourly.setInterval(DROP_EVERY_MS)
        self.hourly.timeout.connect(self.drop_now)

    def start(self) -> None:
        self.hourly.start()

    def stop(self) -> None:
        self.hourly.stop()
        self.wait()

    def wait(self) -> None:
        """Let quiet work under way finish (a drop must not run twice at once)."""
        for job in list(self.jobs):
            job.worker.wait()

    @property
    def busy(self) -> bool:
        return any(job.worker.isRunning() for job in self.jobs)

    def folder(self, session: Session | None = None) -> Path | None:
        session = session or self.window.session
        return team_folder.get_folder(session.db) if session is not None and not session.closed else None

    def status(self, text: str) -> None:
        self.last_status = text
        log.info("Team folder: %s", text)
        messages.show_status(self.window, text, 15_000)

    # -- the passphrase ------------------------------------------------------------------------------------
    def passphrase(self, session: Session, *, to_send: bool) -> str | None:
        """The team's passphrase: from the environment, from memory, or asked (once per session and workspace)."""
        from_env = os.environ.get(sync_bundle.PASSPHRASE_ENV)
        if from_env:
            return from_env
        key = str(session.path)
        if key in self.passphrases:
            return self.passphrases[key]
        if key in self.declined:
            return None
        first = to_send and team_folder.first_of_team(session.db)
        intro = (
            "The team folder exchanges changes with your teammates. Enter the team's sync passphrase; it is kept "
            "only until Locality Desk closes."
        )
        if first:
            intro += " You are the first to send: choose it, and tell your teammates in person."
        value = sync_dialogs.ask_passphrase(self.window, "Team folder", intro, confirm=first, rule=True)
        if not value:
            self.declined.add(key)
            return None
        self.passphrases[key] = value
        return value

    def forget_passphrase(self, session: Session) -> None:
        self.passphrases.pop(str(session.path), None)

    # -- on open -------------------------------------------------------------------------------------------
    def catch_up(self) -> None:
        """Look for the teammates' new bundles (quietly); then passphrase, dry run, preview if conflicts, apply."""
        session = self.window.session
        folder = self.folder(session)
        if folder is None:
            return
        self._quietly(lambda result: self._scanned(session, folder, result), team_folder.pending, session.path, folder)

    def _scanned(self, session: Session, folder: Path, scan: team_folder.FolderScan) -> None:
        if session is not self.window.session or session.closed:
            return  # another workspace was opened meanwhile
        if not scan.reachable:
            self.status(scan.message)
            return
        if not scan.wanted:
            self.status(scan.message + _skipped(scan.skipped))
            return
        passphrase = self.passphrase(session, to_send=False)
        if not passphrase:
            self.status(f"{scan.message} Not applied: no passphrase given. They wait for the next time.")
            return

        def checked(preview: team_folder.CaughtUp) -> None:
            self._previewed(session, folder, passphrase, preview)

        self._in_child(
            "Checking your teammates' changes in the team folder…",
            checked,
            team_folder.catch_up,
            session.path,
            folder,
            passphrase,
            actor=session.actor,
            dry_run=True,
        )

    def _previewed(self, session: Session, folder: Path, passphrase: str, preview: team_folder.CaughtUp) -> None:
        if session is not self.window.session or session.closed:
            return
        if not preview.reachable:
            self.status(preview.message)
            return
        if preview.refused and not preview.applied:
            self.forget_passphrase(session)  # a wrong passphrase is asked again next time, not kept
            messages.warn(
                self.window,
                "Teammates' changes not applied",
                "\n\n".join(f"{r.name}: {r.reason}" for r in preview.refused),
            )
            self.status("Nothing was applied from the team folder.")
            return
        clean = [a.name for a in preview.applied if not a.summary.conflicts]
        to_review = [a for a in preview.applied if a.summary.conflicts]
        refused = _refused(preview.refused)
        if clean:
            self._apply(
                session,
                folder,
                passphrase,
                clean,
                then=lambda: self._review(session, folder, passphrase, to_review),
                note=refused,
            )
        else:
            if refused:
                self.status(refused.strip())
            self._review(session, folder, passphrase, to_review)

    def _review(self, session: Session, folder: Path, passphrase: str, waiting: list[team_folder.Applied]) -> None:
        """The preview of each bundle with conflicts, one after the other; Apply applies it, Cancel leaves it."""
        if not waiting or session is not self.window.session or session.closed:
            return
        first, rest = waiting[0], waiting[1:]
        dialog = sync_dialogs.SyncPreviewDialog(first.header, first.summary, self.window)
        dialog.setWindowTitle("Apply a teammate's changes from the team folder")

        def apply() -> None:
            self._apply(
                session, folder, passphrase, [first.name], then=lambda: self._review(session, folder, passphrase, rest)
            )

        def finished(result: int) -> None:
            if result != QDialog.DialogCode.Accepted:  # Apply accepts the dialog, then asks for the apply
                self.status(f"{first.name} was not applied; it is offered again the next time the workspace opens.")
                self._review(session, folder, passphrase, rest)

        dialog.apply_requested.connect(apply)
        dialog.finished.connect(finished)
        self.window.sync_preview = dialog
        dialog.open()

    def _apply(
        self,
        session: Session,
        folder: Path,
        passphrase: str,
        names: list[str],
        then: Callable[[], None],
        note: str = "",
    ) -> None:
        def applied(result: team_folder.CaughtUp) -> None:
            if not session.closed:
                # Every synced table may have changed, and the audit trail has the import: every screen reloads.
                session.publish(Changes(tables=frozenset(session.db.table_names())))
            self.status(result.message + note)
            then()

        self._in_child(
            "Applying your teammates' changes from the team folder…",
            applied,
            team_folder.catch_up,
            session.path,
            folder,
            passphrase,
            actor=session.actor,
            only=names,
        )

    # -- drops -----------------------------------------------------------------------------------------------
    @Slot()
    def drop_now(self) -> bool:
        """The hourly drop, quietly off the GUI thread; True when started."""
        session = self.window.session
        folder = self.folder(session)
        if folder is None or self.busy:
            return False
        if not team_folder.reachable(folder):
            self.status(team_folder.not_reachable(folder))
            return False
        if QApplication.activeModalWidget() is not None and self._unknown(session):
            return False  # not now: the user is in the middle of something; the next hour or the close will do
        passphrase = self.passphrase(session, to_send=True)
        if not passphrase:
            self.status("Your changes were not left in the team folder: no passphrase given. Use File → Send changes…")
            return False

        def dropped(result: team_folder.Dropped) -> None:
            if result.summary is not None and not session.closed:
                session.publish(Changes.of("audit", "meta"))
            self.status(result.message)

        self._quietly(dropped, team_folder.drop, session.path, folder, passphrase, actor=session.actor)
        return True

    def drop_on_close(self, session: Session | None) -> team_folder.Dropped | None:
        """The drop when the workspace closes, waited for with a busy cursor; a failure is logged, never raised."""
        self.wait()
        folder = self.folder(session)
        if folder is None:
            return None
        if not team_folder.reachable(folder):  # offline: the next close or hourly drop catches up
            log.info("No team folder drop on close of %s: %s", session.path, team_folder.not_reachable(folder))
            return None
        passphrase = self.passphrase(session, to_send=True)
        if not passphrase:
            log.info("No team folder drop on close of %s: no passphrase given", session.path)
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = child_process.call(team_folder.drop, session.path, folder, passphrase, actor=session.actor)
        except Exception:  # closing must never be blocked by the team folder
            log.warning("The team folder drop on close of %s failed", session.path, exc_info=True)
            return None
        finally:
            QApplication.restoreOverrideCursor()
        log.info("Team folder drop on close of %s: %s", session.path, result.message)
        return result

    def _unknown(self, session: Session) -> bool:
        key = str(session.path)
        return not os.environ.get(sync_bundle.PASSPHRASE_ENV) and key not in self.passphrases

    # -- running ---------------------------------------------------------------------------------------------
    def _quietly(self, done: Callable[[Any], None], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """fn in a child process on a worker thread, no dialog: its result to *done*, a failure to the status bar."""
        worker = BackgroundWorker(lambda _progress, _cancel: child_process.call(fn, *args, **kwargs))
        worker.setParent(QApplication.instance())  # tasks.wait_for_workers lets it finish at exit
        job = _QuietJob(self, done, self._failed)
        worker.succeeded.connect(job.ok)
        worker.failed.connect(job.error)
        worker.finished.connect(job.finished)
        job.worker = worker
        self.jobs.append(job)
        worker.start()

    def _failed(self, exc: BaseException) -> None:
        log.warning("Team folder: %s", exc, exc_info=exc)
        self.status(f"Team folder: {exc}")

    def _in_child(
        self, title: str, done: Callable[[Any], None], fn: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        start_off_thread(
            self.window,
            title,
            lambda _progress, cancel: child_process.call(fn, *args, cancel=cancel, **kwargs),
            done,
            failure_title="Teammates' changes not applied",
        )


class _QuietJob(QObject):
    """Hands a quiet worker's outcome to its callbacks on the GUI thread (its slots live there)."""

    def __init__(self, owner: TeamFolderSync, done: Callable[[Any], None], failed: Callable[[BaseException], None]):
        super().__init__(owner)
        self.owner = owner
        self.worker: BackgroundWorker | None = None
        self._done = done
        self._failed = failed

    @Slot(object)
    def ok(self, result: Any) -> None:
        self._done(result)

    @Slot(object)
    def error(self, exc: BaseException) -> None:
        self._failed(exc)

    @Slot()
    def finished(self) -> None:
        self.worker.wait()
        if self in self.owner.jobs:
            self.owner.jobs.remove(self)
        self.worker.deleteLater()
        self.deleteLater()


def _refused(refused: list[team_folder.Skipped]) -> str:
    if not refused:
        return ""
    return f" {len(refused)} bundle(s) refused: " + "; ".join(f"{r.name}: {r.reason}" for r in refused)


def _skipped(skipped: list[team_folder.Skipped]) -> str:
    if not skipped:
        return ""
    return f" {len(skipped)} file(s) there skipped: " + "; ".join(f"{s.name}: {s.reason}" for s in skipped)
