"""Backups of a workspace, made with SQLite's online backup API (DESIGN §14).

The API copies a consistent snapshot while the app keeps the file open in WAL mode, where a plain file copy
could catch the main file and its -wal file at different moments. Each copy is written under a temporary
name, checked, and only then renamed, so a file that carries a backup's name is always a whole one; the copy a
kill interrupted is removed by a later backup into the same folder (outputs.clean_stale_partials).

Rolling backups (on close and daily) live in one folder per workspace, by default beside it: <the workspace's
folder> / backups / <workspace stem>, named <stem>-YYYYMMDD-HHMMSS.sqlite; the newest N are kept. A backup with a
label after the time (-manual, -before-restore) is never pruned: the first was made on purpose, the second
is how a restore is undone.

Beside the workspace, because a backup holds the same patient data: on the same volume it has the same protection
(a workspace kept on an encrypted USB drive has its backups there too, not on the laptop's own disk; issue 20).
Versions before that kept them in the user data folder / backups / <stem>; the backups found there are still
listed (``workspace_backups``) and never moved. The default workspace lives in the user data folder, so for it the
two are one folder.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import shutil
import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from .. import paths
from . import audit, clock, outputs
from .clock import Actor
from .db import open_workspace
from .errors import (
    SchemaTooNew,
    StorageError,
    StorageUnavailable,
    ValidationError,
    WorkspaceDamaged,
    sqlite_primary_code,
    translate_sqlite_error,
)
from .migrations import MIGRATIONS, SCHEMA_VERSION
from .progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress
from .workspace import kind as workspace_kind

SUFFIX = ".sqlite"
STAMP = "%Y%m%d-%H%M%S"
DEFAULT_KEEP = 10
BEFORE_RESTORE = "before-restore"
DAMAGED = "damaged"  # a damaged workspace moved aside by a restore; never pruned
MANUAL = "manual"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})(?:-(?P<label>[a-z][a-z-]*))?\.sqlite$")


@dataclass(frozen=True)
class BackupFile:
    path: Path
    when: dt.datetime  # local time, from the name (or the file's time for a file named otherwise)
    size: int  # bytes
    label: str  # "" for a rolling backup, "manual", "before-restore", or "other" for a file named otherwise

    @property
    def rolling(self) -> bool:
        return self.label == ""


# -- where ------------------------------------------------------------------------------------------------
FOLDER = "backups"  # the folder beside the workspace file


def folder_beside(workspace: str | Path) -> Path:
    """<the workspace's folder>/backups/<stem>: where the backups of *workspace* go (nothing is created)."""
    workspace = Path(os.path.abspath(workspace))
    return workspace.parent / FOLDER / workspace.stem


def default_folder(workspace: str | Path) -> Path:
    """The rolling backups folder of the workspace file *workspace*, beside it (created when missing).

    StorageUnavailable when it cannot be made (a read-only folder), saying where backups can go instead.
    """
    folder = folder_beside(workspace)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageUnavailable(
            f"Cannot make the backups folder {folder} beside the workspace ({exc.strerror or exc}). Nothing was "
            "written; use File → Back up now… to choose another folder, or keep the workspace in a folder you can "
            "write in."
        ) from exc
    return folder


def earlier_folder(workspace: str | Path) -> Path | None:
    """Where versions before issue 20 kept the backups of *workspace* (the user data folder / backups / <stem>), when
    that is another folder than today's and still holds some; None otherwise. Nothing is created."""
    earlier = paths.backups_dir() / Path(workspace).stem
    if not earlier.is_dir() or os.path.realpath(earlier) == os.path.realpath(folder_beside(workspace)):
        return None
    return earlier if any(earlier.glob(f"*{SUFFIX}")) else None


def workspace_backups(workspace: str | Path) -> list[BackupFile]:
    """The backups of *workspace*, newest first: those beside it, then any an earlier version left in the user data
    folder (of this workspace's name; they are listed, never moved or pruned)."""
    found = list_backups(folder_beside(workspace))
    earlier = earlier_folder(workspace)
    if earlier is not None:
        stem = Path(workspace).stem
        found += [b for b in list_backups(earlier) if _stem(b.path) == stem]
    return sorted(found, key=lambda b: b.when, reverse=True)


