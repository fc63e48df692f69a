"""Offline sync on the full demo world (DESIGN §15; §13 sets no budget, so these figures are for the record).

A team's first exchange sends the whole workspace (the base starts empty), so it is the slow case: one laptop
exports, a copy of the same workspace imports it (every row already there: the conflict handler sees each one).
The everyday case is a day's edits: 50 practices' list sizes on one laptop, exported and applied on the other.
The budget used here is our own: a first exchange within a minute, a day's bundle within 5 s.
"""

from __future__ import annotations

import shutil
import sys
import time

from bench_kpi import demo_world
from common import OUT, Result, peak_rss_mb

from desktop.models import backups, reference
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge

PASSPHRASE = "benchmark passphrase"
ANN = Actor("ann", "laptop-ann", fixed_time="2026-11-23T09:00:00+00:00")
BOB = Actor("bob", "laptop-bob", fixed_time="2026-11-23T10:00:00+00:00")


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run(runs: int = 1) -> list[Result]:
    demo_world().close()
    folder = OUT / "sync"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    ann, bob = folder / "ann.sqlite", folder / "bob.sqlite"
    backups.backup(OUT / "demo-world.sqlite", ann)
    sync_bundle.ensure_team_id(ann)
    backups.backup(ann, bob)
    first = folder / "ann-first.ldsync"
    export_s = _timed(lambda: sync_bundle.export_bundle(ann, first, PASSPHRASE, actor=ANN))
    import_s = _timed(lambda: sync_merge.import_bundle(bob, first, PASSPHRASE, actor=BOB))
    size_mb = first.stat().st_size / 1e6

    db = open_workspace(bob)
    for row in list(db.query("SELECT * FROM practices ORDER BY ods_code LIMIT 50")):
        reference.save(db, BOB, "practices", {**row, "list_size": row["list_size"] + 1}, row["id"])
    db.close()
    daily = folder / "bob-day.ldsync"
    day_export_s = _timed(lambda: sync_bundle.export_bundle(bob, daily, PASSPHRASE, actor=BOB))
    day_import_s = _timed(lambda: sync_merge.import_bundle(ann, daily, PASSPHRASE, actor=ANN))
    shutil.rmtree(folder, ignore_errors=True)
    return [
        Result(
            "Sync: first exchange of the full demo world (export + import)",
            "≤ 60 s (ours)",
            f"{export_s + import_s:.1f} s",
            export_s + import_s <= 60,
            f"export {export_s:.1f} s, import {import_s:.1f} s, bundle {size_mb:.0f} MB, peak {peak_rss_mb():.0f} MB",
        ),
        Result(
            "Sync: a day's bundle (50 edited practices)",
            "≤ 5 s (ours)",
            f"{day_export_s + day_import_s:.2f} s",
            day_export_s + day_import_s <= 5,
            f"export {day_export_s:.2f} s, import {day_import_s:.2f} s",
        ),
    ]


if __name__ == "__main__":
    from common import record, table

    results = run()
    print(table(results))
    record(results, "python benchmarks/bench_sync.py")
    sys.exit(0 if all(r.passed for r in results) else 1)
