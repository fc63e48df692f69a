"""The SPC engine against REFERENCE.md §1.6's vectors and hand-made series for each rule (§1.2–§1.5)."""

from __future__ import annotations

import pytest

from desktop.models.stats import spc
from desktop.models.stats.spc import Rules, analyse

# Twelve points alternating 11 and 9: mean 10, AMR 2, so with baseline=12 the limits are held at
# UPL 15.32 / LPL 4.68 and the 2σ lines at 13.547 / 6.453 whatever follows. Alternation itself signals nothing.
BASE = [11.0, 9.0] * 6  # ends below the mean, so a tail above it starts a fresh run


def held(tail, **kw):
    return analyse(BASE + list(tail), baseline=12, **kw)


def flagged(result, rule):
    """1-based positions of the points a rule flags, as REFERENCE numbers them."""
    return [i + 1 for i, p in enumerate(result.points) if rule in p.rules]


def special(result):
    return [i + 1 for i, p in enumerate(result.points) if p.special_cause]


# --- REFERENCE §1.6 test vectors -------------------------------------------------------------------------------

VECTOR_1 = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]


def test_vector_1_screened_moving_ranges():
    r = analyse(VECTOR_1, screened=True)
    assert r.mean == pytest.approx(1.9444, abs=5e-5)
    assert r.amr == pytest.approx(1.0, abs=5e-6)  # the moving ranges 8 and 9 are screened out
    assert r.upl == pytest.approx(4.6044, abs=5e-5)
    assert r.lpl == pytest.approx(-0.7156, abs=5e-5)
    assert special(r) == [5]
    assert r.points[4].rules[0] == "astro" and r.points[4].point_type == "special_cause_neutral_high"


def test_vector_1_unscreened_is_the_excel_default():
    r = analyse(VECTOR_1)
    assert r.amr == pytest.approx(1.88235, abs=5e-6)
    assert r.upl == pytest.approx(6.9515, abs=5e-5)
    assert r.lpl == pytest.approx(-3.0626, abs=5e-5)
    assert special(r) == [5]


def test_vector_2_shift_of_seven_above_the_mean():
    r = analyse([10, 12, 9, 11, 10, 12, 9, 11, 10, 13, 13, 12, 13, 12, 13, 13, 10, 9, 11])
    assert r.mean == pytest.approx(11.211, abs=5e-4)
    assert r.upl == pytest.approx(15.496, abs=5e-4)
    assert special(r) == list(range(10, 17))
    assert flagged(r, "shift") == list(range(10, 17))
    assert {r.points[i - 1].point_type for i in range(10, 17)} == {"special_cause_neutral_high"}


def test_vector_3_trend_of_seven_increasing():
    r = analyse(
        [20, 26, 18, 24, 19, 27, 21, 25, 18, 23, 17, 18, 19, 20, 21, 22, 24, 21, 25, 19], improvement="increase"
    )
    assert r.mean == pytest.approx(21.35, abs=5e-3)
    assert r.amr == pytest.approx(4.2632, abs=5e-5)
    assert r.upl == pytest.approx(32.69, abs=5e-3)
    assert special(r) == list(range(11, 18))
    assert flagged(r, "trend") == list(range(11, 18))
    # Direction from the slope (bugs #167/#171): points 11–13 are below the mean yet part of a rise.
    assert {r.points[i - 1].point_type for i in range(11, 18)} == {"special_cause_improvement"}


def test_vector_4_precedence_outside_limits_before_trend():
    # The vector's LPL 6.147 is NHSRplotthedots' default, screened moving ranges (unscreened it is 5.61).
    r = analyse([10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 5, 6, 7, 8, 9, 10, 11, 10, 9, 10], screened=True)
    assert r.lpl == pytest.approx(6.147, abs=5e-4)
    assert [i + 1 for i, p in enumerate(r.points) if p.rules[:1] == ["astro"]] == [11, 12]
    assert [i + 1 for i, p in enumerate(r.points) if p.rules[:1] == ["trend"]] == [13, 14, 15, 16, 17]
    assert r.points[10].point_type == "special_cause_neutral_low"  # labelled "Below LCL", not by the rising trend
    assert r.points[12].point_type == "special_cause_neutral_high"


def test_vector_5_two_in_three_flags_only_the_points_beyond_two_sigma():
    r = analyse([20, 22, 19, 21, 20, 22, 19, 21, 20, 22, 19, 21, 26, 22, 26, 21, 20, 22, 19, 21, 20, 22])
    assert r.mean == pytest.approx(21.136, abs=5e-4)
    assert r.upper_2sigma == pytest.approx(25.527, abs=5e-4)
    assert r.upl == pytest.approx(27.723, abs=5e-4)
    assert special(r) == [13, 15]
    assert flagged(r, "two_in_three") == [13, 15]
    assert r.points[13].point_type == "common_cause"


def test_always_100_percent_passes_a_95_target_with_common_cause():
    # PowerBI-SPC#463 (REFERENCE §1.4): AMR = 0, so UPL = LPL = mean = 100.
    r = analyse([100.0] * 15, improvement="increase", target=95)
    assert (r.mean, r.upl, r.lpl) == (100.0, 100.0, 100.0)
    assert r.assurance_icon == "consistent_pass"
    assert r.variation_icon == "common_cause"
    assert special(r) == []


