"""Issue 19, points 2 and 3 (and sync's share of 1, 7 and 8): what a sync must refuse, and sync state that lands
only with the work it describes.

* A commissioner workspace never takes patient-level records through sync (nor a locality team's bundle at all).
* Replay protection belongs to the workspace, not to its path: moving the folder does not let an old bundle
  apply again and bring back a record deleted since.
* A workspace that has never synced joins only a team working for its own localities.
* A refused, failed or killed import or export leaves no team id, identity or bundle count behind.
* A full disk, or another program holding the workspace, gives a plain message and changes nothing.

The corpus bundles (tests/data/bad/sync/) are made by tests/corpus_sync.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import corpus_sync
import pytest
from corpus_helpers import CORPUS, content_digest
from corpus_sync import LABELLED, UNLABELLED
from sync_helpers import actor as _actor
from sync_helpers import has as _has
from sync_helpers import unused_home as _unused_home
from worlds import copy_world

from desktop import paths
from desktop.cli import main
from desktop.models import reference
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.demo.extract import write_extract
from desktop.models.errors import StorageError, ValidationError
from desktop.models.sync import base as sync_base
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.models.workspace import create_workspace, set_meta

PASS = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


REPO = Path(__file__).resolve().parents[2]
SYNC_CORPUS = [LABELLED, UNLABELLED]


def export(path: Path, name: str) -> Path:
    out = path.parent / f"{path.stem}-{name}.ldsync"
    sync_bundle.export_bundle(path, out, PASS, actor=_actor(path.stem))
    return out


def imp(path: Path, bundle: Path, **kw) -> sync_bundle.SyncSummary:
    return sync_merge.import_bundle(path, bundle, PASS, actor=_actor(path.stem), **kw)


def meta(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, value FROM meta"))
    finally:
        conn.close()


def laptop(template: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return copy_world(template, folder / f"{name}.sqlite")


@pytest.fixture
def team(small_world_template, tmp_path) -> dict[str, Path]:
    """Two laptops' copies of one workspace, each in a folder of its own, made after the team id was set."""
    a = laptop(small_world_template, tmp_path / "laptop-a", "a")
    sync_bundle.ensure_team_id(a)
    return {"a": a, "b": laptop(a, tmp_path / "laptop-b", "b")}


@pytest.fixture
def unsynced(small_world_template, tmp_path) -> dict[str, Path]:
    """Two copies of one workspace made before anyone synced: neither has a team id yet."""
    a = laptop(small_world_template, tmp_path / "laptop-a", "a")
    return {"a": a, "b": laptop(a, tmp_path / "laptop-b", "b")}


@pytest.fixture
def passphrase_env(monkeypatch):
    monkeypatch.setenv(sync_bundle.PASSPHRASE_ENV, PASS)


def _with_records(path: Path, locality: str, tmp_path: Path, rows: int = 40) -> None:
    """The workspace at *path* holds a risk extract of *locality*: team records of that locality."""
    extract = tmp_path / f"{locality.lower()}-{path.stem}.csv"
    write_extract(extract, locality, rows)
    db = open_workspace(path)
    try:
        import_extract(db, _actor("importer"), locality, extract, dt.date(2026, 11, 15))
    finally:
        db.close()


def _cli_import(capsys, db: Path, bundle: Path, *extra: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["sync", "import", "--db", str(db), str(bundle), *extra])
    return code, capsys.readouterr().err


# ---------------------------------------------------------------- the corpus files are what corpus_sync makes


# ---------------------------------------------------------------- point 2: commissioner workspaces


@pytest.mark.parametrize("same_team", [False, True], ids=["never-synced", "same-team-id"])
@pytest.mark.parametrize("name", SYNC_CORPUS)
def test_a_commissioner_workspace_refuses_a_locality_bundle_and_changes_nothing(
    name, same_team, tmp_path, monkeypatch, capsys
):
    ws = tmp_path / "icb.sqlite"
    db = create_workspace(ws, "commissioner")
    if same_team:  # even a commissioner workspace that somehow shares the team's id
        with db.atomic():
            set_meta(db, team_id=corpus_sync.TEAM)
    db.close()
    before = content_digest(ws)
    monkeypatch.setenv(sync_bundle.PASSPHRASE_ENV, corpus_sync.PASSPHRASE)
    for extra in (("--dry-run",), ()):
        code, err = _cli_import(capsys, ws, CORPUS / name, *extra)
        assert code == 1, err
        assert "commissioner workspace, which never holds patient-identifiable data" in err
        assert "patients 1" in err and "residents 1" in err and "risk runs 1" in err
        assert "Traceback" not in err
    assert content_digest(ws) == before  # meta too: no team id, no identity, no bundle counted
    assert not sync_base.base_path(ws).exists()


