"""KPI computation for all 11 localities × 8 quarters on the full demo world (DESIGN §13: ≤ 0.3 s), beside its floor.

The floor is the bare library doing the same reading: every SQL statement the 88 computations run (recorded, with
their values, by a trace on the workspace's connection during a first batch), replayed through a plain `sqlite3`
connection to the same file with the workspace's page cache, each fetching all of its rows, and nothing done with
them: no numpy, no Arrow (so the risk runs' cohorts are fetched, not decompressed; the caseload spells, reviews and
admissions, which come back as one row of joined-up columns, are fetched, not split). Batch and floor run in turn,
so that a drift of the machine's speed hits both; each is the median of the runs.

`python benchmarks/bench_kpi.py [--runs N]`; run_all.py calls run().
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import time

from common import OUT, Result, table

from desktop.models import quarters
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi.catalogue import catalogue
from desktop.models.workspace import data_ends

BUDGET_S = 0.3


def demo_world():
    path = OUT / "demo-world.sqlite"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        db = open_workspace(path)
        build_demo(db)
        db.close()
    return open_workspace(path)


def run(runs: int = 7) -> list[Result]:
    db = demo_world()
    day = data_ends(db)  # the day the demo world's history runs up to
    localities = [r[0] for r in db.execute("SELECT id FROM localities")]
    first = quarters.of(day)
    span = [first.previous()]
    while len(span) < 8:
        span.append(span[-1].previous())

    def all_of_them() -> None:
        shared: dict = {}
        for loc in localities:
            for q in span:
                kpi_compute.compute(db, loc, q, day, shared)

    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)  # the statements as run, their values written in
    all_of_them()
    db.conn.set_trace_callback(None)
    bare = sqlite3.connect(OUT / "demo-world.sqlite")
    bare.execute(f"PRAGMA cache_size = {db.execute('PRAGMA cache_size').fetchone()[0]}")

    def floor() -> None:
        for sql in statements:
            bare.execute(sql).fetchall()

    figures, floors = [], []
    for _ in range(runs):
        for fn, times in ((all_of_them, figures), (floor, floors)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    bare.close()
    seconds, floor_s = statistics.median(figures), statistics.median(floors)
    return [
        Result(
            f"KPIs, {len(localities)} localities × {len(span)} quarters",
            f"< {BUDGET_S} s",
            f"{seconds:.2f} s = {seconds / floor_s:.1f}× floor {floor_s:.2f} s",
            seconds < BUDGET_S,
            f"{sum(k.source == 'computed' for k in catalogue())} computed KPIs each; full demo world; floor: the "
            f"same {len(statements)} SQL statements replayed through bare sqlite3, rows fetched and dropped; runs "
            f"{', '.join(f'{s:.2f}' for s in figures)}, floor {', '.join(f'{s:.2f}' for s in floors)}; load "
            f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        )
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    print(table(run(parser.parse_args().runs)))
