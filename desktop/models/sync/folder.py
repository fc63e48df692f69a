"""The team folder (issue 23, point 5): a shared folder where every laptop of the team leaves its latest bundle and
picks up its teammates', so nobody has to remember to exchange files.

The folder is a setting of the workspace (``team_folder`` in its meta, which never travels in a bundle): each
laptop names its own path to it (a network drive, an encrypted stick), and may clear it. Then the app

* **drops** this laptop's bundle there (``drop``) on close and every hour: one file per laptop,
  ``<user>-<first 8 of the workspace id>.ldsync``, replaced atomically by the next. Every bundle carries all this
  laptop's changes its teammates may not have (desktop.models.sync.base), so only the latest is kept. When the
  synced tables look as they did at the last drop into the same folder, and that file is still there, nothing is
  written: an hourly drop of an untouched workspace costs no bundle number and no audit line;
* lists on open the teammates' files this workspace has not applied yet (``pending``; which files are wanted is
  desktop.models.sync.merge.wants's decision, never this module's), and applies them in the order they were
  made (``catch_up``, also as a dry run for the preview). A file that is not a bundle, or another team's, is
  listed as skipped with the reason.

A folder that is absent or cannot be reached (the drive is not connected, the laptop is offline) is not an error:
every function returns a status saying so, and the next drop or open catches up. Refusals the user must act on
(a wrong passphrase, a passphrase too short for a new bundle) are raised as ValidationError, as the bundle and
merge modules raise them.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import audit
from ..clock import Actor, utc_now
from ..db import open_workspace
from ..errors import ValidationError
from ..workspace import get_meta, set_meta
from . import tracking
from .bundle import SyncSummary, default_actor, export_bundle, read_header
from .merge import current_state, import_bundle, wants
from .state import load_object as _load

FOLDER_KEY = "team_folder"
DROP_KEY = "team_folder_drop"  # JSON: where and what the last drop wrote, and the tables' fingerprint then
SUFFIX = ".ldsync"
NEW_SUFFIX = ".ldsync-new"  # a drop being written: never listed as a bundle
# Tables whose content never travels, so changes there are no reason to drop a new bundle.


@dataclass
class Skipped:
    """A file in the team folder that is not applied, and why."""

    name: str
    reason: str


@dataclass
class Found:
    """A teammate's bundle in the team folder that this workspace has not applied yet."""

    path: str
    header: dict[str, Any]

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass
class FolderScan:
    """What ``pending`` found in the team folder."""

    folder: str
    reachable: bool
    message: str
    wanted: list[Found] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    up_to_date: int = 0  # bundles already applied, and this laptop's own


@dataclass
class Dropped:
    """What ``drop`` did: written (*file* and *summary*), nothing to write (*unchanged*) or the folder unreachable."""

    folder: str
    reachable: bool
    message: str
    file: str | None = None
    summary: SyncSummary | None = None
    unchanged: bool = False


@dataclass
class Applied:
    """One bundle of the folder applied (or, in a dry run, previewed)."""

    name: str
    header: dict[str, Any]
    summary: SyncSummary


@dataclass
class CaughtUp:
    """What ``catch_up`` did with the teammates' new bundles."""

    folder: str
    reachable: bool
    message: str
    dry_run: bool = False
    applied: list[Applied] = field(default_factory=list)
    refused: list[Skipped] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def conflicts(self) -> int:
        return sum(len(a.summary.conflicts) for a in self.applied)


# ---------------------------------------------------------------- the setting


def get_folder(db) -> Path | None:
    """The team folder named for this workspace, or None."""
    value = get_meta(db, FOLDER_KEY)
    return Path(value) if value else None


def set_folder(db, folder: str | Path | None, actor: Actor) -> Path | None:
    """Name the team folder (it must be an existing folder now), or clear it with None or ""; audited.

    Only the setting changes: no bundle is written or removed."""
    text = str(folder).strip() if folder is not None else ""
    path = Path(text).expanduser() if text else None
    if path is not None:
        if not path.is_absolute():
            raise ValidationError(f"Give the team folder's full path ({text} is not one). Nothing was changed.")
        if not path.is_dir():
            raise ValidationError(
                f"{path} is not a folder this laptop can reach now. Connect the drive or create the folder, then "
                "name it again. Nothing was changed."
            )
    with db.atomic():
        set_meta(db, **{FOLDER_KEY: str(path) if path else "", DROP_KEY: ""})
        audit.record(
            db,
            actor,
            "team-folder",
            "meta",
            FOLDER_KEY,
            f"Team folder set to {path}" if path else "Team folder cleared",
            {"folder": str(path) if path else None},
        )
    return path


