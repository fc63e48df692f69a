"""The system report's front page in the Health and Wellbeing Board's terms (issue 24, seed 004): the headline
(how many targets the teams met, where LLR as a whole stands), what is better and worse than last quarter and
the teams' own reasons, the teams beyond the funnel plots' 99.8 % limits, and "The Board is asked to …"
drafted from those exceptions (`draft_asks`), for the commissioner to edit before the report leaves.

Built from the returns a workspace holds, like the rest of the report (consolidated.py). The report passes the
figures as it prints them (`shown`, `protect`) so that, for publication, the summary says what the protected
tables and funnels show and nothing they hide."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from .. import free_text
from ..quarters import Quarter
from . import consolidated
from .catalogue import UNIT_SUFFIX, Kpi, catalogue

# A change of the LLR figure since last quarter is worth the Board's attention from this size: a percentage
# by a point or more, a rate or count by 5 % of its value or more.
PERCENT_POINTS = 1.0
RELATIVE = 0.05
MOST = 3  # changes listed each way
WHY_CHARS = 100  # a team's comment quoted as the reason, cut at a word
WHY_TEAMS = 1  # reasons quoted a change: the team that moved most that way (briefly: the table has the rest)
COMMON_RED = 3  # a KPI red in this many teams is a system problem, not a team's
NAMED = 8  # outliers named in one request; past this the request counts them and points to the list
ASK_LABEL = "Board request {n}"
_BULLET = re.compile(r"^\s*(?:[•\-*–—]+|\d{1,2}[.)])\s*")

# (KPI code, team code) -> (value, denominator, RAG) as the report prints them.
Shown = Mapping[tuple[str, str], tuple[float | None, float | None, str | None]]
Protect = Callable[[Kpi, dict[str, Any] | None], float | None]


@dataclass(frozen=True)
class Change:
    kpi: Kpi
    before: float
    after: float
    better: bool
    teams: int  # the teams pooled: those that returned the KPI in both quarters
    why: tuple[tuple[str, str], ...] = ()  # (team code, its comment), the teams that moved this way most


@dataclass(frozen=True)
class Outlier:
    kpi: Kpi
    team: str
    name: str
    value: float
    centre: float
    above: bool

    @property
    def worse(self) -> bool | None:
        """True when beyond the limits on the wrong side of LLR, False on the good side, None without a
        direction of good."""
        if self.kpi.direction not in ("high", "low"):
            return None
        return self.above == (self.kpi.direction == "low")


@dataclass
class Board:
    quarter: Quarter
    previous: Quarter | None
    teams: list[dict[str, Any]]
    received: int
    missing: list[str]
    late: list[str]
    targets_met: int = 0
    targets_judged: int = 0
    every_target: list[str] = field(default_factory=list)  # teams meeting every target they were judged on
    llr_met: list[Kpi] = field(default_factory=list)
    llr_missed: list[tuple[Kpi, str]] = field(default_factory=list)  # (KPI, "A" or "R")
    common_reds: list[tuple[Kpi, int]] = field(default_factory=list)
    better: list[Change] = field(default_factory=list)
    worse: list[Change] = field(default_factory=list)
    outliers: list[Outlier] = field(default_factory=list)
    not_entered: list[tuple[Kpi, int]] = field(default_factory=list)  # optional entered KPIs, teams without
    llr_value: dict[str, float | None] = field(default_factory=dict)
    comments: bool = True  # the teams' reasons are quoted (never for publication)


def figure(kpi: Kpi, value: float | None) -> str:
    """84.3%, 80.4 per 1,000, 1,204: one decimal for every percentage and rate, none for a count."""
    if value is None:
        return "—"
    if kpi.unit == "count":
        return f"{value:,.0f}"
    suffix = "%" if kpi.unit == "percent" else UNIT_SUFFIX[kpi.unit]
    return f"{value:,.1f}{suffix}"


def short(kpi: Kpi, chars: int = 64) -> str:
    name = kpi.name[0].lower() + kpi.name[1:] if kpi.name[:2] != kpi.name[:2].upper() else kpi.name
    return name if len(name) <= chars else name[: chars - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _headline_kpis() -> list[Kpi]:
    return [k for k in catalogue() if k.part_of is None]


def summarise(
    db: sqlite_utils.Database,
    quarter: Quarter,
    shown: Shown | None = None,
    protect: Protect | None = None,
    comments: bool = True,
    funnels: Mapping[str, consolidated.Funnel | None] | None = None,
) -> Board:
    """The front page's facts for *quarter*. *shown* overrides each team's value, denominator and RAG with
    what the report prints; *protect* turns a pooled LLR figure into the value printed; *comments* False
    leaves the teams' free text out (publication); *funnels* are the quarter's funnel plots by KPI code when
    the caller has them already."""
    teams = consolidated.localities(db)
    names = {t["code"]: t["name"] for t in teams}
    cells = consolidated.grid(db, quarter)
    done = consolidated.completeness(db, quarter)
    held = consolidated.latest(db, quarter)
    late = sorted(
        code
        for code, r in held.items()
        if not r["signed_off_at"] or r["signed_off_at"][:10] > done.deadline.isoformat()
    )
    earlier = [q for q in consolidated.held_quarters(db) if q.code < quarter.code]
    previous = earlier[-1] if earlier else None
    board = Board(quarter, previous, teams, done.received, done.missing, late, comments=comments)
    protect = protect or (lambda kpi, row: None if row is None else row["value"])

    def team(kpi: Kpi, code: str) -> tuple[float | None, float | None, str | None]:
        if shown is not None:
            return shown.get((kpi.code, code), (None, None, None))
        row = cells.get((kpi.code, code))
        if row is None or row["numerator"] is None:
            return None, None, None
        return row["value"], row["denominator"], row["rag"]

    kpis = _headline_kpis()
    # Targets: every team's RAG on every KPI with a target, and LLR's.
    judged_by: dict[str, list[str]] = {t["code"]: [] for t in teams if t["code"] in held}
    for kpi in kpis:
        reds = 0
        for code in judged_by:
            rag = team(kpi, code)[2]
            if rag:
                judged_by[code].append(rag)
                reds += rag == "R"
        if reds >= COMMON_RED:
            board.common_reds.append((kpi, reds))
        llr = consolidated.pooled(kpi, [cells.get((kpi.code, t["code"])) for t in teams])
        board.llr_value[kpi.code] = protect(kpi, llr)
        rag = kpi.rag(board.llr_value[kpi.code]) if kpi.denominator else None
        if rag == "G":
            board.llr_met.append(kpi)
        elif rag:
            board.llr_missed.append((kpi, rag))
    board.common_reds.sort(key=lambda kn: -kn[1])
    board.targets_judged = sum(len(r) for r in judged_by.values())
    board.targets_met = sum(r.count("G") for r in judged_by.values())
    board.every_target = [code for code, r in judged_by.items() if r and all(x == "G" for x in r)]
    # Optional entered KPIs (the BCF metrics) that teams left blank.
    for kpi in kpis:
        if kpi.source == "entered" and not kpi.required:
            blank = sum(1 for code in judged_by if team(kpi, code)[0] is None)
            if blank:
                board.not_entered.append((kpi, blank))
    if previous is not None:
        board.better, board.worse = _changes(db, quarter, previous, cells, protect, comments)
    board.outliers = _outliers(db, quarter, names, shown, funnels)
    return board


def _changes(db, quarter: Quarter, previous: Quarter, cells, protect: Protect, comments: bool):
    before_cells = consolidated.grid(db, previous)
    better, worse = [], []
    for kpi in _headline_kpis():
        if kpi.direction not in ("high", "low"):
            continue
        both = [
            code
            for (k, code), row in cells.items()
            if k == kpi.code
            and row["numerator"] is not None
            and (before := before_cells.get((k, code))) is not None
            and before["numerator"] is not None
        ]
        if not both:
            continue
        now = protect(kpi, consolidated.pooled(kpi, [cells[(kpi.code, c)] for c in both]))
        then = protect(kpi, consolidated.pooled(kpi, [before_cells[(kpi.code, c)] for c in both]))
        if now is None or then is None:
            continue
        gap = now - then
        size = abs(gap) / PERCENT_POINTS if kpi.unit == "percent" else abs(gap) / (abs(then) * RELATIVE or 1)
        if size < 1:
            continue
        good = (gap > 0) == (kpi.direction == "high")
        why: list[tuple[str, str]] = []
        if comments:
            moves = []
            for c in both:
                a, b = cells[(kpi.code, c)]["value"], before_cells[(kpi.code, c)]["value"]
                if a is not None and b is not None and (a - b) * gap > 0:
                    moves.append((-abs(a - b), c))
            for _, c in sorted(moves):
                text = " ".join((cells[(kpi.code, c)]["comment"] or "").split())
                if text and text not in [w for _, w in why]:
                    why.append((c, text))
                if len(why) == WHY_TEAMS:
                    break
        change = Change(kpi, then, now, good, len(both), tuple((c, clip(t)) for c, t in why))
        (better if good else worse).append((size, change))
    return (
        [c for _, c in sorted(better, key=lambda sc: -sc[0])[:MOST]],
        [c for _, c in sorted(worse, key=lambda sc: -sc[0])[:MOST]],
    )


def clip(text: str, chars: int = WHY_CHARS) -> str:
    if len(text) <= chars:
        return text
    cut = text[:chars].rsplit(" ", 1)[0].rstrip(",;:.")
    return cut + "…"


def _outliers(db, quarter: Quarter, names: Mapping[str, str], shown: Shown | None, funnels=None) -> list[Outlier]:
    out = []
    for kpi in _headline_kpis():
        if kpi.unit not in consolidated.FUNNEL_UNITS:
            continue
        f = funnels.get(kpi.code) if funnels is not None else consolidated.funnel(db, kpi.code, quarter)
        if f is None:
            continue
        for pt in f.points:
            value, denominator = pt["value"], pt["denominator"]
            if shown is not None:
                value, denominator, _ = shown.get((kpi.code, pt["locality"]), (None, None, None))
                if value is None or not denominator:
                    continue
            band, above = consolidated.position(f, denominator, value)
            if band == consolidated.BEYOND_998:
                code = pt["locality"]
                out.append(Outlier(kpi, code, names.get(code, code), value, f.centre, above))
    return out


def _teams(codes: Sequence[str]) -> str:
    codes = list(codes)
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def _outliers_named(found: Sequence[Outlier]) -> str:
    """ "HAB on OUT-01 (above LLR); CHA and CTN on OUT-02 (above LLR)", or, past NAMED of them, how many
    and where the page lists them: a request stays a sentence."""
    if len(found) > NAMED:
        kpis = {o.kpi.code for o in found}
        return f"{len(found)} cases across {len(kpis)} KPIs, named under Outliers above"
    by_kpi: dict[str, list[Outlier]] = {}
    for o in found:
        by_kpi.setdefault(o.kpi.code, []).append(o)
    return "; ".join(
        f"{_teams([o.team for o in group])} on {code}"
        + (f" ({'above' if group[0].above else 'below'} LLR)" if len({o.above for o in group}) == 1 else "")
        for code, group in by_kpi.items()
    )


def draft_asks(board: Board) -> list[str]:
    """What the Board is asked to do, drafted from the exceptions: each item completes "The Board is asked
    to …" and the commissioner edits them before the report leaves. One request per kind of exception, so
    the list stays a board's length whatever the quarter holds."""
    q = board.quarter.label
    n = len(board.teams)
    asks = []
    llr_judged = len(board.llr_met) + len(board.llr_missed)
    position = (
        f"note the position of the integrated locality teams in {q}: {board.targets_met} of "
        f"{board.targets_judged} team targets met, {len(board.every_target)} of {board.received} teams meeting "
        "every target"
    )
    if llr_judged:
        position += f", and LLR as a whole meeting {len(board.llr_met)} of {llr_judged} percentage targets"
    asks.append(position)
    worse = [o for o in board.outliers if o.worse is True]
    if worse:
        one = len({o.team for o in worse}) == 1
        asks.append(
            f"ask the team{'' if one else 's'} beyond the 99.8% funnel limits on the wrong side of LLR "
            f"({_outliers_named(worse)}) to explain why, and to report {'its' if one else 'their'} actions to the "
            "next meeting"
        )
    unjudged = [o for o in board.outliers if o.worse is None]
    if unjudged:
        asks.append(
            f"ask {_outliers_named(unjudged)} to explain the difference from LLR beyond the 99.8% funnel limits, "
            "on a KPI with no direction of good"
        )
    good = [o for o in board.outliers if o.worse is False]
    if good:
        asks.append(
            f"note the teams significantly better than LLR ({_outliers_named(good)}) and ask how their practice "
            "can be shared"
        )
    if board.common_reds:
        reds = [
            f"{kpi.code} {short(kpi, 44)} ({count} of {board.received} teams red)"
            for kpi, count in board.common_reds[:3]
        ]
        asks.append(f"seek assurance on {_teams(reds)}, and agree a system-wide recovery plan for each")
    if board.worse:
        changes = [f"{c.kpi.code} (LLR {figure(c.kpi, c.before)} to {figure(c.kpi, c.after)})" for c in board.worse[:3]]
        asks.append(f"note the deterioration since {board.previous.label} in {_teams(changes)}")
    if board.missing:
        asks.append(f"ask {_teams(board.missing)} to send their outstanding {q} returns")
    if board.late:
        asks.append(
            f"note that {len(board.late)} of {board.received} returns were signed off after the deadline "
            f"({_teams(board.late)})"
        )
    if board.not_entered:
        codes = [k.code for k, _ in board.not_entered]
        most = max(b for _, b in board.not_entered)
        asks.append(
            f"note that the optional metrics {_teams(codes)} were not entered by {most} of {n} teams, and decide "
            "whether to require them from next quarter"
        )
    return asks


def check_asks(db: sqlite_utils.Database, asks: Sequence[str]) -> None:
    """ValidationError naming the request and the kind of identifier when one of *asks* holds a patient
    identifier of this workspace's (models/free_text.py), never the identifier itself."""
    free_text.refuse(
        db,
        {ASK_LABEL.format(n=i): text for i, text in enumerate(asks, start=1)},
        "the system report cannot be exported",
        "Edit the request, then export again.",
        "the report goes to the Board and must never identify a patient",
    )


def parse_asks(text: str) -> list[str]:
    """The requests as typed in the editor: one a line, a leading bullet, dash or "1." / "2)" dropped."""
    return [line for raw in text.splitlines() if (line := _BULLET.sub("", raw).strip())]


def asks_text(asks: Sequence[str]) -> str:
    """The requests for the editor, one a line behind a bullet."""
    return "\n".join(f"• {a}" for a in asks)


def met_share(board: Board) -> str:
    """The share of the teams' judged targets that were met, "43%"."""
    if not board.targets_judged:
        return "no targets judged"
    return f"{100 * board.targets_met / board.targets_judged:.0f}%"
