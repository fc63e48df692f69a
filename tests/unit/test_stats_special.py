"""The statistics' own special functions (desktop/models/stats/special.py) against scipy's, which the app no longer
ships (issue 26): the same values to 1e-10 relative over small and large counts, tails and non-integer arguments,
and the funnel limits built on them the same as limits built on scipy's."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from scipy import special as scipy_special
from scipy import stats as scipy_stats

from desktop.models.stats import special
from desktop.models.stats.ci import exact_poisson
from desktop.models.stats.funnel import proportion_limits, rate_limits, ratio_limits

REL = 1e-10
SHAPES = (1e-3, 0.1, 0.5, 1, 1.5, 2, 3.7, 5, 9, 20.5, 50, 100, 333.3, 1000, 5000, 20_000, 100_000)
PROBABILITIES = (1e-12, 1e-6, 0.001, 0.025, 0.1, 0.5, 0.9, 0.975, 0.999, 1 - 1e-6)


def _close(got: float, want: float) -> bool:
    return got == want or abs(got - want) <= REL * abs(want)


def _mismatches(pairs) -> list:
    """(arguments, ours, scipy's) for each pair off by more than REL; values scipy underflows are skipped."""
    return [(args, got, want) for args, got, want in pairs if abs(want) > 1e-290 and not _close(got, want)]


def _around(centre: float, spread: float) -> list[float]:
    """Points from far below to far above a distribution's centre: its bulk and both tails."""
    points = [centre * f for f in (1e-3, 0.01, 0.1, 0.5, 0.9, 1.1, 1.5, 2, 5, 30)]
    points += [centre + z * spread for z in (-8, -5, -3.1, -2, -1, -0.3, 0, 0.3, 1, 2, 3.1, 5, 8)]
    return [x for x in points if x > 0]


def test_normal_quantile_matches_scipy_into_both_tails():
    grid = (1e-300, 1e-100, 1e-10, 1e-3, 0.001, 0.025, 0.3, 0.5, 0.7, 0.975, 0.999, 1 - 1e-12)
    for p in grid:
        assert special.ndtri(p) == pytest.approx(float(scipy_special.ndtri(p)), rel=REL, abs=1e-15), p
    assert special.ndtri(0) == -math.inf and special.ndtri(1) == math.inf


def test_incomplete_gamma_matches_scipy_from_tiny_to_large_shapes():
    pairs = []
    for a in SHAPES:
        for x in _around(a, math.sqrt(a)):
            pairs.append(((a, x, "P"), special.gammainc(a, x), float(scipy_special.gammainc(a, x))))
            pairs.append(((a, x, "Q"), special.gammaincc(a, x), float(scipy_special.gammaincc(a, x))))
    assert len(pairs) > 600
    assert _mismatches(pairs) == []


def test_poisson_cdf_matches_scipy_for_small_and_large_means():
    pairs = []
    for m in (1e-3, 0.1, 0.5, 1, 2.5, 7, 20, 50.5, 100, 1000, 9876.5, 1e5):
        for k in sorted({max(0, round(x)) for x in _around(m, math.sqrt(m))} | {0, 1, 2}):
            pairs.append(((k, m), special.pdtr(k, m), float(scipy_special.pdtr(k, m))))
            if m <= 1e4:  # beyond, scipy's mass (exp of xlogy − gammaln) is itself off by ~2e-10 (mpmath, 40 digits)
                pairs.append(((k, m, "pmf"), special.poisson_pmf(k, m), float(scipy_stats.poisson.pmf(k, m))))
    assert _mismatches(pairs) == []
    assert special.pdtr(-1, 3.0) == 0.0 and special.pdtr(4, 0.0) == 1.0


def test_incomplete_beta_matches_scipy_for_binomial_tails_and_real_shapes():
    pairs = []
    for n in (1, 2, 3, 5, 10, 17.5, 50, 100, 333, 1000, 2500, 10_000, 50_000):
        for p in (1e-4, 0.01, 0.1, 0.2, 0.5, 0.8, 0.97, 0.999):
            sd = math.sqrt(n * p * (1 - p))
            for r in sorted({0, 1, 2, math.ceil(n) - 1} | {math.floor(x) for x in _around(n * p, sd)}):
                if not 0 <= r < n:
                    continue
                # P(R ≤ r) for Bin(n, p) the way the funnel asks for it, and the same function's other side.
                pairs.append(
                    (
                        (n, r, p),
                        special.betainc(n - r, r + 1, 1 - p, p),
                        float(scipy_special.betainc(n - r, r + 1, 1 - p)),
                    )
                )
                pairs.append(
                    ((n, r, p, "b"), special.betainc(r + 1, n - r, p), float(scipy_special.betainc(r + 1, n - r, p)))
                )
                if n == int(n):
                    pairs.append(
                        ((n, r, p, "pmf"), special.binomial_pmf(r, n, p), float(scipy_stats.binom.pmf(r, n, p)))
                    )
    for a, b in ((0.3, 0.7), (2.5, 40.25), (150.5, 0.9), (1e4 + 0.5, 3e4 + 0.25)):
        for x in (1e-6, 0.01, 0.2, a / (a + b), 0.5, 0.8, 0.99, 1 - 1e-9):
            pairs.append(((a, b, x), special.betainc(a, b, x), float(scipy_special.betainc(a, b, x))))
    assert len(pairs) > 1500
    assert _mismatches(pairs) == []
    assert special.betainc(2, 3, 0) == 0.0 and special.betainc(2, 3, 1) == 1.0


def test_gamma_inverse_matches_scipy_and_inverts():
    pairs = []
    for a in SHAPES:
        for q in PROBABILITIES:
            x = special.gammaincinv(a, q)
            pairs.append(((a, q), x, float(scipy_special.gammaincinv(a, q))))
            if x > 0:  # 0 where the answer underflows, e.g. a = 0.001, q = 1e-6: about 10^-6000
                # The point found gives back the probability asked for, read from the smaller tail.
                back = special.gammaincc(a, x) if q > 0.5 else special.gammainc(a, x)
                assert back == pytest.approx(1 - q if q > 0.5 else q, rel=1e-9), (a, q)
    assert _mismatches(pairs) == []
    assert special.gammaincinv(3, 0) == 0.0 and special.gammaincinv(3, 1) == math.inf


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (special.ndtri, (1.5,)),
        (special.gammainc, (0, 1.0)),
        (special.gammaincc, (2.0, -1.0)),
        (special.gammaincinv, (2.0, 1.2)),
        (special.betainc, (2.0, 3.0, 1.5)),
        (special.betainc, (-1.0, 3.0, 0.5)),
        (special.binomial_pmf, (5, 4, 0.5)),
        (special.poisson_pmf, (2, -1.0)),
    ],
)
def test_arguments_outside_the_functions_domains_are_refused(call, args):
    with pytest.raises(ValueError):
        call(*args)


