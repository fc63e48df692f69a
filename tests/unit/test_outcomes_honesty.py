"""Issue 27 point 5: the method finds no effect where there is none, finds the effect where there is one, and the
naive before/after figure beside it shows the bias it removes.

Each world (outcomes.simulate) is a cohort of 2,000 patients whose teams pick about 60 a quarter at a peak of
admissions. Fifty seeded worlds with no effect and fifty where joining cuts admissions by 0.4 a year; each is
evaluated for its third joining quarter over a four-quarter follow-up, as the app would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from desktop.models.outcomes import evaluate
from desktop.models.outcomes.simulate import simulate

ADM = "emergency_admissions"
SEEDS = range(50)
MODEST = -0.4  # admissions a year per patient on the caseload


@dataclass(frozen=True)
class Run:
    truth: float
    estimate: float
    ci_low: float
    ci_high: float
    naive: float
    naive_ci_high: float

    @property
    def covers(self) -> bool:
        return self.ci_low <= self.truth <= self.ci_high


def runs(effect: float) -> list[Run]:
    out = []
    for seed in SEEDS:
        world = simulate(seed, effect_per_year=effect, outcomes=(ADM,))
        period = world.joining[2]
        r = evaluate(world.subjects, period, outcomes=[ADM]).outcome(ADM).overall
        truth = world.true_effect(period)
        out.append(Run(truth, r.estimate, r.ci_low, r.ci_high, r.naive_estimate, r.naive_ci_high))
    return out


@pytest.fixture(scope="module")
def no_effect():
    return runs(0.0)


@pytest.fixture(scope="module")
def modest_effect():
    return runs(MODEST)


def test_with_no_true_effect_the_interval_covers_zero_in_at_least_90_percent_of_worlds(no_effect):
    assert all(r.truth == 0 for r in no_effect)
    assert np.mean([r.covers for r in no_effect]) >= 0.9


def test_with_no_true_effect_the_method_rarely_claims_a_benefit(no_effect):
    assert np.mean([r.ci_high < 0 for r in no_effect]) <= 0.05


def test_the_naive_before_after_figure_finds_a_large_fall_where_there_is_none(no_effect):
    naive = np.mean([r.naive for r in no_effect])
    did = np.mean([r.estimate for r in no_effect])
    assert naive < -1.0  # regression to the mean, reported as a benefit of more than one admission a year
    assert abs(did) < 0.25  # the matched comparison removes it
    assert np.mean([r.naive_ci_high < 0 for r in no_effect]) >= 0.75  # its interval mostly excludes zero too


def test_with_a_modest_true_effect_the_interval_covers_it_in_at_least_90_percent_of_worlds(modest_effect):
    # The true effect on the follow-up year is a little under 0.4: the quarter of joining is only partly on the
    # caseload.
    assert all(-0.4 < r.truth < -0.3 for r in modest_effect)
    assert np.mean([r.covers for r in modest_effect]) >= 0.9


def test_with_a_modest_true_effect_the_estimate_is_right_on_average_and_the_naive_one_is_not(modest_effect):
    truth = np.mean([r.truth for r in modest_effect])
    assert np.mean([r.estimate for r in modest_effect]) == pytest.approx(truth, abs=0.25)
    assert np.mean([r.naive for r in modest_effect]) < truth - 1.0