def first_of_team(db) -> bool:
    """True while this workspace has no team yet: its first bundle sets the team's passphrase."""
    return not get_meta(db, "team_id")


def not_reachable(folder: str | Path) -> str:
    return (
        f"The team folder {folder} is not reachable (is the drive connected?). Nothing was exchanged; "
        "Locality Desk will catch up next time."
    )


def reachable(folder: str | Path) -> bool:
    try:
        return Path(folder).is_dir()
    except OSError:
        return False


def bundle_name(user: str, workspace_id: str) -> str:
    """This laptop's one file in the team folder: who uses it, and its workspace id to tell two Anns apart."""
    who = re.sub(r"[^A-Za-z0-9_-]+", "-", user or "").strip("-_")[:40] or "laptop"
    return f"{who}-{str(workspace_id)[:8]}{SUFFIX}"


# ---------------------------------------------------------------- drop


def drop(
    db_path: str | Path, folder: str | Path, passphrase: str, actor: Actor | None = None, force: bool = False
) -> Dropped:
    """Write this laptop's bundle into the team folder, replacing its previous one there.

    Skipped (``unchanged``) when nothing synced has changed since the last drop into this folder and its file is
    still there, unless *force*. The bundle is written under a temporary name first, then renamed over this laptop's
    file, so teammates never see half a file. An unreachable folder writes nothing and raises nothing."""
    folder = Path(folder)
    actor = actor or default_actor()
    if not reachable(folder):
        return Dropped(str(folder), False, not_reachable(folder))
    fingerprint, last = _fingerprint_and_last(db_path)
    here = _here(db_path)
    if (
        not force
        and last.get("fingerprint") == fingerprint
        and last.get("folder") == str(folder)
        and last.get("here") == here
        and last.get("file")
        and (folder / last["file"]).is_file()
    ):
        return Dropped(
            str(folder), True, "Nothing has changed since your last bundle in the team folder.", unchanged=True
        )
    partial = folder / f".{uuid.uuid4().hex[:12]}{NEW_SUFFIX}"
    try:
        summary = export_bundle(db_path, partial, passphrase, actor=actor)
    except ValidationError:
        _unlink_quietly(partial)
        if not reachable(folder):  # the drive went away while the bundle was written
            return Dropped(str(folder), False, not_reachable(folder))
        raise
    final = folder / bundle_name(actor.user, summary.sender)
    try:
        os.replace(partial, final)
    except OSError as exc:
        _unlink_quietly(partial)
        if not reachable(folder):
            return Dropped(str(folder), False, not_reachable(folder))
        # The bundle was recorded as sent; the next one carries the same changes again, so nothing is lost.
        raise ValidationError(f"Cannot write {final}: {exc.strerror or exc}. Try again later.") from exc
    _remove_older_own(folder, final, summary)
    # What the workspace looks like once the bundle is written (the export captured its marks).
    fingerprint, _ = _fingerprint_and_last(db_path)
    _record_drop(db_path, {"folder": str(folder), "file": final.name, "fingerprint": fingerprint, "here": here})
    total = sum(summary.changes.values())
    return Dropped(
        str(folder),
        True,
        f"Your changes are in the team folder ({total:,} change{'s' if total != 1 else ''}, bundle {summary.seq}).",
        file=str(final),
        summary=summary,
    )


def _remove_older_own(folder: Path, final: Path, summary: SyncSummary) -> None:
    """This laptop's earlier file under another name (its user's name changed): the new one carries all it did."""
    for path in _bundle_files(folder):
        if path == final:
            continue
        try:
            header = read_header(path)
        except ValidationError:
            continue
        if header.get("sender") == summary.sender and int(header.get("seq") or 0) < summary.seq:
            _unlink_quietly(path)


def _fingerprint_and_last(db_path: str | Path) -> tuple[str, dict[str, Any]]:
    """What a bundle from here would say, in brief (the ledger's newest version, the records marked but not yet
    captured, and what this laptop holds of each teammate's, which its bundle tells them), and the last drop."""
    db = open_workspace(db_path, create=False)
    try:
        newest = tracking.newest(db)
        marked = db.execute(f"SELECT count(*) FROM {tracking.LEDGER} WHERE dirty <> 0").fetchone()[0]
        seen = _load(get_meta(db, "sync_state")).get("seen")
        last = _load(get_meta(db, DROP_KEY))
    finally:
        db.close()
    return json.dumps([newest, marked, seen], sort_keys=True, default=str), last


