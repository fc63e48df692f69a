"""Sync at work, for tools.screenshots.shoot: two laptops of one team on the small demo world. A teammate's
bundle is previewed (counts per table, one conflict), applied, and the conflict shown side by side; the team
folder being named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop import paths
from desktop.models import backups, reference
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.views.shell import sync_dialogs
from desktop.views.shell.team_folder import TeamFolderDialog

PASSPHRASE = "screenshot team passphrase"


def _mine() -> Actor:
    # Priya's edits are made on the device the app runs on (asked when the shots are taken, once the tool has set
    # its own home): a conflict is an edit made on this laptop that a teammate's crossed (desktop.models.sync.records).
    return Actor("Dr Priya Shah", paths.device_id(), fixed_time="2026-07-01T09:00:00+00:00", role="GP")


THEIRS = Actor("Sam Okafor", "laptop-sam", fixed_time="2026-07-01T10:30:00+00:00", role="community matron")


def sync_at_work(
    folder: Path,
    window_for: Callable[[Path], QWidget],
    shot: Callable[[QWidget, str], None],
    settle: Callable[[float], None],
) -> None:
    mine, bundle = _two_laptops(folder)
    window = window_for(mine)
    original = sync_dialogs.ask_passphrase
    sync_dialogs.ask_passphrase = lambda *_a, **_k: PASSPHRASE
    try:
        asking = sync_dialogs.PassphraseDialog(
            "Send changes to the team",
            "Choose the team's sync passphrase. Every laptop of the team uses the same "
            "one; it is needed to open the bundle, so tell your teammates in person.",
            confirm=True,
            parent=window,
        )
        asking.show()
        settle(0.2)
        shot(asking, "sync-passphrase")
        asking.done(0)

        sync_dialogs.apply_changes(window, bundle)
        settle(0.3)  # the dry run reports back by callback, which opens the preview
        preview = window.sync_preview
        shot(preview, "sync-preview")
        preview.apply_button.click()
        settle(0.3)
        conflicts = sync_dialogs.show_conflicts(window)
        settle(0.3)
        shot(conflicts, "sync-conflicts")
        conflicts.done(0)

        naming = TeamFolderDialog(Path("/media/charnwood-ilt/Team share/Locality Desk"), parent=window)
        naming.show()
        settle(0.2)
        shot(naming, "sync-team-folder")
        naming.done(0)
    finally:
        sync_dialogs.ask_passphrase = original
        window.close()


def _two_laptops(folder: Path) -> tuple[Path, Path]:
    """Priya's laptop and Sam's copy after a first exchange; both then edit one practice (Sam later) and Sam
    corrects another; Sam's bundle is returned."""
    mine, theirs = folder / "sync-priya.sqlite", folder / "sync-sam.sqlite"
    db = open_workspace(mine)
    build_demo(db, small=True, history=False)
    db.close()
    sync_bundle.ensure_team_id(mine)
    backups.backup(mine, theirs)
    first = folder / "sam-first.ldsync"
    sync_bundle.export_bundle(theirs, first, PASSPHRASE, actor=THEIRS)
    sync_merge.import_bundle(mine, first, PASSPHRASE, actor=_mine())
    clash, corrected = _practices(mine)[:2]
    _edit(mine, _mine(), clash, list_size=clash["list_size"] + 120)
    _edit(theirs, THEIRS, clash, list_size=clash["list_size"] + 95)
    _edit(theirs, THEIRS, corrected, name=corrected["name"] + " (Health Centre)")
    bundle = folder / "sam-2026-07-01.ldsync"
    sync_bundle.export_bundle(theirs, bundle, PASSPHRASE, actor=THEIRS)
    return mine, bundle


def _practices(path: Path) -> list[dict]:
    db = open_workspace(path)
    try:
        return list(db.query("SELECT * FROM practices ORDER BY ods_code LIMIT 2"))
    finally:
        db.close()


def _edit(path: Path, actor: Actor, row: dict, **values) -> None:
    db = open_workspace(path)
    try:
        current = reference.get(db, "practices", row["id"])
        reference.save(db, actor, "practices", {**current, **values}, row["id"])
    finally:
        db.close()
