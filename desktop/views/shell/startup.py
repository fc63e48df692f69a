"""Choosing the workspace at start: the given file or the default one, built as the demo world the
first time, and another file picked by the user when the chosen one cannot be used."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QWidget

from ... import paths
from ...models.demo import build_demo
from ...models.errors import DeskError, StorageUnavailable, WorkspaceDamaged
from ...models.workspace import create_workspace
from ...settings import Settings
from ..kit import messages
from ..kit.session import Session
from ..kit.tasks import start_task

log = logging.getLogger(__name__)
WORKSPACE_FILTER = "Locality Desk workspaces (*.sqlite *.db);;All files (*)"
EMPTY = "Start with an empty workspace"
QUIT = "Quit"
OPEN_OTHER = "Open another file…"
RESTORE = "Restore from a backup…"
Opened = Callable[[Session | None], None]
Failed = Callable[[BaseException], None]


def start_path(settings: Settings) -> Path:
    """The workspace opened when no --db is given: the one chosen on the first start, else the default."""
    chosen = settings.get("start_workspace")
    return Path(chosen) if chosen else paths.default_workspace()


def first_start_wanted(settings: Settings) -> bool:
    """Whether this start, without an explicit --db, is the first (the wizard's): never finished, and no
    workspace to open. Here rather than in first_run, so an everyday start does not import the wizard."""
    return not settings.get("first_run_done") and is_new(start_path(settings))


def is_new(path: Path) -> bool:
    # A zero-byte file is what a cancelled first start can leave behind; treat it as never started.
    return not path.exists() or (path.is_file() and path.stat().st_size == 0)


def open_at_start(
    path: Path, settings: Settings, opened: Opened, failed: Failed | None = None, parent: QWidget | None = None
) -> None:
    """Hand *opened* the session the main window opens on, or None when the user chose to quit.

    A new workspace is first built as the demo world off the GUI thread, so *opened* is called either before this
    returns or later, from the event loop, when the build has reported back. An unexpected error before this returns
    reaches the caller; one later has no caller to reach and goes to *failed* (by default raised again, for the
    crash handler).
    """
    fail = failed or _reraise

    def attempt(target: Path | None) -> None:
        if target is None:
            opened(None)
        elif is_new(target):
            build_first_workspace(
                target,
                guarded(lambda built: open_existing(target) if built else opened(None), fail),
                guarded(lambda exc: cannot_use(target, exc), fail),
                parent,
            )
        else:
            open_existing(target)

    def open_existing(target: Path) -> None:
        try:
            session = Session.open(target, settings)
        except StorageUnavailable as exc:
            cannot_use(target, exc)
            return
        opened(session)

    def cannot_use(target: Path, exc: BaseException) -> None:
        if isinstance(exc, WorkspaceDamaged):
            log.warning("Damaged workspace %s: %s", target, exc)
            attempt(restore_or_choose(parent, settings, target, str(exc)))
        elif isinstance(exc, StorageUnavailable):
            log.warning("Cannot open %s: %s", target, exc)
            attempt(ask_for_other_workspace(parent, settings, str(exc)))
        else:
            fail(exc)

    attempt(path)


def _reraise(exc: BaseException) -> None:
    raise exc


def guarded(step: Callable[..., None], failed: Failed) -> Callable[..., None]:
    """*step* as a callback from the event loop, where an error it raises would reach no caller: *failed* gets it."""

    def run(*args: Any) -> None:
        try:
            step(*args)
        except Exception as exc:
            failed(exc)

    return run


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
    dialog = RestoreDialog(backups.workspace_backups(damaged), folder, damaged.name, parent)
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


def build_first_workspace(
    path: Path,
    then: Callable[[bool], None],
    failed: Failed,
    parent: QWidget | None = None,
    empty_kind: str = "locality",
) -> None:
    """Build the demo world at *path* on a worker thread; on Cancel offer an empty workspace of *empty_kind*.

    Later, from the event loop, *then* is told whether there is a workspace at *path* now (False: the user cancelled
    and chose to quit; after a Cancel the half-built file is removed either way), or *failed* gets what stopped the
    build.
    """
    path.parent.mkdir(parents=True, exist_ok=True)

    def built(_result: None) -> None:
        log.info("Built the demo world at %s", path)
        then(True)

    def cancelled() -> None:
        try:
            started = _start_empty_instead(path, parent, empty_kind)
        except Exception as exc:
            failed(exc)
            return
        then(started)

    start_task(
        parent,
        "Building the demo world (invented people and places)…",
        path,
        _build_demo_job,
        built,
        failed,
        cancelled,
    )


def _start_empty_instead(path: Path, parent: QWidget | None, empty_kind: str) -> bool:
    remove_workspace_files(path)
    choice = messages.ask(
        parent,
        "Locality Desk",
        "The demo world was not built, and nothing was saved.\n\n"
        f"You can start with an empty {empty_kind} workspace that holds only the 11 localities (load your "
        "practices, PCNs and care homes afterwards with File → Update reference data from NHS files…), or quit "
        "and build the demo world another time.",
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
