"""Offline sync after the issue-23 rewrite (DESIGN §13 and §15, issue 23 point 6), each figure beside its floor.

Two worlds:

- **LLR**: the full demo world (bench_kpi.demo_world: 11 localities, two years of history).
- **one locality (CHA)**: the same world cut down to Charnwood's team, the largest locality: every other
  locality's records (reference data, cohort, caseload, meetings, actions, care homes and visits, returns) deleted,
  the way tests/unit/test_sync_convergence.py makes "a team of one locality" from the small world, then the ledger
  rebuilt (as a fresh workspace's migration would) and the file vacuumed.

Laptop A's copy has its ledger rebuilt the same way by the code as it stands (``fresh_ledger``), so a source file
migrated by an earlier build cannot leave clocks of another form in it.

In each, laptops A and B start as copies of one workspace (after ``ensure_team_id``):

- **First exchange**: A exports (its first bundle holds everything), B applies; B exports back (B has not heard
  that A holds anything of B's, so this one holds everything too), A applies; then A's reply, which tells B what A
  now holds, and B applies it. Timed once each: seconds, bundle size, records carried, peak memory.
- **A day's bundle** (``--days`` days, median): on B, through the app's own model functions, 50 patients edited
  (cohort.caseload.update_patients: case manager, notes, status or review interval, one save each), 10 actions
  (mdt.actions: 5 created, 5 edited) and 2 visits logged (care_homes.visits.log_visit, 3 residents each), all in
  CHA. B exports, A applies. Budget (DESIGN §13, issue 23): **< 1 s each way and bundle < 100 KB on all of LLR**.
  Then the echo: A exports right after applying, having edited nothing; B applies it (which is what tells B, for
  the next day, what A holds). Each day's bundle must carry exactly the records that day's edits wrote (seen by
  temporary triggers of the benchmark's own, apart from sync's ledger): one more is an earlier day's sent again.

Every timed export and import pays one Scrypt derivation (bundle._derive's cache is cleared before each, as on a
laptop that starts the app to sync); Scrypt alone (cryptography's, at bundle.SCRYPT_N/R/P) is timed and reported on
its own. Peak memory is this process's VmHWM over the step (reset through /proc/self/clear_refs before it), so it
includes the interpreter and the app's modules.

Floors, in the same run, the bare libraries doing the same work:

- export: one Scrypt derivation, sqlite3 reading the same records (the keys the real bundle carries) from the
  sender's workspace, json.dumps, zlib (level 6), AES-256-GCM, the file written (raw bytes: no base64 envelope);
- import: one Scrypt derivation, the floor file read, decrypted, decompressed, json.loads, and the same number of
  row upserts (INSERT ... ON CONFLICT (key) DO UPDATE) executed with sqlite3 in one transaction, into a copy of the
  workspace without the sync triggers.

``python benchmarks/bench_sync.py [--days N] [--worlds llr,cha] [--profile STEP,...] [--no-record]``; STEP is one
of the step names printed (e.g. ``llr-day-import``): it is run under cProfile, its top functions printed and the
stats kept in benchmarks/out/sync-profiles/.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_kpi import demo_world
from common import OUT, RESULTS, Result, peak_rss_mb, record, table
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from desktop.models import clock
from desktop.models.care_homes import visits
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.db import open_workspace
from desktop.models.mdt import actions
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.models.sync import tracking

PASSPHRASE = "benchmark passphrase"
ANN = Actor("ann", "laptop-ann")
BOB = Actor("bob", "laptop-bob")
LOCALITY = "CHA"
DAY_BUDGET_S = 1.0
DAY_BUDGET_KB = 100
FOLDER = OUT / "sync"
PROFILE_DIR = OUT / "sync-profiles"


# ---------------------------------------------------------------- measuring


@dataclass
class Step:
    name: str
    seconds: float
    peak_mb: float
    base_mb: float = 0.0  # the process's RSS when the step started (the peak includes it)
    size: int = 0  # bytes of the bundle written or read
    changes: int = 0  # records the bundle carries
    floor: float | None = None

    @property
    def ratio(self) -> str:
        return f"{self.seconds / self.floor:.1f}×" if self.floor else "–"


@dataclass
class Run:
    profile: frozenset[str] = frozenset()
    steps: dict[str, list[Step]] = field(default_factory=dict)
    base_mb: float = 0.0

    def add(self, step: Step) -> Step:
        self.steps.setdefault(step.name, []).append(step)
        return step


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:  # "5": reset VmHWM to the current RSS
        fh.write("5")


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmRSS:"))


def timed(run: Run, name: str, fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run *fn* with a cold key cache; its result, seconds and the process's peak MB during it."""
    sync_bundle._derive.cache_clear()
    _reset_peak()
    run.base_mb = rss_mb()
    profiler = cProfile.Profile() if name in run.profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    out = fn()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    if profiler:
        _print_profile(name, profiler)
    return out, seconds, peak


