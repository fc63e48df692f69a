"""The outcomes comparison's records, read from a locality workspace: the risk runs' cohorts, the caseload
history and the interventions (issue 27).

Each cohort patient is followed from run to run by their patient id (made from the NHS number, so the same in
every run). Their use is what each run's extract recorded for the 12 months before it; a run that did not record
it (a blank, or a run stored before the use columns existed) leaves that point missing. The covariates are those
of the run the comparison measures from: a joiner's baseline run (the run at or just before they joined), and for
everyone else their last run in the cohort up to the period's end. The day a patient joined is the first day of
their first spell on the caseload (cohort.caseload_history); a patient on the caseload with no history has joined
on a day no one knows, and is neither a joiner nor a comparison.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict

import numpy as np
import sqlite_utils

from ..cohort import caseload_history
from ..cohort import store as risk_store
from ..cohort.extract_rules import ages_on
from ..cohort.risk_import import AGE_BANDS, age_band_index
from ..quarters import Quarter
from .evaluation import Evaluation, evaluate
from .records import COLUMN, OUTCOMES, Subject

RISK_BANDS = ("low", "moderate", "high", "very high")  # quarters of the locality's cohort's scores
UNKNOWN_DAY = dt.date.min  # on the caseload, but since when is not known
_READ = ["patient_id", "date_of_birth", "sex", "criteria", "prob_unplanned_admission", "predicted_cost"]


def subjects(db: sqlite_utils.Database, locality_id: str, period: Quarter, follow_up: int = 4) -> tuple[Subject, ...]:
    """Every patient ever in the locality's cohort, as the comparison of *period*'s joiners sees them."""
    runs = [
        (run_id, dt.date.fromisoformat(day[:10]))
        for run_id, day in db.execute(
            "SELECT id, extract_date FROM risk_runs WHERE locality_id = ? ORDER BY extract_date", [locality_id]
        )
    ]
    per_run = [(day, risk_store.run_columns(db, run_id, _READ + list(COLUMN.values()))) for run_id, day in runs]
    score_cuts, cost_cuts = _risk_cuts([t for _, t in per_run])
    joined = _joined(db, locality_id)
    until = period.end + dt.timedelta(days=round(follow_up * 365.25 / 4))
    received = _interventions(db, locality_id, joined, until)

    use: dict[str, dict[str, dict[dt.date, float | None]]] = defaultdict(lambda: {o: {} for o in OUTCOMES})
    seen: dict[str, list[tuple[dt.date, int, int]]] = defaultdict(list)  # patient -> (run day, run index, row)
    for r, (day, table) in enumerate(per_run):
        ids = table["patient_id"].to_pylist()
        for outcome, column in COLUMN.items():
            for pid, value in zip(ids, table[column].to_pylist(), strict=True):
                use[pid][outcome][day] = value
        for row, pid in enumerate(ids):
            seen[pid].append((day, r, row))

    covariates = [_covariates(day, table, score_cuts, cost_cuts) for day, table in per_run]
    out = []
    for pid, visits in seen.items():
        day_joined = joined.get(pid)
        at = period.end if day_joined in (None, UNKNOWN_DAY) else day_joined
        days = [d for d, _, _ in visits]
        k = bisect.bisect_right(days, at) - 1
        _, r, row = visits[max(k, 0)]
        age_band, sex, criteria, risk_band = covariates[r][row]
        out.append(
            Subject(
                id=pid,
                joined=day_joined,
                age_band=age_band,
                sex=sex,
                criteria=criteria,
                risk_band=risk_band,
                interventions=received.get(pid, frozenset()),
                use=use[pid],
                cohort_runs=frozenset(days),
            )
        )
    return tuple(out)


def evaluate_locality(
    db: sqlite_utils.Database, locality_id: str, quarter: Quarter, follow_up: int = 4, **options
) -> Evaluation:
    """The outcomes comparison of the patients who joined the locality's caseload in *quarter*."""
    return evaluate(subjects(db, locality_id, quarter, follow_up), quarter, follow_up, **options)


def _joined(db: sqlite_utils.Database, locality_id: str) -> dict[str, dt.date]:
    """Patient id -> the first day of their first spell on the caseload (UNKNOWN_DAY when no history says)."""
    spells = caseload_history.spells(db, locality_id, "on caseload")
    first: dict[str, dt.date] = {}
    for pid, start in zip(spells["id"], spells["start"], strict=True):
        day = dt.date.fromisoformat(start) if start else UNKNOWN_DAY
        first[pid] = min(first.get(pid, day), day)
    return first


def _interventions(
    db: sqlite_utils.Database, locality_id: str, joined: dict[str, dt.date], until: dt.date
) -> dict[str, frozenset[str]]:
    """The types each joiner received from joining to the end of the follow-up."""
    found: dict[str, set[str]] = defaultdict(set)
    for pid, kind, day in db.execute(
        "SELECT patient_id, type, delivered_on FROM interventions WHERE locality_id = ? AND delivered_on <= ?",
        [locality_id, until.isoformat()],
    ):
        start = joined.get(pid)
        if start is not None and day[:10] >= start.isoformat():
            found[pid].add(kind)
    return {pid: frozenset(kinds) for pid, kinds in found.items()}


def _risk_cuts(tables) -> tuple[np.ndarray, np.ndarray]:
    """Quartiles of the cohort's probability of unplanned admission over every run (and of predicted cost, for
    rows without one), so a band means the same in every run."""

    def cuts(name: str) -> np.ndarray:
        values = [t[name].drop_null().to_numpy(zero_copy_only=False) for t in tables]
        pooled = np.concatenate(values) if values else np.zeros(0)
        return np.quantile(pooled, [0.25, 0.5, 0.75]) if pooled.size else np.zeros(3)

    return cuts("prob_unplanned_admission"), cuts("predicted_cost")


def _covariates(day: dt.date, table, score_cuts: np.ndarray, cost_cuts: np.ndarray) -> list[tuple]:
    """(age band, sex, criteria, risk band) of each row of a run's cohort, as at the run's extract date."""
    ages = ages_on(day, table["date_of_birth"].to_numpy(zero_copy_only=False))
    age_band = [AGE_BANDS[i][2] for i in age_band_index(ages).tolist()]
    prob = table["prob_unplanned_admission"].to_numpy(zero_copy_only=False)
    cost = table["predicted_cost"].to_numpy(zero_copy_only=False)
    by_score = np.searchsorted(score_cuts, np.nan_to_num(prob), side="right")
    by_cost = np.searchsorted(cost_cuts, cost, side="right")
    # A patient with no probability is banded by predicted cost, and labelled so: the two scales never share a band.
    risk = [
        RISK_BANDS[s] if not np.isnan(p) else f"{RISK_BANDS[c]} (by cost)"
        for s, c, p in zip(by_score.tolist(), by_cost.tolist(), prob.tolist(), strict=True)
    ]
    criteria = [frozenset(c or "") for c in table["criteria"].to_pylist()]
    sex = [s or "U" for s in table["sex"].to_pylist()]
    return list(zip(age_band, sex, criteria, risk, strict=True))