def test_commissioner_and_locality_workspaces_do_not_exchange_bundles(small_world_template, tmp_path):
    """A locality team's bundle carrying only reference data is still a locality's bundle: refused by a
    commissioner workspace; commissioner workspaces sync with one another as before."""

    loc = laptop(small_world_template, tmp_path / "team", "loc")
    team_id = sync_bundle.ensure_team_id(loc)
    icb = [laptop(loc, tmp_path / "icb", f"icb{n}") for n in (1, 2)]
    for path in icb:
        db = open_workspace(path)
        with db.atomic():
            set_meta(db, kind="commissioner")
        db.close()
    home = _unused_home(loc)
    db = open_workspace(loc)
    reference.save(db, _actor("loc"), "care_homes", {**home, "beds": "61"}, home["id"])
    db.close()
    from_team = export(loc, "ref")
    assert not {"patients", "residents", "risk_runs"} & set(sync_bundle.read_header(from_team)["changes"])
    before = content_digest(icb[0])
    with pytest.raises(ValidationError, match="made by a locality team's workspace. This is a commissioner"):
        imp(icb[0], from_team)
    assert content_digest(icb[0]) == before

    db = open_workspace(icb[1])
    reference.save(db, _actor("icb2"), "care_homes", {**home, "beds": "62"}, home["id"])
    db.close()
    from_icb = export(icb[1], "ref")
    summary = imp(icb[0], from_icb)
    assert summary.applied.get("updated") == 1 and meta(icb[0])["team_id"] == team_id
    with pytest.raises(ValidationError, match="made by a commissioner workspace, and this is a locality"):
        imp(loc, from_icb)


# ---------------------------------------------------------------- point 3: replay protection follows the workspace


@pytest.mark.parametrize("with_base", [True, False], ids=["folder-moved", "file-moved-alone"])
def test_moving_the_workspace_does_not_let_an_old_bundle_bring_back_a_deleted_record(team, tmp_path, with_base):
    a, b = team["a"], team["b"]
    home = _unused_home(a)
    db = open_workspace(a)
    reference.save(db, _actor("a"), "care_homes", {**home, "beds": "77"}, home["id"])
    db.close()
    old = export(a, "old")
    imp(b, old)
    sender_before = sync_bundle.read_header(export(b, "before-move"))["sender"]
    db = open_workspace(b)
    reference.delete(db, _actor("b", "2026-07-02T09:00:00+00:00"), "care_homes", home["id"])
    db.close()
    assert not _has(b, "care_homes", home["id"])

    if with_base:
        moved = shutil.move(b.parent, tmp_path / "moved") / b.name
    else:
        (tmp_path / "elsewhere").mkdir()
        moved = Path(shutil.move(b, tmp_path / "elsewhere" / b.name))
    before = content_digest(moved)
    with pytest.raises(ValidationError, match="already applied"):
        imp(moved, old)
    assert not _has(moved, "care_homes", home["id"])
    assert content_digest(moved) == before
    # Moved, it is still the same laptop to its teammates: same sender, next number.
    after = sync_bundle.read_header(export(moved, "after-move"))
    assert (after["sender"], after["seq"]) == (sender_before, 2)


