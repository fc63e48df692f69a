"""Confidence intervals the way PHE/OHID Fingertips publishes them (REFERENCE.md §3).

The formulas follow PHEindicatormethods (`R/utils.R`, `R/Rates.R`), the official R implementation of the PHE
"Technical Guide – Confidence Intervals", so intervals shown in the app can be checked against Fingertips:
Wilson score for proportions; Byar's approximation for counts of 10 or more, and the exact (chi-squared)
Poisson interval below 10, where Byar's is no longer within 0.2 % of exact.
"""

from __future__ import annotations

import math

from . import special

BYAR_MIN_COUNT = 10  # below this PHEindicatormethods switches from Byar's to the exact interval (§3)


def z_for(level: float) -> float:
    """Two-sided normal quantile, z = Φ⁻¹(level + (1 − level)/2): 0.95 → 1.959964, 0.998 → 3.090232 (§2.1, §3)."""
    check_level(level)
    return special.ndtri(level + (1 - level) / 2)


def check_level(level: float) -> None:
    """PHEindicatormethods accepts confidence levels from 0.9 to 1 only (§3); refuse the rest, e.g. 95 for 0.95."""
    if not 0.9 <= level <= 1:
        raise ValueError(f"confidence level must be between 0.9 and 1, not {level!r}")


def wilson(x: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion x/n (REFERENCE §3; PHEindicatormethods `wilson_lower/upper`)."""
    if n <= 0:
        raise ValueError(f"the denominator must be positive, not {n!r}")
    if not 0 <= x <= n:
        raise ValueError(f"the numerator must be between 0 and the denominator ({n!r}), not {x!r}")
    if level == 1:
        return 0.0, 1.0  # z is infinite; PHE defines the interval as the whole range
    z = z_for(level)
    centre = 2 * x + z * z
    half = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    denominator = 2 * (n + z * z)
    # At x = 0 or x = n the exact answer is 0 or 1 (half = z²), which rounding can miss by an ulp either way.
    low = 0.0 if x == 0 else max(0.0, (centre - half) / denominator)
    high = 1.0 if x == n else min(1.0, (centre + half) / denominator)
    return low, high


def exact_poisson(o: float, level: float = 0.95) -> tuple[float, float]:
    """Exact interval for a Poisson count, (χ²_{α/2; 2O}/2, χ²_{1−α/2; 2O+2}/2) (REFERENCE §3).

    χ²_{q; 2k}/2 is the regularised-gamma inverse P⁻¹(k, q) (special.gammaincinv).
    """
    _check_count(o)
    check_level(level)
    alpha = 1 - level
    lower = 0.0 if o == 0 else special.gammaincinv(o, alpha / 2)  # χ² with 0 df is the point mass at 0
    return lower, special.gammaincinv(o + 1, 1 - alpha / 2)


def byar(o: float, level: float = 0.95) -> tuple[float | None, float]:
    """Interval for a count by Byar's method, or the exact one when O < 10 (REFERENCE §3).

    The lower limit is None where Byar's formula goes negative (only at levels very close to 1), as
    PHEindicatormethods returns NA there. Divide by the denominator and multiply for a rate.
    """
    _check_count(o)
    if o < BYAR_MIN_COUNT:
        return exact_poisson(o, level)
    z = z_for(level)
    lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return (lower if lower >= 0 else None), upper


def _check_count(o: float) -> None:
    if not o >= 0:  # also refuses NaN
        raise ValueError(f"an observed count must be zero or more, not {o!r}")
