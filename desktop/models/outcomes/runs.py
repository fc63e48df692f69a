"""The risk-run calendar: which run a change is measured from, and which run is k quarters on.

Risk runs come roughly quarterly but not on fixed days, so "k quarters later" is the run nearest to k × 91.3 days
after, within half a quarter; a gap in the runs leaves that point missing rather than borrowing a neighbour.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections.abc import Iterable

from .records import Subject

QUARTER_DAYS = 365.25 / 4
TOLERANCE_DAYS = 45  # half a quarter: a run nearer another quarter's mark belongs to that quarter


def calendar(subjects: Iterable[Subject]) -> tuple[dt.date, ...]:
    """Every run date any subject was seen at, in order."""
    found: set[dt.date] = set()
    for s in subjects:
        found.update(s.cohort_runs)
        for by_run in s.use.values():
            found.update(by_run)
    return tuple(sorted(found))


def baseline(runs: tuple[dt.date, ...], day: dt.date) -> dt.date | None:
    """The run at or just before *day*: its 12 months are the year before joining."""
    at = bisect.bisect_right(runs, day)
    return runs[at - 1] if at else None


@functools.lru_cache(maxsize=4096)  # the chart and the matching ask the same few questions thousands of times
def quarters_on(runs: tuple[dt.date, ...], start: dt.date, quarters: int) -> dt.date | None:
    """The run about *quarters* quarters after *start* (before it, if negative), or None if there was none."""
    if quarters == 0:
        return start
    target = start + dt.timedelta(days=round(quarters * QUARTER_DAYS))
    near = [r for r in runs if abs((r - target).days) <= TOLERANCE_DAYS]
    return min(near, key=lambda r: abs((r - target).days)) if near else None
