"""Joiners against a fair comparison group: Coarsened Exact Matching with ATT weights, and its balance table.

Treated are the patients who joined the caseload in the period; each is measured from the run at or just before
joining (their baseline run) to the run `follow_up_quarters` later. Eligible controls are patients in the cohort at
that same baseline run who had not joined by the follow-up run, measured over the same two runs, so both groups
live through the same calendar.

Matching is exact on age band, sex, the set of cohort criteria met, risk band, the baseline run and a band of
prior-year use of the outcome (0, 1, 2, 3–4, 5+ for counts; 0 then quartiles of the non-zero values for bed days
and cost), because prior use is what picks patients at a peak and what regression to the mean works on. Every
other outcome is matched on the prior emergency admissions' band as well: teams pick patients at a peak of
admissions, and bed days and cost fall back with them (matched on their own quartiles alone, the demo world's
known effect on them came out several times too large). A
stratum with joiners and no control leaves its joiners *unmatched*; they are counted and left out, not forced onto
a poor match. Within a stratum with both, each control gets the weight (m_C / m_T)·(m_T^s / m_C^s), so the
weighted controls have the joiners' mix of strata: the average effect on the treated (ATT) of Iacus, King & Porro,
"Causal inference without balance checking: Coarsened Exact Matching", Political Analysis 20(1), 2012.

The balance table compares joiners with all eligible controls (before) and matched joiners with weighted matched
controls (after), as standardised mean differences on the before-matching spread; |SMD| < 0.1 is the usual mark
of balance (REFERENCE.md §11, after the Improvement Analytics Unit's technical appendices).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .records import COUNT_OUTCOMES, Subject, criteria_label
from .runs import baseline as baseline_run
from .runs import quarters_on

COUNT_BANDS = ((0, "0"), (1, "1"), (2, "2"), (3, "3–4"), (5, "5+"))  # (lowest value, label)
_COUNT_LOWS = [low for low, _ in COUNT_BANDS]
ADMISSIONS = "emergency_admissions"


@dataclass(frozen=True)
class Unit:
    """One subject measured for one outcome: use in the year before the baseline run and before the follow-up."""

    subject: Subject
    treated: bool
    baseline: dt.date
    follow_up: dt.date
    before: float
    after: float
    prior_band: str = ""
    admissions_band: str = ""  # prior emergency admissions, for the other outcomes ("" when not recorded)

    @property
    def change(self) -> float:
        return self.after - self.before

    @functools.cached_property  # the key of every lookup in matching and estimating
    def stratum(self) -> tuple:
        s = self.subject
        return (
            self.baseline,
            s.age_band,
            s.sex,
            criteria_label(s.criteria),
            s.risk_band,
            self.prior_band,
            self.admissions_band,
        )


@dataclass(frozen=True)
class Matching:
    """The outcome's treated and controls with data, the strata they share and each matched control's weight."""

    outcome: str
    treated: tuple[Unit, ...]  # joiners with a value at both runs, matched or not
    controls: tuple[Unit, ...]  # eligible controls with a value at both runs
    matched: tuple[Unit, ...]  # joiners in a stratum with at least one control
    unmatched: tuple[Unit, ...]
    control_weights: dict[int, float]  # index into controls -> ATT weight, matched controls only
    no_data: int  # joiners without a baseline or follow-up value (no run, or the run did not record it)

    def matched_controls(self) -> list[tuple[Unit, float]]:
        return [(self.controls[i], w) for i, w in self.control_weights.items()]

    def controls_by_stratum(self) -> dict[tuple, list[Unit]]:
        out: dict[tuple, list[Unit]] = defaultdict(list)
        for unit, _ in self.matched_controls():
            out[unit.stratum].append(unit)
        return out


def match(
    subjects: Sequence[Subject],
    first: dt.date,
    last: dt.date,
    outcome: str,
    follow_up_quarters: int,
    runs: tuple[dt.date, ...],
) -> Matching:
    """Match the patients who joined between *first* and *last* (inclusive) for *outcome*."""
    treated, no_data, windows = [], 0, {}
    for s in subjects:
        if not s.joined_between(first, last):
            continue
        unit = _unit(s, True, baseline_run(runs, s.joined), follow_up_quarters, runs, outcome)
        if unit is None:
            no_data += 1
        else:
            treated.append(unit)
            windows[unit.baseline] = unit.follow_up
    controls = [
        unit
        for base, follow_up in sorted(windows.items())
        for s in subjects
        if s.in_cohort(base) and (s.joined is None or s.joined > follow_up)
        if (unit := _unit(s, False, base, follow_up_quarters, runs, outcome)) is not None
    ]
    band = prior_use_bands(outcome, [u.before for u in treated + controls])
    treated = [_banded(u, band, outcome) for u in treated]
    controls = [_banded(u, band, outcome) for u in controls]

    by_stratum: dict[tuple, list[int]] = defaultdict(list)
    for i, unit in enumerate(controls):
        by_stratum[unit.stratum].append(i)
    matched = [u for u in treated if u.stratum in by_stratum]
    unmatched = [u for u in treated if u.stratum not in by_stratum]
    treated_per_stratum: dict[tuple, int] = defaultdict(int)
    for unit in matched:
        treated_per_stratum[unit.stratum] += 1
    matched_control_count = sum(len(by_stratum[k]) for k in treated_per_stratum)
    weights = {}
    for key, m_t in treated_per_stratum.items():
        members = by_stratum[key]
        for i in members:
            weights[i] = (matched_control_count / len(matched)) * (m_t / len(members))
    return Matching(outcome, tuple(treated), tuple(controls), tuple(matched), tuple(unmatched), weights, no_data)


def _unit(
    s: Subject, treated: bool, base: dt.date | None, quarters: int, runs: tuple[dt.date, ...], outcome: str
) -> Unit | None:
    follow_up = quarters_on(runs, base, quarters) if base is not None else None
    before, after = s.value(outcome, base), s.value(outcome, follow_up)
    if before is None or after is None or math.isnan(before) or math.isnan(after):
        return None
    return Unit(s, treated, base, follow_up, float(before), float(after))


def _banded(unit: Unit, band: Callable[[float], str], outcome: str) -> Unit:
    admissions = ""
    if outcome != ADMISSIONS:
        prior = unit.subject.value(ADMISSIONS, unit.baseline)
        admissions = "" if prior is None or math.isnan(prior) else _count_band(prior)
    return dataclasses.replace(unit, prior_band=band(unit.before), admissions_band=admissions)


def _count_band(v: float) -> str:
    return COUNT_BANDS[max(bisect.bisect_right(_COUNT_LOWS, v) - 1, 0)][1]


def prior_use_bands(outcome: str, values: Iterable[float]) -> Callable[[float], str]:
    """The coarsening of prior-year use: fixed count bands, or 0 and quartiles of the pool's non-zero values."""
    if outcome in COUNT_OUTCOMES:
        return _count_band
    positive = np.array([v for v in values if v > 0], dtype=float)
    cuts = np.unique(np.quantile(positive, [0.25, 0.5, 0.75])) if positive.size else np.array([])
    labels = [f"up to {_short(cuts[0])}"] if cuts.size else ["over 0"]
    labels += [f"{_short(a)}–{_short(b)}" for a, b in zip(cuts, cuts[1:], strict=False)]
    labels += [f"over {_short(cuts[-1])}"] if cuts.size else []

    edges = cuts.tolist()

    def band(v: float) -> str:
        if v <= 0:
            return "0"
        return labels[bisect.bisect_left(edges, v)]

    return band