# The limits as funnel.py drew them with scipy (issue 26's starting point): every CDF from scipy, no stepping by masses.
def _scipy_quantile(cdf, p: float, r_max: float | None) -> float:
    r = 0
    while cdf(r) < p and (r_max is None or r < r_max):
        r += 1
    at, below = cdf(r), cdf(r - 1)
    return r - (at - p) / (at - below)


def _scipy_proportion_limits(p0: float, n: float, level: float) -> tuple[float, float]:
    def cdf(r: int) -> float:
        return 0.0 if r < 0 else 1.0 if r >= n else float(scipy_special.betainc(n - r, r + 1, 1 - p0))

    half = (1 - level) / 2
    low, high = (_scipy_quantile(cdf, p, math.ceil(n)) / n for p in (half, 1 - half))
    return max(0.0, low), min(1.0, high)


def _scipy_rate_limits(theta0: float, exposure: float, level: float) -> tuple[float, float]:
    def cdf(r: int) -> float:
        return float(scipy_special.pdtr(r, theta0 * exposure)) if r >= 0 else 0.0

    half = (1 - level) / 2
    low, high = (_scipy_quantile(cdf, p, None) / exposure for p in (half, 1 - half))
    return max(0.0, low), high


@pytest.mark.parametrize("level", [0.95, 0.998])
def test_funnel_limits_are_those_scipy_drew(level):
    for p0 in (0.0, 0.003, 0.05, 0.2, 0.5, 0.87, 0.99, 1.0):
        for n in (1, 2, 3.5, 7, 10, 22.5, 42, 100, 543, 2304, 3736.4):
            got, want = proportion_limits(p0, n, level), _scipy_proportion_limits(p0, n, level)
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (p0, n)
    for theta0, exposure in ((0.0, 10), (0.02, 5), (0.45, 1401), (0.1569, 3736), (9e-5, 102_960), (3.0, 0.7)):
        got, want = rate_limits(theta0, exposure, level), _scipy_rate_limits(theta0, exposure, level)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (theta0, exposure)
    for expected in (0.4, 3.3, 50, 777.7):
        half = (1 - level) / 2
        want = (
            float(scipy_special.gammaincinv(expected, half)) / expected,
            float(scipy_special.gammaincinv(expected + 1, 1 - half)) / expected,
        )
        assert ratio_limits(expected, level) == pytest.approx(want, rel=1e-10)


def test_exact_poisson_interval_is_scipys_chi_squared():
    for o in (1, 2, 5, 9, 9.5):
        want = (float(scipy_special.gammaincinv(o, 0.025)), float(scipy_special.gammaincinv(o + 1, 0.975)))
        assert exact_poisson(o) == pytest.approx(want, rel=1e-10)


def test_the_statistics_load_without_scipy():
    # The installer leaves scipy out: importing any statistics module must not reach for it.
    code = (
        "import sys\n"
        "import desktop.models.stats.ci, desktop.models.stats.funnel, desktop.models.stats.spc\n"
        "import desktop.models.stats.suppression\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
