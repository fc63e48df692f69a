"""Small-number suppression against REFERENCE.md §4 (NHS Digital, codonPython)."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.models.stats.suppression import protect_rate, protected_count, suppress


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (1, "*"),
        (5, "*"),
        (7, "*"),
        (8, "10"),
        (12, "10"),
        (13, "15"),
        (17, "15"),
        (18, "20"),
        (1234, "1235"),
        (1232, "1230"),
    ],
)
def test_nhsd_2018(value, shown):
    assert suppress(value) == shown


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), (1, "5"), (7, "5"), (8, "10"), (23, "25")])
def test_central_5(value, shown):
    assert suppress(value, "central-5") == shown


def test_none_shows_the_exact_value():
    assert suppress(3, "none") == "3"
    assert protected_count(3, "none") == 3


def test_protected_count_is_none_where_suppressed():
    assert protected_count(4) is None
    assert protected_count(np.int64(9)) == 10


@pytest.mark.parametrize("value", [-1, 2.5, True, "8"])
def test_counts_must_be_whole_and_non_negative(value):
    with pytest.raises(ValueError):
        suppress(value)


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="policy"):
        suppress(10, "round-3")


def test_percentage_comes_from_the_rounded_figures():
    r = protect_rate(12, 43)  # exact 27.9 %; shown 10 of 45
    assert (r.numerator, r.denominator) == ("10", "45")
    assert r.value == pytest.approx(100 * 10 / 45)
    assert r.rate == "22"  # no decimal place below a rounded denominator of 4,000
    assert r.altered


def test_one_decimal_place_from_a_rounded_denominator_of_4000():
    assert protect_rate(1003, 4001).rate == "25.1"  # 1005 / 4000
    assert protect_rate(1003, 3997).rate == "25"  # 1005 / 3995 = 25.16 %, shown without decimals


def test_unaltered_rate_when_both_figures_survive_rounding():
    r = protect_rate(20, 400)
    assert (r.rate, r.altered) == ("5", False)


def test_suppressed_numerator_hides_the_rate():
    r = protect_rate(3, 400)
    assert (r.numerator, r.denominator, r.rate, r.value, r.altered) == ("*", "400", "*", None, True)


def test_central_5_and_none_policies_for_rates():
    assert protect_rate(3, 400, policy="central-5").rate == "1"  # 5 / 400 = 1.25 %
    r = protect_rate(3, 400, policy="none")
    assert (r.rate, r.altered) == ("0.8", False)


def test_rate_per_thousand():
    r = protect_rate(12, 1000, multiplier=1000)
    assert (r.rate, r.value) == ("10", 10.0)


def test_zero_denominator_has_no_rate():
    r = protect_rate(0, 0)
    assert (r.rate, r.value, r.altered) == ("", None, False)


def test_numerator_above_denominator_is_refused():
    with pytest.raises(ValueError):
        protect_rate(11, 10)