def test_a_copy_beside_the_original_gets_an_identity_of_its_own_and_its_old_bundles_count_as_applied(team, tmp_path):
    a, b = team["a"], team["b"]
    home = _unused_home(a)
    db = open_workspace(a)
    reference.save(db, _actor("a"), "care_homes", {**home, "beds": "77"}, home["id"])
    db.close()
    old = export(a, "old")
    copy = tmp_path / "copy-of-a" / "a.sqlite"
    copy.parent.mkdir()
    shutil.copy(a, copy)
    db = open_workspace(copy)
    reference.delete(db, _actor("a2", "2026-07-02T09:00:00+00:00"), "care_homes", home["id"])
    db.close()
    with pytest.raises(ValidationError, match="already applied"):  # what it sent as a is in the copy already
        imp(copy, old)
    assert not _has(copy, "care_homes", home["id"])
    from_copy = export(copy, "copy")
    mine = sync_bundle.read_header(from_copy)
    assert mine["sender"] != sync_bundle.read_header(old)["sender"] and mine["seq"] == 1
    imp(b, old)
    imp(b, from_copy)  # a teammate like any other (its first bundle, like any first one, carries no deletions)


def test_a_workspace_that_synced_before_state_moved_into_meta_keeps_its_identity_and_numbering(team):
    """A sync base of the earlier layout (replica, path, device, beside the workspace) is taken over on first need,
    so the laptop goes on as the same member of its team (the bundles it had applied, of an older format, no
    longer open)."""
    a, b = team["a"], team["b"]
    old = export(a, "old")
    imp(b, old)
    sender = sync_bundle.read_header(old)["sender"]
    # b as the earlier version left it: nothing in meta, its state in the base.
    conn = sqlite3.connect(b)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("DELETE FROM meta WHERE key IN ('workspace_id', 'sync_state')")
    conn.commit()
    conn.close()
    legacy = sqlite3.connect(sync_base.base_path(b))  # the base file an earlier version kept beside the workspace
    legacy.execute("CREATE TABLE _sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    state = {
        "replica": "0ld0ld00-0000-4000-8000-000000000000",
        "workspace": str(b.resolve()),
        "device": paths.device_id(),
        "schema_version": version,
        "export_seq": 4,
        "seen": {sender: 1},
    }
    legacy.executemany("INSERT INTO _sync_state VALUES (?, ?)", [(k, json.dumps(v)) for k, v in state.items()])
    legacy.commit()
    legacy.close()
    header = sync_bundle.read_header(export(b, "next"))
    assert (header["sender"], header["seq"]) == (state["replica"], 5)


# ---------------------------------------------------------------- point 3: which team a never-synced workspace joins


@pytest.mark.parametrize("name", SYNC_CORPUS)
def test_a_never_synced_workspace_refuses_a_team_of_other_localities(name, tmp_path, monkeypatch, capsys):
    ws = tmp_path / "cha.sqlite"
    create_workspace(ws, "locality", reference="demo").close()  # the practices the bundles' records point at
    _with_records(ws, "CHA", tmp_path)
    before = content_digest(ws)
    monkeypatch.setenv(sync_bundle.PASSPHRASE_ENV, corpus_sync.PASSPHRASE)
    code, err = _cli_import(capsys, ws, CORPUS / name)
    assert code == 1 and "Traceback" not in err
    assert "has never synced" in err and "nothing was changed" in err
    if name == LABELLED:
        assert "the team of Hinckley & Bosworth (HAB)" in err and "records of Charnwood (CHA)" in err
    else:
        assert "does not say which localities" in err
    assert content_digest(ws) == before
    assert "team_id" not in meta(ws)


def test_a_never_synced_workspace_joins_a_team_of_its_own_localities_or_any_when_it_holds_none(
    unsynced, tmp_path, monkeypatch, capsys
):
    # Copies made before anyone synced: the first bundle of one makes the other part of its team, whether the
    # other holds the same localities' records or none yet.
    a, empty = unsynced["a"], unsynced["b"]
    _with_records(a, "CHA", tmp_path)
    same = laptop(a, tmp_path / "laptop-c", "c")
    first = export(a, "first")
    for path in (same, empty):
        assert imp(path, first).joined_team
        assert meta(path)["team_id"] == meta(a)["team_id"]
    assert imp(a, export(same, "reply")).joined_team is False
    # A new workspace, holding no team records yet, may take any team's bundle (the passphrase vouches for it).
    fresh = tmp_path / "fresh.sqlite"
    create_workspace(fresh, "locality", reference="demo").close()
    monkeypatch.setenv(sync_bundle.PASSPHRASE_ENV, corpus_sync.PASSPHRASE)
    code, err = _cli_import(capsys, fresh, CORPUS / LABELLED)
    assert code == 0, err
    assert meta(fresh)["team_id"] == corpus_sync.TEAM
    assert _has(fresh, "patients", "00000000-0000-4000-8000-00000000a002")


