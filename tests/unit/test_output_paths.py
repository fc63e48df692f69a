"""No command writes its file onto a workspace (issue 19.1): the guard in desktop.models.outputs, by every name a
workspace file can go by, and the whole-or-nothing writes."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from worlds import copy_world

from desktop import paths
from desktop.cli import main
from desktop.models import outputs
from desktop.models.outputs import OutputRefused, check_output
from desktop.models.sync.bundle import PASSPHRASE_ENV

NOTHING_WRITTEN = "nothing was written"


def file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


# -- every command that writes a file ----------------------------------------------------------------------
# Each writer's argv for workspace *db* (None: the command has no --db and guards the default workspace) and *out*.
WRITERS = {
    "report locality": lambda db, out: [
        "report", "locality", "--db", db, "--locality", "CHA", "--quarter", "2026-27-Q2", "--out", out,
    ],
    "report system": lambda db, out: ["report", "system", "--db", db, "--quarter", "2026-27-Q2", "--out", out],
    "report mdt": lambda db, out: ["report", "mdt", "--db", db, "--locality", "CHA", "--out", out],
    "report care-home": lambda db, out: [
        "report", "care-home", "--db", db, "--home", "1-000000001", "--quarter", "2026-27-Q2", "--out", out,
    ],
    "return export": lambda db, out: [
        "return", "export", "--db", db, "--locality", "CHA", "--quarter", "2026-27-Q2", "--out", out,
    ],
    "sync export": lambda db, out: ["sync", "export", "--db", db, "--out", out],
    "backup": lambda db, out: ["backup", "--db", db, "--out", out],
    "demo-extract": lambda db, out: ["demo-extract", "--locality", "CHA", "--rows", "20", "--out", out],
}  # fmt: skip

# How an output path can name a workspace file: the path to write, made from the workspace path.
ALIASES = {
    "the same path": lambda ws: str(ws),
    "another spelling": lambda ws: str(ws.parent / "." / ".." / ws.parent.name / ws.name),
    "a symbolic link": lambda ws: _link(ws, "link.sqlite", os.symlink),
    "a hard link": lambda ws: _link(ws, "hard.sqlite", os.link),
    "a link to its folder": lambda ws: str(Path(_link(ws.parent, ws.parent / "via", os.symlink)) / ws.name),
    "its write-ahead log": lambda ws: f"{ws}-wal",
    "its WAL index": lambda ws: f"{ws}-shm",
    "its rollback journal": lambda ws: f"{ws}-journal",
    "its sync base": lambda ws: f"{ws}.sync-base",
    "the backups folder": lambda ws: str(paths.backups_dir() / ws.stem / "restore-point.sqlite"),
    "another workspace": lambda ws: str(shutil.copyfile(ws, ws.with_name("other-team.sqlite"))),
}


def _link(target: Path, name: str | Path, make) -> str:
    link = target.parent / name if isinstance(name, str) else Path(name)
    make(target, link)
    return str(link)


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.parametrize("command", WRITERS)
def test_no_command_writes_its_file_onto_a_workspace(small_world_path, capsys, passphrase, command, alias):
    ws = small_world_path
    if command == "demo-extract":  # no --db: the workspace to protect is the default one
        ws = copy_world(small_world_path, paths.default_workspace())
    (paths.backups_dir() / ws.stem).mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(ws)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"  # as every workspace in use is
    conn.close()
    out = Path(ALIASES[alias](ws))
    before = {p: file_digest(p) for p in (ws, out, Path(f"{ws}-wal"))}
    assert main(WRITERS[command](str(ws), str(out))) == 1
    err = capsys.readouterr().err
    assert err.startswith("locality-desk: ") and NOTHING_WRITTEN in err and "Traceback" not in err
    assert "destroy" in err or "backups folder" in err
    assert {p: file_digest(p) for p in before} == before
    assert sqlite3.connect(ws).execute("PRAGMA quick_check").fetchone()[0] == "ok"


@pytest.mark.parametrize("command", WRITERS)
@pytest.mark.parametrize("case", ["a folder", "a missing folder"])
def test_a_folder_or_a_missing_folder_as_out_is_a_message_not_a_traceback(
    small_world_path, tmp_path, capsys, passphrase, command, case
):
    out = tmp_path if case == "a folder" else tmp_path / "not made yet" / "out.file"
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(WRITERS[command](str(small_world_path), str(out))) == 1
    err = capsys.readouterr().err
    assert ("is a folder" if case == "a folder" else "does not exist") in err and NOTHING_WRITTEN in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# -- the guard ---------------------------------------------------------------------------------------------
def test_the_guard_knows_the_sync_base_by_the_name_sync_gives_it(tmp_path):
    from desktop.models.sync.base import base_path

    ws = tmp_path / "w.sqlite"
    assert base_path(ws) in outputs.workspace_files(ws)


def test_a_file_beside_the_workspace_is_fine(small_world_path, tmp_path):
    assert check_output(tmp_path / "report.pdf", [small_world_path]) == tmp_path / "report.pdf"
    (tmp_path / "old-report.pdf").write_bytes(b"%PDF-1.4 an earlier report")
    assert check_output(tmp_path / "old-report.pdf", [small_world_path])  # replacing an earlier output is fine


def test_a_backup_may_replace_an_earlier_backup_but_never_a_workspace_in_use(small_world_path, tmp_path):
    from desktop.models import backups

    earlier = backups.backup(small_world_path, tmp_path / "nightly.sqlite")
    assert check_output(earlier, [small_world_path], backup=True) == earlier
    with pytest.raises(OutputRefused, match="database already"):
        check_output(earlier, [small_world_path])  # a report is never written over a database
    other = copy_world(small_world_path, tmp_path / "other.sqlite")
    sqlite3.connect(other).execute("PRAGMA journal_mode=WAL").fetchone()
    with pytest.raises(OutputRefused, match="workspace in use"):
        check_output(other, [small_world_path], backup=True)


def test_the_backups_module_may_write_its_own_files_in_the_backups_folder(small_world_path):
    inside = paths.backups_dir() / "world" / "world-20261120-090000.sqlite"
    inside.parent.mkdir(parents=True)
    with pytest.raises(OutputRefused, match="backups folder"):
        check_output(inside, [small_world_path], backup=True)
    assert check_output(inside, [small_world_path], backup=True, backups_folder_ok=True) == inside


def test_a_refused_output_is_both_input_refused_and_storage_unavailable(tmp_path):
    from desktop.models.errors import StorageUnavailable, ValidationError

    with pytest.raises(ValidationError) as caught:
        check_output(tmp_path)
    assert isinstance(caught.value, StorageUnavailable) and caught.value.exit_code == 1


# -- whole or nothing --------------------------------------------------------------------------------------
def _full_disk(path: Path) -> None:
    path.write_bytes(b"%PDF-1.4 the first half")
    raise OSError(28, "No space left on device", str(path))


@pytest.mark.parametrize("writer", [outputs.atomic_output, outputs.whole_or_nothing])
@pytest.mark.parametrize("existed", [False, True])
def test_a_failed_write_leaves_the_file_as_it_was_and_nothing_beside_it(tmp_path, writer, existed):
    out = tmp_path / "report.pdf"
    if existed:
        out.write_bytes(b"the report written last quarter")
    before = file_digest(out)
    with pytest.raises(OSError), writer(out) as target:
        _full_disk(target)
    assert file_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == (["report.pdf"] if existed else [])


@pytest.mark.parametrize("writer", [outputs.atomic_output, outputs.whole_or_nothing])
def test_a_whole_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path, writer):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"the report written last quarter")
    with writer(out) as target:
        assert target.name == "report.pdf"  # what a writer records of the name is the name asked for
        target.write_bytes(b"this quarter's report")
    assert out.read_bytes() == b"this quarter's report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_what_a_killed_write_left_is_cleaned_once_nobody_touches_it(tmp_path):
    old = outputs.file_system_now(tmp_path) - outputs.STALE_AFTER_S - 60
    killed = [tmp_path / ".copy.sqlite.0badf00d.partial", tmp_path / ".copy.sqlite.0badf00d.partial-journal"]
    folder = tmp_path / ".x.csv.k3_abc9z.partial"
    folder.mkdir()
    (folder / "x.csv").write_text("half an extract")
    for path in [*killed, folder / "x.csv", folder]:
        if path.suffix != ".csv" and not path.is_dir():
            path.write_bytes(b"half a copy")
        os.utime(path, (old, old))
    running = tmp_path / ".live.sqlite.12345678.partial"  # another write under way: touched just now
    running.write_bytes(b"being written")
    unrelated = [tmp_path / ".partial-and-other-files.txt", tmp_path / "report.partial"]
    for path in unrelated:
        path.write_text("not ours")
        os.utime(path, (old, old))
    removed = outputs.clean_stale_partials(tmp_path)
    assert sorted(removed) == sorted([*killed, folder])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, *(p.name for p in unrelated)])


def test_a_file_in_the_workspace_s_own_backups_folder_is_refused_except_for_a_backup(tmp_path):
    workspace = tmp_path / "team.sqlite"
    workspace.write_bytes(b"")
    beside = tmp_path / "backups" / "team"
    beside.mkdir(parents=True)
    with pytest.raises(outputs.OutputRefused, match="backups folder of team.sqlite"):
        outputs.check_output(beside / "report.pdf", [workspace])
    manual = beside / "team-manual.sqlite"  # Back up now suggests the workspace's own backups folder
    assert outputs.check_output(manual, [workspace], backup=True) == manual
    assert outputs.check_output(tmp_path / "report.pdf", [workspace]) == tmp_path / "report.pdf"
