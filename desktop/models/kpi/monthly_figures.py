"""What the monthly exception report says (issue 24, point 5), gathered with no layout.

West Leicestershire's plan asks for monthly ILT monitoring and a monthly progress report that "will be an
exception report, RAG rated" (seed 000). For one locality and calendar month: each computed KPI of monthly
cadence (the ones SPC charts month by month) by the same code as the return (compute.compute with a Month),
its RAG against the catalogue's one target, last month's value and the direction of travel, and for each red
the open actions raised against it. A flow (a count per period) is judged against its monthly share of the
quarterly target (Kpi.target_per). The caseload counted is the one at the month's end (or today, in the month
under way), from the caseload status history, so last month's figure stays what it was. Aggregate only:
nothing here names a patient (DESIGN §14).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from ..errors import ValidationError
from ..mdt import actions
from ..quarters import Month
from ..workspace import locality_by_code
from . import compute as kpi_compute
from .catalogue import Kpi, by_code

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
ACTIONS_SHOWN = 4  # per red: a one-page report lists the first few and counts the rest


@dataclass
class MonthlyRow:
    kpi: Kpi
    numerator: float | None
    denominator: float | None
    value: float | None
    target: float | None  # the month's target: a flow's is its share of the quarterly one
    rule: str  # the RAG thresholds in words, for the month
    rag: str | None
    previous: float | None  # last month's value; None before the locality's records begin
    change: str | None  # "up", "down", "same"; None when either month has no value
    better: bool | None  # the change judged by the KPI's direction; None for neutral, no change or not judged
    actions: list[dict[str, Any]] = field(default_factory=list)  # the open ones, for a red
    more_actions: int = 0  # open actions beyond those listed


@dataclass
class MonthlyFigures:
    locality: dict[str, Any]
    month: Month
    today: dt.date
    rows: list[MonthlyRow]

    @property
    def month_to_date(self) -> bool:
        """The month is not over yet: its figures cover the days so far."""
        return self.month.end >= self.today

    @property
    def as_at(self) -> dt.date:
        return min(self.month.end, self.today)

    @property
    def reds(self) -> list[MonthlyRow]:
        return [r for r in self.rows if r.rag == "R"]

    def row(self, code: str) -> MonthlyRow:
        return next(r for r in self.rows if r.kpi.code == code)


def parse_month(text: str) -> Month:
    """YYYY-MM, as the command line takes it."""
    match = _MONTH.match((text or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValidationError(f"'{text}' is not a month; write it as YYYY-MM, e.g. 2026-10 for October 2026.")
    return Month(int(match[1]), int(match[2]))


def monthly_kpis() -> list[Kpi]:
    """The KPIs a month can be reported on: computed from the records, of monthly cadence."""
    return [k for k in by_code().values() if k.source == "computed" and k.cadence == "monthly"]


def as_monthly(kpi: Kpi) -> Kpi:
    """The KPI with its month's target: a flow's target and tolerance are a third of the quarter's; any other
    KPI (a percentage, a stock such as actions overdue) keeps its own."""
    if not kpi.flow or kpi.target is None:
        return kpi
    tolerance = None if kpi.tolerance is None else round(kpi.tolerance / 3, 2)
    return replace(kpi, target=kpi.target_per(monthly=True), tolerance=tolerance)


def monthly_rag(kpi: Kpi, value: float | None) -> str | None:
    """G, A or R of a month's value against the month's target (as_monthly); None without a target or value."""
    return as_monthly(kpi).rag(value)


def monthly_rule(kpi: Kpi) -> str:
    """The month's RAG thresholds in words; a flow's says it is a month's share of the quarterly target."""
    rule = as_monthly(kpi).rag_rule()
    if kpi.flow and kpi.target is not None:
        rule += f" (a month's share of {kpi.target:g} a quarter)"
    return rule


def first_extract(db: sqlite_utils.Database, locality_id: str) -> dt.date | None:
    """The date of the locality's first risk extract: its records, and so its figures, start there."""
    day = db.execute("SELECT MIN(extract_date) FROM risk_runs WHERE locality_id = ?", [locality_id]).fetchone()[0]
    return dt.date.fromisoformat(day[:10]) if day else None


def check_month(name: str, month: Month, started: dt.date | None, today: dt.date) -> None:
    """Refuse, in words, a month the report cannot be made for."""
    if month.start > today:
        raise ValidationError(
            f"{month.label} has not begun yet (today is {today:%d %b %Y}): choose this month or an earlier one."
        )
    if started is None:
        raise ValidationError(
            f"{name} has no risk extract yet, so there are no figures to report: import one on the Cohort screen."
        )
    if month.end < started:
        raise ValidationError(
            f"{month.label} is before {name}'s first risk extract ({started:%d %b %Y}): choose "
            f"{Month(started.year, started.month).label} or a later month."
        )


def months_available(db: sqlite_utils.Database, locality_id: str, today: dt.date) -> list[Month]:
    """The months a report can be made for, newest first: from the first risk extract's month to this month."""
    started = first_extract(db, locality_id)
    if started is None:
        return []
    out, m = [], Month(today.year, today.month)
    while m.end >= started:
        out.append(m)
        m = m.previous()
    return out


def last_complete(today: dt.date) -> Month:
    """The month the report is usually made for: the last one that is over."""
    return Month(today.year, today.month).previous()


def gather(db: sqlite_utils.Database, locality_code: str, month: Month, today: dt.date) -> MonthlyFigures:
    """The month's figures of *locality_code*; ValidationError for an unknown locality or a month not begun
    or before the locality's first risk extract."""
    locality = locality_by_code(db, locality_code)  # ValidationError naming the known codes
    loc = locality["id"]
    started = first_extract(db, loc)
    check_month(locality["name"], month, started, today)
    shared: dict[Any, Any] = {}  # one read of the locality's records for both months
    now = {f.kpi: f for f in kpi_compute.compute(db, loc, month, today, shared)}
    before = month.previous()
    held = started is not None and before.end >= started
    last = {f.kpi: f for f in kpi_compute.compute(db, loc, before, today, shared)} if held else {}
    partial = month.end >= today
    rows = []
    for kpi in monthly_kpis():
        figure = now[kpi.code]
        previous = last[kpi.code].value if kpi.code in last else None
        rows.append(_row(db, loc, kpi, figure, previous, partial))
    return MonthlyFigures(locality, month, today, rows)


def _row(
    db: sqlite_utils.Database,
    loc: str,
    kpi: Kpi,
    figure: kpi_compute.Figure,
    previous: float | None,
    partial: bool,
) -> MonthlyRow:
    value = figure.value
    # A flow counted over part of a month is short of a whole month's target by its nature: it is rated, and
    # compared with last month, once the month is over.
    judged = not (partial and kpi.flow)
    rag = monthly_rag(kpi, value) if judged else None
    change, better = kpi.movement(value, previous)
    if not judged:
        better = None
    row = MonthlyRow(
        kpi,
        figure.numerator,
        figure.denominator,
        value,
        as_monthly(kpi).target,
        monthly_rule(kpi) if judged or kpi.target is None else "rated once the month is over",
        rag,
        previous,
        change,
        better,
    )
    if rag == "R":
        open_ = [a for a in actions.against_kpi(db, loc, kpi.code) if a["status"] in actions.OPEN]
        open_.sort(key=lambda a: a["due_date"] or "")
        row.actions = open_[:ACTIONS_SHOWN]
        row.more_actions = len(open_) - len(row.actions)
    return row
