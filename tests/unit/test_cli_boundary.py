"""The command line's error boundary and its writes (issue 19.6, 19.7, 19.8): files that are not workspaces are
never made into one, operating-system and storage errors are messages with exit 1, a file is written whole or not
at all and with --json reported with its size, a busy workspace leaves no backup or bundle behind, a killed backup
leaves nothing forever, a restore works across drives and never mixes the kinds of workspace; and the Windows
build has a console executable for scripts."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import types
from pathlib import Path

import corpus_cli
import pytest
from corpus_helpers import content_digest
from storage_helpers import damage
from worlds import copy_world

from desktop import __version__
from desktop.cli import main
from desktop.models import audit, backups, outputs
from desktop.models import db as db_module
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.sync import base as sync_base
from desktop.models.sync.bundle import PASSPHRASE_ENV
from desktop.models.workspace import get_meta, set_meta

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
QUARTER = "2026-27-Q2"


def run(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], capture_output=True, text=True, env=full, cwd=ROOT, **kwargs
    )


def names(folder: Path) -> list[str]:
    """What *folder* holds, but the app's own data folder (LOCALITY_DESK_HOME, in tmp_path)."""
    return sorted(p.name for p in folder.iterdir() if p.name != "home")


@pytest.fixture
def passphrase(monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)


@pytest.fixture
def history_path(history_world_template, tmp_path) -> Path:
    return copy_world(history_world_template, tmp_path / "history.sqlite")


HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")  # as the app has it: the others can still read
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO meta (key, value) VALUES ('held by', 'another window')")
print("held", flush=True)
sys.stdin.read()  # until the test closes it
conn.execute("ROLLBACK")
"""


@pytest.fixture(autouse=True)
def _impatient(monkeypatch):
    """The lock another window holds here never ends by itself: waiting the app's 5 s for it proves nothing."""
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 300)
    monkeypatch.setattr(sync_base, "BUSY_TIMEOUT_MS", 300)


