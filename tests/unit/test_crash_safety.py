"""A process killed (SIGKILL) in the middle of an import leaves the workspace exactly as it was (DESIGN §14).

A child process (tests/crash_child.py) runs the real `locality-desk` command; inside the import's write
transaction, after its writes, it writes a marker file and waits; the parent then kills it and reopens the
workspace. The uncommitted pages are already in the WAL file (the child shrinks its page cache), so recovery
really has something to ignore.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import return_files

from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.demo.extract import write_extract
from desktop.models.kpi.return_import import import_returns
from desktop.models.workspace import create_workspace

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
ACTOR = Actor.local("test-device", "Tester")


def content_digest(path: Path) -> dict[str, str]:
    """A digest of every table's rows (order-free), by table, read through a fresh open of the workspace."""
    db = open_workspace(path, create=False)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        digests = {}
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall():
            rows = sorted(repr(r) for r in db.execute(f'SELECT * FROM "{table}"'))
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest() + f" ({len(rows)} rows)"
        return digests
    finally:
        db.close()


def wal_size(path: Path) -> int:
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def kill_mid_transaction(tmp_path: Path, mode: str, argv: list[str], db_path: Path) -> None:
    """Run the child until its marker appears, check it wrote uncommitted pages to the WAL, then SIGKILL it."""
    marker = tmp_path / f"{mode}.marker"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS)]), "QT_QPA_PLATFORM": "offscreen"}
    wal_before = wal_size(db_path)
    child = subprocess.Popen(
        [sys.executable, str(TESTS / "crash_child.py"), mode, str(marker), "--", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None:
                out, err = child.communicate()
                raise AssertionError(f"the child ended ({child.returncode}) before its transaction:\n{out}\n{err}")
            assert time.monotonic() < deadline, "the child never reached its transaction"
            time.sleep(0.02)
        assert wal_size(db_path) > wal_before, "no uncommitted page reached the WAL: the kill would test nothing"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        child.stdout.close()
        child.stderr.close()
    assert Path(f"{db_path}-wal").exists()  # nothing checkpointed or cleaned it up: a real crash


def test_a_kill_in_the_middle_of_a_large_risk_import_leaves_the_previous_state(tmp_path):
    path = tmp_path / "locality.sqlite"
    create_workspace(path, "locality", reference="demo").close()  # the demo's practices, which the extract names
    # The state before: an earlier run, so the killed import also had patients leaving and changing.
    earlier = tmp_path / "earlier.csv"
    write_extract(earlier, "CHA", 20_000, seed=7, extract_date=dt.date(2026, 8, 15))
    db = open_workspace(path)
    import_extract(db, ACTOR, "CHA", earlier, dt.date(2026, 8, 15))
    db.close()
    before = content_digest(path)

    extract = tmp_path / "large.csv"
    write_extract(extract, "CHA", 300_000, extract_date=dt.date(2026, 11, 15))
    kill_mid_transaction(
        tmp_path,
        "risk",
        # Another population than the earlier run's (other seed), so most of the cohort leaves: accepted as such.
        ["import-risk", "--db", str(path), "--locality", "CHA", "--extract-date", "2026-11-15", "--accept-partial"]
        + [str(extract)],
        path,
    )

    assert content_digest(path) == before
    # And the workspace works: the same import, run to the end, lands whole.
    db = open_workspace(path)
    result = import_extract(db, ACTOR, "CHA", extract, dt.date(2026, 11, 15), accept=True)
    assert db.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0] == 2
    assert result.imported == 300_000
    db.close()


def test_a_kill_in_the_middle_of_a_return_import_batch_leaves_the_previous_state(tmp_path):
    path = tmp_path / "commissioner.sqlite"
    db = create_workspace(path, "commissioner")
    return_files.trust_teams(db)
    codes = [r[0] for r in db.execute("SELECT code FROM localities ORDER BY code").fetchall()]
    first = [return_files.write(tmp_path / f"first-{c}.json", return_files.return_doc(c, "2025-26-Q1")) for c in codes]
    outcomes, _ = import_returns(db, ACTOR, first)
    assert {o.status for o in outcomes} == {"imported"}
    db.close()
    before = content_digest(path)

    batch = tmp_path / "batch"
    batch.mkdir()
    files = [
        return_files.write(batch / f"{c}-{q}-r{rev}.json", return_files.return_doc(c, q, rev, scale=rev))
        for q in ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4")
        for c in codes
        for rev in (2, 3)
    ]
    assert len(files) == 88
    kill_mid_transaction(tmp_path, "returns", ["return", "import", "--db", str(path), *map(str, files)], path)

    assert content_digest(path) == before
    db = open_workspace(path)
    outcomes, _ = import_returns(db, ACTOR, files)
    assert {o.status for o in outcomes} <= {"imported", "superseded"}
    db.close()
