"""The records the outcomes method reads: one per cohort patient, built from the risk runs and the caseload."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..cohort.extract_layout import USE_COLUMNS

# Each patient's use in the 12 months before a risk run, as the extract gives it (issue 27 point 1).
OUTCOMES = ("emergency_admissions", "ae_attendances", "emergency_bed_days", "cost")
COLUMN = dict(zip(OUTCOMES, USE_COLUMNS, strict=True))  # each outcome's column in the extract and stored runs
COUNT_OUTCOMES = frozenset({"emergency_admissions", "ae_attendances"})  # banded 0, 1, 2, 3–4, 5+ for matching
# How the screens, reports and command line name each outcome; each is a patient's use over 12 months.
LABELS = {
    "emergency_admissions": "Emergency admissions",
    "ae_attendances": "A&E attendances",
    "emergency_bed_days": "Emergency bed days",
    "cost": "Cost of care (£)",
}


@dataclass(frozen=True)
class Subject:
    """One cohort patient, as the comparison sees them.

    The covariates (age band, sex, cohort criteria met, risk-score band) are those of the risk run the period is
    measured from; `use[outcome][run date]` is the trailing-12-month use the extract recorded at that run (None or
    absent where it was not recorded). `cohort_runs` are the runs the patient was in the cohort at; left empty,
    a patient counts as in the cohort at every run that recorded some use for them.
    """

    id: str
    joined: dt.date | None  # the day they joined the caseload; None if never
    age_band: str
    sex: str
    criteria: frozenset[str]  # cohort criteria codes met, e.g. {"F", "M"} (cohort.rules.CRITERIA)
    risk_band: str
    interventions: frozenset[str] = frozenset()  # types received (cohort.caseload.INTERVENTION_TYPES)
    use: Mapping[str, Mapping[dt.date, float | None]] = field(default_factory=dict)
    cohort_runs: frozenset[dt.date] = frozenset()

    def value(self, outcome: str, run: dt.date | None) -> float | None:
        if run is None:
            return None
        return self.use.get(outcome, {}).get(run)

    def in_cohort(self, run: dt.date) -> bool:
        if self.cohort_runs:
            return run in self.cohort_runs
        return any(run in by_run for by_run in self.use.values())

    def joined_between(self, first: dt.date, last: dt.date) -> bool:
        return self.joined is not None and first <= self.joined <= last


@functools.lru_cache(maxsize=256)
def criteria_label(criteria: frozenset[str]) -> str:
    """ "F+M" for frailty and multimorbidity; "none" for a patient in the cohort on no criterion."""
    return "+".join(sorted(criteria)) or "none"


def measured(subjects: Iterable[Subject]) -> list[str]:
    """The outcomes, in OUTCOMES order, that at least one subject has a recorded value for."""
    found = {o for s in subjects for o, by_run in s.use.items() if any(v is not None for v in by_run.values())}
    return [o for o in OUTCOMES if o in found]