def test_float_rounding_in_a_constant_series_is_not_a_signal():
    # math.fsum([95.3] * 13) / 13 is 95.29999999999998: without a tolerance every point would sit "above UCL".
    r = analyse([95.3] * 13, improvement="increase", target=95.3)
    assert special(r) == []
    assert r.variation_icon == "common_cause"
    assert r.assurance_icon == "consistent_fail"  # a target on the (flat) limits: checked against UPL first


# --- each rule firing and not firing ----------------------------------------------------------------------------


def test_held_limits_come_from_the_baseline_only():
    r = held([30.0])
    assert (r.mean, r.amr) == (10.0, 2.0)
    assert r.upl == pytest.approx(15.32) and r.lpl == pytest.approx(4.68)
    assert r.upper_2sigma == pytest.approx(13.5467, abs=5e-5) and r.lower_2sigma == pytest.approx(6.4533, abs=5e-5)
    assert special(r) == [13]  # points after the baseline are classified against the held limits


def test_baseline_below_twelve_points_is_refused():
    with pytest.raises(ValueError, match="baseline"):
        analyse(BASE + [10.0], baseline=11)


def test_astro_fires_beyond_a_limit_and_not_on_it():
    assert flagged(held([16.0]), "astro") == [13]
    assert flagged(held([3.0]), "astro") == [13]
    upl = held([10.0]).upl
    assert flagged(held([upl]), "astro") == []
    assert flagged(held([15.0]), "astro") == []


def test_shift_fires_on_seven_and_not_on_six():
    assert flagged(held([11.0] * 7), "shift") == list(range(13, 20))
    assert flagged(held([11.0] * 6 + [9.0]), "shift") == []
    assert flagged(held([9.0] * 6), "shift") == list(range(12, 19))  # the baseline's last point counts too
    assert flagged(held([9.0] * 5), "shift") == []


def test_a_point_on_the_mean_breaks_a_shift():
    assert flagged(held([11.0] * 3 + [10.0] + [11.0] * 3), "shift") == []


def test_trend_fires_on_seven_rising_points_and_not_on_six():
    rising = [8.0, 8.5, 9.0, 9.5, 10.5, 11.0, 11.5]
    assert flagged(held(rising), "trend") == list(range(13, 20))
    assert flagged(held(rising[:6] + [10.0]), "trend") == []


def test_trend_falling_signals_low():
    r = held([11.5, 11.0, 10.5, 9.5, 9.0, 8.5, 8.0], improvement="increase")
    assert flagged(r, "trend") == list(range(13, 20))
    assert r.points[-1].point_type == "special_cause_concern"
    assert r.variation_icon == "concern_low"


def test_a_repeated_value_breaks_a_trend():
    assert flagged(held([8.0, 8.5, 9.0, 9.0, 9.5, 10.5, 11.0, 11.5]), "trend") == []


def test_two_in_three_fires_when_all_three_are_on_one_side():
    assert flagged(held([14.0, 12.0, 14.0]), "two_in_three") == [13, 15]
    assert flagged(held([6.0, 8.0, 6.0]), "two_in_three") == [13, 15]


def test_two_in_three_does_not_fire_across_the_mean_or_with_one_point_beyond():
    assert flagged(held([14.0, 9.0, 14.0]), "two_in_three") == []
    assert flagged(held([14.0, 12.0, 12.0]), "two_in_three") == []


def test_two_in_three_counts_points_beyond_the_limits_since_2023():
    r = held([16.0, 12.0, 14.0])
    assert flagged(r, "two_in_three") == [13, 15]
    assert r.points[12].rules == ["astro", "two_in_three"]
    old = held([16.0, 12.0, 14.0], rules=Rules(two_in_three="nhsr"))
    assert flagged(old, "two_in_three") == []
    assert special(old) == [13]


def test_rule_lengths_are_configurable():
    assert flagged(held([11.0] * 6, rules=Rules(shift_n=6)), "shift") == list(range(13, 19))
    assert flagged(held([8.0, 8.5, 9.0, 9.5, 10.5], rules=Rules(trend_n=5)), "trend") == list(range(13, 18))


def test_screening_changes_the_limits_only_when_asked():
    spike = [1, 2] * 6 + [12, 1, 2]
    assert analyse(spike, screened=True).amr < analyse(spike).amr


# --- point types and icons ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "point_type", "icon"),
    [
        ("increase", "special_cause_improvement", "improvement_high"),
        ("decrease", "special_cause_concern", "concern_high"),
        ("neutral", "special_cause_neutral_high", "neutral_high"),
    ],
)
def test_a_high_latest_point(improvement, point_type, icon):
    r = held([16.0], improvement=improvement)
    assert r.points[-1].point_type == point_type
    assert r.variation_icon == icon


