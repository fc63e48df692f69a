"""The returns of all 11 teams side by side (DESIGN §10, REFERENCE §2 and §5.4): for a quarter, each team's
latest signed-off revision; how many were received, on time and signed off; a KPI's trend across quarters;
its funnel plot; and the quarter as a workbook for the board's analysts.

Works on any workspace that holds returns: a commissioner's (imported files) or a locality workspace that
holds several teams (the demo world)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from .. import audit
from ..cells import formula_safe
from ..clock import Actor
from ..errors import ValidationError
from ..quarters import Quarter, parse
from .catalogue import UNITS, Kpi, by_code, catalogue

ON_TIME_DAYS = 30  # signed off within 30 days of the quarter's end counts as on time (DHIS2 "timely days")
FUNNEL_UNITS = ("percent", "per_100", "per_1000", "per_100000")
LEVELS = (0.95, 0.998)
WITHIN, BEYOND_95, BEYOND_998 = 0, 1, 2  # where a team sits against the funnel limits (REFERENCE §2.3)


@dataclass
class Completeness:
    quarter: Quarter
    expected: int
    received: int
    on_time: int
    signed_off: int
    deadline: dt.date
    missing: list[str] = field(default_factory=list)  # codes of the localities with no return yet


def localities(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, code, name, ccg FROM localities ORDER BY code"))


def held_quarters(db: sqlite_utils.Database) -> list[Quarter]:
    """Quarters with at least one signed-off return, oldest first."""
    return [
        parse(r[0]) for r in db.execute("SELECT DISTINCT period FROM returns WHERE status != 'draft' ORDER BY period")
    ]


def latest(db: sqlite_utils.Database, quarter: Quarter) -> dict[str, dict[str, Any]]:
    """Locality code -> its latest signed-off revision for the quarter."""
    rows = db.query(
        "SELECT r.*, l.code AS locality_code FROM returns r JOIN localities l ON l.id = r.locality_id "
        "WHERE r.period = ? AND r.status != 'draft' ORDER BY r.revision",
        [quarter.code],
    )
    return {r["locality_code"]: r for r in rows}


def grid(db: sqlite_utils.Database, quarter: Quarter) -> dict[tuple[str, str], dict[str, Any]]:
    """(KPI code, locality code) -> the value row (numerator, denominator, value, rag, comment)."""
    held = latest(db, quarter)
    if not held:
        return {}
    by_id = {r["id"]: code for code, r in held.items()}
    marks = ",".join("?" * len(by_id))
    return {
        (v["kpi"], by_id[v["return_id"]]): v
        for v in db.query(f"SELECT * FROM return_values WHERE return_id IN ({marks})", list(by_id))
    }


def completeness(db: sqlite_utils.Database, quarter: Quarter) -> Completeness:
    teams = localities(db)
    held = latest(db, quarter)
    deadline = quarter.end + dt.timedelta(days=ON_TIME_DAYS)
    on_time = sum(1 for r in held.values() if r["signed_off_at"] and r["signed_off_at"][:10] <= deadline.isoformat())
    signed = sum(1 for r in held.values() if r["signed_off_at"])
    return Completeness(
        quarter, len(teams), len(held), on_time, signed, deadline, [t["code"] for t in teams if t["code"] not in held]
    )


def pooled(kpi: Kpi, rows: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """A group's figure from its teams' value rows (a place, a former CCG area, LLR): a count KPI sums the
    counts (and carries no RAG: a count's target is per team); a percentage or rate pools, Σ numerators /
    Σ denominators over the teams that returned both, and is judged against the target like a team's. None
    when no team of the group returned the KPI. `teams` is how many teams the figure pools."""
    held = [r for r in rows if r and r["numerator"] is not None]
    if kpi.denominator:
        held = [r for r in held if r["denominator"]]
    if not held:
        return None
    numerator = sum(float(r["numerator"]) for r in held)
    denominator = sum(float(r["denominator"]) for r in held) if kpi.denominator else None
    value = kpi.value(numerator, denominator)
    return {
        "numerator": numerator,
        "denominator": denominator,
        "value": value,
        # A count's target is each team's (3 meetings, no overdue action): a sum of teams is not judged by it.
        "rag": kpi.rag(value) if kpi.denominator else None,
        "comment": "",
        "teams": len(held),
    }


def trend(db: sqlite_utils.Database, kpi_code: str, span: list[Quarter]) -> dict[str, list[float | None]]:
    """Locality code -> the KPI's value in each quarter of *span* (None where no return is held)."""
    out = {t["code"]: [None] * len(span) for t in localities(db)}
    for i, q in enumerate(span):
        for (kpi, code), row in grid(db, q).items():
            if kpi == kpi_code and code in out:
                out[code][i] = row["value"]
    return out


@dataclass
class Funnel:
    kpi: Kpi
    quarter: Quarter
    points: list[dict[str, Any]]  # locality code, name, numerator, denominator, value (display units), outside
    centre: float  # the LLR value, pooled: sum of numerators over sum of denominators, in display units
    x: np.ndarray  # denominators the limits are drawn at
    limits: dict[float, tuple[np.ndarray, np.ndarray]]  # level -> (lower, upper), display units


def funnel(db: sqlite_utils.Database, kpi_code: str, quarter: Quarter, points_on_curve: int = 120) -> Funnel | None:
    """The KPI's funnel plot for the quarter (Spiegelhalter 2005, REFERENCE §2.1): exact binomial limits for
    a proportion, exact Poisson for a rate, around the pooled LLR value. None for counts, or with no data."""
    from ..stats import funnel as limits_of

    kpi = by_code().get(kpi_code)
    if kpi is None or kpi.unit not in FUNNEL_UNITS:
        return None
    names = {t["code"]: t["name"] for t in localities(db)}
    rows = [
        (code, row)
        for (kpi_of, code), row in grid(db, quarter).items()
        if kpi_of == kpi_code and row["numerator"] is not None and row["denominator"]
    ]
    if not rows:
        return None
    scale = UNITS[kpi.unit]
    total_num = sum(r["numerator"] for _, r in rows)
    total_den = sum(r["denominator"] for _, r in rows)
    theta = total_num / total_den
    top = max(r["denominator"] for _, r in rows) * 1.1
    x = np.unique(np.geomspace(max(1.0, min(r["denominator"] for _, r in rows) * 0.5), top, points_on_curve).round())
    limits: dict[float, tuple[np.ndarray, np.ndarray]] = {}
    for level in LEVELS:
        pairs = [
            limits_of.proportion_limits(theta, n, level)
            if kpi.unit == "percent"
            else limits_of.rate_limits(theta, n, level)
            for n in x
        ]
        limits[level] = (np.array([p[0] for p in pairs]) * scale, np.array([p[1] for p in pairs]) * scale)
    points = []
    for code, r in sorted(rows):
        value = r["numerator"] / r["denominator"] * scale
        lo, hi = (
            limits_of.proportion_limits(theta, r["denominator"], LEVELS[0])
            if kpi.unit == "percent"
            else limits_of.rate_limits(theta, r["denominator"], LEVELS[0])
        )
        points.append(
            {
                "locality": code,
                "name": names.get(code, code),
                "numerator": r["numerator"],
                "denominator": r["denominator"],
                "value": value,
                "outside_95": not lo * scale <= value <= hi * scale and not math.isclose(value, theta * scale),
            }
        )
    return Funnel(kpi, quarter, points, theta * scale, x, limits)


def position(funnel: Funnel, denominator: float, value: float) -> tuple[int, bool]:
    """(band, above): WITHIN, BEYOND_95 or BEYOND_998 of the funnel's limits at the team's own denominator
    (REFERENCE §2.3; a value exactly on a limit is inside), and whether it lies above the LLR centre line."""
    from ..stats import funnel as limits_of

    if math.isclose(value, funnel.centre, rel_tol=1e-9, abs_tol=1e-9):
        # On the centre line is never "beyond": at a pooled 0 % or 100 % the exact limits collapse onto the
        # line and would flag every team that equals it.
        return WITHIN, False
    scale = UNITS[funnel.kpi.unit]
    theta = funnel.centre / scale
    band = WITHIN
    for level, code in ((0.95, BEYOND_95), (0.998, BEYOND_998)):
        lo, hi = (
            limits_of.proportion_limits(theta, denominator, level)
            if funnel.kpi.unit == "percent"
            else limits_of.rate_limits(theta, denominator, level)
        )
        if limits_of.is_outlier(value, lo * scale, hi * scale):
            band = code
    return band, value > funnel.centre


def export_xlsx(db: sqlite_utils.Database, actor: Actor, quarter: Quarter, out: str | Path) -> Path:
    """The quarter for the board's analysts: KPIs down and teams across, every figure in long form, and
    completeness. Aggregate only; audited."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValidationError("Export to an .xlsx file.")
    teams = localities(db)
    cells = grid(db, quarter)
    held = latest(db, quarter)
    fills = {"G": "C8E6C9", "A": "FFE0B2", "R": "FFCDD2"}
    wb = Workbook()
    ws = wb.active
    ws.title = "Consolidated"
    ws.append(
        [
            f"LLR integrated locality teams: KPI returns {quarter.label} ({quarter.start:%d/%m/%Y} to "
            f"{quarter.end:%d/%m/%Y})"
        ]
    )
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(
        ["Aggregate figures only; RAG letters beside each value (G meets the target, A within tolerance, R beyond)."]
    )
    ws.append([])
    ws.append(
        ["KPI", "Name", "Unit", "Target"] + [f"{t['code']} value" for t in teams] + [f"{t['code']} RAG" for t in teams]
    )
    for c in ws[4]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True)
    for kpi in catalogue():
        row = [kpi.code, formula_safe(kpi.name), kpi.unit, kpi.target]
        rags = []
        for t in teams:
            v = cells.get((kpi.code, t["code"]))
            row.append(v["value"] if v else None)
            rags.append(v["rag"] if v else None)
        ws.append(row + rags)
        for i, rag in enumerate(rags):
            if rag:
                ws.cell(ws.max_row, 5 + i).fill = PatternFill("solid", fgColor=fills[rag])
    ws.freeze_panes = "C5"
    ws.column_dimensions["B"].width = 48

    long = wb.create_sheet("Figures")
    long.append(
        [
            "Locality",
            "Locality name",
            "Period",
            "Revision",
            "Signed off by",
            "Signed off at",
            "KPI",
            "Numerator",
            "Denominator",
            "Value",
            "RAG",
            "Comment",
        ]
    )
    for t in teams:
        ret = held.get(t["code"])
        if ret is None:
            continue
        for kpi in catalogue():
            v = cells.get((kpi.code, t["code"]))
            if v:
                long.append(
                    [
                        t["code"],
                        formula_safe(t["name"]),
                        quarter.code,
                        ret["revision"],
                        formula_safe(ret["signed_off_by"]),
                        ret["signed_off_at"],
                        kpi.code,
                        v["numerator"],
                        v["denominator"],
                        v["value"],
                        v["rag"],
                        formula_safe(v["comment"]),
                    ]
                )
    long.freeze_panes = "A2"

    comp = wb.create_sheet("Completeness")
    done = completeness(db, quarter)
    comp.append(["Quarter", "Expected", "Received", "On time", "Signed off", "On-time deadline", "Missing"])
    comp.append(
        [
            quarter.code,
            done.expected,
            done.received,
            done.on_time,
            done.signed_off,
            done.deadline.isoformat(),
            ", ".join(done.missing),
        ]
    )
    wb.save(out)
    with db.atomic():
        audit.record(
            db,
            actor,
            "export",
            "returns",
            None,
            f"Exported the consolidated {quarter.label} returns ({done.received} of {done.expected}) to {out.name}",
            {"file": str(out)},
        )
    return out
