"""The effect the demo world's caseload truly had (outcomes.RATE_RATIO), as a correct comparison should find it
for one quarter's joiners: worked out again from the world's seed, size and day, for the tests and the report."""

from __future__ import annotations

import datetime as dt

import numpy as np
import sqlite_utils

from .history import SMALL_POPULATION, risk_dates
from .outcomes import PER_ADMISSION, baseline_extract, joined_rows, make_use
from .population import make_population, natural_size


def true_effect(
    db: sqlite_utils.Database, locality_code: str, period, follow_up: int = 4, outcome: str = "emergency_admissions"
) -> float | None:
    """The mean change the caseload made to *outcome* over the follow-up year of the demo world's patients who
    joined in *period* (a Quarter) and were registered at their baseline and follow-up runs: what a correct
    comparison should find. None when no such joiner. Worked out again from the world's seed, size and day."""
    meta = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'demo_%'").fetchall())
    seed, today = int(meta["demo_seed"]), dt.date.fromisoformat(meta["demo_data_ends"])
    locality_id = db.execute("SELECT id FROM localities WHERE code = ?", [locality_code]).fetchone()[0]
    dates = risk_dates(today)
    size = SMALL_POPULATION if meta.get("demo_size") == "small" else natural_size(db, locality_code)
    pop = make_population(locality_code, int(size), seed=seed, db=db, born_before=dates[0])
    joined = joined_rows(db, locality_id, pop)
    made = make_use(pop, seed, locality_code, today, joined)
    gains = []
    for row, day in joined.items():
        if not period.start <= day <= period.end:
            continue
        base = baseline_extract(dates, day)
        end = base + follow_up
        if end < len(dates) and pop.present(base)[row] and pop.present(end)[row]:
            gains.append(made.expected_gain[row, end] - made.expected_gain[row, base])
    return float(np.mean(gains)) * PER_ADMISSION[outcome] if gains else None