def _record_drop(db_path: str | Path, record: dict[str, Any]) -> None:
    db = open_workspace(db_path, create=False)
    try:
        with db.atomic():
            set_meta(db, **{DROP_KEY: json.dumps({**record, "at": utc_now()})})
    finally:
        db.close()


def _here(db_path: str | Path) -> str:
    """Which copy of the workspace dropped: a copy carried to another laptop or folder drops under its own name."""
    from ... import paths

    return f"{paths.device_id()}|{Path(db_path).resolve()}"


# ---------------------------------------------------------------- pending and catching up


def pending(db_path: str | Path, folder: str | Path) -> FolderScan:
    """The teammates' bundles in *folder* this workspace has not applied yet, oldest first, and the files skipped."""
    folder = Path(folder)
    if not reachable(folder):
        return FolderScan(str(folder), False, not_reachable(folder))
    try:
        files = _bundle_files(folder)
    except OSError:
        return FolderScan(str(folder), False, not_reachable(folder))
    state = current_state(db_path)  # once, not once per file
    team = state.team_id
    scan = FolderScan(str(folder), True, "")
    for path in files:
        try:
            header = read_header(path)
        except ValidationError as exc:
            scan.skipped.append(Skipped(path.name, str(exc)))
            continue
        if wants(state, header):
            scan.wanted.append(Found(str(path), header))
        elif team and header.get("team_id") != team:
            scan.skipped.append(Skipped(path.name, "It is another team's bundle; it was left as it is."))
        else:
            scan.up_to_date += 1
    scan.wanted.sort(key=lambda f: (str(f.header.get("created_at") or ""), f.name))
    count = len(scan.wanted)
    scan.message = (
        f"{count} new bundle{'s' if count != 1 else ''} from teammates in the team folder."
        if count
        else "Nothing new from teammates in the team folder."
    )
    return scan


def catch_up(
    db_path: str | Path,
    folder: str | Path,
    passphrase: str,
    actor: Actor | None = None,
    dry_run: bool = False,
    only: list[str] | None = None,
) -> CaughtUp:
    """Apply (or, *dry_run*, preview) the teammates' new bundles of *folder*, oldest first, each on its own.

    *only* limits it to those file names (the ones a preview showed). A bundle refused (wrong passphrase, altered,
    applied meanwhile...) is listed with the reason and the others still go ahead; an unreachable folder applies
    nothing and raises nothing."""
    scan = pending(db_path, folder)
    result = CaughtUp(scan.folder, scan.reachable, scan.message, dry_run=dry_run, skipped=scan.skipped)
    if not scan.reachable:
        return result
    actor = actor or default_actor()
    for found in scan.wanted:
        if only is not None and found.name not in only:
            continue
        try:
            summary = import_bundle(db_path, found.path, passphrase, dry_run=dry_run, actor=actor)
        except ValidationError as exc:
            if not reachable(folder):
                result.reachable, result.message = False, not_reachable(folder)
                return result
            result.refused.append(Skipped(found.name, str(exc)))
            continue
        result.applied.append(Applied(found.name, found.header, summary))
    result.message = _caught_up_message(result)
    return result


def _caught_up_message(result: CaughtUp) -> str:
    if result.dry_run:
        n = len(result.applied)
        return f"{n} new bundle{'s' if n != 1 else ''} from teammates checked; nothing has changed yet."
    total = sum(v for a in result.applied for k, v in a.summary.applied.items() if k in ("added", "updated", "deleted"))
    if not result.applied and not result.refused:
        return "Nothing new from teammates in the team folder."
    who = sorted({str(a.header.get("user")) for a in result.applied})
    note = (
        f"Applied {total:,} change{'s' if total != 1 else ''} from the team folder ({', '.join(who)})."
        if result.applied
        else "Nothing was applied from the team folder."
    )
    if result.conflicts:
        note += f" {result.conflicts} conflict(s): File → Sync conflicts… to review them."
    if result.refused:
        note += f" {len(result.refused)} bundle(s) refused: " + "; ".join(r.reason for r in result.refused)
    return note


def _bundle_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith(".") and p.is_file())


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


__all__ = [
    "FOLDER_KEY",
    "CaughtUp",
    "Dropped",
    "FolderScan",
    "bundle_name",
    "catch_up",
    "drop",
    "first_of_team",
    "get_folder",
    "pending",
    "set_folder",
]