def _print_profile(name: str, profiler: cProfile.Profile) -> None:
    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(PROFILE_DIR / f"{name}.prof")
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    (PROFILE_DIR / f"{name}.txt").write_text(text.getvalue(), encoding="utf-8")
    print(f"\n--- cProfile of {name} ---\n{text.getvalue()}", flush=True)


def scrypt_seconds(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _scrypt(os.urandom(16))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _scrypt(salt: bytes) -> bytes:
    n, r, p = sync_bundle.SCRYPT_N, sync_bundle.SCRYPT_R, sync_bundle.SCRYPT_P
    return Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(PASSPHRASE.encode())[:32]  # as bundle._derive does


# ---------------------------------------------------------------- worlds


def copy_db(source: Path, dest: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    src, out = sqlite3.connect(source), sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return dest


def llr_world() -> Path:
    db = demo_world()  # migrates an older file in place (the ledger and its triggers) once
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return OUT / "demo-world.sqlite"


def _sync_triggers(conn: sqlite3.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
            (tracking.TRIGGER_PREFIX.replace("_", "\\_") + "%",),
        )
    ]


def drop_sync_triggers(path: Path) -> None:
    conn = sqlite3.connect(path)
    for name in _sync_triggers(conn):
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.commit()
    conn.close()


def one_locality_world(code: str = LOCALITY) -> Path:
    """The demo world cut down to *code*'s team (built once, kept in benchmarks/out)."""
    path = OUT / f"sync-{code.lower()}-world.sqlite"
    if path.exists():
        return path
    partial = copy_db(llr_world(), OUT / f"sync-{code.lower()}-world.partial.sqlite")
    drop_sync_triggers(partial)  # deleting the other localities is how this world is made, not an edit to sync
    conn = sqlite3.connect(partial, isolation_level=None)
    deleted: dict[str, int] = {}
    conn.execute("BEGIN")
    keep = conn.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    for name in tracking.synced_tables(conn):
        if "locality_id" in tracking.columns(conn, name):
            deleted[name] = conn.execute(f'DELETE FROM "{name}" WHERE locality_id IS NOT ?', [keep]).rowcount
    deleted["localities"] = conn.execute("DELETE FROM localities WHERE id != ?", [keep]).rowcount
    while broken := {(r[0], r[3]) for r in conn.execute("PRAGMA foreign_key_check")}:  # what pointed at them
        for name, fk in sorted(broken):
            parent, child, key = next(
                (r[2], r[3], r[4]) for r in conn.execute(f'PRAGMA foreign_key_list("{name}")') if r[0] == fk
            )
            key = key or _pk(conn, parent)[0]
            deleted[name] = (
                deleted.get(name, 0)
                + conn.execute(
                    f'DELETE FROM "{name}" WHERE "{child}" IS NOT NULL '
                    f'AND "{child}" NOT IN (SELECT "{key}" FROM "{parent}")'
                ).rowcount
            )
    conn.execute(f"DELETE FROM {tracking.LEDGER}")
    tracking.adopt(conn)
    # As migration 13 marks every workspace it makes: copies of it share this origin.
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('sync_origin', ?)", (str(uuid.uuid4()),))
    conn.execute("COMMIT")
    conn.execute("VACUUM")
    conn.close()
    print(f"one-locality world {code}: deleted {deleted}", flush=True)
    os.replace(partial, path)
    open_workspace(path).close()  # the triggers back
    return path


def fresh_ledger(path: Path) -> None:
    """The ledger as migration 13 makes it for a workspace that never synced (every record adopted at version 0),
    made by the code as it stands: a source file migrated by an earlier build may hold clocks of another form."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute(f"DELETE FROM {tracking.LEDGER}")
    tracking.adopt(conn)
    # As migration 13 marks every workspace it makes: copies of it share this origin.
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('sync_origin', ?)", (str(uuid.uuid4()),))
    conn.execute("COMMIT")
    conn.close()


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tracking.synced_tables(conn)}
    finally:
        conn.close()


# ---------------------------------------------------------------- a day's work on B, through the app's functions


Key = tuple[str, tuple[Any, ...]]  # (table, primary key values) of one record


def watch_writes(conn: sqlite3.Connection) -> None:
    """Note in temp.bench_written every record of a synced table that *conn* inserts, changes or deletes from now
    on. The day's records are counted this way, not from sync's ledger, so that a ledger that marks too much
    cannot vouch for itself; an update that changes no value is not a change, as for sync."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_written (tbl TEXT, pk TEXT, PRIMARY KEY (tbl, pk))")
    for name in tracking.synced_tables(conn):
        pk, cols = tracking.pk_columns(conn, name), tracking.columns(conn, name)
        note = "INSERT OR IGNORE INTO bench_written VALUES ('{0}', {1});"
        new, old = note.format(name, tracking.key_sql(pk, "NEW")), note.format(name, tracking.key_sql(pk, "OLD"))
        changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in cols)
        for event, when, body in (
            ("INSERT", "", new),
            ("UPDATE", f" WHEN {changed}", new + old),  # the old key too, should the key itself change
            ("DELETE", "", old),
        ):
            conn.execute(
                f'CREATE TEMP TRIGGER "bench_{event.lower()}_{name}" AFTER {event} ON main."{name}"{when} '
                f"BEGIN {body} END"
            )


