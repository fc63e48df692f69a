"""Where a command may write its file (issue 19): never onto a workspace, anything that belongs to one or a backup,
and never as a half-written file.

`check_output` is the one guard every command that writes a file calls, before anything is written. A report
written over the workspace it was made from destroys the workspace (and, through a link, so does one written
to another name for the same file), so the path is compared as the operating system sees it: the same file after
following links, or the same inode (a hard link). The workspace's own companions count as the workspace: SQLite's
write-ahead log, its index and rollback journal, and the sync base beside it. So does anything in the backups
folder (the restore points) and any existing SQLite database (another workspace; for `backup`, one in use).

`atomic_output` and `whole_or_nothing` make the write itself whole or nothing: a full disk, a refused audit
entry or a kill leaves no empty or partial file under the name asked for. A kill can still leave a hidden
`.<name>.<8 characters>.partial` file or folder beside it; `clean_stale_partials`, called before each new write
into the folder, removes those nobody has touched for a while.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .. import paths
from .errors import StorageUnavailable, ValidationError

# SQLite's files beside a database: the write-ahead log, its index, the rollback journal.
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
# desktop.models.sync.base.base_path: <workspace>.sync-base. Named here rather than imported, which would load apsw
# (a second SQLite library) into every command that writes a file.
SYNC_BASE_SUFFIX = ".sync-base"
SQLITE_MAGIC = b"SQLite format 3\x00"
PARTIAL = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.partial(?:-journal|-wal|-shm)?$")
# A write under way touches its file every moment; one untouched this long was killed. Generous, so that the check
# of a large backup on a slow network drive (reads only) is never taken for one.
STALE_AFTER_S = 15 * 60


class OutputRefused(ValidationError, StorageUnavailable):
    """An output path refused before anything was written. A ValidationError (the input was refused, nothing was
    written, exit 1) and a StorageUnavailable, as backups have always reported a file they cannot write."""


# -- the guard ---------------------------------------------------------------------------------------------
def workspace_files(workspace: str | Path) -> list[Path]:
    """Every file that belongs to the workspace at *workspace*: itself, SQLite's companions, its sync base and that
    base's companions."""
    return [Path(f"{workspace}{base}{suffix}") for base in ("", SYNC_BASE_SUFFIX) for suffix in SQLITE_COMPANIONS]


def check_output(
    out: str | Path,
    workspaces: Iterable[str | Path] = (),
    *,
    backup: bool = False,
    backups_folder_ok: bool = False,
) -> Path:
    """*out*, when a command may write its file there; OutputRefused, saying what to do instead, when not.

    Refused: a folder; a file in a folder that does not exist; any file of the workspaces in *workspaces* and of the
    default workspace, by any name (a symbolic or hard link); anything inside the backups folder, unless
    *backups_folder_ok* (the backups module writing its own files there); an existing SQLite database, except, for
    a *backup*, an earlier backup (a database not in write-ahead-log mode, which every workspace in use is).
    """
    out = Path(out)
    if out.is_dir():
        raise OutputRefused(
            f"{out} is a folder; give a file name for the output (a file inside that folder, for instance); "
            "nothing was written."
        )
    if not out.parent.is_dir():
        raise OutputRefused(
            f"Cannot write {out}: the folder {out.parent} does not exist. Create it, or choose a file in a folder "
            "that exists; nothing was written."
        )
    where = _real(out)
    for workspace in [*workspaces, paths.default_workspace()]:
        for part in workspace_files(workspace):
            if where == _real(part) or _same_file(out, part):
                raise OutputRefused(_alias_message(out, Path(workspace), part))
    backups_root = _real(paths.backups_dir())
    if not backups_folder_ok and (where == backups_root or Path(where).is_relative_to(backups_root)):
        raise OutputRefused(
            f"{out} is in the backups folder ({paths.backups_dir()}), where Locality Desk keeps the workspaces' "
            "backups and restore points; writing there could replace one. Choose a file in another folder; "
            "nothing was written."
        )
    for workspace in workspaces if not (backups_folder_ok or backup) else ():
        # Each workspace's own backups folder (backups.folder_beside; worked out here, as backups imports this).
        beside = Path(os.path.abspath(workspace)).parent / "backups" / Path(workspace).stem
        if Path(where).is_relative_to(_real(beside)):
            raise OutputRefused(
                f"{out} is in the backups folder of {Path(workspace).name} ({beside}), where its restore points "
                "are kept; writing there could replace one. Choose a file in another folder; nothing was written."
            )
    head = _head(out)
    if head.startswith(SQLITE_MAGIC) and (not backup or _wal_mode(head)):
        raise OutputRefused(
            f"{out} is a database already (a workspace, perhaps another team's), and writing there would destroy "
            "it. Choose a new file name; nothing was written."
            if not backup
            else f"{out} is a workspace in use, not an earlier backup, and the backup would destroy it. Choose a new "
            "file name for the backup; nothing was written."
        )
    return out


