"""Coarsened exact matching: who is compared with whom, the weights, the unmatched, and the balance it buys."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from test_outcomes_did import ADM, PERIOD, RUNS, hand_world

from desktop.models.outcomes import evaluate
from desktop.models.outcomes.matching import balance, match, prior_use_bands
from desktop.models.outcomes.simulate import simulate


@pytest.fixture(scope="module")
def world():
    return simulate(3, outcomes=(ADM,))


def test_controls_are_weighted_to_the_joiners_mix_of_strata():
    m = match(hand_world(), PERIOD.start, PERIOD.end, ADM, 4, RUNS)
    weights = {u.subject.id: w for u, w in m.matched_controls()}
    # 5 matched controls for 3 matched joiners: A's three stand for two joiners, B's two for one.
    assert weights == pytest.approx({"C1": 10 / 9, "C2": 10 / 9, "C3": 10 / 9, "C4": 5 / 6, "C5": 5 / 6})
    assert [u.subject.id for u in m.unmatched] == ["T4"]
    assert sorted(u.subject.id for u in m.controls) == ["C1", "C2", "C3", "C4", "C5", "C6"]


def test_prior_use_is_banded_0_1_2_3to4_5plus_for_counts_and_by_quartile_for_bed_days():
    counts = prior_use_bands(ADM, [])
    assert [counts(v) for v in (0, 1, 2, 3, 4, 5, 17)] == ["0", "1", "2", "3–4", "3–4", "5+", "5+"]
    days = prior_use_bands("emergency_bed_days", [0, 0, 2, 4, 6, 8, 10, 12, 14, 16])
    assert days(0) == "0"
    assert len({days(v) for v in (2, 4, 6, 8, 10, 12, 14, 16)}) == 4  # four bands over the non-zero days
    assert days(2) != days(16)


def test_matching_balances_prior_use_that_was_far_apart(world):
    m = match(world.subjects, world.joining[2].start, world.joining[2].end, ADM, 4, world.runs)
    rows = balance(m)
    prior = next(r for r in rows if r.covariate == "prior-year use")
    assert prior.treated > 2 * prior.controls  # joiners were picked at a peak of admissions
    assert prior.smd_before > 1.0
    # Within the top band (5+) joiners still had a little more than their controls: much smaller, not nothing.
    assert abs(prior.smd_after) < min(0.2, prior.smd_before / 5)
    # Age, sex, criteria and risk band are matched exactly, so after matching each level's share is the same.
    for r in rows:
        if r.level is not None:
            assert r.controls_matched == pytest.approx(r.treated_matched, abs=1e-12)
            assert r.smd_after == pytest.approx(0, abs=1e-9)
    assert max(abs(r.smd_before) for r in rows if r.covariate == "risk band") > 0.3


def test_weights_give_each_stratum_its_share_of_joiners_and_sum_to_the_matched_controls(world):
    m = match(world.subjects, world.joining[2].start, world.joining[2].end, ADM, 4, world.runs)
    pairs = m.matched_controls()
    assert sum(w for _, w in pairs) == pytest.approx(len(pairs))
    joiners = Counter(u.stratum for u in m.matched)
    weighted = defaultdict(float)
    for u, w in pairs:
        weighted[u.stratum] += w
    scale = len(pairs) / len(m.matched)
    assert weighted == pytest.approx({k: n * scale for k, n in joiners.items()})
    stratum_of_controls = {u.stratum for u in m.controls}
    assert m.unmatched and all(u.stratum not in stratum_of_controls for u in m.unmatched)
    assert all(u.stratum in stratum_of_controls for u in m.matched)


def test_the_chart_shows_the_peak_and_the_fall_in_both_groups(world):
    r = evaluate(world.subjects, world.joining[2], outcomes=[ADM]).outcome(ADM)
    points = {p.quarter: p for p in r.series}
    assert sorted(points) == list(range(-4, 5))
    # Joiners were picked at their peak, and matched controls were at the same level then, so both fall after.
    assert points[0].treated == max(p.treated for p in r.series)
    assert points[0].controls == pytest.approx(points[0].treated, abs=0.5)
    assert points[4].treated < points[0].treated - 1 and points[4].controls < points[0].controls - 1
    assert points[0].treated_n == r.overall.matched and points[0].controls_n == r.controls_matched
