"""The board paper on the front of the quarterly locality report (issue 24, point 4), with no layout: the
headline, what is better and worse than last quarter and why, the year to date, forecast outturn and direction
of travel of each KPI, the LLR value beside a locality's rates, and the drafted recommendations ("The Board is
asked to …") that the federation manager edits before the report is exported.

The rules for the year (stated in the report's notes, NOTES below), per KPI, over the quarters of the financial
year so far (the signed-off returns of the earlier quarters, and the report's own figures for its quarter):

- a **flow** (a count of activity in a period: meetings, interventions, admissions avoided) sums; its forecast
  outturn is the run rate, year to date × 4 / quarters held; its annual plan is four quarterly targets;
- a **ratio** (a percentage or a rate) pools numerators and denominators; its forecast is the year to date;
- a **stock** counted at quarter end (the cohort, actions overdue, homes with a lead: census measures and
  MDT-04) takes the latest quarter; its forecast is the latest (no trend is projected from three points).

Aggregate only: nothing here names a patient; recommendations are free text, checked like comments (check_asks).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from .. import free_text
from ..quarters import Quarter
from . import consolidated
from .catalogue import UNIT_SUFFIX, UNITS, Kpi, travel_word
from .locality_figures import KpiRow, LocalityFigures

# Counts at quarter end that are not census by their measure: the actions overdue on the last day.
STOCKS = frozenset({"MDT-04"})
# Counts of distinct people in a period: a patient discussed in two quarters is one patient in the year, so the
# quarters cannot be summed, and the returns hold no year's distinct count.
DISTINCT = frozenset({"MDT-02"})
RATE_UNITS = ("per_1000", "per_100000")
OPEN = ("open", "in progress")
IMPROVEMENTS_ASKED = 3  # the largest few improvements are worth a line each; the table has the rest
REFERENCES = 2  # action references named in a recommendation; the exceptions page lists them all
QUOTE = 140  # characters of a comment quoted on the front page
# What a board member calls each KPI in a sentence; the catalogue's names are written for the table.
SHORT = {
    "COH-01": "the cohort",
    "COH-02": "cohort on the ILT caseload",
    "COH-03": "current care plans",
    "COH-04": "reviews in date",
    "COH-05": "named case managers",
    "COH-06": "interventions delivered",
    "COH-07": "named GPs for complex patients",
    "COH-08": "cohort on the palliative register",
    "MDT-01": "MDT meetings",
    "MDT-02": "patients discussed at MDT",
    "MDT-03": "actions completed on time",
    "MDT-04": "overdue actions",
    "CH-01": "care homes with a clinical lead",
    "CH-02": "care-home rounds",
    "CH-03": "PCSPs within 7 days",
    "CH-04": "care-home visits",
    "CH-05": "visits ending in transfer",
    "CH-06": "end-of-life care plans",
    "OUT-01": "non-elective admissions",
    "OUT-02": "A&E attendances",
    "OUT-03": "care-home emergency admissions",
    "OUT-04": "admissions avoided",
    "BCF-01": "permanent care-home admissions",
    "BCF-02": "still at home 91 days after discharge",
    "BCF-03": "delayed transfers of care",
    "BCF-04": "falls admissions",
}
NOTES = (
    "Year to date (YTD) covers the quarters of the financial year so far: the signed-off returns of the earlier "
    "quarters and this report's figures. Counts of activity in a period (COH-06, MDT-01, OUT-04) are "
    "summed; distinct patients discussed (MDT-02) have no year to date, since a patient discussed in two quarters "
    "is one patient; percentages and rates pool their numerators and denominators; counts at quarter end (COH-01, "
    "MDT-04) and census measures (CH-01) take the latest quarter. Forecast outturn is the year-end value at the "
    "run rate so far: a sum × 4 ÷ the quarters held, a pooled ratio as it stands, a quarter-end count as it is "
    "now; it is judged against the annual plan, the KPI's target (four quarterly targets for a count of "
    "activity). Direction of travel compares this quarter with the last and with the same quarter a year "
    "earlier, and says better or worse by the KPI's direction of good (higher or lower where it has none). "
    "The LLR value beside a rate pools the numerators and denominators of every team's latest signed-off return "
    "for the quarter held in this workspace."
)


# -- the year's rules, on figures ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One quarter's figure of one KPI: as a return holds it."""

    numerator: float | None
    denominator: float | None
    value: float | None


