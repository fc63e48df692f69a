"""A KPI's series for SPC charts (REFERENCE §1): computed KPIs month by month from the records, by the same
code as the return; entered KPIs quarter by quarter from the signed-off returns, the only place they exist."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..quarters import Month, Quarter, months
from . import compute as kpi_compute
from .catalogue import by_code


@dataclass
class Series:
    kpi: str
    periods: list[str]  # labels, oldest first
    values: list[float | None]
    monthly: bool
    starts: list[dt.date]  # each period's first day


def monthly(
    db: sqlite_utils.Database,
    locality_id: str,
    first: dt.date,
    last: dt.date,
    today: dt.date,
    shared: dict[Any, Any] | None = None,
) -> dict[str, Series]:
    """Every computed KPI of monthly cadence, month by month from *first* to *last*. Months not yet over are left
    out, and so are months before the first full month after the locality's first risk extract: before it the
    team had no cohort to work on, and its zeros would read as special causes on the chart."""
    started = db.execute("SELECT MIN(extract_date) FROM risk_runs WHERE locality_id = ?", [locality_id]).fetchone()[0]
    if started:
        first = max(first, Month(*map(int, started[:7].split("-"))).next().start)
    span = [m for m in months(first, last) if m.end < today]
    shared = {} if shared is None else shared
    out = {
        code: Series(code, [m.label for m in span], [], True, [m.start for m in span])
        for code, kpi in by_code().items()
        if kpi.source == "computed" and kpi.cadence == "monthly"
    }
    for m in span:
        for figure in kpi_compute.compute(db, locality_id, m, today, shared):
            if figure.kpi in out:
                out[figure.kpi].values.append(figure.value)
    return out


def quarterly(db: sqlite_utils.Database, locality_id: str, kpi_code: str, span: list[Quarter]) -> Series:
    """The KPI as signed off in each quarter's latest return (None where there is none)."""
    values = []
    for q in span:
        row = db.execute(
            "SELECT v.value FROM returns r JOIN return_values v ON v.return_id = r.id WHERE r.locality_id = ? "
            "AND r.period = ? AND r.status != 'draft' AND v.kpi = ? ORDER BY r.revision DESC LIMIT 1",
            [locality_id, q.code, kpi_code],
        ).fetchone()
        values.append(row[0] if row else None)
    return Series(kpi_code, [q.label for q in span], values, False, [q.start for q in span])


__all__ = ["Month", "Series", "monthly", "quarterly"]