@pytest.mark.parametrize(
    ("improvement", "point_type", "icon"),
    [
        ("increase", "special_cause_concern", "concern_low"),
        ("decrease", "special_cause_improvement", "improvement_low"),
        ("neutral", "special_cause_neutral_low", "neutral_low"),
    ],
)
def test_a_low_latest_point(improvement, point_type, icon):
    r = held([3.0], improvement=improvement)
    assert r.points[-1].point_type == point_type
    assert r.variation_icon == icon


def test_variation_icon_reflects_the_latest_point_only():
    r = held([16.0, 10.0], improvement="increase")
    assert r.points[12].special_cause
    assert r.variation_icon == "common_cause"


def test_trial_limits_and_no_icons_below_thirteen_points():
    short = analyse(BASE[:11] + [30.0], improvement="increase", target=0)
    assert short.trial_limits
    assert (short.variation_icon, short.assurance_icon) == (None, None)
    assert short.points[-1].special_cause  # points are still classified against trial limits
    full = analyse(BASE + [30.0], improvement="increase", target=0)
    assert not full.trial_limits
    assert (full.variation_icon, full.assurance_icon) == ("improvement_high", "consistent_pass")
    assert analyse(BASE[:10], rules=Rules(min_points=10)).variation_icon == "common_cause"


def test_assurance_boundaries_are_inclusive():
    r = held([10.0])
    upl, lpl = r.upl, r.lpl
    assert held([10.0], improvement="increase", target=upl).assurance_icon == "consistent_fail"
    assert held([10.0], improvement="decrease", target=upl).assurance_icon == "consistent_pass"
    assert held([10.0], improvement="increase", target=lpl).assurance_icon == "consistent_pass"
    assert held([10.0], improvement="decrease", target=lpl).assurance_icon == "consistent_fail"
    assert held([10.0], improvement="increase", target=upl - 0.01).assurance_icon == "inconsistent"
    assert held([10.0], improvement="increase", target=lpl + 0.01).assurance_icon == "inconsistent"


def test_no_assurance_without_a_target_or_a_direction():
    assert held([10.0], improvement="increase").assurance_icon is None
    assert held([10.0], improvement="neutral", target=50).assurance_icon is None


def test_as_json_has_exactly_the_documented_keys():
    data = held([16.0], improvement="increase", target=20).as_json()
    assert set(data) == {"mean", "upl", "lpl", "points", "variation_icon", "assurance_icon", "segments"}
    assert data["points"][-1] == {
        "value": 16.0,
        "special_cause": True,
        "rules": ["astro"],
        "point_type": "special_cause_improvement",
    }
    assert (data["variation_icon"], data["assurance_icon"]) == ("improvement_high", "consistent_fail")


@pytest.mark.parametrize(
    ("values", "kw"),
    [
        ([1.0], {}),
        ([1.0, float("nan")], {}),
        ([1.0, 2.0], {"improvement": "up"}),
    ],
)
def test_bad_input_is_refused(values, kw):
    with pytest.raises(ValueError):
        analyse(values, **kw)


# Rebasing (REFERENCE §1: "each date starts a new group with its own mean and limits").
STEP = [52, 48, 50, 49, 51, 50, 53, 47, 50, 52, 48, 51, 70, 72, 69, 71, 70, 68, 73, 70, 71, 69, 72, 70, 71, 70]


def test_each_rebase_period_has_the_limits_of_its_own_points():
    whole = spc.analyse(STEP, "increase", target=60, rebase=[12])
    before, after = spc.analyse(STEP[:12], "increase", 60), spc.analyse(STEP[12:], "increase", 60)
    first, last = whole.segments
    assert (first.start, first.end, last.start, last.end) == (0, 12, 12, len(STEP))
    assert (first.mean, first.upl, first.lpl) == pytest.approx((before.mean, before.upl, before.lpl))
    assert (whole.mean, whole.upl, whole.lpl) == pytest.approx((after.mean, after.upl, after.lpl))
    assert [p.point_type for p in whole.points] == [p.point_type for p in before.points + after.points]


def test_without_the_rebase_the_step_reads_as_history_and_with_it_as_the_process_now():
    plain = spc.analyse(STEP, "increase", target=60)
    assert plain.variation_icon == "improvement_high"  # the step is a shift against the old mean
    assert plain.assurance_icon == "inconsistent"  # limits stretched over both levels straddle the target
    rebased = spc.analyse(STEP, "increase", target=60, rebase=[12])
    assert rebased.variation_icon == "common_cause"
    assert rebased.assurance_icon == "consistent_pass"  # the process since the step is all above 60
    assert not any(p.special_cause for p in rebased.points[12:])


def test_a_short_last_period_has_trial_limits_and_no_icons():
    result = spc.analyse(STEP, "increase", target=60, rebase=[20])
    assert result.trial_limits and result.variation_icon is None and result.assurance_icon is None


@pytest.mark.parametrize("rebase", [[1], [len(STEP) - 1], [5, 6], [0]])
def test_a_rebase_that_leaves_a_period_of_one_point_is_refused(rebase):
    with pytest.raises(ValueError, match="two points"):
        spc.analyse(STEP, "increase", rebase=rebase)
