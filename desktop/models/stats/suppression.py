"""Small-number suppression for published aggregates, NHS Digital's method (REFERENCE.md §4).

Policies are named and versioned settings:
- "nhsd-2018": NHS Digital's secondary-care method (HES/ECDS since September 2018; codonPython
  `suppression.py`): 0 stays "0", 1–7 become "*", 8 and more are rounded to the nearest 5.
- "central-5": codonPython's later `central_suppression_method`: 1–7 are shown as "5", the rest rounded to 5.
- "none": exact values, e.g. for returns exchanged under an information-sharing agreement.
Counts are stored exact and protected only when shown or exported (§4 spec); derived percentages are
recomputed from the protected figures, never from the exact ones.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

POLICIES = ("nhsd-2018", "central-5", "none")
SUPPRESSED = "*"
SMALL = 7  # counts from 1 to this are the disclosive ones
ONE_DP_DENOMINATOR = 4000  # §4: a percentage has a meaningful first decimal only from this rounded denominator


def protected_count(value: int, policy: str = "nhsd-2018") -> int | None:
    """The count as the policy lets it be shown, or None where it must be suppressed."""
    count = _count(value)
    _check_policy(policy)
    if policy == "none" or count == 0:
        return count  # zeros are not suppressed: nobody is identified by an empty cell
    if count <= SMALL:
        return None if policy == "nhsd-2018" else 5
    return 5 * round(count / 5)  # count/5 has a fractional part in fifths, so round() never meets a tie


def suppress(value: int, policy: str = "nhsd-2018") -> str:
    """The count as shown: "0", "*" or a multiple of 5 under "nhsd-2018" (codonPython returns strings too)."""
    shown = protected_count(value, policy)
    return SUPPRESSED if shown is None else str(shown)


@dataclass(frozen=True)
class ProtectedRate:
    numerator: str  # as shown
    denominator: str  # as shown
    rate: str  # as shown: "*" when either part is suppressed, "" when the shown denominator is 0
    value: float | None  # the rate computed from the shown figures; None when it cannot be shown
    altered: bool  # the rate differs from the exact one (or is hidden): list it in the disclosure check


def protect_rate(numerator: int, denominator: int, multiplier: float = 100, policy: str = "nhsd-2018") -> ProtectedRate:
    """A derived rate recomputed from the protected numerator and denominator (REFERENCE §4).

    Computing it from the exact figures would let a reader undo the rounding. A percentage gets one decimal
    place only when the shown denominator is at least 4,000 (unprotected figures always get one).
    """
    if _count(numerator) > _count(denominator):
        raise ValueError(f"the numerator ({numerator}) cannot exceed the denominator ({denominator})")
    exact = numerator / denominator * multiplier if denominator else None
    top, bottom = protected_count(numerator, policy), protected_count(denominator, policy)
    shown_top = SUPPRESSED if top is None else str(top)
    shown_bottom = SUPPRESSED if bottom is None else str(bottom)
    if top is None or bottom is None:
        return ProtectedRate(shown_top, shown_bottom, SUPPRESSED, None, altered=True)
    if bottom == 0:
        return ProtectedRate(shown_top, shown_bottom, "", None, altered=False)
    value = top / bottom * multiplier
    decimals = 1 if policy == "none" or bottom >= ONE_DP_DENOMINATOR else 0
    altered = exact is None or not math.isclose(value, exact, rel_tol=1e-12)
    return ProtectedRate(shown_top, shown_bottom, f"{value:.{decimals}f}", value, altered)


def _count(value: int) -> int:
    if isinstance(value, bool):
        raise ValueError("a count must be a whole number, not a truth value")
    try:
        count = operator.index(value)  # ints and numpy integers; refuses floats rather than guess a rounding
    except TypeError:
        raise ValueError(f"a count must be a whole number, not {value!r}") from None
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    return count


def _check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown suppression policy {policy!r}; expected one of {', '.join(POLICIES)}")
