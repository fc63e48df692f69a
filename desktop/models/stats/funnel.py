"""Funnel-plot control limits for comparing teams (Spiegelhalter 2005; REFERENCE.md §2).

Every limit function takes one denominator and returns (lower, upper) at one level (0.95 or 0.998 as the app
draws them). The exact limits evaluate one cumulative probability per tail (special.py's incomplete beta or
gamma function) and step from it by probability masses, so a curve drawn point by point over ~100 denominators at
two levels costs a few milliseconds.

- `proportion_limits`: "exact" binomial with Spiegelhalter's interpolation (the default: right at small n);
  "arcsine", FunnelPlotR's scale, the one its overdispersion adjustment works on; "normal" for comparison (§2.1).
- `rate_limits`: exact Poisson with interpolation for count / exposure (§2.1).
- `ratio_limits`: exact chi-squared limits for an indirectly standardised ratio O/E, FunnelPlotR's SR method.
- `overdispersion`: φ and τ² for proportions on the arcsine scale, after FunnelPlotR (§2.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from . import special
from .ci import check_level, z_for

PROPORTION_METHODS = ("exact", "arcsine", "normal")


def proportion_limits(
    p0: float, n: float, level: float = 0.95, method: str = "exact", tau2: float = 0.0
) -> tuple[float, float]:
    """Limits for a proportion with denominator n around the target p0 (REFERENCE §2.1).

    tau2 is the between-team variance from `overdispersion`; it lives on the arcsine scale, so it is accepted
    only by method="arcsine" (FunnelPlotR's additive adjustment, §2.2 step 5).
    """
    if not 0 <= p0 <= 1:
        raise ValueError(f"a target proportion must be between 0 and 1, not {p0!r}")
    _check_positive(n, "denominator")
    _check_funnel_level(level)
    if tau2 and method != "arcsine":
        raise ValueError("an overdispersion adjustment (tau2) applies to the arcsine method only")
    if method == "exact":
        cdf, pmf = _binomial(n, p0)
        guess_sd = math.sqrt(n * p0 * (1 - p0))
        low, high = (_interpolated_quantile(cdf, pmf, p, n * p0, guess_sd, math.ceil(n)) / n for p in _tails(level))
        return max(0.0, low), min(1.0, high)  # interpolation below r = 0 would dip under 0
    z = z_for(level)
    if method == "arcsine":
        centre = math.asin(math.sqrt(p0))
        spread = z * math.sqrt(1 / (4 * n) + tau2)
        # Clamping the angle to [0, π/2] is FunnelPlotR's truncation to [0, 1] and its "made monotone" step:
        # past the ends sin² would turn back and the funnel would narrow again at small n.
        return math.sin(max(0.0, centre - spread)) ** 2, math.sin(min(math.pi / 2, centre + spread)) ** 2
    if method == "normal":
        spread = z * math.sqrt(p0 * (1 - p0) / n)
        return max(0.0, p0 - spread), min(1.0, p0 + spread)
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(PROPORTION_METHODS)}")


def rate_limits(theta0: float, exposure: float, level: float = 0.95) -> tuple[float, float]:
    """Exact Poisson limits with interpolation for a rate count / exposure around theta0 (REFERENCE §2.1).

    The count is Poisson with mean E = θ0 × exposure; each limit is (r_p − α) / exposure.
    """
    if not theta0 >= 0:
        raise ValueError(f"a target rate must be zero or more, not {theta0!r}")
    _check_positive(exposure, "exposure")
    _check_funnel_level(level)
    expected = theta0 * exposure

    def cdf(r: int) -> float:
        return special.pdtr(r, expected) if r >= 0 else 0.0

    def pmf(r: int) -> float:
        return special.poisson_pmf(r, expected)

    sd = math.sqrt(expected)
    low, high = (_interpolated_quantile(cdf, pmf, p, expected, sd, None) / exposure for p in _tails(level))
    return max(0.0, low), high


def ratio_limits(expected: float, level: float = 0.95, target: float = 1.0) -> tuple[float, float]:
    """Limits for an indirectly standardised ratio O/E at expected count E (REFERENCE §2.1).

    FunnelPlotR `calculate_limits.R`: θ0·(χ²_{p; 2E}/2)/E and θ0·(χ²_{1−p; 2(E+1)}/2)/E, p = (1 − level)/2;
    χ²_{q; 2k}/2 is the regularised-gamma inverse P⁻¹(k, q).
    """
    _check_positive(expected, "expected count")
    _check_funnel_level(level)
    p_low, p_high = _tails(level)
    return (
        target * special.gammaincinv(expected, p_low) / expected,
        target * special.gammaincinv(expected + 1, p_high) / expected,
    )


def is_outlier(value: float, lower: float, upper: float) -> bool:
    """Outside the limits at its own denominator; a value exactly on a limit is inside (FunnelPlotR, §2.3)."""
    return value < lower or value > upper


@dataclass(frozen=True)
class Overdispersion:
    phi: float  # dispersion ratio: about 1 when teams differ by chance alone, above 1 when they differ more
    tau2: float  # between-team variance on the arcsine scale, for proportion_limits(method="arcsine", tau2=…)
    target: float  # the pooled proportion Σ numerators / Σ denominators
    units: int  # how many teams φ was estimated from (fewer than given when truncating)


def overdispersion(
    numerators: Sequence[float], denominators: Sequence[float], trim: float = 0.1, method: str = "winsorise"
) -> Overdispersion:
    """φ and τ² for proportions, FunnelPlotR's steps (REFERENCE §2.2; `od_adjustment.R`, `funnel_plot.R`).

    z-scores on the arcsine scale, z_i = (asin√(O_i/n_i) − asin√p̄) · 2√n_i; then either winsorise them to the
    trim/1 − trim quantiles (CQC, Spiegelhalter; the default) or drop the extreme `trim` of each tail by rank
    (SHMI's "truncate"); φ = mean z²; τ² by DerSimonian–Laird with weights w_i = 1/s_i² = 4n_i.
    With the 11 LLR teams these are rough estimates: show them, and draw adjusted limits only on request.
    """
    o = np.asarray(numerators, dtype=float)
    n = np.asarray(denominators, dtype=float)
    if o.shape != n.shape or o.ndim != 1 or len(o) < 2:
        raise ValueError("overdispersion needs matching numerators and denominators for two or more teams")
    if np.any(n <= 0) or np.any(o < 0) or np.any(o > n):
        raise ValueError("every denominator must be positive and every numerator between 0 and its denominator")
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be at least 0 and below 0.5, not {trim!r}")
    target = float(o.sum() / n.sum())
    z = (np.arcsin(np.sqrt(o / n)) - math.asin(math.sqrt(target))) * 2 * np.sqrt(n)
    if method == "winsorise":
        low, high = np.quantile(z, [trim, 1 - trim])  # numpy's default is R's type 7, as FunnelPlotR uses
        z, kept = np.clip(z, low, high), n
    elif method == "truncate":
        # FunnelPlotR's `truncation`: split the ranks into 1/trim groups and drop the first and the last.
        groups = 1 / trim if trim else math.inf
        band = np.floor(_average_ranks(z) * groups / (len(z) + 1))
        keep = (band > 0) & (band < groups - 1) if trim else np.ones(len(z), dtype=bool)
        z, kept = z[keep], n[keep]
    else:
        raise ValueError(f"unknown method {method!r}; expected 'winsorise' or 'truncate'")
    units = len(z)
    if units == 0:
        raise ValueError("truncation left no teams to estimate overdispersion from")
    phi = float(np.mean(z**2))
    tau2 = 0.0
    if units * phi > units - 1:
        w = 4 * kept
        tau2 = max(0.0, float((units * phi - (units - 1)) / (w.sum() - (w**2).sum() / w.sum())))
    return Overdispersion(phi=phi, tau2=tau2, target=target, units=units)


def _tails(level: float) -> tuple[float, float]:
    half = (1 - level) / 2
    return half, 1 - half


def _average_ranks(z: np.ndarray) -> np.ndarray:
    """Ranks 1..I with ties sharing their average rank (R's `rank` default); I is about 11, so pairwise is fine."""
    return (z[:, None] > z[None, :]).sum(axis=1) + ((z[:, None] == z[None, :]).sum(axis=1) + 1) / 2


def _check_funnel_level(level: float) -> None:
    check_level(level)
    if level >= 1:
        raise ValueError("funnel limits need a level below 1")


def _check_positive(value: float, what: str) -> None:
    if not value > 0:  # also refuses NaN
        raise ValueError(f"the {what} must be positive, not {value!r}")


def _binomial(n: float, p0: float) -> tuple[Callable[[int], float], Callable[[int], float]]:
    """P(R ≤ r) and P(R = r) for Bin(n, p0): the CDF as the regularised incomplete beta I_{1−p0}(n − r, r + 1).

    That form is defined for a real n, so a curve can be drawn through non-integer denominators; its steps below n
    are C(n, r) p0^r (1 − p0)^(n − r) with Γ functions for the factorials, and it jumps to 1 at the first r ≥ n.
    """
    q0 = 1 - p0

    def cdf(r: int) -> float:
        if r < 0:
            return 0.0
        if r >= n:
            return 1.0
        return special.betainc(n - r, r + 1, q0, p0)

    def pmf(r: int) -> float:
        if r >= n:
            return 1.0 - cdf(r - 1)
        return special.binomial_pmf(r, n, p0, q0)

    return cdf, pmf


def _interpolated_quantile(
    cdf: Callable[[int], float], pmf: Callable[[int], float], p: float, mean: float, sd: float, r_max: int | None
) -> float:
    """Spiegelhalter's interpolated quantile r_p − α (REFERENCE §2.1).

    r_p is the smallest r with P(R ≤ r) ≥ p and α = [P(R ≤ r_p) − p] / [P(R ≤ r_p) − P(R ≤ r_p − 1)], which
    moves the step function's jump onto a smooth curve. The search starts from the normal approximation, so it
    takes only a step or two; each step adds or takes off one probability mass, which is cheaper than another
    CDF and, as the denominator of α, more exact than the difference of two CDFs near 1.
    """
    r = max(0, round(mean + special.ndtri(p) * sd))
    if r_max is not None:
        r = min(r, r_max)
    at = cdf(r)
    while at < p and (r_max is None or r < r_max):
        r += 1
        at = cdf(r) if r_max is not None and r >= r_max else at + pmf(r)
    mass = pmf(r)
    while r > 0 and at - mass >= p:
        at -= mass
        r -= 1
        mass = pmf(r)
    return r - (at - p) / mass