@contextlib.contextmanager
def another_window_saving(path: Path):
    """Another window in the middle of a save, holding the workspace's write lock until the block ends. In another
    process: SQLite's locks are the operating system's per-process locks, which the second SQLite library that sync
    brings (apsw) does not see when they are taken in its own process."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()


# Every command that opens an existing workspace, on *db* (each refuses before it writes anything else).
OPENERS = {
    "info": lambda db, tmp: ["info", "--db", db],
    "kpi": lambda db, tmp: ["kpi", "--db", db, "--locality", "CHA", "--quarter", QUARTER],
    "import-risk": lambda db, tmp: ["import-risk", "--db", db, "--locality", "CHA", str(tmp / "none.csv")],
    "return export": lambda db, tmp: [
        "return", "export", "--db", db, "--locality", "CHA", "--quarter", QUARTER, "--out", str(tmp / "r.json"),
    ],
    "return import": lambda db, tmp: ["return", "import", "--db", db, str(tmp / "none.json")],
    "report": lambda db, tmp: [
        "report", "locality", "--db", db, "--locality", "CHA", "--quarter", QUARTER, "--out", str(tmp / "r.pdf"),
    ],
    "backup": lambda db, tmp: ["backup", "--db", db, "--out", str(tmp / "copy.sqlite")],
    "sync export": lambda db, tmp: ["sync", "export", "--db", db, "--out", str(tmp / "x.bundle")],
}  # fmt: skip
EXPECTED = {
    "zero_bytes.sqlite": "is empty: it is not a Locality Desk workspace",
    "no_tables.sqlite": "is empty: it is not a Locality Desk workspace",
    "plain_text.sqlite": "is not a Locality Desk workspace, or it is damaged",
}


@pytest.mark.parametrize("command", OPENERS)
@pytest.mark.parametrize("name", EXPECTED)
def test_a_command_never_makes_a_workspace_of_a_file_that_is_not_one(tmp_path, capsys, passphrase, name, command):
    db = tmp_path / name
    shutil.copyfile(corpus_cli.CORPUS / "workspace" / name, db)
    assert main(OPENERS[command](str(db), tmp_path)) == 1
    err = capsys.readouterr().err
    assert EXPECTED[name] in err and "Traceback" not in err
    assert db.read_bytes() == (corpus_cli.CORPUS / "workspace" / name).read_bytes()
    assert names(tmp_path) == [name]  # no -wal, -shm, sync base or output either


def test_new_and_demo_still_make_a_workspace_of_a_zero_byte_file(tmp_path, capsys):
    db = tmp_path / "first.sqlite"
    db.touch()  # what a cancelled first start leaves
    assert main(["new", "--db", str(db), "--kind", "commissioner", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["file"] == str(db) and made["bytes"] == db.stat().st_size > 0 and made["kind"] == "commissioner"
    assert main(["info", "--db", str(db)]) == 0


# -- 19.7: operating-system errors are messages, and a full disk leaves no file -----------------------------
def _fills_the_disk(path) -> None:
    Path(path).write_bytes(b"the first few kilobytes")
    raise OSError(errno.ENOSPC, "No space left on device", str(path))


FULL_DISK = {
    "demo-extract": ("desktop.models.demo.extract.write_extract", lambda out, *a, **k: _fills_the_disk(out)),
    "return export": ("desktop.models.kpi.returns.export", lambda db, actor, rid, out, *a, **k: _fills_the_disk(out)),
    "report locality": (
        "desktop.reports.locality_report.export",
        lambda db, actor, code, quarter, out, *a, **k: _fills_the_disk(out),
    ),
    "report system": ("desktop.reports.system_report.export", lambda db, actor, q, out, **k: _fills_the_disk(out)),
}
FULL_DISK_ARGS = {
    "demo-extract": ["demo-extract", "--locality", "CHA", "--rows", "20"],
    "return export": ["return", "export", "--db", "{db}", "--locality", "CHA", "--quarter", QUARTER],
    "report locality": ["report", "locality", "--db", "{db}", "--locality", "CHA", "--quarter", QUARTER],
    "report system": ["report", "system", "--db", "{db}", "--quarter", QUARTER],
}


@pytest.mark.parametrize("existed", [False, True], ids=["new file", "replacing a file"])
@pytest.mark.parametrize("command", FULL_DISK)
def test_a_full_disk_is_a_message_and_leaves_no_empty_or_partial_file(
    history_path, tmp_path, capsys, monkeypatch, command, existed
):
    target, fake = FULL_DISK[command]
    monkeypatch.setattr(target, fake)
    out = tmp_path / "out" / "output.file"
    out.parent.mkdir()
    if existed:
        out.write_bytes(b"what was written last quarter")
    argv = [a.replace("{db}", str(history_path)) for a in FULL_DISK_ARGS[command]]
    assert main([*argv, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("locality-desk: The disk is full") and "Free some space" in err
    assert names(out.parent) == (["output.file"] if existed else [])
    if existed:
        assert out.read_bytes() == b"what was written last quarter"


def test_operating_system_errors_say_what_to_do(tmp_path, capsys, monkeypatch):
    from desktop.models.demo import extract

    cases = {
        errno.EACCES: "Permission denied for",
        errno.EROFS: "read-only drive",
        errno.EIO: "Check the path and the drive",
    }
    for code, said in cases.items():

        def refuse(out, *args, code=code, **kwargs):
            raise OSError(code, os.strerror(code), str(out))

        monkeypatch.setattr(extract, "write_extract", refuse)
        assert main(["demo-extract", "--locality", "CHA", "--rows", "5", "--out", str(tmp_path / "x.csv")]) == 1
        err = capsys.readouterr().err
        assert said in err and str(tmp_path / "x.csv") in err and "Traceback" not in err
    assert names(tmp_path) == []


def test_a_storage_error_from_either_sqlite_library_is_a_message(small_world_path, capsys, monkeypatch, passphrase):
    import apsw

    from desktop.models.sync import merge

    def full(*args, **kwargs):
        raise apsw.FullError("database or disk is full")

    monkeypatch.setattr(merge, "import_bundle", full)
    assert main(["sync", "import", "--db", str(small_world_path), str(small_world_path)]) == 1
    assert "The disk is full" in capsys.readouterr().err

    def busy(*args, **kwargs):
        error = sqlite3.OperationalError("database is locked")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        raise error

    monkeypatch.setattr(merge, "import_bundle", busy)
    assert main(["sync", "import", "--db", str(small_world_path), str(small_world_path)]) == 1
    assert "busy in another window" in capsys.readouterr().err

    def bug(*args, **kwargs):
        raise sqlite3.OperationalError("no such column: nothing")

    monkeypatch.setattr(merge, "import_bundle", bug)
    with pytest.raises(sqlite3.OperationalError):  # not a storage problem: a bug keeps its traceback
        main(["sync", "import", "--db", str(small_world_path), str(small_world_path)])


def test_sync_import_against_a_held_write_lock_is_a_message(small_world_path, tmp_path, passphrase):
    teammate = tmp_path / "teammate.sqlite"
    shutil.copyfile(small_world_path, teammate)
    bundle = tmp_path / "x.bundle"
    assert main(["sync", "export", "--db", str(teammate), "--out", str(bundle)]) == 0
    with another_window_saving(small_world_path):
        result = run("sync", "import", "--db", str(small_world_path), str(bundle), env={PASSPHRASE_ENV: PASSPHRASE})
    assert result.returncode == 1, result.stderr
    assert "busy in another window" in result.stderr and "Traceback" not in result.stderr
    # Once the other window has finished, the same bundle applies, and --json names the workspace it wrote.
    imported = run(
        "sync", "import", "--db", str(small_world_path), str(bundle), "--json", env={PASSPHRASE_ENV: PASSPHRASE}
    )
    assert imported.returncode == 0, imported.stderr
    written = json.loads(imported.stdout)["workspace"]
    assert written == {"file": str(small_world_path), "bytes": small_world_path.stat().st_size}


def test_no_terminal_to_ask_the_passphrase_on_says_how_to_give_it(small_world_path, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV}
    out = tmp_path / "x.bundle"
    result = subprocess.run(
        [sys.executable, "-m", "desktop", "sync", "export", "--db", str(small_world_path), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as under a scheduler
    )
    assert result.returncode == 1
    assert f"Set {PASSPHRASE_ENV}" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_output_piped_into_head_ends_quietly():
    values = ",".join(str(n % 97) for n in range(20_000))  # megabytes of JSON: far more than a pipe holds
    child = subprocess.Popen(
        [sys.executable, "-m", "desktop", "spc", "--values", values, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert child.stdout.read(10)
    child.stdout.close()  # `| head -c 10` has what it wants and goes
    err = child.stderr.read().decode()
    child.stderr.close()
    assert child.wait(timeout=60) == 1
    assert err == ""


# -- --json on every command that writes a file -------------------------------------------------------------
def _a_cha_home(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(
            "SELECT h.cqc_id FROM care_homes h JOIN localities l ON l.id = h.locality_id WHERE l.code = 'CHA' "
            "ORDER BY h.cqc_id LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()


WRITES = {
    "report locality": lambda db, out: ["report", "locality", "--db", db, "--locality", "CHA", "--quarter", QUARTER],
    "report system": lambda db, out: ["report", "system", "--db", db, "--quarter", QUARTER],
    "report mdt": lambda db, out: ["report", "mdt", "--db", db, "--locality", "CHA"],
    "report care-home": lambda db, out: [
        "report", "care-home", "--db", db, "--home", _a_cha_home(Path(db)), "--quarter", QUARTER,
    ],
    "return export": lambda db, out: ["return", "export", "--db", db, "--locality", "CHA", "--quarter", QUARTER],
    "sync export": lambda db, out: ["sync", "export", "--db", db],
    "backup": lambda db, out: ["backup", "--db", db],
    "demo-extract": lambda db, out: ["demo-extract", "--locality", "CHA", "--rows", "20"],
}  # fmt: skip


@pytest.mark.parametrize("command", WRITES)
def test_every_command_that_writes_a_file_reports_it_and_its_size_with_json(
    history_path, tmp_path, capsys, passphrase, command
):
    out = tmp_path / "written.file"
    assert main([*WRITES[command](str(history_path), out), "--out", str(out), "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["file"] == str(out) and written["bytes"] == out.stat().st_size > 0
    assert not [n for n in names(tmp_path) if n.startswith(".")]  # no temporary file left beside it


# -- 19.8: a busy workspace leaves no backup or bundle behind ------------------------------------------------
def test_a_backup_of_a_busy_workspace_leaves_no_file_and_says_so_truly(small_world_path, tmp_path, capsys):
    out = tmp_path / "copy.sqlite"
    with another_window_saving(small_world_path):
        assert main(["backup", "--db", str(small_world_path), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "busy in another window" in err and "no backup was made" in err
    assert names(tmp_path) == ["world.sqlite"]  # no backup, no partial copy
    # Free again: the backup and its audit entry are made together.
    assert main(["backup", "--db", str(small_world_path), "--out", str(out)]) == 0
    db = open_workspace(small_world_path, create=False)
    assert audit.entries(db, "workspace")[0]["action"] == "backup"
    db.close()


def test_a_sync_export_of_a_busy_workspace_leaves_no_bundle(small_world_path, tmp_path, capsys, passphrase):
    first = tmp_path / "first.bundle"
    assert main(["sync", "export", "--db", str(small_world_path), "--out", str(first)]) == 0  # the team id is set
    kept = first.read_bytes()
    with another_window_saving(small_world_path):
        assert main(["sync", "export", "--db", str(small_world_path), "--out", str(first)]) == 1
        assert main(["sync", "export", "--db", str(small_world_path), "--out", str(tmp_path / "second.bundle")]) == 1
    assert "busy in another window" in capsys.readouterr().err
    assert first.read_bytes() == kept  # the bundle that was there is still there, unchanged
    assert not (tmp_path / "second.bundle").exists()
    assert not [n for n in names(tmp_path) if "partial" in n]


def test_what_a_killed_backup_left_is_removed_by_the_next_backup(small_world, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    killed = [folder / ".world-20261119-170000.sqlite.1f2e3d4c.partial", folder / ".copy.sqlite.0badf00d.partial"]
    killed.append(killed[0].with_name(killed[0].name + "-journal"))
    long_ago = outputs.file_system_now(folder) - outputs.STALE_AFTER_S - 60
    for path in killed:
        path.write_bytes(b"\0" * 4096)
        os.utime(path, (long_ago, long_ago))
    under_way = folder / ".other.sqlite.12345678.partial"  # another backup being written right now
    under_way.write_bytes(b"\0" * 4096)
    made = backups.rolling(small_world, folder)
    assert names(folder) == sorted([made.name, under_way.name])


KILLED_MID_BACKUP = """
import sys, time
from desktop.models import backups

