"""What the quarterly locality report says, gathered from the models with no layout: the return's figures
with their confidence intervals, trend and SPC, the exceptions with their actions, and the cohort, MDT and
care-home summaries. Aggregate only: nothing here names a patient (DESIGN §14).

One target per KPI (the catalogue's) drives the RAG rating, the SPC assurance icon and the funnel (issue 24).
The assurance icon describes the process within its limits, so it is withheld when the figure being rated, or
a month of its quarter, lies beyond the current limits: the process has changed and the limits no longer
describe it (record the step change and they are recalculated). With that rule a KPI can never be rated red
or amber while its icon says it will consistently meet the target, nor green while it says it will fail."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from ..care_homes import residents, visits
from ..cohort import frame as cohort
from ..mdt import actions, meetings
from ..quarters import Quarter
from ..stats import ci, spc
from ..workspace import locality_by_code
from . import compute as kpi_compute
from . import rebases as kpi_rebases
from . import returns
from . import series as kpi_series
from .catalogue import UNITS, Kpi, by_code

IMPROVEMENT = {"high": "increase", "low": "decrease"}
ICONS = {"pass": "consistent_pass", "fail": "consistent_fail", "hit-and-miss": "inconsistent"}
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
    target: float | None = None  # the catalogue's one target, per quarter
    assurance: str | None = None  # "pass", "fail", "hit-and-miss"; None with assurance_note saying why
    assurance_note: str = ""
    interval_note: str = ""  # why there is no interval, when there is none
    rebases: list[dict[str, Any]] = field(default_factory=list)  # step changes on the chart, each with its "index"

    @property
    def variation(self) -> str | None:
        """The SPC variation icon of the latest point (spc.py's names); None without icons."""
        return None if self.spc is None or self.spc.trial_limits else self.spc.variation_icon

    def as_json(self) -> dict[str, Any]:
        """The KPI as `locality-desk kpi --json` gives it."""
        return {
            "kpi": self.kpi.code,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "target": self.target,
            "rag": self.rag,
            "variation": self.variation,
            "assurance": self.assurance,
            "assurance_note": self.assurance_note or None,
            "interval": None
            if self.ci is None
            else {"low": self.ci[0], "high": self.ci[1], "method": self.kpi.interval_method},
            "interval_note": self.interval_note or None,
            "step_changes": [{"from": r["effective_on"], "reason": r["reason"]} for r in self.rebases],
        }


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


def gather(
    db: sqlite_utils.Database,
    locality_code: str,
    quarter: Quarter,
    today: dt.date,
    computed: bool = False,
    shared: dict[Any, Any] | None = None,
) -> LocalityFigures:
    """The quarter's figures: the latest return's, or computed from the records when there is none (or when
    *computed* asks for them anyway, as `locality-desk kpi` does). Pass one *shared* dict to gather several
    quarters of a locality with one read of its records and of each month."""
    locality = locality_by_code(db, locality_code)  # ValidationError naming the known codes
    loc = locality["id"]
    ret = None if computed else returns.current(db, loc, quarter)
    shared = {} if shared is None else shared  # one read of the locality's records for the return and every month
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
    recorded = kpi_rebases.listing(db, loc)
    for kpi in by_code().values():
        v = held.get(kpi.code, {})
        series = monthly.get(kpi.code) or kpi_series.quarterly(db, loc, kpi.code, span)
        steps = [r for r in recorded if r["kpi"] == kpi.code]
        rows.append(_row(db, loc, quarter, kpi, v, series, today, steps))
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
    db,
    loc: str,
    quarter: Quarter,
    kpi: Kpi,
    held: dict[str, Any],
    series: kpi_series.Series,
    today: dt.date,
    steps: list[dict[str, Any]],
) -> KpiRow:
    value = held.get("value")
    history = returns.history(db, loc, kpi.code, quarter, count=1)
    previous = history[-1][1] if history else None
    change, better = kpi.movement(value, previous)
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
        target=kpi.target,
    )
    if row.ci is None:
        row.interval_note = kpi.no_interval_reason or "no figure to give an interval for"
    points = [
        (label, v, s) for label, v, s in zip(series.periods, series.values, series.starts, strict=True) if v is not None
    ]
    row.gaps = len(series.values) - len(points)
    if len(points) >= 2:
        row.chart_target = kpi.target_per(series.monthly)
        row.labels = [label for label, _, _ in points]
        at = kpi_rebases.starts(steps, [s for _, _, s in points])
        row.rebases = [{**r, "index": i} for i, r in at]
        row.spc = spc.analyse(
            [v for _, v, _ in points],
            IMPROVEMENT.get(kpi.direction or "", "neutral"),
            row.chart_target,
            rebase=[i for i, _ in at],
        )
    row.assurance, row.assurance_note = _assurance(row, quarter, today, [s for _, _, s in points])
    if row.spc is not None and not row.spc.trial_limits:
        # Charts and tables draw the verdict the board reads, not the engine's.
        row.spc = replace(row.spc, assurance_icon=ICONS.get(row.assurance or ""))
    if row.rag == "R":
        raised = actions.against_kpi(db, loc, kpi.code)
        # Open actions whenever raised, and those closed or due since the quarter began; older closed ones
        # are history the board has seen.
        keep = [a for a in raised if a["status"] in actions.OPEN or (a["due_date"] or "") >= quarter.start.isoformat()]
        row.actions = keep[:ACTIONS_SHOWN]
        row.more_actions = len(keep) - len(row.actions)
        row.earlier_actions = len(raised) - len(keep)
    return row