def written(conn: sqlite3.Connection) -> set[Key]:
    return {(t, tuple(json.loads(k))) for t, k in conn.execute("SELECT tbl, pk FROM temp.bench_written")}


def a_days_work(path: Path, day: int, code: str = LOCALITY) -> tuple[dict[str, int], set[Key]]:
    """50 patients edited, 5 actions made and 5 edited, 2 visits logged, as B's user would in the app; the counts,
    and the records the day wrote."""
    db = open_workspace(path)
    watch_writes(db.conn)
    try:
        today = clock.today()
        loc = db.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
        staff = [r[0] for r in db.execute("SELECT id FROM staff WHERE locality_id = ? ORDER BY id", [loc])]
        patients = db.execute(
            "SELECT id, status, case_manager_id, review_interval_months FROM patients WHERE locality_id = ? "
            "AND status IN ('contacted', 'on caseload') ORDER BY id LIMIT 50 OFFSET ?",
            [loc, 50 * day],
        ).fetchall()
        for i, (pid, status, manager, interval) in enumerate(patients):
            if i % 3 == 0:
                pick = [s for s in staff if s != manager]
                changes: dict[str, Any] = {"case_manager_id": pick[(i + day) % len(pick)]}
            elif i % 3 == 1:
                changes = {"notes": f"Phoned {today:%d/%m/%Y} (day {day}): carer reports a fall, review booked."}
            elif status == "contacted":
                changes = {"status": "on caseload"}
            else:
                changes = {"review_interval_months": 3 if interval != 3 else 6}
            caseload.update_patients(db, BOB, [pid], changes)
        due = (today + dt.timedelta(days=14)).isoformat()
        made = 0
        for i in range(5):
            actions.create(
                db,
                BOB,
                loc,
                {
                    "description": f"Day {day}: arrange a falls assessment and a medication review",
                    "owner_staff_id": staff[(i + day) % len(staff)],
                    "due_date": due,
                    "patient_id": patients[i][0],
                },
            )
            made += 1
        open_ones = db.execute(
            "SELECT id, due_date FROM actions WHERE locality_id = ? AND status IN ('open', 'in progress') "
            "AND updated_by != ? ORDER BY id LIMIT 5",
            [loc, BOB.user],
        ).fetchall()
        for aid, was in open_ones:
            later = max(dt.date.fromisoformat(was), today) + dt.timedelta(days=7)
            actions.update(db, BOB, aid, {"due_date": later.isoformat()})
        homes = db.execute(
            "SELECT h.id FROM care_homes h WHERE h.locality_id = ? AND (SELECT count(*) FROM residents r "
            "WHERE r.care_home_id = h.id AND r.left_on IS NULL) >= 3 ORDER BY h.id LIMIT 2 OFFSET ?",
            [loc, 2 * day],
        ).fetchall()
        for (home,) in homes:
            residents = db.execute(
                "SELECT id FROM residents WHERE care_home_id = ? AND left_on IS NULL ORDER BY id LIMIT 3", [home]
            ).fetchall()
            visits.log_visit(
                db,
                BOB,
                home,
                today.isoformat(),
                "weekly home round",
                clinician_id=staff[day % len(staff)],
                residents=[{"resident_id": r[0], "outcome": "managed in the home", "note": "Seen"} for r in residents],
                notes=f"Round, day {day}",
            )
        worked = {"patients": len(patients), "actions": made + len(open_ones), "visits": len(homes)}
        return worked, written(db.conn)
    finally:
        db.close()