# ---------------------------------------------------------------- point 3: no sync state without the work


def test_a_dry_run_writes_nothing_not_even_the_sync_base(unsynced):
    a, b = unsynced["a"], unsynced["b"]
    bundle = export(a, "first")
    before = content_digest(b)
    summary = imp(b, bundle, dry_run=True)
    assert summary.dry_run and summary.joined_team
    assert content_digest(b) == before and not sync_base.base_path(b).exists()
    imp(b, bundle)
    stored = meta(b)
    assert stored["team_id"] == meta(a)["team_id"] and stored["workspace_id"]
    header = sync_bundle.read_header(bundle)
    assert json.loads(stored["sync_state"])["seen"] == {header["sender"]: header["upto"]}


def test_an_import_that_fails_before_it_commits_leaves_no_team_or_sync_state(unsynced, monkeypatch):
    a, b = unsynced["a"], unsynced["b"]
    bundle = export(a, "first")
    before = content_digest(b)

    def power_cut(*args, **kwargs):
        raise RuntimeError("the laptop lost power")

    with monkeypatch.context() as cut:
        cut.setattr(sync_merge, "_audit_import", power_cut)
        with pytest.raises(RuntimeError):
            imp(b, bundle)
    assert content_digest(b) == before
    assert not {"team_id", "workspace_id", "sync_state"} & set(meta(b))
    assert imp(b, bundle).joined_team  # not counted as applied


def test_an_export_that_fails_before_it_commits_leaves_no_team_state_or_file(unsynced, monkeypatch):
    a = unsynced["a"]
    before = content_digest(a)
    out = a.parent / "out.ldsync"

    def power_cut(*args, **kwargs):
        raise RuntimeError("the laptop lost power")

    monkeypatch.setattr(sync_bundle, "_seal", power_cut)
    with pytest.raises(RuntimeError):
        sync_bundle.export_bundle(a, out, PASS, actor=_actor("a"))
    assert content_digest(a) == before and "team_id" not in meta(a)
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()


def test_a_refused_import_leaves_no_team_id(unsynced, tmp_path):
    """Refused after the team check (its own bundle, sent back): the team id a refused bundle named stays out."""
    a, b = unsynced["a"], unsynced["b"]
    first = export(a, "first")
    conn = sqlite3.connect(a)
    conn.execute("DELETE FROM meta WHERE key = 'team_id'")  # as if the team id had never been kept
    conn.commit()
    conn.close()
    with pytest.raises(ValidationError, match="made by this workspace"):
        imp(a, first)
    assert "team_id" not in meta(a)
    imp(b, first)


_KILLED_CHILD = """
import os, sys, time
from pathlib import Path
from desktop.models.sync import bundle, merge

db, file, marker, mode = sys.argv[1:5]


def stall():
    Path(marker).write_text("every write done, nothing committed")
    time.sleep(120)
    raise SystemExit("not killed")


if mode == "import":
    real = merge._audit_import
    merge._audit_import = lambda *args, **kwargs: (real(*args, **kwargs), stall())
    merge.import_bundle(db, file, os.environ["LOCALITY_DESK_PASSPHRASE"])
else:  # the moment the bundle would be put in place
    os.replace = lambda *args, **kwargs: stall()
    bundle.export_bundle(db, file, os.environ["LOCALITY_DESK_PASSPHRASE"])
"""


def _kill_during(mode: str, db: Path, file: Path, tmp_path: Path) -> None:
    marker = tmp_path / f"{mode}.marker"
    env = {**os.environ, sync_bundle.PASSPHRASE_ENV: PASS, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, str(db), str(file), str(marker), mode], cwd=REPO, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, f"the {mode} ended before it was killed"
            assert time.monotonic() < deadline, f"the {mode} never reached its commit"
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_killed_import_or_export_leaves_no_team_or_sync_state(unsynced, tmp_path):
    a, b = unsynced["a"], unsynced["b"]
    before = content_digest(a)
    out = a.parent / "killed.ldsync"
    _kill_during("export", a, out, tmp_path)
    assert content_digest(a) == before and "team_id" not in meta(a)
    assert not out.exists()
    bundle = export(a, "first")
    before = content_digest(b)
    _kill_during("import", b, bundle, tmp_path)
    assert content_digest(b) == before and "team_id" not in meta(b)
    assert imp(b, bundle).joined_team


