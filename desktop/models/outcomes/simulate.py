"""Synthetic worlds with a known effect of joining the caseload, for the honesty tests and the demo generator.

Each patient has a lasting propensity to use hospital care (higher with age, frailty, multimorbidity and high cost)
and passing spells of worse health (an AR(1) shock each quarter), and is admitted as a Poisson count each quarter.
At each joining quarter's risk run the team picks patients, most likely those with many admissions in the year
before and a high risk band: picked at a peak, their use falls afterwards anyway (regression to the mean), which
is the bias the matched comparison has to remove. After joining, a patient's admission rate changes by
`effect_per_year` a year (pro rata in the quarter they join; a rate never goes below zero); A&E attendances,
bed days and cost follow admissions, so they change in proportion.

`World.true_effect` is the expected change the effect made to the joiners' follow-up year, worked out from their
own simulated rates: what a correct method should find for that period and follow-up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ..quarters import Quarter
from .records import OUTCOMES, Subject

AGE_BANDS = ("18-64", "65-74", "75-84", "85+")
RISK_BANDS = ("low", "moderate", "high", "very high")
INTERVENTIONS = {  # the share of joiners who receive each type
    "care-plan review": 0.9,
    "structured medication review": 0.5,
    "falls assessment": 0.3,
    "social prescribing": 0.25,
    "advance care plan": 0.15,
    "carer assessment": 0.1,
}
FIRST_RUN = Quarter(2023, 1)  # a fixed calendar: a world never depends on the day it is built
VIA_AE = 0.8  # the share of emergency admissions that came through A&E
OTHER_AE = 0.6  # A&E attendances not admitted, per expected admission
STAY = 5.0  # mean extra bed days per admission (a stay is 1 + Poisson(5) days)
COST = {"admission": 1800.0, "bed_day": 350.0, "ae": 180.0}  # £, a flat tariff
PER_ADMISSION = {  # the expected change in each outcome per admission avoided
    "emergency_admissions": 1.0,
    "ae_attendances": VIA_AE,
    "emergency_bed_days": 1 + STAY,
    "cost": COST["admission"] + COST["bed_day"] * (1 + STAY) + COST["ae"] * VIA_AE,
}


@dataclass(frozen=True)
class World:
    subjects: tuple[Subject, ...]
    effect_per_year: float  # on emergency admissions, per joiner, once on the caseload
    runs: tuple[dt.date, ...]
    joining: tuple[Quarter, ...]
    expected: dict[tuple[str, int], float]  # (joining quarter code, follow-up quarters) -> admissions effect

    def true_effect(self, period: Quarter, follow_up_quarters: int = 4, outcome: str = "emergency_admissions") -> float:
        """The mean change the effect made to the period's joiners' follow-up year of *outcome*."""
        return self.expected[(period.code, follow_up_quarters)] * PER_ADMISSION[outcome]


def simulate(
    seed: int,
    patients: int = 2000,
    effect_per_year: float = 0.0,
    first_run: Quarter = FIRST_RUN,
    runs: int = 12,
    joining: tuple[int, ...] = (2, 3, 4, 5, 6, 7),
    joiners_per_quarter: int = 60,
    missing: float = 0.01,
    outcomes: tuple[str, ...] = OUTCOMES,
) -> World:
    """A cohort of *patients* seen at *runs* quarterly risk runs from *first_run*; joiners picked at the runs
    numbered in *joining* (0 = the first run). Each run records the previous four quarters' use; *missing* is
    the chance that a run did not record a given value. Only *outcomes* are recorded on the subjects."""
    rng = np.random.default_rng([seed, patients, runs])
    n, quarters = patients, runs + 4  # four quarters of history before the first run
    age = rng.choice(len(AGE_BANDS), n, p=[0.15, 0.3, 0.35, 0.2])
    male = rng.random(n) < 0.45
    frail = rng.random(n) < 0.2 + 0.2 * age
    multi = rng.random(n) < 0.5
    costly = rng.random(n) < 0.2
    multi |= ~(frail | costly)  # everyone in the cohort meets at least one criterion
    log_mu = np.log(0.8) + 0.25 * age + 0.1 * male + 0.3 * frail + 0.3 * multi + 0.4 * costly + rng.normal(0, 0.5, n)
    score = log_mu + rng.normal(0, 0.3, n)
    risk = np.searchsorted(np.quantile(score, [0.25, 0.5, 0.75]), score)

    shocks = np.empty((n, quarters))
    shocks[:, 0] = rng.normal(0, 0.5 / np.sqrt(1 - 0.6**2), n)
    for q in range(1, quarters):
        shocks[:, q] = 0.6 * shocks[:, q - 1] + rng.normal(0, 0.5, n)
    rate = np.exp(log_mu)[:, None] / 4 * np.exp(shocks - 0.5**2 / (1 - 0.6**2) / 2)

    calendar = [first_run]
    for _ in range(runs - 1):
        calendar.append(calendar[-1].next())
    run_dates = tuple(
        q.start + dt.timedelta(days=int(d)) for q, d in zip(calendar, rng.integers(0, 15, runs), strict=True)
    )

    joined_at = np.full(n, -1)
    joined_on: list[dt.date | None] = [None] * n
    exposure = np.zeros((n, quarters))  # the share of each quarter spent on the caseload
    admissions_before = rng.poisson(rate)  # counts as they would be with no caseload, for picking joiners
    for r in joining:
        prior = admissions_before[:, r : r + 4].sum(axis=1)
        free = np.flatnonzero(joined_at < 0)
        pull = np.exp(0.6 * np.minimum(prior[free], 5) + 0.3 * risk[free])
        picked = rng.choice(free, min(joiners_per_quarter, free.size), replace=False, p=pull / pull.sum())
        start, end = run_dates[r], calendar[r].end
        for i in picked:
            day = start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))
            joined_at[i], joined_on[i] = r, day
            exposure[i, r + 4] = ((end - day).days + 1) / ((end - calendar[r].start).days + 1)
            exposure[i, r + 5 :] = 1.0
    treated_rate = np.maximum(rate + effect_per_year / 4 * exposure, 0.0)
    # Untreated quarters keep the counts joiners were picked on; treated quarters are drawn at the changed rate.
    admissions = np.where(exposure > 0, rng.poisson(treated_rate), admissions_before)
    ae = rng.binomial(admissions, VIA_AE) + rng.poisson(OTHER_AE * rate)
    bed_days = admissions + rng.poisson(STAY * admissions)
    cost = COST["admission"] * admissions + COST["bed_day"] * bed_days + COST["ae"] * ae

    expected = {}
    for r in joining:
        members = joined_at == r
        for k in (2, 3, 4):
            if r + k < runs:
                window = slice(r + k, r + k + 4)  # the run at r + k records quarters r + k - 4 .. r + k - 1
                gain = (treated_rate - rate)[members, window].sum(axis=1)
                expected[(calendar[r].code, k)] = float(gain.mean()) if gain.size else 0.0

    def trailing(per_quarter: np.ndarray) -> np.ndarray:
        window = np.cumsum(np.pad(per_quarter, ((0, 0), (1, 0))), axis=1)
        return window[:, 4:] - window[:, :-4]  # column r: the four quarters before run r

    use = {
        "emergency_admissions": trailing(admissions),
        "ae_attendances": trailing(ae),
        "emergency_bed_days": trailing(bed_days),
        "cost": trailing(cost),
    }
    recorded = rng.random((len(use), n, runs)) >= missing
    lists = {
        name: (values[:, :runs].astype(float).tolist(), recorded[o].tolist())
        for o, (name, values) in enumerate(use.items())
        if name in outcomes
    }
    given = frozenset(run_dates)
    labels = {  # one frozenset per combination of criteria, not one per patient
        key: frozenset(c for c, met in zip("FMC", key, strict=True) if met)
        for key in {(f, m, c) for f, m, c in zip(frail.tolist(), multi.tolist(), costly.tolist(), strict=True)}
    }
    per_patient = zip(
        age.tolist(), male.tolist(), frail.tolist(), multi.tolist(), costly.tolist(), risk.tolist(), strict=True
    )
    subjects = tuple(
        Subject(
            id=f"P{i:05d}",
            joined=joined_on[i],
            age_band=AGE_BANDS[a],
            sex="M" if m else "F",
            criteria=labels[(f, mm, c)],
            risk_band=RISK_BANDS[rb],
            interventions=frozenset(t for t, p in INTERVENTIONS.items() if rng.random() < p)
            if joined_on[i] is not None
            else frozenset(),
            use={name: _recorded(run_dates, values[i], kept[i]) for name, (values, kept) in lists.items()},
            cohort_runs=given,
        )
        for i, (a, m, f, mm, c, rb) in enumerate(per_patient)
    )
    return World(subjects, effect_per_year, run_dates, tuple(calendar[r] for r in joining), expected)


def _recorded(run_dates: tuple[dt.date, ...], values: list[float], kept: list[bool]) -> dict[dt.date, float]:
    return {day: v for day, v, keep in zip(run_dates, values, kept, strict=True) if keep}