# ---------------------------------------------------------------- the floors


def bundle_keys(path: Path) -> dict[str, list[Any]]:
    """The keys of the records a real bundle carries, per table (read outside any timing)."""
    _, payload = sync_bundle.open_sealed(path, PASSPHRASE)
    return {t: [json.loads(r[0]) for r in body["rows"]] for t, body in json.loads(payload)["tables"].items()}


def _pk(conn: sqlite3.Connection, name: str) -> list[str]:
    return [r[1] for r in sorted(conn.execute(f'PRAGMA table_info("{name}")'), key=lambda r: r[5]) if r[5]]


def floor_export(db_path: Path, keys: dict[str, list[Any]], out: Path) -> int:
    """Scrypt, the same records read with sqlite3, json.dumps, zlib, AES-GCM, the file written; its size."""
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _scrypt(salt)
    conn = sqlite3.connect(db_path)
    tables = {}
    for name, wanted in keys.items():
        cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]
        pk = _pk(conn, name)
        picked = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(pk)))
        sql = (
            f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{name}" '
            f"WHERE ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in pk)}) IN (SELECT {picked} FROM json_each(?))"
        )
        rows = [
            [{"$x": v.hex()} if isinstance(v, bytes) else v for v in row]
            for row in conn.execute(sql, [json.dumps(wanted)])
        ]
        tables[name] = {"columns": cols, "rows": rows}
    conn.close()
    payload = json.dumps({"tables": tables}, separators=(",", ":")).encode("utf-8")
    sealed = AESGCM(key).encrypt(nonce, zlib.compress(payload, 6), b"header")
    out.write_bytes(salt + nonce + sealed)
    return out.stat().st_size


def floor_import(bundle: Path, db_path: Path) -> int:
    """Scrypt, decrypt, decompress, json.loads, every row upserted with sqlite3 in one transaction; rows."""
    raw = bundle.read_bytes()
    salt, nonce, sealed = raw[:16], raw[16:28], raw[28:]
    key = _scrypt(salt)
    tables = json.loads(zlib.decompress(AESGCM(key).decrypt(nonce, sealed, b"header")))["tables"]
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    done = 0
    for name, body in tables.items():
        cols, pk = body["columns"], _pk(conn, name)
        quoted = ", ".join(f'"{c}"' for c in cols)
        sets = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c not in pk)
        sql = (
            f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join("?" * len(cols))}) '
            f"ON CONFLICT ({', '.join(chr(34) + c + chr(34) for c in pk)}) DO UPDATE SET {sets}"
        )
        conn.executemany(
            sql, ([bytes.fromhex(v["$x"]) if isinstance(v, dict) else v for v in row] for row in body["rows"])
        )
        done += len(body["rows"])
    conn.execute("COMMIT")
    conn.close()
    return done