# ---------------------------------------------------------------- storage faults: plain messages, nothing changed


def _limit_pages(monkeypatch, module, which: Path) -> None:
    """Connections *module* opens to *which* may not grow it: a disk with no room left."""
    real = module.connect

    def connect(path):
        conn = real(path)
        if Path(str(path)).resolve() == which.resolve():
            conn.execute("VACUUM")  # no free pages left inside the file either
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    monkeypatch.setattr(module, "connect", connect)


def test_a_full_disk_during_sync_import_says_so_and_changes_nothing(team, tmp_path, monkeypatch, capsys):
    a, b = team["a"], team["b"]
    _with_records(a, "CHA", tmp_path, rows=300)
    bundle = export(a, "big")
    before = content_digest(b)
    with monkeypatch.context() as full:
        _limit_pages(full, sync_merge, b)
        with pytest.raises(StorageError, match="disk is full"):
            imp(b, bundle)
        assert content_digest(b) == before
        full.setenv(sync_bundle.PASSPHRASE_ENV, PASS)
        code, err = _cli_import(capsys, b, bundle)
        assert code == 1 and "The disk is full, so this change was not saved" in err and "Traceback" not in err
    assert content_digest(b) == before
    assert imp(b, bundle).by_table["risk_runs"] == {"added": 1}  # space freed: the same bundle applies


_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO meta (key, value) VALUES ('held', 'by another program')")
print("held", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_sync_against_a_held_write_lock_says_busy_and_writes_nothing(team, monkeypatch, capsys, passphrase_env):
    """Another program holds a write transaction on a workspace it opened: what the app (through
    desktop.models.child_process) and the command line both meet is the busy message, and nothing is written."""
    a, b = team["a"], team["b"]
    bundle = export(a, "x")
    open_workspace(b).close()  # a workspace that has been opened before, as any in use has
    monkeypatch.setattr(sync_base, "BUSY_TIMEOUT_MS", 200)
    before = content_digest(b)
    out = b.parent / "while-busy.ldsync"
    # Another process: within one process the two SQLite libraries (sqlite3's and apsw's) share its POSIX locks
    # and would not see each other's.
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(b)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StorageError, match="busy in another window or program"):
            imp(b, bundle)
        with pytest.raises(StorageError, match="busy in another window or program"):
            sync_bundle.export_bundle(b, out, PASS, actor=_actor("b"))
        assert not out.exists() and not out.with_name(out.name + ".partial").exists()
        code, err = _cli_import(capsys, b, bundle)
        assert code == 1 and "busy in another window or program" in err and "Traceback" not in err
        assert main(["sync", "export", "--db", str(b), "--out", str(out)]) == 1
        assert "busy in another window or program" in capsys.readouterr().err
        assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    finally:
        holder.communicate(timeout=30)  # closing its input ends the transaction, rolled back
    assert content_digest(b) == before
    assert imp(b, bundle)  # free again: it applies


# ------------------------------------------------ point 1's share: a bundle never lands on the workspace


def test_sync_export_refuses_an_output_that_is_the_workspace_or_one_of_its_files(team, tmp_path):
    a = team["a"]
    export(a, "first")  # the base exists, so it is one of the files to guard
    link = tmp_path / "hard-link.sqlite"
    os.link(a, link)
    before = content_digest(a)
    for out in (a, Path(f"{a}-wal"), sync_base.base_path(a), link, a.parent / ".." / a.parent.name / a.name):
        with pytest.raises(ValidationError, match="the workspace or one of its own files"):
            sync_bundle.export_bundle(a, out, PASS, actor=_actor("a"))
    with pytest.raises(ValidationError, match="is a folder"):
        sync_bundle.export_bundle(a, tmp_path, PASS, actor=_actor("a"))
    with pytest.raises(ValidationError, match="does not exist"):
        sync_bundle.export_bundle(a, tmp_path / "missing" / "x.ldsync", PASS, actor=_actor("a"))
    assert content_digest(a) == before
