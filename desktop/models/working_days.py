"""Working days in England: weekends and England's bank holidays skipped, from the maintained `holidays`
package rather than a hand-typed list (EHCH: a PCSP within 7 working days of admission)."""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache

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


# My work asks again for the same days at every change, and a long-overdue plan is many days back.
@lru_cache(maxsize=4096)
def working_days_until(today: dt.date, due: dt.date) -> int:
    """Working days from *today* to *due*, counted as add_working_days counts them: 0 on the day, negative once
    past (a PCSP due yesterday is -1)."""
    step = 1 if due >= today else -1
    day, n = today, 0
    while day != due:
        day += dt.timedelta(days=step)
        if is_working_day(day if step > 0 else day + dt.timedelta(days=1)):
            n += step
    return n