# ---------------------------------------------------------------- the exchanges


def export(run: Run, name: str, db_path: Path, out: Path, actor: Actor) -> Step:
    summary, seconds, peak = timed(run, name, lambda: sync_bundle.export_bundle(db_path, out, PASSPHRASE, actor=actor))
    return run.add(Step(name, seconds, peak, run.base_mb, out.stat().st_size, sum(summary.changes.values())))


def apply(run: Run, name: str, db_path: Path, bundle: Path, actor: Actor) -> Step:
    summary, seconds, peak = timed(
        run, name, lambda: sync_merge.import_bundle(db_path, bundle, PASSPHRASE, actor=actor)
    )
    if summary.conflicts:
        print(f"  {name}: {len(summary.conflicts)} conflicts", flush=True)
    return run.add(Step(name, seconds, peak, run.base_mb, bundle.stat().st_size, sum(summary.changes.values())))


def with_floors(
    run: Run, sender: Path, bundle: Path, floor_db: Path, out: Step, back: Step, tag: str
) -> dict[str, list[Any]]:
    """Time the floors of *bundle*'s export (from *sender*) and import (into *floor_db*) and set them on the
    steps; the floor runs right after the step it is the floor of. The keys *bundle* carries, per table."""
    keys = bundle_keys(bundle)
    floor_file = FOLDER / f"{tag}.floor"
    size, seconds, _ = timed(run, f"{tag}-floor-export", lambda: floor_export(sender, keys, floor_file))
    out.floor = seconds
    rows, seconds, _ = timed(run, f"{tag}-floor-import", lambda: floor_import(floor_file, floor_db))
    back.floor = seconds
    print(f"  floor {tag}: {rows:,} rows, {size / 1e3:,.1f} KB (raw, no base64)", flush=True)
    return keys


def exchange(
    run: Run,
    world: str,
    what: str,
    sender: Path,
    receiver: Path,
    by: Actor,
    to: Actor,
    floor_db: Path,
    day: int | None = None,
) -> tuple[Path, set[Key]]:
    """*sender* exports, *receiver* applies, then the floors of both; the bundle's path and the records it
    carries."""
    tag = f"{world}-{what}" + ("" if day is None else str(day))
    path = FOLDER / f"{tag}.ldsync"
    out = export(run, f"{world}-{what}-export", sender, path, by)
    back = apply(run, f"{world}-{what}-import", receiver, path, to)
    keys = with_floors(run, sender, path, floor_db, out, back, tag)
    return path, {(t, tuple(k)) for t, ks in keys.items() for k in ks}


def world_run(run: Run, world: str, source: Path, days: int) -> dict[str, Any]:
    a, b = FOLDER / f"{world}-a.sqlite", FOLDER / f"{world}-b.sqlite"
    floor_db = FOLDER / f"{world}-floor.sqlite"
    copy_db(source, a)
    fresh_ledger(a)
    sync_bundle.ensure_team_id(a)
    copy_db(a, b)
    copy_db(a, floor_db)
    drop_sync_triggers(floor_db)
    records = sum(counts(a).values())
    size_mb = a.stat().st_size / 1e6
    print(f"{world}: {records:,} records in synced tables, {size_mb:,.0f} MB", flush=True)

    # The first exchange
    exchange(run, world, "first-a", a, b, ANN, BOB, floor_db)
    exchange(run, world, "first-b", b, a, BOB, ANN, floor_db)
    exchange(run, world, "first-a-reply", a, b, ANN, BOB, floor_db)
    _report_steps(run, world)

    # A day's bundle, then the echo
    worked: dict[str, int] = {}
    own: list[set[Key]] = []  # what each day's edits wrote on B
    sent: list[set[Key]] = []  # what each day's bundle from B carried
    for day in range(days):
        worked, wrote = a_days_work(b, day)
        daily, carried = exchange(run, world, "day", b, a, BOB, ANN, floor_db, day)
        echo, _ = exchange(run, world, "echo", a, b, ANN, BOB, floor_db, day)
        own.append(wrote)
        sent.append(carried)
        print(f"  day {day}: {worked}; bundle carries {sync_bundle.read_header(daily)['changes']}", flush=True)
        print(f"  echo {day}: carries {sync_bundle.read_header(echo)['changes']}", flush=True)
    _report_steps(run, world)
    return {"records": records, "size_mb": size_mb, "worked": worked, "own": own, "sent": sent}