def _assurance(row: KpiRow, quarter: Quarter, today: dt.date, starts: list[Any]) -> tuple[str | None, str]:
    """The assurance icon in the catalogue's words, or None and why (see the module's docstring)."""
    result, kpi = row.spc, row.kpi
    if kpi.target is None or kpi.direction not in ("high", "low"):
        return None, "no target"
    if result is None:
        return None, "too few periods for an SPC chart"
    if result.trial_limits:
        held = result.segments[-1].end - result.segments[-1].start if result.segments else len(result.points)
        since = " since the last step change" if row.rebases else ""
        return None, f"only {held} points{since}; Making Data Count gives icons from 13"
    if result.assurance_icon is None:
        return None, "no target on the chart"
    low, high = result.lpl, result.upl
    target = row.chart_target if row.chart_target is not None else kpi.target
    per_point = row.value
    if per_point is not None and kpi.flow and row.monthly:
        # A flow's quarter is three months of points; a quarter under way, the part of them gone so far.
        days = (quarter.end - quarter.start).days + 1
        per_point /= 3 * ((min(today, quarter.end) - quarter.start).days + 1) / days
    quarter_points = [
        p.value
        for p, s in zip(result.points, starts, strict=False)
        if s is not None and quarter.start <= s <= quarter.end
    ]
    # A figure beyond the limits on the far side from the target only confirms the verdict (a failing process
    # that got worse still fails); one that moved towards the target, or past either limit of a process that
    # straddles the target, leaves the verdict unknown.
    unknown = [
        v
        for v in [per_point, *quarter_points]
        if v is not None and not low <= v <= high and not ((v > high and target <= low) or (v < low and target >= high))
    ]
    if unknown:
        return None, (
            "the quarter's figure lies beyond the process limits: the process has changed, so the limits cannot say "
            "whether it will meet the target (record the step change to recalculate them)"
        )
    return _verdict(kpi.direction, target, low, high), ""


def _verdict(direction: str, target: float, low: float, high: float) -> str:
    """Assurance by the RAG's own rule (green at the target or better): "pass" when every value within the limits
    meets the target, "fail" when none does. The engine (spc.py) keeps NHSRplotthedots' order for a target on a
    limit, which calls a flat series exactly at a target of 100 % a fail; here such a series meets its target."""
    tol = 1e-9 * max(1.0, abs(target))
    worst, best = (low, high) if direction == "high" else (-high, -low)
    goal = target if direction == "high" else -target
    if worst >= goal - tol:
        return "pass"
    if best < goal - tol:
        return "fail"
    return "hit-and-miss"


def interval(kpi: Kpi, numerator: float | None, denominator: float | None) -> tuple[float | None, float | None] | None:
    """The 95 % interval in the KPI's unit, where the catalogue says one applies (issue 24): Wilson for a
    proportion of patients, Byar (exact below 10) for a rate (REFERENCE §3); None for census and activity
    counts, and without a numerator, or a denominator where one is needed."""
    method = kpi.interval_method
    if method is None or numerator is None or numerator < 0:
        return None
    if kpi.denominator is None:
        return ci.byar(numerator)
    if not denominator or denominator <= 0:
        return None
    scale = UNITS[kpi.unit]
    if method == "wilson":
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
