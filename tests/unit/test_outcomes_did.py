"""Difference in differences worked by hand on a ten-patient world, and what the result says when data are thin.

The world (runs quarterly from 1 April 2024; joiners of 2024/25 Q1 measured a year on, at 1 April 2025):

    stratum A (75-84, F, 3–4 admissions before)  joiners T1 3→1, T2 4→3     controls C1 3→2, C2 4→4, C3 3→4
    stratum B (85+, M, 5+ before)                joiner  T3 6→3             controls C4 5→4, C5 6→3
    stratum of T4 (18-64, F, none before)        joiner  T4 0→1             no control: unmatched

By hand: matched joiners' mean change (−2 −1 −3)/3 = −2; controls' change 0 in A and −2 in B, weighted by the
joiners' shares 2/3 and 1/3: −2/3; estimate −2 − (−2/3) = −4/3. Variance Σ π_s²(v_T/n_T + v_C/n_C):
A (4/9)(0.5/2 + 1/3) = 7/27; B (1/9)(0.5/1 + 2/2) = 1/6, T3 alone taking A's joiners' variance 0.5; total 23/54.
Naive before/after, all four joiners: (−2 −1 −3 +1)/4 = −5/4.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from desktop.models.outcomes import Subject, evaluate
from desktop.models.outcomes.runs import quarters_on
from desktop.models.quarters import Quarter
from desktop.models.stats.ci import z_for

RUNS = tuple(dt.date(*d) for d in ((2024, 4, 1), (2024, 7, 1), (2024, 10, 1), (2025, 1, 1), (2025, 4, 1)))
PERIOD = Quarter(2024, 1)
ADM = "emergency_admissions"


def person(pid, before, after, joined=None, age="75-84", sex="F", interventions=(), cohort_runs=RUNS):
    use = {RUNS[0]: before, RUNS[-1]: after}
    return Subject(
        id=pid,
        joined=joined,
        age_band=age,
        sex=sex,
        criteria=frozenset({"F"}),
        risk_band="high",
        interventions=frozenset(interventions),
        use={ADM: {run: v for run, v in use.items() if v is not None}},
        cohort_runs=frozenset(cohort_runs),
    )


def hand_world(*extra):
    b = {"age": "85+", "sex": "M"}
    return [
        person("T1", 3, 1, dt.date(2024, 5, 10), interventions={"falls assessment"}),
        person("T2", 4, 3, dt.date(2024, 6, 30), interventions={"falls assessment", "care-plan review"}),
        person("T3", 6, 3, dt.date(2024, 4, 1), interventions={"care-plan review"}, **b),
        person("T4", 0, 1, dt.date(2024, 5, 1), age="18-64"),
        person("C1", 3, 2),
        person("C2", 4, 4),
        person("C3", 3, 4),
        person("C4", 5, 4, **b),
        person("C5", 6, 3, **b),
        person("C6", 2, 2, dt.date(2025, 6, 1), age="65-74"),  # joined after the follow-up run: still a control
        # Not controls: joined before the follow-up run; not in the cohort at the baseline run; joined earlier.
        person("X1", 3, 0, dt.date(2025, 2, 1)),
        person("X2", 4, 0, cohort_runs=RUNS[1:]),
        person("X3", 3, 3, dt.date(2024, 1, 15)),
        *extra,
    ]


def admissions(subjects, **kw):
    return evaluate(subjects, PERIOD, outcomes=[ADM], **kw).outcome(ADM)


def test_the_estimate_interval_and_naive_figure_match_the_hand_working():
    r = admissions(hand_world(), min_treated=2)
    o = r.overall
    assert o.estimate == pytest.approx(-4 / 3)
    assert (o.treated_change, o.control_change) == pytest.approx((-2, -2 / 3))
    assert o.se == pytest.approx(math.sqrt(23 / 54))
    assert (o.ci_low, o.ci_high) == pytest.approx((-4 / 3 - z_for(0.95) * o.se, -4 / 3 + z_for(0.95) * o.se))
    assert o.naive_estimate == pytest.approx(-5 / 4)
    assert (o.treated, o.matched, o.unmatched) == (4, 3, 1)
    assert (r.controls, r.controls_matched) == (6, 5)  # C1–C6 eligible; X1–X3 not


def test_each_intervention_is_compared_with_the_same_matched_controls():
    groups = {g.intervention: g.result for g in admissions(hand_world(), min_treated=2).by_intervention}
    falls, review = groups["falls assessment"], groups["care-plan review"]
    # Falls: T1 and T2, both in A, against A's controls (mean change 0).
    assert falls.estimate == pytest.approx(-1.5)
    assert falls.se == pytest.approx(math.sqrt(0.5 / 2 + 1 / 3))
    # Care-plan review: T2 (A) and T3 (B), half each: −2 − (0/2 − 2/2) = −1; with no stratum holding two of its
    # joiners, their own variance (2) stands in: (1/4)(2 + 1/3) + (1/4)(2 + 2/2) = 4/3.
    assert review.estimate == pytest.approx(-1)
    assert review.se == pytest.approx(math.sqrt(4 / 3))
    assert review.naive_estimate == pytest.approx(-2)


def test_fewer_than_ten_matched_joiners_are_reported_as_too_few_not_estimated():
    r = admissions(hand_world())
    assert r.status == "too few"
    assert r.overall.estimate is None and r.overall.ci_low is None and r.overall.naive_estimate is None
    assert (r.overall.matched, r.overall.unmatched) == (3, 1)  # the counts are still reported
    row = r.as_json()
    assert row["estimate"] is None and row["matched"] == 3
    assert all(g["status"] == "too few" for g in row["by_intervention"])


def test_ten_matched_joiners_are_enough():
    more = [person(f"T{n}", 3, 2, dt.date(2024, 5, 1)) for n in range(5, 12)]  # 7 more in stratum A: 10 matched
    r = admissions(hand_world(*more))
    assert r.status == "estimated" and r.overall.matched == 10 and r.overall.estimate is not None


def test_a_joiner_whose_run_did_not_record_the_follow_up_is_left_out_and_counted():
    r = admissions(hand_world(person("T9", 5, None, dt.date(2024, 5, 2)), person("C9", None, 2)), min_treated=2)
    assert r.no_data == 1
    assert r.overall.estimate == pytest.approx(-4 / 3)  # neither T9 nor C9 changes the comparison
    assert r.controls == 6


def test_joiners_whose_follow_up_run_has_not_happened_yet_await_follow_up():
    late = person("T8", 3, None, dt.date(2024, 8, 1))  # 2024/25 Q2: four quarters on is July 2025, no run yet
    r = evaluate(hand_world(late), Quarter(2024, 2), outcomes=[ADM]).outcome(ADM)
    assert r.status == "awaiting follow-up" and r.no_data == 1


def test_a_run_a_few_weeks_late_still_counts_as_the_follow_up_but_a_missing_one_does_not():
    late = (RUNS[0], dt.date(2025, 4, 20))
    assert quarters_on(late, RUNS[0], 4) == dt.date(2025, 4, 20)
    assert quarters_on((RUNS[0], dt.date(2025, 6, 1)), RUNS[0], 4) is None
    assert quarters_on(RUNS, RUNS[-1], -4) == RUNS[0]


def test_a_quarter_nobody_joined_in_says_so_and_still_gives_valid_json():
    result = evaluate(hand_world(), Quarter(2024, 3), outcomes=[ADM])
    assert result.outcome(ADM).status == "no joiners"
    (row,) = json.loads(json.dumps(result.as_json(), allow_nan=False))["outcomes"]
    assert row["estimate"] is None and row["matched"] == 0 and row["by_intervention"] == []


def test_the_follow_up_must_be_two_to_four_quarters():
    with pytest.raises(ValueError, match="2, 3 or 4"):
        evaluate(hand_world(), PERIOD, follow_up_quarters=5)


def test_the_json_has_the_fields_the_command_line_promises_and_no_patient():
    result = evaluate(hand_world(), PERIOD, min_treated=2).as_json()
    text = json.dumps(result, allow_nan=False)
    assert result["period"] == "2024-25-Q1" and result["follow_up_quarters"] == 4
    (row,) = result["outcomes"]  # only admissions were recorded, so only admissions are reported
    for key, kind in {"outcome": str, "estimate": float, "ci_low": float, "ci_high": float}.items():
        assert isinstance(row[key], kind)
    assert isinstance(row["naive_estimate"], float) and (row["matched"], row["unmatched"]) == (3, 1)
    assert {g["intervention"] for g in row["by_intervention"]} == {"falls assessment", "care-plan review"}
    assert not any(f'"{pid}"' in text for pid in ("T1", "T2", "T3", "T4", "C1", "C6"))
