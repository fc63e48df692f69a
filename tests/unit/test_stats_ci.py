"""Confidence intervals against the worked values of REFERENCE.md §3 (PHEindicatormethods)."""

from __future__ import annotations

import math

import pytest

from desktop.models.stats.ci import byar, exact_poisson, wilson, z_for


def test_z_values():
    assert z_for(0.95) == pytest.approx(1.959964, abs=5e-7)
    assert z_for(0.998) == pytest.approx(3.090232, abs=5e-7)


def test_wilson_golden_values():
    assert wilson(5, 25) == pytest.approx((0.08861, 0.39131), abs=5e-6)
    assert wilson(5, 25, 0.998) == pytest.approx((0.05687, 0.50897), abs=5e-6)
    assert wilson(0, 10) == pytest.approx((0.0, 0.27753), abs=5e-6)


def test_wilson_ends_stay_inside_zero_to_one():
    low, high = wilson(10, 10)
    assert high == 1.0 and 0 < low < 1
    assert wilson(0, 10)[0] == 0.0


def test_wilson_at_level_one_is_the_whole_range():
    assert wilson(3, 10, 1) == (0.0, 1.0)


@pytest.mark.parametrize(("x", "n", "level"), [(-1, 10, 0.95), (11, 10, 0.95), (1, 0, 0.95), (1, 10, 0.8), (1, 10, 95)])
def test_wilson_guards(x, n, level):
    with pytest.raises(ValueError):
        wilson(x, n, level)


def test_exact_poisson_golden_value():
    assert exact_poisson(5) == pytest.approx((1.6235, 11.6683), abs=5e-5)


def test_byar_uses_the_exact_interval_below_ten():
    assert byar(5) == pytest.approx((1.6235, 11.6683), abs=5e-5)
    assert byar(9) == exact_poisson(9)
    assert byar(10) != exact_poisson(10)


def test_byar_golden_values():
    assert byar(20) == pytest.approx((12.2114, 30.8899), abs=5e-5)
    assert byar(20, 0.998) == pytest.approx((8.9228, 38.0850), abs=5e-5)
    assert byar(100) == pytest.approx((81.362, 121.628), abs=5e-4)


def test_byar_is_within_a_fraction_of_a_percent_of_exact_from_ten():
    # The PHE guide's reason for switching at 10 (REFERENCE §3).
    for o in (10, 25, 100, 1000):
        for got, want in zip(byar(o), exact_poisson(o), strict=True):
            assert got == pytest.approx(want, rel=0.002)


def test_zero_events_has_a_zero_lower_limit():
    low, high = byar(0)
    assert low == 0.0
    assert high == pytest.approx(-math.log(0.025), abs=1e-9)  # P(0 events) = e^−μ = 0.025 at the upper limit


def test_byar_lower_limit_is_missing_where_the_formula_goes_negative():
    low, high = byar(10, 1)
    assert low is None and high == math.inf


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        byar(-1)
    with pytest.raises(ValueError):
        exact_poisson(float("nan"))
