"""Choosing the workspace at start: the given file or the default one, built as the demo world the
first time, and another file picked by the user when the chosen one cannot be used."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from ... import paths
from ...models.demo import build_demo
from ...models.errors import DeskError, StorageUnavailable, WorkspaceDamaged
from ...models.progress import Cancelled
from ...models.workspace import create_workspace
from ...settings import Settings
from ..kit import messages
from ..kit.session import Session
from ..kit.tasks import run_with_progress

log = logging.getLogger(__name__)
WORKSPACE_FILTER = "Locality Desk workspaces (*.sqlite *.db);;All files (*)"
EMPTY = "Start with an empty workspace"
QUIT = "Quit"
OPEN_OTHER = "Open another file…"
RESTORE = "Restore from a backup…"


def start_path(settings: Settings) -> Path:
    """The workspace opened when no --db is given: the one chosen on the first start, else the default."""
    chosen = settings.get("start_workspace")
    return Path(chosen) if chosen else paths.default_workspace()


def is_new(path: Path) -> bool:
    # A zero-byte file is what a cancelled first start can leave behind; treat it as never started.
    return not path.exists() or (path.is_file() and path.stat().st_size == 0)


def open_at_start(path: Path, settings: Settings, parent: QWidget | None = None) -> Session | None:
    """The session the main window opens on, or None when the user chose to quit."""
    target: Path | None = path
    while target is not None:
        try:
            if is_new(target) and not build_first_workspace(target, parent):
                return None
            return Session.open(target, settings)
        except WorkspaceDamaged as exc:
            log.warning("Damaged workspace %s: %s", target, exc)
            target = restore_or_choose(parent, settings, target, str(exc))
        except StorageUnavailable as exc:
            log.warning("Cannot open %s: %s", target, exc)
            target = ask_for_other_workspace(parent, settings, str(exc))
    return None


def restore_or_choose(parent: QWidget | None, settings: Settings, damaged: Path, problem: str) -> Path | None:
    """A damaged workspace cannot be opened to restore into: offer its backups here, before any window."""
    from ...models import backups
    from .backups import RestoreDialog

    choice = messages.ask(
        parent,
        "The workspace is damaged",
        f"{problem}\n\nRestore it from one of its backups (the damaged file is kept aside, not "
        "deleted), choose another workspace file, or quit.",
        [RESTORE, OPEN_OTHER, QUIT],
    )
    if choice == OPEN_OTHER:
        return ask_for_other_workspace(parent, settings, problem, ask=False)
    if choice != RESTORE:
        return None
    folder = backups.default_folder(damaged)
    dialog = RestoreDialog(backups.list_backups(folder), folder, damaged.name, parent)
    picked: list[Path] = []
    dialog.chosen.connect(picked.append)
    if not choose_backup(dialog) or not picked:
        return damaged  # asked again: restore, another file, or quit
    try:
        aside = backups.restore_damaged(picked[0], damaged)
    except DeskError as exc:
        messages.warn(parent, "The workspace was not restored", f"{exc}\n\nThe damaged file is as it was.")
        return damaged
    log.info("Restored %s from %s; the damaged file is kept as %s", damaged, picked[0], aside)
    messages.inform(
        parent,
        "Restored",
        f"{damaged.name} was restored from {picked[0].name}. The damaged file is "
        f"kept as {aside} in case anything needs to be rescued from it.",
    )
    return damaged


def choose_backup(dialog) -> bool:
    """Show the backup list modally; tests replace it."""
    return bool(dialog.exec())


def build_first_workspace(path: Path, parent: QWidget | None = None, empty_kind: str = "locality") -> bool:
    """Build the demo world at *path* on a worker thread; on Cancel offer an empty workspace of *empty_kind*.

    False when the user chose to quit; the half-built file is removed either way.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_with_progress(parent, "Building the demo world (invented people and places)…", path, _build_demo_job)
        log.info("Built the demo world at %s", path)
        return True
    except Cancelled:
        remove_workspace_files(path)
    choice = messages.ask(
        parent,
        "Locality Desk",
        "The demo world was not built, and nothing was saved.\n\n"
        f"You can start with an empty {empty_kind} workspace that holds only the LLR reference data "
        "(localities, practices, care homes, staff), or quit and build the demo world another time.",
        [EMPTY, QUIT],
    )
    if choice != EMPTY:
        return False
    create_workspace(path, empty_kind).close()
    return True


def _build_demo_job(db, progress, cancel) -> None:
    build_demo(db, progress=progress, cancel=cancel)


def remove_workspace_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def ask_for_other_workspace(parent: QWidget | None, settings: Settings, problem: str, ask: bool = True) -> Path | None:
    """Explain why the workspace cannot be used and let the user pick another; None to quit."""
    if ask:
        choice = messages.ask(
            parent,
            "Cannot open the workspace",
            f"{problem}\n\nChoose another workspace file, or quit.",
            [OPEN_OTHER, QUIT],
        )
        if choice != OPEN_OTHER:
            return None
    name, _ = QFileDialog.getOpenFileName(parent, "Open workspace", settings.state("last_directory"), WORKSPACE_FILTER)
    if not name:
        return None
    settings.set_state("last_directory", str(Path(name).parent))
    return Path(name)