def rule(kpi: Kpi) -> str:
    """ "flow", "ratio", "stock" or "distinct": how the KPI's quarters make a year (the module's rules)."""
    if kpi.code in DISTINCT:
        return "distinct"
    if kpi.measure == "census" or kpi.code in STOCKS:
        return "stock"
    return "flow" if kpi.unit == "count" else "ratio"


def year_to_date(kpi: Kpi, quarters: Sequence[Figure | None]) -> tuple[float | None, int]:
    """The KPI's year to date from its quarters so far, oldest first (None where none is held), and how many
    quarters it is made of."""
    held = [q for q in quarters if q is not None and q.value is not None]
    kind = rule(kpi)
    if not held or kind == "distinct":
        return None, 0
    if kind == "stock":
        return held[-1].value, len(held)
    if kind == "flow":
        return float(sum(q.value for q in held)), len(held)
    pooled = [q for q in held if q.numerator is not None and q.denominator]
    if not pooled:
        return None, 0
    return kpi.value(sum(q.numerator for q in pooled), sum(q.denominator for q in pooled)), len(pooled)


def forecast(kpi: Kpi, ytd: float | None, quarters_held: int) -> float | None:
    """The year-end value at the run rate so far."""
    if ytd is None or not quarters_held:
        return None
    return round(ytd * 4 / quarters_held, 1) if rule(kpi) == "flow" else ytd


def annual_plan(kpi: Kpi) -> float | None:
    """The one target made a year's: four quarterly targets for a flow, the target itself otherwise."""
    if kpi.target is None or kpi.direction not in ("high", "low"):
        return None
    return kpi.target * 4 if rule(kpi) == "flow" else kpi.target


def outturn_rag(kpi: Kpi, value: float | None) -> str | None:
    """The forecast against the annual plan, as RAG (a flow's tolerance made a year's too)."""
    plan = annual_plan(kpi)
    if value is None or plan is None:
        return None
    scale = 4 if rule(kpi) == "flow" else 1
    gap = (plan - value) if kpi.direction == "high" else (value - plan)
    if gap <= 0:
        return "G"
    return "A" if gap <= (kpi.tolerance or 0) * scale else "R"


def travel(kpi: Kpi, now: float | None, then: float | None) -> str | None:
    """ "better", "worse" or "same" by the KPI's direction of good; "higher" or "lower" for a KPI with none;
    None when either value is missing."""
    return travel_word(*kpi.movement(now, then))


# -- the year's figures of a report ---------------------------------------------------------------------------
@dataclass
class YearRow:
    kpi: Kpi
    rule: str
    quarters: list[float | None]  # the value in each quarter of the year so far
    ytd: float | None
    held: int  # quarters the YTD is made of
    forecast: float | None
    plan: float | None
    outturn_rag: str | None
    last_year: float | None  # the same quarter a year earlier
    vs_last_quarter: str | None
    vs_last_year: str | None
    llr: float | None = None  # a rate's pooled LLR value for the quarter
    llr_teams: int = 0


@dataclass
class Year:
    quarters: list[Quarter]  # of the financial year, up to the report's
    rows: dict[str, YearRow] = field(default_factory=dict)

    def row(self, code: str) -> YearRow | None:
        return self.rows.get(code)


def _own(db: sqlite_utils.Database, code: str, quarter: Quarter) -> dict[str, Figure]:
    return {
        kpi: Figure(v["numerator"], v["denominator"], v["value"])
        for (kpi, loc), v in consolidated.grid(db, quarter).items()
        if loc == code
    }


