"""NHS financial quarters (Q1 Apr–Jun … Q4 Jan–Mar), written 2025-26-Q3 in files and 2025/26 Q3 on screen."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .errors import ValidationError

_FORM = re.compile(r"^(\d{4})[-/](\d{2})[- ]Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int  # the financial year's first calendar year: 2025 for 2025/26
    q: int

    @property
    def code(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d}-Q{self.q}"

    @property
    def label(self) -> str:
        return f"{self.year}/{(self.year + 1) % 100:02d} Q{self.q}"

    @property
    def start(self) -> dt.date:
        month = 4 + 3 * (self.q - 1)
        return dt.date(self.year + (month > 12), (month - 1) % 12 + 1, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    def weeks(self) -> list[dt.date]:
        """The Mondays of the quarter's weeks, in order.

        A week belongs to the quarter its Sunday falls in (the NHS "week ending" convention), as it does for
        months (Month.weeks): a week that straddles two quarters counts in one only, so a home round is never
        counted twice; a quarter's weeks are its three months' weeks; and every week of a quarter has ended by
        its last day, so a return signed off after the quarter sees every week finished. Its first week may
        start a few days before the quarter does. Most quarters have 13 weeks; a 92-day quarter with 14 Sundays
        has 14, a 90-day one with 12 (January to March 2029) has 12. CH-02 and the round grid count these.
        """
        return [w for m in self.months() for w in m.weeks()]

    def months(self) -> list[Month]:
        """The quarter's three calendar months."""
        first = Month(self.start.year, self.start.month)
        return [first, first.next(), first.next().next()]


def parse(text: str) -> Quarter:
    match = _FORM.match(text.strip())
    if not match:
        raise ValidationError(f"'{text}' is not a quarter; write it like 2025-26-Q3 (Q1 is April to June).")
    year, short, q = int(match[1]), int(match[2]), int(match[3])
    if (year + 1) % 100 != short:
        raise ValidationError(f"'{text}': a financial year runs {year}/{(year + 1) % 100:02d}, not {year}/{short:02d}.")
    return Quarter(year, q)


def of(day: dt.date) -> Quarter:
    q = (day.month - 4) % 12 // 3 + 1
    return Quarter(day.year - (day.month < 4), q)


@dataclass(frozen=True)
class Month:
    """A calendar month, with the interface of Quarter that KPI computation uses (start, end, weeks), so the
    same KPI code gives the monthly series SPC charts need (REFERENCE §1)."""

    year: int
    month: int

    @property
    def code(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def label(self) -> str:
        return self.start.strftime("%b %Y")

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def end(self) -> dt.date:
        return self.next().start - dt.timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def weeks(self) -> list[dt.date]:
        """The Mondays of the weeks that end (on a Sunday) in the month: each week belongs to one month."""
        sunday = self.start + dt.timedelta(days=(6 - self.start.weekday()) % 7)
        out = []
        while sunday <= self.end:
            out.append(sunday - dt.timedelta(days=6))
            sunday += dt.timedelta(days=7)
        return out


def months(first: dt.date, last: dt.date) -> list[Month]:
    """The months from the one holding *first* to the one holding *last*."""
    out, m = [], Month(first.year, first.month)
    while m.start <= last:
        out.append(m)
        m = m.next()
    return out
