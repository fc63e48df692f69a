"""Working days in England: weekends and England's bank holidays skipped, from the maintained `holidays`
package rather than a hand-typed list (EHCH: a PCSP within 7 working days of admission)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays


@cache
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@cache
def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date *days* working days after *start* (the start day itself not counted)."""
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
