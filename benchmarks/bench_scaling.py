"""How the costs grow (issue 9): risk import time and peak memory at 100k, 300k and 1.1M rows, each in a fresh
process; cohort filter latency at 10k, 60k and 200k patients (the 200k frame repeats the 61k cohort with new
ids, since no LLR locality has a cohort that size)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

import numpy as np
import pyarrow as pa
from bench_cohort_filter import cohort_world, keystroke_seconds
from common import HERE, Result

from desktop.models.cohort import frame as cohort
from desktop.models.cohort.frame import CohortFrame


def _import(rows: int) -> dict:
    env = {**os.environ, "PYTHONPATH": f"{HERE.parent}{os.pathsep}{HERE}"}
    out = subprocess.run(
        [sys.executable, str(HERE / "scaling_child.py"), str(rows)],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        timeout=600,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def scaled(frame: CohortFrame, size: int) -> CohortFrame:
    take = np.arange(size) % len(frame)
    columns = {k: v[take] for k, v in frame.columns.items()}
    copy = take // len(frame)
    columns["id"] = np.array([f"{i}-{c}" if c else i for i, c in zip(columns["id"], copy, strict=True)], dtype=object)
    return CohortFrame(columns, frame.run, frame.haystack.take(pa.array(take)))


def run(runs: int = 3) -> list[Result]:
    results = []
    for rows in (100_000, 300_000, 1_100_000):
        got = _import(rows)
        results.append(
            Result(
                f"scaling: import {rows:,} rows",
                "growth",
                f"{got['seconds']:.2f} s, peak {got['peak_mb']:.0f} MB",
                True,
                f"cohort {got['cohort']:,}; fresh process",
            )
        )
    db, loc = cohort_world()
    full = cohort.load(db, loc)
    for size in (10_000, 60_000, 200_000):
        frame = scaled(full, size)
        samples = keystroke_seconds(frame, runs)
        budgeted = size <= 60_000  # DESIGN §13 budgets 60,000 patients; the other sizes show the growth
        results.append(
            Result(
                f"scaling: cohort filter at {size:,} patients",
                "< 100 ms" if budgeted else "growth",
                f"{statistics.median(samples) * 1000:.1f} ms median, {max(samples) * 1000:.1f} ms worst",
                max(samples) < 0.1 or not budgeted,
                f"{len(samples)} keystrokes to painted table",
            )
        )
    return results


if __name__ == "__main__":
    from common import table

    print(table(run()))