def llr_value(kpi: Kpi, held: Sequence[dict[str, Any]]) -> tuple[float | None, int]:
    """A rate pooled over the teams' value rows (sum of numerators over sum of denominators), and how many
    teams it is made of."""
    rows = [v for v in held if v.get("numerator") is not None and v.get("denominator")]
    if not rows:
        return None, 0
    total = sum(v["denominator"] for v in rows)
    return round(UNITS[kpi.unit] * sum(v["numerator"] for v in rows) / total, 1), len(rows)


def year(db: sqlite_utils.Database, figures: LocalityFigures) -> Year:
    """The year to date, forecast, direction of travel and LLR comparator of every KPI of *figures*."""
    q, code = figures.quarter, figures.locality["code"]
    span = [Quarter(q.year, n) for n in range(1, q.q + 1)]
    earlier = {p: _own(db, code, p) for p in span[:-1]}
    last_year = _own(db, code, Quarter(q.year - 1, q.q))
    everyone = consolidated.grid(db, q)
    out = Year(span)
    for r in figures.rows:
        kpi = r.kpi
        now = Figure(r.numerator, r.denominator, r.value)
        series = [earlier[p].get(kpi.code) for p in span[:-1]] + [now]
        ytd, held = year_to_date(kpi, series)
        ahead = forecast(kpi, ytd, held)
        before = last_year.get(kpi.code)
        row = YearRow(
            kpi,
            rule(kpi),
            [s.value if s else None for s in series],
            ytd,
            held,
            ahead,
            annual_plan(kpi),
            outturn_rag(kpi, ahead),
            before.value if before else None,
            travel(kpi, r.value, r.previous),
            travel(kpi, r.value, before.value if before else None),
        )
        if kpi.unit in RATE_UNITS:
            row.llr, row.llr_teams = llr_value(kpi, [v for (k, _), v in everyone.items() if k == kpi.code])
        out.rows[kpi.code] = row
    return out


# -- words ----------------------------------------------------------------------------------------------------
def short(kpi: Kpi) -> str:
    return SHORT.get(kpi.code) or (kpi.name[:1].lower() + kpi.name[1:])


def figure(kpi: Kpi, value: float | None) -> str:
    """A value as a sentence writes it: "82.4%", "3", "12.1 per 1,000"."""
    if value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{value:.1f}%"
    if kpi.unit == "count":
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{value:,.1f}{UNIT_SUFFIX[kpi.unit]}"


def target_words(kpi: Kpi) -> str:
    if kpi.target is None or kpi.direction not in ("high", "low"):
        return "no target"
    shown = f"{kpi.target:g}%" if kpi.unit == "percent" else figure(kpi, kpi.target)
    return ("at least " if kpi.direction == "high" else "at most ") + shown


def assurance(row: KpiRow) -> str | None:
    """ "pass", "fail", "hit-and-miss" or None: whether the process will meet the target."""
    return row.assurance


def headline_rows(figures: LocalityFigures) -> list[KpiRow]:
    """The KPIs the front page talks about: every one but the breakdowns of another (COH-06a-g)."""
    return [r for r in figures.rows if not r.kpi.part_of]


def headline(figures: LocalityFigures) -> str:
    """One or two sentences: targets met, and which are red."""
    rows = headline_rows(figures)
    name, label = figures.locality["name"], figures.quarter.label
    with_target = [r for r in rows if r.rag is not None]
    met = sum(1 for r in with_target if r.rag == "G")
    amber = sum(1 for r in with_target if r.rag == "A")
    reds = [r for r in with_target if r.rag == "R"]
    text = f"{name} met {met} of {len(with_target)} targets in {label}"
    if amber:
        text += f" ({amber} more within tolerance)"
    if reds:
        names = [short(r.kpi) for r in reds]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        text += f"; {listed} {'is' if len(reds) == 1 else 'are'} red."
    else:
        text += "; none is red."
    fails = [r for r in rows if assurance(r) == "fail" and r.rag != "R"]
    if fails:
        text += (
            " "
            + _capital(_listed([short(r.kpi) for r in fails]))
            + (" will not meet " + ("its target" if len(fails) == 1 else "their targets") + " without a change.")
        )
    if figures.draft:
        text += " The return is not signed off: these figures may change."
    return text