def _alias_message(out: Path, workspace: Path, part: Path) -> str:
    suffix = str(part)[len(str(workspace)) :]
    if suffix == "" and out.name == workspace.name:
        what = "the workspace itself"
    elif suffix == "":
        what = f"the workspace itself ({workspace.name}) under another name (a link to it)"
    elif suffix.startswith(SYNC_BASE_SUFFIX):
        what = f"the sync base of the workspace {workspace.name}, which its exchanges with teammates depend on"
    else:
        what = f"one of the workspace's own files ({workspace.name}{suffix}, which SQLite keeps beside it)"
    return f"{out} is {what}: writing there would destroy the workspace. Choose another file name; nothing was written."


def _real(path: str | Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # same st_dev and st_ino: a hard link, or the same file by any route
    except OSError:
        return False  # one of them does not exist (yet)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(100)
    except OSError:
        return b""


def _wal_mode(header: bytes) -> bool:
    # Bytes 18 and 19 of the database header, the file format read and write versions: 2 in write-ahead-log mode.
    return len(header) >= 20 and (header[18] == 2 or header[19] == 2)


# -- whole or nothing --------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_output(out: str | Path) -> Iterator[Path]:
    """A path to write instead of *out*, with *out*'s own name but in a hidden folder beside it (so that whatever
    the writer records of the name is right); when the block ends without an error it replaces *out* in one rename
    on the same drive, and otherwise *out* is left as it was."""
    out = Path(out)
    clean_stale_partials(out.parent)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield folder / out.name
        os.replace(folder / out.name, out)
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename).parent == folder:
            exc.filename = str(out)  # the message names the file asked for, not the temporary one
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def whole_or_nothing(out: str | Path) -> Iterator[Path]:
    """*out* itself, for a writer that must be handed the final path (it records the path in the audit log):
    what it held before is kept aside under a hidden name, and put back if the block fails; what the writer left
    at *out* (an empty or partial file, or a whole one whose audit entry was refused) is removed then."""
    out = Path(out)
    clean_stale_partials(out.parent)
    kept = None
    if out.exists() or out.is_symlink():
        kept = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
        os.replace(out, kept)
    try:
        yield out
    except BaseException:
        with contextlib.suppress(OSError):
            out.unlink(missing_ok=True)
        if kept is not None:
            os.replace(kept, out)
        raise
    if kept is not None:
        kept.unlink(missing_ok=True)


def file_system_now(folder: str | Path) -> float:
    """The time the file system in *folder* stamps on a file written now, read off a probe file: a file's age is
    judged against the clock that stamped it, not the machine's (set apart by a test's faketime, or by a network
    share's server), so a write under way never looks stale and an old one never fresh."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".clock-probe-") as probe:
            return os.fstat(probe.fileno()).st_mtime
    except OSError:  # a folder we may not write to holds nothing of ours to clean; any answer will do
        return os.stat(folder).st_mtime if os.path.isdir(folder) else 0.0


def clean_stale_partials(folder: str | Path, *, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove from *folder* the hidden partial files and folders a killed write left, untouched for *older_than_s*
    seconds; a younger one may belong to a write under way and is left. Returns what was removed."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    cutoff = file_system_now(folder) - older_than_s
    removed = []
    for entry in entries:
        if not PARTIAL.match(entry.name):
            continue
        try:
            if _last_touched(entry) > cutoff:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue  # gone already, or held open by a write under way (Windows)
    return removed


def _last_touched(entry: os.DirEntry) -> float:
    latest = entry.stat(follow_symlinks=False).st_mtime
    if entry.is_dir(follow_symlinks=False):
        for inner in os.scandir(entry.path):
            latest = max(latest, inner.stat(follow_symlinks=False).st_mtime)
    return latest