def _by_table(keys: set[Key]) -> str:
    tally: dict[str, int] = {}
    for t, _ in keys:
        tally[t] = tally.get(t, 0) + 1
    return ", ".join(f"{t} {n}" for t, n in sorted(tally.items()))


def day_mismatches(own: list[set[Key]], sent: list[set[Key]]) -> list[str]:
    """Each day whose bundle differs from what the day wrote: what it carried beyond (and whether an earlier
    bundle had carried it already) and what it left out."""
    out = []
    for day, (wrote, carried) in enumerate(zip(own, sent, strict=True)):
        extra, missing = carried - wrote, wrote - carried
        again = extra & set().union(*sent[:day])
        if extra:
            out.append(
                f"day {day + 1} carried {len(extra)} it did not write ({_by_table(extra)}; {len(again)} sent before)"
            )
        if missing:
            out.append(f"day {day + 1} left out {len(missing)} it wrote ({_by_table(missing)})")
    return out


def _report_steps(run: Run, world: str) -> None:
    for name, steps in run.steps.items():
        if name.startswith(world + "-"):
            s = _median(steps)
            print(
                f"  {name:32} {s.seconds:7.2f} s  {s.size / 1e3:10,.1f} KB  {s.changes:8,} records  "
                f"peak {s.peak_mb:6,.0f} MB (from {s.base_mb:,.0f})  floor {s.floor or 0:5.2f} s ({s.ratio})",
                flush=True,
            )