def _stem(path: Path) -> str | None:
    match = _NAME.match(path.name)
    return match["stem"] if match else None


def workspace_file(db: sqlite_utils.Database) -> Path:
    """The file *db* is open on."""
    name = next((r[2] for r in db.conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not name:
        raise StorageUnavailable("This workspace is held in memory, not in a file, so it cannot be backed up.")
    return Path(name)


def file_name(stem: str, when: dt.datetime | None = None, label: str = "") -> str:
    """<stem>-YYYYMMDD-HHMMSS[-label].sqlite"""
    stamp = (when or clock.now()).strftime(STAMP)
    return f"{stem}-{stamp}{'-' + label if label else ''}{SUFFIX}"


def free_path(folder: Path, stem: str, label: str = "", now: dt.datetime | None = None) -> Path:
    """A new file name in *folder* for *stem* at *now*; two in one second take the next free second, so names stay
    unique and in order."""
    when = (now or clock.now()).replace(microsecond=0)
    out = folder / file_name(stem, when, label)
    while out.exists():
        when += dt.timedelta(seconds=1)
        out = folder / file_name(stem, when, label)
    return out


# -- one backup -------------------------------------------------------------------------------------------
def backup(
    db_or_path: sqlite_utils.Database | str | Path, out: str | Path, *, actor: Actor | None = None, reason: str = MANUAL
) -> Path:
    """Copy the workspace to *out* with the online backup API, check the copy, and audit it in the source.

    StorageUnavailable (nothing written at *out*) when the workspace is missing or unusable, or *out* cannot
    be written or is one of the workspace's own files (outputs.check_output).

    The copy is written and checked under a temporary name; then the audit entry is written and the copy renamed
    to *out* in one transaction, so a backup exists exactly when its entry does. A workspace busy in another window
    refuses the entry, and then no backup is left behind either.
    """
    out = Path(out)
    owned = not isinstance(db_or_path, sqlite_utils.Database)
    db = open_workspace(db_or_path, create=False) if owned else db_or_path
    try:
        source = workspace_file(db)
        outputs.check_output(out, [source], backup=True, backups_folder_ok=True)
        outputs.clean_stale_partials(out.parent)
        temp, size = _write_checked(db.conn, out)
        renamed = False
        try:
            with db.atomic():
                audit.record(
                    db,
                    actor or Actor.local(paths.device_id()),
                    "backup",
                    "workspace",
                    None,
                    f"Backed up to {out.name} ({reason})",
                    {"file": str(out.resolve()), "reason": reason, "bytes": size},
                )
                _rename(temp, out)
                renamed = True
        except BaseException:
            if renamed:  # the entry did not commit after all: no backup without its entry
                out.unlink(missing_ok=True)
            raise
        finally:
            _remove_temp(temp)
    except StorageError as exc:
        if sqlite_primary_code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
            raise StorageUnavailable(
                "The workspace is busy in another window or program, so no backup was made: a backup is recorded "
                "in the workspace's audit log, which needs a moment's write access. Finish or close the work there "
                f"and try again; nothing was written at {out}."
            ) from exc
        raise
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, db_or_path if owned else None) from exc
    finally:
        if owned:
            db.close()
    return out


def check_backup(path: str | Path, *, full: bool = True) -> None:
    """Refuse (StorageUnavailable) a file that is missing, damaged, not a workspace, or from a newer app.

    Opened read-only: the file is never modified. *full* runs integrity_check, otherwise quick_check.
    """
    path = Path(path)
    if not path.is_file():
        raise StorageUnavailable(f"There is no backup file at {path}.")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            _verify(conn, path, full=full)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _damaged(path) from exc


# -- rolling backups --------------------------------------------------------------------------------------
def rolling(
    db: sqlite_utils.Database,
    folder: str | Path | None = None,
    keep: int = DEFAULT_KEEP,
    reason: str = "close",
    *,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> Path | None:
    """Write <stem>-YYYYMMDD-HHMMSS.sqlite into *folder* and delete all but the newest *keep* rolling backups.

    None when *keep* is 0 or less (rolling backups switched off). Labelled backups are never deleted.
    """
    if keep <= 0:
        return None
    source = workspace_file(db)
    folder = Path(folder) if folder is not None else default_folder(source)
    folder.mkdir(parents=True, exist_ok=True)
    out = free_path(folder, source.stem, now=now)
    backup(db, out, actor=actor, reason=reason)
    prune(folder, keep, stem=source.stem)
    return out


def prune(folder: str | Path, keep: int, *, stem: str | None = None) -> list[Path]:
    """Delete all but the newest *keep* rolling backups in *folder* (of *stem* only, when given)."""
    olds = [b for b in list_backups(folder) if b.rolling and (stem is None or _NAME.match(b.path.name)["stem"] == stem)]
    removed = []
    for old in olds[max(keep, 0) :]:
        old.path.unlink(missing_ok=True)
        removed.append(old.path)
    return removed


def list_backups(folder: str | Path) -> list[BackupFile]:
    """Every backup file in *folder*, newest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        if not path.is_file():
            continue
        stat = path.stat()
        match = _NAME.match(path.name)
        if match and match["label"] == DAMAGED:  # a damaged workspace kept aside is nothing to restore from
            continue
        if match:
            when, label = dt.datetime.strptime(match["stamp"], STAMP), match["label"] or ""
        else:
            when, label = dt.datetime.fromtimestamp(stat.st_mtime).replace(microsecond=0), "other"
        found.append((when, stat.st_mtime_ns, BackupFile(path, when, stat.st_size, label)))
    return [b for *_, b in sorted(found, key=lambda f: f[:2], reverse=True)]


def daily_due(folder: str | Path, now: dt.datetime | None = None) -> bool:
    """True when *folder* holds no backup made in the last 24 hours."""
    since = (now or clock.now()) - dt.timedelta(hours=24)
    return not any(b.when > since for b in list_backups(folder))


# -- restore ----------------------------------------------------------------------------------------------
def restore(
    backup_path: str | Path,
    workspace: sqlite_utils.Database | str | Path,
    *,
    actor: Actor | None = None,
    folder: str | Path | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> Path:
    """Replace the workspace's content with the backup's; return the before-restore backup of what it held.

    The backup must open and pass an integrity check first; then the current state is backed up as
    <stem>-YYYYMMDD-HHMMSS-before-restore.sqlite (in *folder*, by default the rolling backups folder), so
    restoring that file undoes this. The content is copied with the backup API, in one transaction on the
    workspace, never by copying files over an open WAL database. A refused backup changes nothing.
    """
    backup_path = Path(backup_path)
    progress(0.0, "Checking the backup…")
    check_backup(backup_path, full=True)
    owned = not isinstance(workspace, sqlite_utils.Database)
    try:
        db = open_workspace(workspace, create=False) if owned else workspace
    except WorkspaceDamaged:
        return restore_damaged(backup_path, Path(workspace), actor=actor, folder=folder)
    try:
        target = workspace_file(db)
        if backup_path.resolve() == target.resolve():
            raise StorageUnavailable(f"{backup_path.name} is the workspace itself, not a backup of it.")
        _refuse_other_kind(backup_path, workspace_kind(db))
        check_cancel(cancel)
        progress(0.3, "Keeping the current state as a before-restore backup…")
        folder = Path(folder) if folder is not None else default_folder(target)
        folder.mkdir(parents=True, exist_ok=True)
        before = free_path(folder, target.stem, BEFORE_RESTORE)
        backup(db, before, actor=actor, reason=BEFORE_RESTORE)
        check_cancel(cancel)
        progress(0.6, "Restoring…")
        try:
            if db.conn.in_transaction:
                db.conn.commit()
            source = sqlite3.connect(f"{backup_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
            try:
                source.backup(db.conn)
            finally:
                source.close()
            MIGRATIONS.apply(db)  # a backup from an older version is brought up to date, as on open
            with db.atomic():
                audit.record(
                    db,
                    actor or Actor.local(paths.device_id()),
                    "restore",
                    "workspace",
                    None,
                    f"Restored from {backup_path.name}; the state before is kept in {before.name}",
                    {"from": str(backup_path.resolve()), "before_restore": str(before.resolve())},
                )
        except sqlite3.Error as exc:
            raise translate_sqlite_error(exc, target) from exc
        progress(1.0, "Restored.")
    finally:
        if owned:
            db.close()
    return before


def restore_damaged(
    backup_path: str | Path, workspace: str | Path, *, actor: Actor | None = None, folder: str | Path | None = None
) -> Path:
    """Put a checked backup in place of a damaged workspace; return where the damaged file was moved.

    A damaged file cannot be opened, so it is not copied into: it (and its -wal and -shm) is moved aside into
    the backups folder as <stem>-…-damaged.sqlite, kept for whoever wants to rescue something from it, and the
    backup is written to the workspace's name by the backup API.

    The backups folder may be on another drive than the workspace, where no rename reaches: the backup is first
    copied, checked, into the workspace's own folder, and only then are the damaged files moved aside (copied
    across when they must be) and the copy renamed into place. A failure at any step puts the damaged file back.
    """
    backup_path, target = Path(backup_path), Path(workspace)
    check_backup(backup_path, full=True)
    known = _facts(target)  # what the damaged file still tells of itself, when anything
    _refuse_other_kind(backup_path, known and known[0])
    folder = Path(folder) if folder is not None else default_folder(target)
    folder.mkdir(parents=True, exist_ok=True)
    aside = free_path(folder, target.stem, DAMAGED)
    try:
        source = sqlite3.connect(f"{backup_path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
        try:
            temp, _ = _write_checked(source, target)
        finally:
            source.close()
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, backup_path) from exc
    moved: list[str] = []
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            part = Path(f"{target}{suffix}")
            if part.exists():
                _move(part, Path(f"{aside}{suffix}"))
                moved.append(suffix)
        _rename(temp, target)
    except BaseException:
        for suffix in moved:  # put the damaged file back: nothing is lost by a failed restore
            back, kept = Path(f"{target}{suffix}"), Path(f"{aside}{suffix}")
            if kept.exists() and not back.exists():
                _move(kept, back)
        raise
    finally:
        _remove_temp(temp)
    db = open_workspace(target, create=False)
    try:
        with db.atomic():
            audit.record(
                db,
                actor or Actor.local(paths.device_id()),
                "restore",
                "workspace",
                None,
                f"Restored from {backup_path.name} over a damaged workspace, which is kept as {aside.name}",
                {"from": str(backup_path.resolve()), "damaged": str(aside.resolve())},
            )
    finally:
        db.close()
    return aside


# -- helpers ----------------------------------------------------------------------------------------------
def _copy(source: sqlite3.Connection, out: Path) -> int:
    """Write a checked copy of *source* to *out* by way of a temporary name; return its size in bytes."""
    temp, size = _write_checked(source, out)
    try:
        _rename(temp, out)
    finally:
        _remove_temp(temp)
    return size


def _write_checked(source: sqlite3.Connection, out: Path) -> tuple[Path, int]:
    """A checked copy of *source* under a hidden temporary name beside *out* (on the same drive, so that putting it
    in place is one rename); its path and size. Nothing is left behind when it fails."""
    if out.is_dir():
        raise StorageUnavailable(f"{out} is a folder; give a file name for the backup.")
    if not out.parent.is_dir():
        raise StorageUnavailable(f"Cannot write the backup to {out}: the folder {out.parent} does not exist.")
    # The name outputs.clean_stale_partials knows: a copy a kill interrupts is removed by a later backup.
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        dest = sqlite3.connect(temp)
        try:
            source.backup(dest)
            # One self-contained file, whatever the source's journal mode.
            dest.execute("PRAGMA journal_mode=DELETE").fetchone()
            _verify(dest, out, full=False)
        finally:
            dest.close()
        return temp, temp.stat().st_size
    except BaseException as exc:
        _remove_temp(temp)
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, StorageUnavailable):
            raise StorageUnavailable(f"Cannot write the backup to {out}: {exc}. Nothing was written.") from exc
        if isinstance(exc, OSError):
            raise _cannot_write(out, exc) from exc
        raise


def _rename(temp: Path, out: Path) -> None:
    try:
        os.replace(temp, out)
    except OSError as exc:
        raise _cannot_write(out, exc) from exc


def _remove_temp(temp: Path) -> None:
    for leftover in (temp, *(temp.with_name(temp.name + s) for s in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


def _cannot_write(out: Path, exc: OSError) -> StorageUnavailable:
    return StorageUnavailable(f"Cannot write the backup to {out}: {exc.strerror or exc}. Nothing was written.")


def _move(source: Path, dest: Path) -> None:
    """Rename *source* to *dest*; across drives, where a rename cannot go (EXDEV; Windows' ERROR_NOT_SAME_DEVICE
    arrives as the same errno), copy it into *dest*'s folder first and rename it there, then remove *source*."""
    try:
        os.replace(source, dest)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        shutil.copy2(source, temp)
        os.replace(temp, dest)
    finally:
        temp.unlink(missing_ok=True)
    source.unlink()


PATIENT_TABLES = ("patients", "residents", "risk_runs")  # what a commissioner workspace never holds (DESIGN §14)


def _facts(path: Path) -> tuple[str, int] | None:
    """The kind of the workspace or backup at *path* and how many of its patient-level tables hold rows, read
    without touching it; None when not even its kind can be read. A table that cannot be read (a damaged page)
    counts as holding none: the kind alone still decides."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            row = conn.execute("SELECT value FROM meta WHERE key = 'kind'").fetchone() if "meta" in tables else None
        except sqlite3.Error:
            return None
        holding = 0
        for table in PATIENT_TABLES:
            try:
                holding += table in tables and conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None
            except sqlite3.Error:
                continue
        return (row[0] if row and row[0] else "locality"), holding
    finally:
        conn.close()


def _refuse_other_kind(backup_path: Path, target_kind: str | None) -> None:
    """A restore replaces the workspace's whole content, so the backup must be of the same kind of workspace: a
    locality backup would bring patient-identifiable data into a commissioner workspace, and a commissioner backup
    would replace a team's patients with a commissioner's returns."""
    facts = _facts(backup_path)
    if target_kind is None or facts is None:
        return
    backup_kind, patient_tables = facts
    if target_kind == "commissioner" and backup_kind != "commissioner":
        raise ValidationError(
            f"{backup_path.name} is a backup of a locality workspace and holds patient-identifiable data; this is a "
            "commissioner workspace, which never does. Nothing was changed. Restore it into the locality "
            "workspace it came from, or choose a backup of this commissioner workspace."
        )
    if target_kind == "commissioner" and patient_tables:
        raise ValidationError(
            f"{backup_path.name} holds patient-identifiable data (patients, care home residents or risk extracts), "
            "which a commissioner workspace never does, so it was refused; nothing was changed. Choose a backup "
            "made before those records arrived."
        )
    if target_kind != "commissioner" and backup_kind == "commissioner":
        raise ValidationError(
            f"{backup_path.name} is a backup of a commissioner workspace; this is a locality workspace, and "
            "restoring it would replace the team's patients with the commissioner's returns. Nothing was changed; "
            "choose a backup of this locality workspace."
        )


def _verify(conn: sqlite3.Connection, path: Path, *, full: bool) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check")]
    if rows != ["ok"]:
        raise _damaged(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if version == 0 or not {"_sqlite_migrations", "audit"} <= tables:
        raise StorageUnavailable(f"{path.name} is not a Locality Desk workspace or backup. Nothing was changed.")
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"{path.name} was written by a newer Locality Desk (schema {version}; this version "
            f"reads up to {SCHEMA_VERSION}). Nothing was changed."
        )


def _damaged(path: Path) -> StorageUnavailable:
    return StorageUnavailable(
        f"{path.name} is damaged (it fails SQLite's integrity check) and cannot be used. "
        "Nothing was changed; choose another backup."
    )
