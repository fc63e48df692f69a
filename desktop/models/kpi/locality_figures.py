"""What the quarterly locality report says, gathered from the models with no layout: the return's figures
with their confidence intervals, trend and SPC, the exceptions with their actions, and the cohort, MDT and
care-home summaries. Aggregate only: nothing here names a patient (DESIGN §14)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from ..care_homes import residents, visits
from ..cohort import frame as cohort
from ..mdt import actions, meetings
from ..quarters import Quarter
from ..stats import ci, spc
from ..workspace import locality_by_code
from . import compute as kpi_compute
from . import returns
from . import series as kpi_series
from .catalogue import UNITS, Kpi, by_code

IMPROVEMENT = {"high": "increase", "low": "decrease"}
# Counts of events in a period: their quarterly target cannot be drawn on a monthly chart (a month holds a
# third of a quarter's meetings), so monthly charts and assurance icons of these leave the target out. Stocks
# (cohort size, actions overdue at the end) and ratios keep it.
FLOWS = {"COH-06", "MDT-01", "MDT-02"}
SERIES_QUARTERS = 8  # two years: the history the demo and a typical team hold
ACTIONS_SHOWN = 6


@dataclass
class KpiRow:
    kpi: Kpi
    numerator: float | None
    denominator: float | None
    value: float | None
    rag: str | None
    comment: str
    ci: tuple[float | None, float | None] | None  # 95 %, in the KPI's unit
    previous: float | None  # last quarter's signed-off value
    change: str | None  # "up", "down", "same"; None when either quarter has no value
    better: bool | None  # the change judged by the KPI's direction; None for neutral or no change
    labels: list[str] = field(default_factory=list)  # the SPC series' periods, None values dropped
    spc: spc.SpcResult | None = None
    monthly: bool = True
    chart_target: float | None = None
    gaps: int = 0  # periods of the series with no value (left off the chart)
    actions: list[dict[str, Any]] = field(default_factory=list)
    more_actions: int = 0  # relevant actions beyond the ones shown
    earlier_actions: int = 0  # closed, and due before the quarter began


@dataclass
class LocalityFigures:
    locality: dict[str, Any]
    quarter: Quarter
    today: dt.date
    ret: dict[str, Any] | None  # the quarter's latest return revision; None: computed here as a draft
    rows: list[KpiRow]
    cohort_run: dict[str, Any] | None
    mdt: dict[str, Any]
    homes: dict[str, Any]

    @property
    def draft(self) -> bool:
        return self.ret is None or self.ret["status"] == "draft"

    def row(self, code: str) -> KpiRow:
        return next(r for r in self.rows if r.kpi.code == code)

    @property
    def reds(self) -> list[KpiRow]:
        return [r for r in self.rows if r.rag == "R"]


def gather(db: sqlite_utils.Database, locality_code: str, quarter: Quarter, today: dt.date) -> LocalityFigures:
    locality = locality_by_code(db, locality_code)  # ValidationError naming the known codes
    loc = locality["id"]
    ret = returns.current(db, loc, quarter)
    shared: dict[Any, Any] = {}  # one read of the locality's records for the return and every month
    if ret is not None:
        held = {k: dict(v) for k, v in returns.values(db, ret["id"]).items()}
    else:
        held = {f.kpi: {**f.as_json(), "comment": ""} for f in kpi_compute.compute(db, loc, quarter, today, shared)}
    first = quarter
    for _ in range(SERIES_QUARTERS - 1):
        first = first.previous()
    monthly = kpi_series.monthly(db, loc, first.start, quarter.end, today, shared)
    span = [first]
    while span[-1] != quarter:
        span.append(span[-1].next())
    rows = []
    for kpi in by_code().values():
        v = held.get(kpi.code, {})
        series = monthly.get(kpi.code) or kpi_series.quarterly(db, loc, kpi.code, span)
        rows.append(_row(db, loc, quarter, kpi, v, series, today))
    return LocalityFigures(
        locality,
        quarter,
        today,
        ret,
        rows,
        _cohort_run(db, loc, quarter),
        _mdt(db, loc, quarter, today),
        _homes(db, loc, quarter, today),
    )


def _row(
    db, loc: str, quarter: Quarter, kpi: Kpi, held: dict[str, Any], series: kpi_series.Series, today: dt.date
) -> KpiRow:
    value = held.get("value")
    history = returns.history(db, loc, kpi.code, quarter, count=1)
    previous = history[-1][1] if history else None
    change = better = None
    if value is not None and previous is not None:
        change = "same" if round(value, 1) == round(previous, 1) else "up" if value > previous else "down"
        if change != "same" and kpi.direction in ("high", "low"):
            better = (change == "up") == (kpi.direction == "high")
    row = KpiRow(
        kpi,
        held.get("numerator"),
        held.get("denominator"),
        value,
        held.get("rag"),
        (held.get("comment") or "").strip(),
        interval(kpi, held.get("numerator"), held.get("denominator")),
        previous,
        change,
        better,
        monthly=series.monthly,
    )
    points = [(label, v) for label, v in zip(series.periods, series.values, strict=True) if v is not None]
    row.gaps = len(series.values) - len(points)
    if len(points) >= 2:
        row.chart_target = None if series.monthly and kpi.code in FLOWS else kpi.target
        row.labels = [label for label, _ in points]
        row.spc = spc.analyse([v for _, v in points], IMPROVEMENT.get(kpi.direction or "", "neutral"), row.chart_target)
    if row.rag == "R":
        raised = actions.against_kpi(db, loc, kpi.code)
        # Open actions whenever raised, and those closed or due since the quarter began; older closed ones
        # are history the board has seen.
        keep = [a for a in raised if a["status"] in actions.OPEN or (a["due_date"] or "") >= quarter.start.isoformat()]
        row.actions = keep[:ACTIONS_SHOWN]
        row.more_actions = len(keep) - len(row.actions)
        row.earlier_actions = len(raised) - len(keep)
    return row


def interval(kpi: Kpi, numerator: float | None, denominator: float | None) -> tuple[float | None, float | None] | None:
    """The 95 % interval in the KPI's unit: Wilson for a percentage, Byar (exact below 10) for a count or a
    rate (REFERENCE §3); None without a numerator, or a denominator where one is needed."""
    if numerator is None or numerator < 0:
        return None
    if kpi.denominator is None:
        return ci.byar(numerator)
    if not denominator or denominator <= 0:
        return None
    scale = UNITS[kpi.unit]
    if kpi.unit == "percent":
        if numerator > denominator:
            return None  # impossible; validation flags it on the return
        low, high = ci.wilson(numerator, denominator)
        return 100 * low, 100 * high
    low, high = ci.byar(numerator)
    return (None if low is None else scale * low / denominator), scale * high / denominator


def _cohort_run(db, loc: str, quarter: Quarter) -> dict[str, Any] | None:
    """The last risk extract imported for the quarter (extract dated on or before its end)."""
    held = [r for r in cohort.runs(db, loc) if r["extract_date"] <= quarter.end.isoformat()]
    return held[-1] if held else None


def _mdt(db, loc: str, quarter: Quarter, today: dt.date) -> dict[str, Any]:
    start, end = quarter.start.isoformat(), quarter.end.isoformat()
    held = [m for m in meetings.listing(db, loc) if start <= m["held_on"][:10] <= end]
    log = actions.listing(db, loc, today=today)
    raised = [a for a in log if start <= (a["created_at"] or "")[:10] <= end]
    return {
        "meetings": sorted(held, key=lambda m: m["held_on"]),
        "items": sum(m["patients"] for m in held),
        "actions_raised": len(raised),
        "raised_done": sum(1 for a in raised if a["status"] == "done"),
        "open": sum(1 for a in log if a["status"] in actions.OPEN),
        "overdue": sum(1 for a in log if a["overdue"]),
    }


def _homes(db, loc: str, quarter: Quarter, today: dt.date) -> dict[str, Any]:
    grid = visits.round_grid(db, loc, quarter, today)
    homes = grid["homes"]
    pcsp = (
        residents.pcsp_timeliness(db, [h["id"] for h in homes], quarter.start, min(quarter.end, today), today)
        if homes
        else {"admissions": 0, "on_time": 0, "late": 0, "overdue": 0}
    )
    return {
        "homes": len(homes),
        "beds": sum(h["beds"] or 0 for h in homes),
        "covered": sum(h["covered"] for h in homes),
        "due": sum(h["due"] for h in homes),
        # Fewest rounds first: the homes a board would ask about.
        "short": sorted(
            ((h["name"], h["covered"], h["due"]) for h in homes if h["covered"] < h["due"]),
            key=lambda s: (s[1] / s[2], s[0]),
        ),
        "admissions": pcsp["admissions"],
        "pcsp_on_time": pcsp["on_time"],
        "pcsp_late": pcsp["late"] + pcsp["overdue"],
        "gaps": visits.register_gaps(db, loc),
    }