def stuck(conn, path, *, full):  # the copy is written; the check takes forever: the moment to be killed
    print("copied", flush=True)
    time.sleep(600)

backups._verify = stuck
backups.backup(sys.argv[1], sys.argv[2])
"""


def test_a_backup_killed_for_real_leaves_nothing_once_the_next_backup_runs(small_world_path, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_BACKUP, str(small_world_path), str(folder / "nightly.sqlite")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout.readline().strip() == "copied"
    child.kill()
    child.wait(timeout=30)
    child.stdout.close()
    left = names(folder)
    assert left and all(name.startswith(".nightly.sqlite.") and ".partial" in name for name in left)
    long_ago = outputs.file_system_now(folder) - outputs.STALE_AFTER_S - 60  # the next backup comes a while later
    for name in left:
        os.utime(folder / name, (long_ago, long_ago))
    assert main(["backup", "--db", str(small_world_path), "--out", str(folder / "nightly.sqlite")]) == 0
    assert names(folder) == ["nightly.sqlite"]


# -- 19.7: a restore across drives --------------------------------------------------------------------------
@pytest.mark.parametrize("when", ["across folders", "the first time"])
def test_restoring_a_damaged_workspace_works_when_the_backups_are_on_another_drive(
    small_world, small_world_path, tmp_path, monkeypatch, when
):
    folder = tmp_path / "backups"  # on "another drive"
    saved = backups.rolling(small_world, folder)
    small_world.close()
    damage(small_world_path)
    rename = os.replace
    calls = []

    def no_rename_across_drives(src, dst, *args, **kwargs):
        calls.append((src, dst))
        across = Path(src).parent.resolve() != Path(dst).parent.resolve()
        if across if when == "across folders" else len(calls) == 1:
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(src), None, str(dst))
        return rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", no_rename_across_drives)
    aside = backups.restore_damaged(saved, small_world_path, folder=folder)
    monkeypatch.setattr(os, "replace", rename)

    assert aside.parent == folder and aside.exists() and "-damaged" in aside.name
    assert not [n for n in names(tmp_path) if n.startswith(".")]
    db = open_workspace(small_world_path, create=False)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert audit.entries(db, "workspace")[0]["action"] == "restore"
    db.close()


# -- a restore never mixes the kinds of workspace ------------------------------------------------------------
def _as_commissioner(path: Path) -> Path:
    db = open_workspace(path, create=False)
    with db.atomic():
        set_meta(db, kind="commissioner")
    db.close()
    return path


def _files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(path.parent.glob(path.name + "*"))}


def test_a_locality_backup_is_never_restored_into_a_commissioner_workspace(history_path, small_world_path, tmp_path):
    locality_backup = backups.backup(history_path, tmp_path / "locality-backup.sqlite")
    icb = _as_commissioner(copy_world(small_world_path, tmp_path / "icb.sqlite"))
    before = content_digest(icb)
    folder = tmp_path / "backups"
    with pytest.raises(ValidationError, match="commissioner workspace, which never does"):
        backups.restore(locality_backup, icb, folder=folder)
    assert content_digest(icb) == before and not folder.exists()  # not even a before-restore backup


def test_a_commissioner_backup_holding_patients_is_refused_too(history_path, small_world_path, tmp_path):
    mislabelled = _as_commissioner(copy_world(history_path, tmp_path / "mislabelled.sqlite"))
    icb = _as_commissioner(copy_world(small_world_path, tmp_path / "icb.sqlite"))
    before = content_digest(icb)
    with pytest.raises(ValidationError, match="holds patient-identifiable data"):
        backups.restore(mislabelled, icb, folder=tmp_path / "backups")
    assert content_digest(icb) == before


def test_a_commissioner_backup_is_never_restored_into_a_locality_workspace(small_world_path, tmp_path):
    icb_backup = backups.backup(
        _as_commissioner(copy_world(small_world_path, tmp_path / "icb.sqlite")), tmp_path / "b.sqlite"
    )
    before = content_digest(small_world_path)
    with pytest.raises(ValidationError, match="backup of a commissioner workspace"):
        backups.restore(icb_backup, small_world_path, folder=tmp_path / "backups")
    assert content_digest(small_world_path) == before
    db = open_workspace(small_world_path, create=False)
    assert get_meta(db, "kind", "locality") == "locality"
    db.close()


def test_a_damaged_commissioner_workspace_takes_no_locality_backup(small_world_path, tmp_path):
    locality_backup = backups.backup(small_world_path, tmp_path / "locality-backup.sqlite")
    icb = _as_commissioner(copy_world(small_world_path, tmp_path / "icb.sqlite"))
    damage(icb)  # the meta page survives: the file still says what kind it is
    before = _files(icb)
    with pytest.raises(ValidationError, match="backup of a locality workspace"):
        backups.restore_damaged(locality_backup, icb, folder=tmp_path / "backups")
    assert _files(icb) == before


# -- Windows: a console executable beside the windowed one ---------------------------------------------------
def test_the_windows_build_has_a_console_executable_beside_the_windowed_one(monkeypatch):
    """The spec read with PyInstaller's build steps recorded (tests/packaging/test_specs.py does the same): it makes
    LocalityDesk.exe (windowed, the Start menu's) and locality-desk.exe (console, for scripts and schedulers) in one
    folder, from one analysis, each with its own version resource."""
    made: list = []

    def step(kind: str):
        def record(*args, **kwargs):
            made.append(
                types.SimpleNamespace(kind=kind, args=args, kwargs=kwargs, binaries=[], datas=[], pure=[], scripts=[])
            )
            return made[-1]

        return record

    packaging = ROOT / "packaging"
    monkeypatch.syspath_prepend(str(packaging))
    monkeypatch.delitem(sys.modules, "common", raising=False)
    import common

    for kind in ("Analysis", "PYZ", "EXE", "COLLECT"):
        monkeypatch.setattr(common, kind, step(kind))
    monkeypatch.setitem(sys.modules, "pefile", sys.modules.get("pefile") or types.ModuleType("pefile"))
    monkeypatch.setattr("PyInstaller.compat.win32api", None, raising=False)
    spec = packaging / "locality-desk-windows.spec"
    exec(compile(spec.read_text(encoding="utf-8"), spec.name, "exec"), {"SPECPATH": str(packaging)})
    monkeypatch.delitem(sys.modules, "common", raising=False)

    by_kind = {kind: [s for s in made if s.kind == kind] for kind in ("Analysis", "PYZ", "EXE", "COLLECT")}
    assert [len(by_kind[k]) for k in ("Analysis", "PYZ", "EXE", "COLLECT")] == [1, 1, 2, 1]
    exes = {e.kwargs["name"]: e.kwargs for e in by_kind["EXE"]}
    assert {name: kw["console"] for name, kw in exes.items()} == {"LocalityDesk": False, "locality-desk": True}
    assert all(e.args[0] is by_kind["PYZ"][0] and e.kwargs["exclude_binaries"] for e in by_kind["EXE"])
    assert by_kind["EXE"][-1].kwargs["name"] == "LocalityDesk"  # what tests/packaging reads as the spec's EXE
    collected = by_kind["COLLECT"][0]
    assert [id(a) for a in collected.args[:2]] == [id(e) for e in by_kind["EXE"]]
    assert collected.kwargs["name"] == "LocalityDesk"
    for name, kw in exes.items():
        assert Path(kw["icon"]).is_file()
        resource = kw["version"]
        assert resource.toRaw()
        strings = {s.name: s.val for table in resource.kids[0].kids for s in table.kids}
        assert strings["OriginalFilename"] == f"{name}.exe" and strings["ProductVersion"] == __version__
