"""XmR (individuals) charts the NHS England "Making Data Count" (MDC) way (REFERENCE.md §1).

The arithmetic and the rules re-express NHSRplotthedots (`ptd_spc_standard.R`, `ptd_calculate_point_type.R`)
so outputs can be cross-checked against it, with the decisions of REFERENCE §1.7:

- Limits (§1.1): mean ± 2.66 × mean moving range; 2σ lines at mean ± 1.7733 × AMR. Moving ranges are not
  screened by default (the MDC Excel tool); `screened=True` drops those ≥ 3.267 × AMR first (NHSRplotthedots).
- `baseline=k` (≥ 12, as NHSRplotthedots' fix_after_n_points) computes the limits from the first k points and
  holds them for the rest; every point is still classified.
- Rules (§1.2), with MDC defaults that `Rules` makes configurable: a point beyond a limit; a shift of 7 points
  on one side of the mean; a trend of 7 points each higher (or each lower) than the one before; two of three
  points beyond 2σ with all three on one side of the mean, counting points beyond 3σ too (MDC's 2023 rule;
  `Rules(two_in_three="nhsr")` restores the older count that NHSRplotthedots 0.2.2 still uses).
- Ties as the NHSRplotthedots code has them: a point on the mean breaks a shift and a repeated value breaks a
  trend. A relative tolerance of 1e-9 decides "on the mean" and "at a limit", so the float mean of a constant
  series cannot manufacture a signal.
- A point's `point_type` comes from the first rule that flags it, in the order astro, trend, two_in_three,
  shift (§1.3); `rules` lists every rule that flags it. Trend direction comes from the slope.
- Fewer than 13 points (`Rules.min_points`): limits are trial limits and there are no icons (§1.5, MDC tool).
- `rebase=[i, ...]` starts a new segment at each index, as NHSRplotthedots' `rebase` dates: each segment has
  its own limits from its own points, and no run, trend or two-in-three crosses a rebase. The icons describe
  the last segment (the process now), so they need `min_points` in it.
- Variation icon: the latest point's state (§1.4). Assurance icon: the target against the limits, with
  `>=`/`<=` so a target exactly on a limit is consistently passed or failed (the §1.4 spec); a target on
  both limits at once (a flat series) is tested against the upper limit first, as NHSRplotthedots orders it.

Stable strings (JSON and views depend on them):
- rules: "astro", "trend", "two_in_three", "shift"
- point_type: "common_cause", "special_cause_improvement", "special_cause_concern",
  "special_cause_neutral_high", "special_cause_neutral_low"
- variation_icon: "common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low",
  "neutral_high", "neutral_low"
- assurance_icon: "consistent_pass", "consistent_fail", "inconsistent" (MDC's "hit or miss")
`ICON_FILES` maps each icon to the name of MDC's icon file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

LIMIT = 2.66  # 3 / d2 with d2 = 1.128 for ranges of two
NEAR = 2 * LIMIT / 3  # the 2σ lines
SCREEN = 3.267  # D4 for ranges of two: a moving range at or above D4 × AMR is itself a signal
MIN_BASELINE = 12  # NHSRplotthedots refuses fix_after_n_points below 12 (ptd_spc_options.R)
_TOLERANCE = 1e-9

IMPROVEMENTS = {"increase": 1, "decrease": -1, "neutral": 0}
RULE_ORDER = ("astro", "trend", "two_in_three", "shift")
ICON_FILES = {
    "common_cause": "VariationIconCommonCause",
    "improvement_high": "VariationIconImprovementHigh",
    "improvement_low": "VariationIconImprovementLow",
    "concern_high": "VariationIconConcernHigh",
    "concern_low": "VariationIconConcernLow",
    "neutral_high": "VariationIconNeitherHigh",
    "neutral_low": "VariationIconNeitherLow",
    "consistent_pass": "AssuranceIconPass",
    "consistent_fail": "AssuranceIconFail",
    "inconsistent": "AssuranceIconHitOrMiss",
}


@dataclass(frozen=True)
class Rules:
    """The rule parameters of REFERENCE §1.7; the defaults are MDC's."""

    shift_n: int = 7
    trend_n: int = 7
    two_in_three: str = "mdc2023"  # or "nhsr": points beyond the limits do not count towards the two
    min_points: int = 13  # fewer points: trial limits and no icons

    def __post_init__(self):
        if self.two_in_three not in ("mdc2023", "nhsr"):
            raise ValueError(f"two_in_three must be 'mdc2023' or 'nhsr', not {self.two_in_three!r}")
        if self.shift_n < 2 or self.trend_n < 3 or self.min_points < 2:
            raise ValueError("a shift needs 2 or more points, a trend 3 or more, and min_points 2 or more")