@dataclass(frozen=True)
class Change:
    row: KpiRow
    word: str  # "better" or "worse"
    why: str  # the comment on the return, quoted briefly; "" when there is none


def changes(figures: LocalityFigures) -> tuple[list[Change], list[Change]]:
    """What is better and what is worse than last quarter, by the KPI's direction of good, each with the
    comment that explains it; the largest relative changes first."""

    def size(r: KpiRow) -> float:
        return abs(r.value - r.previous) / max(abs(r.previous), 1e-9)

    better, worse = [], []
    for r in sorted(headline_rows(figures), key=lambda r: -size(r) if r.better is not None else 0):
        if r.better is None:
            continue
        (better if r.better else worse).append(Change(r, "better" if r.better else "worse", quote(r.comment)))
    return better, worse


def quote(comment: str, limit: int = QUOTE) -> str:
    """The comment's first sentence, or its first *limit* characters, for the front page."""
    text = " ".join((comment or "").split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    return first[: limit - 1].rsplit(" ", 1)[0] + "…"


def draft_asks(figures: LocalityFigures) -> list[str]:
    """The recommendations drafted from the exceptions, each finishing "The Board is asked to …": the report
    noted; each red noted with the actions raised against it, or an action asked for when none was; each KPI
    whose process will not meet its target without a change; the largest improvements since last quarter."""
    q = figures.quarter
    asks = [f"note {figures.locality['name']}'s performance in {q.label}"]
    rows = headline_rows(figures)
    for r in rows:
        if r.rag != "R":
            continue
        k = r.kpi
        state = f"{k.code} ({short(k)}) is red at {figure(k, r.value)} against a target of {target_words(k)}"
        tail = "; without a change to the process it will not meet its target" if assurance(r) == "fail" else ""
        if r.actions:
            refs = ", ".join(a["reference"] for a in r.actions[:REFERENCES])
            if len(r.actions) > REFERENCES:
                refs += f" and {len(r.actions) - REFERENCES} more"
            still = sum(1 for a in r.actions if a["status"] in OPEN)
            asks.append(
                f"note that {state}, and the {_plural(len(r.actions), 'action')} raised against it ({refs}; "
                f"{still} open){tail}"
            )
        else:
            asks.append(
                f"ask the locality team for an action to bring {k.code} ({short(k)}) back to target: it is red at "
                f"{figure(k, r.value)} against {target_words(k)} and no action has been raised{tail}"
            )
    for r in rows:
        if r.rag != "R" and assurance(r) == "fail":
            asks.append(
                f"note that {r.kpi.code} ({short(r.kpi)}) will not meet its target without a change to the process"
            )
    better, _ = changes(figures)
    for c in [c for c in better if c.row.rag != "R"][:IMPROVEMENTS_ASKED]:
        k = c.row.kpi
        asks.append(
            f"note the improvement in {short(k)} ({k.code}) from {figure(k, c.row.previous)} to "
            f"{figure(k, c.row.value)}"
        )
    return asks


def parse_asks(text: str) -> list[str]:
    """The recommendations typed one a line: blank lines dropped, a leading bullet or "(a)" taken off (the
    report letters them itself), and a leading "The Board is asked to" too."""
    out = []
    for line in (text or "").splitlines():
        line = re.sub(r"^\s*(?:[-•*·]|\(?[a-z]\)|\d+[.)])\s*", "", line).strip()
        line = re.sub(r"^the board is asked to\s*:?\s*", "", line, flags=re.IGNORECASE).strip()
        if line:
            out.append(line)
    return out


def check_asks(db: sqlite_utils.Database, asks: Sequence[str]) -> None:
    """ValidationError when a recommendation holds a patient identifier (free_text.refuse), naming which."""
    free_text.refuse(
        db,
        {f"recommendation {letter(n)} to the board": text for n, text in enumerate(asks)},
        "the locality report cannot be exported",
        "Word the recommendation without it, then export again.",
        "the report goes to the locality board and must never identify a patient",
    )


def letter(n: int) -> str:
    """(a), (b), … for the n-th recommendation (from 0)."""
    return f"({chr(ord('a') + n)})" if n < 26 else f"({n + 1})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
