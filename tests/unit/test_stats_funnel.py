"""Funnel-plot limits against the worked values of REFERENCE.md §2."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.models.stats.funnel import is_outlier, overdispersion, proportion_limits, rate_limits, ratio_limits


def test_exact_binomial_limits_golden():
    assert proportion_limits(0.2, 100, 0.95) == pytest.approx((0.1197, 0.2765), abs=5e-5)
    assert proportion_limits(0.2, 100, 0.998) == pytest.approx((0.0810, 0.3268), abs=5e-5)


def test_arcsine_limits_golden():
    assert proportion_limits(0.2, 100, 0.95, "arcsine") == pytest.approx((0.1278, 0.2836), abs=5e-5)
    assert proportion_limits(0.2, 100, 0.998, "arcsine") == pytest.approx((0.0926, 0.3359), abs=5e-5)


def test_normal_limits_golden():
    assert proportion_limits(0.2, 100, 0.95, "normal") == pytest.approx((0.1216, 0.2784), abs=5e-5)
    assert proportion_limits(0.2, 100, 0.998, "normal") == pytest.approx((0.0764, 0.3236), abs=5e-5)


def test_exact_poisson_rate_limits_golden():
    assert rate_limits(1.0, 50, 0.95) == pytest.approx((0.7224, 1.2766), abs=5e-5)
    assert rate_limits(1.0, 50, 0.998) == pytest.approx((0.5825, 1.4550), abs=5e-5)


def test_rate_limits_scale_with_the_target_rate():
    # E = θ0 × exposure: 0.5 per unit over 100 units is the same Poisson(50) count as above.
    assert rate_limits(0.5, 100, 0.95) == pytest.approx((0.7224 / 2, 1.2766 / 2), abs=5e-5)


def test_standardised_ratio_limits_golden():
    assert ratio_limits(50, 0.95) == pytest.approx((0.7422, 1.3184), abs=5e-5)
    assert ratio_limits(50, 0.95, target=2.0) == pytest.approx((1.4844, 2.6368), abs=1e-4)


def test_exact_limits_interpolate_smoothly_and_narrow_with_n():
    grid = np.linspace(5, 1000, 100)
    lows, highs = zip(*(proportion_limits(0.3, n, 0.998) for n in grid), strict=True)
    assert all(0 <= lo <= 0.3 <= hi <= 1 for lo, hi in zip(lows, highs, strict=True))
    assert highs[-1] - lows[-1] < highs[10] - lows[10] < highs[0] - lows[0]


def test_arcsine_limits_are_truncated_to_zero_and_one_at_small_n():
    assert proportion_limits(0.02, 3, 0.998, "arcsine")[0] == 0.0
    assert proportion_limits(0.98, 3, 0.998, "arcsine")[1] == 1.0


def test_overdispersion_widens_only_the_arcsine_limits():
    plain = proportion_limits(0.2, 100, 0.95, "arcsine")
    wide = proportion_limits(0.2, 100, 0.95, "arcsine", tau2=0.001)
    assert wide[0] < plain[0] and wide[1] > plain[1]
    with pytest.raises(ValueError):
        proportion_limits(0.2, 100, 0.95, "exact", tau2=0.001)


def test_eleven_teams_of_chance_variation_are_not_overdispersed():
    n = np.full(11, 400)
    o = np.array([80, 76, 84, 78, 82, 80, 79, 81, 77, 83, 80])
    od = overdispersion(o, n)
    assert od.target == pytest.approx(0.2)
    assert od.units == 11
    assert od.phi < 1 and od.tau2 == 0.0


def test_overdispersion_by_hand():
    # 11 teams of 400 whose proportions spread well beyond chance.
    n = np.full(11, 400.0)
    o = np.array([40, 60, 70, 80, 90, 100, 110, 120, 130, 140, 160], dtype=float)
    p_bar = o.sum() / n.sum()
    z = (np.arcsin(np.sqrt(o / n)) - np.arcsin(np.sqrt(p_bar))) * 2 * np.sqrt(n)
    z = np.clip(z, np.percentile(z, 10), np.percentile(z, 90))
    phi = np.mean(z**2)
    w = 4 * n
    tau2 = (11 * phi - 10) / (w.sum() - (w**2).sum() / w.sum())
    od = overdispersion(o, n)
    assert od.phi == pytest.approx(phi) and od.phi > 1
    assert od.tau2 == pytest.approx(tau2) and od.tau2 > 0


def test_winsorising_tames_a_single_extreme_team():
    n = np.full(11, 400)
    o = np.array([80, 76, 84, 78, 82, 80, 79, 81, 77, 83, 200])
    assert overdispersion(o, n).phi < overdispersion(o, n, trim=0.0).phi


def test_truncation_drops_the_extreme_teams():
    n = np.full(11, 400)
    o = np.array([80, 76, 84, 78, 82, 80, 79, 81, 77, 83, 200])
    od = overdispersion(o, n, method="truncate")
    assert od.units == 9  # ranks 1 and 11 fall in the outer tenths


def test_is_outlier_treats_a_value_on_a_limit_as_inside():
    assert is_outlier(0.30, 0.12, 0.28)
    assert is_outlier(0.10, 0.12, 0.28)
    assert not is_outlier(0.28, 0.12, 0.28)
    assert not is_outlier(0.12, 0.12, 0.28)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (proportion_limits, (1.2, 100)),
        (proportion_limits, (0.2, 0)),
        (proportion_limits, (0.2, 100, 1.0)),
        (proportion_limits, (0.2, 100, 0.95, "logit")),
        (rate_limits, (1.0, -5)),
        (ratio_limits, (0,)),
    ],
)
def test_bad_arguments_are_refused(call, args):
    with pytest.raises(ValueError):
        call(*args)