MDC = Rules()


@dataclass(frozen=True)
class Point:
    value: float
    special_cause: bool
    rules: list[str]  # every rule that flags the point, in RULE_ORDER
    point_type: str


@dataclass(frozen=True)
class Segment:
    start: int  # index of its first point
    end: int  # one past its last point
    mean: float
    upl: float
    lpl: float
    amr: float


@dataclass(frozen=True)
class SpcResult:
    mean: float
    upl: float
    lpl: float
    points: list[Point]
    variation_icon: str | None
    assurance_icon: str | None
    trial_limits: bool
    amr: float  # the (screened, if asked) mean moving range the limits come from
    segments: tuple[Segment, ...] = ()  # one per rebase period; mean, limits and amr above are the last one's

    @property
    def upper_2sigma(self) -> float:
        return self.mean + NEAR * self.amr

    @property
    def lower_2sigma(self) -> float:
        return self.mean - NEAR * self.amr

    def as_json(self) -> dict:
        return {
            "mean": self.mean,
            "upl": self.upl,
            "lpl": self.lpl,
            "points": [asdict(p) for p in self.points],
            "variation_icon": self.variation_icon,
            "assurance_icon": self.assurance_icon,
            "segments": [asdict(g) for g in self.segments],
        }


def analyse(
    values: Sequence[float],
    improvement: str = "neutral",
    target: float | None = None,
    screened: bool = False,
    baseline: int | None = None,
    *,
    rules: Rules = MDC,
    rebase: Sequence[int] = (),
) -> SpcResult:
    """Limits, per-point signals and icons for one series in time order (one value per period, no gaps)."""
    y = [float(v) for v in values]
    if len(y) < 2:
        raise ValueError("an XmR chart needs at least two values")
    if not all(math.isfinite(v) for v in y):
        raise ValueError("every value must be a finite number")
    if improvement not in IMPROVEMENTS:
        raise ValueError(f"improvement must be one of {', '.join(IMPROVEMENTS)}, not {improvement!r}")
    if baseline is not None and baseline < MIN_BASELINE:
        raise ValueError(f"a baseline needs at least {MIN_BASELINE} points, not {baseline}")
    starts = sorted(set(rebase))
    short = any(b - a < 2 for a, b in zip(starts, starts[1:], strict=False))
    if short or any(not 2 <= i <= len(y) - 2 for i in starts):
        raise ValueError("every rebase period needs at least two points")
    tol = _TOLERANCE * max(1.0, max(abs(v) for v in y))
    direction = IMPROVEMENTS[improvement]
    points: list[Point] = []
    segments = []
    for start, end in zip([0, *starts], [*starts, len(y)], strict=True):
        part = y[start:end]
        base = part[:baseline] if baseline is not None else part
        mean = math.fsum(base) / len(base)
        amr = _mean_moving_range(base, screened)
        segments.append(Segment(start, end, mean, mean + LIMIT * amr, mean - LIMIT * amr, amr))
        side = [_sign(v - mean, tol) for v in part]  # +1 above the mean, -1 below, 0 on it
        flags = _flag(part, side, mean, amr, tol, rules)
        for i, v in enumerate(part):
            fired = [rule for rule in RULE_ORDER if rule in flags[i]]
            point_type = _point_type(flags[i][fired[0]], direction) if fired else "common_cause"
            points.append(Point(value=v, special_cause=bool(fired), rules=fired, point_type=point_type))

    last = segments[-1]
    trial = last.end - last.start < rules.min_points
    variation = assurance = None
    if not trial:
        variation = _variation_icon(points[-1].point_type, direction)
        assurance = _assurance_icon(target, last.upl, last.lpl, direction, tol)
    return SpcResult(
        mean=last.mean,
        upl=last.upl,
        lpl=last.lpl,
        points=points,
        variation_icon=variation,
        assurance_icon=assurance,
        trial_limits=trial,
        amr=last.amr,
        segments=tuple(segments),
    )