def _median(steps: list[Step]) -> Step:
    ordered = sorted(steps, key=lambda s: s.seconds)
    mid = ordered[len(ordered) // 2]
    floors = [s.floor for s in steps if s.floor]
    return Step(
        mid.name,
        statistics.median(s.seconds for s in steps),
        max(s.peak_mb for s in steps),
        mid.base_mb,
        mid.size,
        mid.changes,
        statistics.median(floors) if floors else None,
    )


# ---------------------------------------------------------------- results


def _fmt(s: Step) -> str:
    return f"{s.seconds:.2f} s vs floor {s.floor:.2f} s = {s.ratio}" if s.floor else f"{s.seconds:.2f} s"


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB" if nbytes >= 1e6 else f"{nbytes / 1e3:,.1f} KB"


def results(run: Run, worlds: dict[str, dict[str, Any]], days: int, scrypt_s: float) -> list[Result]:
    out = [
        Result(
            "Scrypt key derivation alone (N=2^17, r=8, p=1)",
            "by design (~0.35 s idle)",
            f"{scrypt_s:.2f} s",
            True,
            "paid once by every export and every import below, and by each floor",
        )
    ]
    labels = {"llr": "all of LLR", "cha": "one locality (CHA)"}
    for world, info in worlds.items():
        label = labels.get(world, world)
        m = {
            name[len(world) + 1 :]: _median(steps) for name, steps in run.steps.items() if name.startswith(world + "-")
        }
        for key, what in (
            ("first-a-export", "A exports (first bundle: everything)"),
            ("first-a-import", "B applies it"),
            ("first-b-export", "B exports back"),
            ("first-b-import", "A applies it"),
            ("first-a-reply-export", "A's next export"),
            ("first-a-reply-import", "B applies it"),
        ):
            s = m[key]
            out.append(
                Result(
                    f"Sync first exchange, {label} ({info['records']:,} records, {info['size_mb']:,.0f} MB): {what}",
                    "none (for the record)",
                    _fmt(s),
                    True,
                    f"{s.changes:,} records, bundle {_size(s.size)}, peak {s.peak_mb:,.0f} MB "
                    f"(RSS {s.base_mb:,.0f} MB when it started)",
                )
            )
        budget = label == "all of LLR"
        worked = info["worked"]
        day = f"{worked['patients']} patients, {worked['actions']} actions, {worked['visits']} visits edited on B a day"
        days_out, days_in = run.steps[f"{world}-day-export"], run.steps[f"{world}-day-import"]
        carried = ", ".join(f"{s.changes}" for s in days_out)
        sizes = ", ".join(_size(s.size) for s in days_out)
        for steps, what in ((days_out, "B exports"), (days_in, "A applies")):
            s, worst = _median(steps), max(steps, key=lambda x: x.seconds)
            fine = worst.seconds < DAY_BUDGET_S and max(x.size for x in steps) < DAY_BUDGET_KB * 1000
            out.append(
                Result(
                    f"Sync a day's bundle, {label}: {what}",
                    f"< 1 s and bundle < 100 KB{'' if budget else ' (the LLR budget, for reference)'}",
                    f"{_fmt(s)}; worst of {len(steps)} days {worst.seconds:.2f} s",
                    fine,
                    f"{day}; days 1–{len(steps)} carried {carried} records in {sizes}; "
                    f"peak {s.peak_mb:,.0f} MB (RSS {s.base_mb:,.0f} MB when it started)",
                )
            )
        # Measured against what each day wrote, not against day 1's count: the days need not write as many
        # records (a patient moved from contacted to on caseload adds a caseload_history row, and each day's 50
        # patients hold a different number of those), so only the records themselves tell a re-send.
        wrong = day_mismatches(info["own"], info["sent"])
        out.append(
            Result(
                f"Sync, {label}: B's later bundles carry only that day's records",
                f"the records each day wrote: {', '.join(str(len(w)) for w in info['own'])}",
                f"{carried} records on days 1–{len(days_out)}",
                not wrong,
                "; ".join(wrong) or "each bundle carried exactly the records its day wrote",
            )
        )
        echoes = run.steps[f"{world}-echo-export"]
        echo = _median(echoes)
        out.append(
            Result(
                f"Sync echo, {label}: A exports right after applying the day's bundle",
                "small (A edited nothing)",
                f"{', '.join(str(x.changes) for x in echoes)} records, {_size(echo.size)}",
                max(x.size for x in echoes) < DAY_BUDGET_KB * 1000,
                f"the records A has just received, sent back (B finds them unchanged); export {_fmt(echo)}, "
                f"B applies it in {_fmt(_median(run.steps[f'{world}-echo-import']))}",
            )
        )
    return out


def load() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def measure(days: int = 3, worlds: str = "llr,cha", profile: str = "") -> list[Result]:
    """Every figure of the module docstring, for the worlds named; the files it makes are removed after."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    sources = {"llr": llr_world, "cha": one_locality_world}
    run = Run(profile=frozenset(n for n in profile.split(",") if n))
    scrypt_s = [scrypt_seconds()]
    done = {}
    try:
        for world in [w for w in worlds.split(",") if w]:
            done[world] = world_run(run, world, sources[world](), days)
            scrypt_s.append(scrypt_seconds())
    finally:
        shutil.rmtree(FOLDER, ignore_errors=True)
    return results(run, done, days, statistics.median(scrypt_s))


def run(runs: int = 3) -> list[Result]:
    """For run_all.py (`make bench`): *runs* days of edits on both worlds."""
    return measure(days=runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="days of edits (the day's figures are medians)")
    parser.add_argument("--worlds", default="llr,cha", help="comma-separated: llr (all of LLR), cha (one locality)")
    parser.add_argument("--profile", default="", help="steps to run under cProfile, e.g. llr-day-import")
    parser.add_argument("--no-record", action="store_true", help="print only; RESULTS.md untouched")
    args = parser.parse_args()
    before = load()
    print(f"load before: {before}", flush=True)
    figures = measure(args.days, args.worlds, args.profile)
    after = load()
    print(table(figures))
    print(f"load after: {after}")
    if not args.no_record:
        command = "python benchmarks/bench_sync.py " + " ".join(sys.argv[1:])
        record(figures, command.strip())
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(f"\nLoad (`uptime`): before `{before}`; after `{after}`.\n")
    return 0 if all(r.passed for r in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