def _short(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.3g}"


@dataclass(frozen=True)
class BalanceRow:
    """One covariate level's share (or prior use's mean) in each group, and the SMD before and after matching."""

    covariate: str
    level: str | None  # None for prior use, compared as a mean
    treated: float
    controls: float
    treated_matched: float
    controls_matched: float
    smd_before: float | None  # None where the spread is 0 and the means differ (an infinite SMD)
    smd_after: float | None

    def as_json(self) -> dict:
        # A group with nobody in it has no mean: null in JSON, where NaN is not allowed.
        return {k: None if _is_nan(v := getattr(self, k)) else v for k in self.__dataclass_fields__}


def _is_nan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


COVARIATES: tuple[tuple[str, Callable[[Unit], str]], ...] = (
    ("age band", lambda u: u.subject.age_band),
    ("sex", lambda u: u.subject.sex),
    ("cohort criteria", lambda u: criteria_label(u.subject.criteria)),
    ("risk band", lambda u: u.subject.risk_band),
)


def balance(m: Matching) -> list[BalanceRow]:
    """The balance table: each level of each matching covariate, then mean prior-year use."""
    pairs = m.matched_controls()
    weights = np.array([w for _, w in pairs])
    groups = (m.treated, m.controls, m.matched, [u for u, _ in pairs])

    def row(covariate: str, level: str | None, t, c, tm, cm) -> BalanceRow:
        spread = math.sqrt((_var(t) + _var(c)) / 2)
        mean_cm = float(np.average(cm, weights=weights)) if cm.size else math.nan
        return BalanceRow(
            covariate,
            level,
            _mean(t),
            _mean(c),
            _mean(tm),
            mean_cm,
            _smd(_mean(t), _mean(c), spread),
            _smd(_mean(tm), mean_cm, spread),
        )

    rows = []
    for covariate, level_of in COVARIATES:
        labels = [np.array([level_of(u) for u in g], dtype=object) for g in groups]
        for level in sorted(set(labels[0]) | set(labels[1])):
            rows.append(row(covariate, level, *((a == level).astype(float) for a in labels)))
    rows.append(row("prior-year use", None, *(np.array([u.before for u in g], dtype=float) for g in groups)))
    return rows


def _mean(a: np.ndarray) -> float:
    return float(a.mean()) if a.size else math.nan


def _var(a: np.ndarray) -> float:
    return float(a.var()) if a.size else 0.0


def _smd(a: float, b: float, spread: float) -> float | None:
    if math.isnan(a) or math.isnan(b):
        return None
    if spread == 0:
        return 0.0 if a == b else None
    return (a - b) / spread