def _mean_moving_range(base: list[float], screened: bool) -> float:
    ranges = [abs(b - a) for a, b in zip(base, base[1:], strict=False)]
    amr = math.fsum(ranges) / len(ranges)
    if screened and amr > 0:  # with AMR = 0 every range is 0 and nothing stands out to screen
        ranges = [r for r in ranges if r < SCREEN * amr]
        amr = math.fsum(ranges) / len(ranges)
    return amr


def _sign(x: float, tol: float) -> int:
    return 1 if x > tol else -1 if x < -tol else 0


def _flag(y: list[float], side: list[int], mean: float, amr: float, tol: float, rules: Rules) -> list[dict[str, int]]:
    """For each point, the rules that flag it and the direction each signals (+1 high or rising, -1 low)."""
    n = len(y)
    flags: list[dict[str, int]] = [{} for _ in y]
    upl, lpl = mean + LIMIT * amr, mean - LIMIT * amr
    for i, v in enumerate(y):
        if v > upl + tol or v < lpl - tol:
            flags[i]["astro"] = side[i]

    # Shift: every point of a window of shift_n on one side of the mean.
    k = rules.shift_n
    for end in range(k - 1, n):
        window = side[end - k + 1 : end + 1]
        if window[0] != 0 and all(s == window[0] for s in window):
            for i in range(end - k + 1, end + 1):
                flags[i]["shift"] = window[0]

    # Trend: every point of a window of trend_n, each step the same strict direction.
    step = [0] + [_sign(b - a, 0.0) for a, b in zip(y, y[1:], strict=False)]
    k = rules.trend_n
    in_trend = [False] * n
    for end in range(k - 1, n):
        steps = step[end - k + 2 : end + 1]
        if steps[0] != 0 and all(s == steps[0] for s in steps):
            for i in range(end - k + 1, end + 1):
                in_trend[i] = True
    for i in range(n):
        if in_trend[i]:
            # Where a point is part of two trends (a peak), the slope after it decides, as in NHSRplotthedots.
            after = i + 1 < n and in_trend[i + 1]
            flags[i]["trend"] = step[i + 1] if after else step[i]

    # Two in three: of three consecutive points all on one side, two or more beyond 2σ; only those are flagged.
    upper_near, lower_near = mean + NEAR * amr, mean - NEAR * amr
    beyond = [v > upper_near + tol or v < lower_near - tol for v in y]
    if rules.two_in_three == "nhsr":
        beyond = [b and "astro" not in f for b, f in zip(beyond, flags, strict=True)]
    for start in range(n - 2):
        window = range(start, start + 3)
        if abs(sum(side[i] for i in window)) == 3 and sum(beyond[i] for i in window) >= 2:
            for i in window:
                if beyond[i]:
                    flags[i]["two_in_three"] = side[i]
    return flags


def _point_type(signal: int, direction: int) -> str:
    if direction == 0:
        return "special_cause_neutral_high" if signal > 0 else "special_cause_neutral_low"
    return "special_cause_improvement" if signal * direction > 0 else "special_cause_concern"


def _variation_icon(point_type: str, direction: int) -> str:
    if point_type == "common_cause":
        return "common_cause"
    if point_type.startswith("special_cause_neutral_"):
        return point_type.removeprefix("special_cause_")
    high = (point_type == "special_cause_improvement") == (direction > 0)
    kind = "improvement" if point_type == "special_cause_improvement" else "concern"
    return f"{kind}_{'high' if high else 'low'}"


def _assurance_icon(target: float | None, upl: float, lpl: float, direction: int, tol: float) -> str | None:
    if target is None or direction == 0:
        return None
    if target >= upl - tol:
        return "consistent_fail" if direction > 0 else "consistent_pass"
    if target <= lpl + tol:
        return "consistent_pass" if direction > 0 else "consistent_fail"
    return "inconsistent"
