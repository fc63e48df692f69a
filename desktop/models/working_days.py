"""Working days in England: weekends and England's bank holidays skipped, from the maintained `holidays`
package rather than a hand-typed list (EHCH: a PCSP within 7 working days of admission)."""

from __future__ import annotations

import datetime as dt
import importlib.machinery
import importlib.util
import sys
import threading
from functools import cache, lru_cache

import holidays

_LOADING = threading.Lock()


@cache
def _bank_holidays(year: int) -> frozenset[dt.date]:
    england = _united_kingdom()
    if england is None:
        return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))
    return frozenset(england(subdiv="ENG", years=year))


@cache
def _united_kingdom() -> type | None:
    """The package's United Kingdom calendar, or None to ask for it the usual way (country_holidays).

    country_holidays imports the modules of all ~250 of the package's countries first: ~0.12 s before the first
    paint of My work, whose PCSP due dates need England's bank holidays (issue 26). So the one module is imported
    on its own, under a stand-in for the countries package that is dropped straight after; a later import of the
    whole package reuses that module. Should the package's layout change, the usual way is taken."""
    with _LOADING:  # the start-up's warm-up thread may ask at the same time
        countries = sys.modules.get("holidays.countries")
        if countries is not None:
            return getattr(countries, "UnitedKingdom", None)
        try:
            spec = importlib.util.find_spec("holidays.countries")
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        stand_in = importlib.util.module_from_spec(
            importlib.machinery.ModuleSpec("holidays.countries", None, is_package=True)
        )
        stand_in.__path__ = list(spec.submodule_search_locations)
        sys.modules["holidays.countries"] = stand_in
        try:
            return getattr(importlib.import_module("holidays.countries.united_kingdom"), "UnitedKingdom", None)
        except Exception:  # whatever went wrong, country_holidays still knows the way
            return None
        finally:
            if sys.modules.get("holidays.countries") is stand_in:
                del sys.modules["holidays.countries"]
            if getattr(holidays, "countries", None) is stand_in:
                del holidays.countries


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
