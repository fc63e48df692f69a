"""Difference in differences on the matched groups, with its 95 % interval and the naive figure beside it.

Each patient's change is their use in the 12 months before the follow-up run minus the 12 months before the
baseline run. The estimate is the joiners' mean change minus the matched controls' weighted mean change: the
controls were picked at the same level of prior use, so their change is what regression to the mean (and the
calendar) would have done to the joiners anyway, and what is left is the team's effect (Improvement Analytics
Unit's matched-comparison design; REFERENCE.md §11).

The interval is normal-theory on the stratified variance: with π_s the share of matched joiners in stratum s,
estimate = Σ π_s (mean joiners' change_s − mean controls' change_s), and its variance given the strata is
Σ π_s² (v_T,s / n_T,s + v_C,s / n_C,s). A stratum with one patient on a side has no variance of its own and takes
that side's pooled within-stratum variance. This was chosen over a bootstrap because it is exact to repeat and
cheap enough to check its coverage across many simulated worlds (tests/unit/test_outcomes_honesty.py); it
assumes the effect is about the same in every stratum.

The naive estimate is the joiners' mean change alone (all joiners with data, matched or not): what a before/after
comparison would report, regression to the mean included.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..stats.ci import z_for
from .matching import Unit

MIN_TREATED = 10  # fewer matched joiners than this are reported as too few, not estimated


@dataclass(frozen=True)
class Estimate:
    """One group's result; the numbers are None when the group is too small to estimate."""

    treated: int  # joiners with data
    matched: int
    unmatched: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    treated_change: float | None  # matched joiners' mean change
    control_change: float | None  # weighted matched controls' mean change
    naive_estimate: float | None
    naive_ci_low: float | None
    naive_ci_high: float | None

    @property
    def too_few(self) -> bool:
        return self.estimate is None


def estimate(
    treated: Sequence[Unit],
    controls_by_stratum: dict[tuple, list[Unit]],
    level: float = 0.95,
    min_treated: int = MIN_TREATED,
) -> Estimate:
    """DiD for *treated* (any subgroup of the joiners) against the matched controls of their strata."""
    z = z_for(level)
    matched = [u for u in treated if controls_by_stratum.get(u.stratum)]
    unmatched = len(treated) - len(matched)
    naive = naive_estimate(treated, z) if len(treated) >= min_treated else (None, None, None)
    if len(matched) < min_treated:
        return Estimate(len(treated), len(matched), unmatched, None, None, None, None, None, None, *naive)

    treated_by_stratum: dict[tuple, list[float]] = defaultdict(list)
    for u in matched:
        treated_by_stratum[u.stratum].append(u.change)
    control_changes = {k: [u.change for u in controls_by_stratum[k]] for k in treated_by_stratum}
    pooled_t = _pooled_within(treated_by_stratum.values())
    pooled_c = _pooled_within(control_changes.values())

    n = len(matched)
    mean_t = mean_c = variance = 0.0
    for key, t in treated_by_stratum.items():
        c = control_changes[key]
        share = len(t) / n
        mean_t += share * float(np.mean(t))
        mean_c += share * float(np.mean(c))
        v_t = float(np.var(t, ddof=1)) if len(t) > 1 else pooled_t
        v_c = float(np.var(c, ddof=1)) if len(c) > 1 else pooled_c
        variance += share**2 * (v_t / len(t) + v_c / len(c))
    diff, se = mean_t - mean_c, math.sqrt(variance)
    return Estimate(len(treated), n, unmatched, diff, diff - z * se, diff + z * se, se, mean_t, mean_c, *naive)


def naive_estimate(treated: Sequence[Unit], z: float) -> tuple[float, float, float]:
    """The joiners' mean change with its normal interval: before/after with no comparison."""
    changes = np.array([u.change for u in treated], dtype=float)
    mean = float(changes.mean())
    half = z * float(changes.std(ddof=1)) / math.sqrt(changes.size) if changes.size > 1 else math.inf
    return mean, mean - half, mean + half


def _pooled_within(groups) -> float:
    """Within-stratum variance pooled over the strata with two or more patients; the overall variance if none."""
    squares, df, everything = 0.0, 0, []
    for values in groups:
        a = np.asarray(values, dtype=float)
        everything.extend(values)
        if a.size > 1:
            squares += float(((a - a.mean()) ** 2).sum())
            df += a.size - 1
    if df:
        return squares / df
    return float(np.var(everything, ddof=1)) if len(everything) > 1 else 0.0
