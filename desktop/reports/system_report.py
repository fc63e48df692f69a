"""The commissioner's system report for a quarter (DESIGN §11): the 11 integrated locality teams compared, in
the Health and Wellbeing Board's terms (issue 24).

Page 1 is the Board's summary (models/kpi/system_board.py): the headline, better and worse than last quarter
with the teams' reasons, the outliers of the funnel plots and "The Board is asked to …" (drafted, or as the
commissioner edited it). Then completeness and reds by team; the teams side by side grouped by place
(Leicester City, Leicestershire, Rutland) with place subtotals and LLR (landscape); the former CCG areas; the
rates per 1,000 and per 100,000 beside LLR; teams' comments on the reds; a funnel plot per percentage or rate
KPI; every KPI's trend; completeness of returns per quarter and, for publication, the disclosure check.
Built only from the returns a workspace holds: aggregate, no patient data. `for_publication` applies NHS
Digital's small-number suppression (disclosure.py); without it every page says the report is not for
publication. Every export is audited."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from ..models.clock import Actor
from ..models.errors import ValidationError
from ..models.kpi import consolidated, places, system_board
from ..models.kpi.catalogue import UNIT_AXIS, UNITS, Kpi, by_code, catalogue
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Quarter
from ..models.stats import ci, suppression
from ..models.stats import funnel as funnel_stats
from .charts import funnel as funnel_chart
from .charts import trend as trend_chart
from .disclosure import Disclosure, Figures, number
from .fonts import BOLD, REGULAR
from .page_layout import LANDSCAPE_WIDTH, build, landscape_next, portrait_next
from .styles import (
    CONTENT_WIDTH,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_PALE_GREY,
    NHS_RED,
    STYLES,
    escape,
    markup,
    p,
    table,
)
from .writing import part_file, record_export, stage

PUBLICATION_NOTE = "For publication: small numbers suppressed (NHS Digital 2018 method)"
NOT_FOR_PUBLICATION = "Not for publication: contains unsuppressed small numbers"
GROUPS = (
    ("COH", "Risk-stratified cohort"),
    ("MDT", "Multidisciplinary team meetings"),
    ("CH", "Enhanced health in care homes"),
    ("OUT", "Outcomes (entered from secondary-care data)"),
    ("BCF", "Better Care Fund metrics (entered, optional)"),
)
RATE_UNITS = ("per_1000", "per_100000")
NOT_ENTERED = "not entered"
UP, DOWN = "▲", "▼"  # beyond the 99.8 % limits; the hollow ones beyond 95 % only
UP_95, DOWN_95 = "△", "▽"
RAG_FILL = {"G": colors.HexColor("#CDE8D4"), "A": colors.HexColor("#FCE3BF"), "R": colors.HexColor("#F6CBC7")}
RAG_WORD = {"G": "green", "A": "amber", "R": "red"}
TREND_SPAN = 8  # quarters: two years is what a board compares against

_tiny = ParagraphStyle("tiny", parent=STYLES["cell"], fontSize=6.3, leading=7.6, textColor=NHS_DARK_GREY)
_grid_cell = ParagraphStyle("grid_cell", parent=STYLES["cell"], fontSize=7.6, leading=9, alignment=1)
_grid_head = ParagraphStyle("grid_head", parent=STYLES["head"], fontSize=7.6, leading=9, alignment=1)
_sub_cell = ParagraphStyle("sub_cell", parent=_grid_cell, fontSize=6.8, leading=8)
_sub_name = ParagraphStyle("sub_name", parent=STYLES["cell"], fontSize=7, leading=8.2, leftIndent=8)
_ask = ParagraphStyle(
    "ask",
    parent=STYLES["body"],
    fontSize=8.6,
    leading=10.8,
    leftIndent=14,
    bulletIndent=2,
    spaceAfter=1.5,
    bulletFontName=REGULAR,  # reportlab's default is Helvetica: the bullets and numbers too are in the shipped face
)
_summary = ParagraphStyle("summary", parent=STYLES["body"], fontSize=9, leading=11.6, spaceAfter=1)
_tiny_cell = ParagraphStyle("tiny_cell", parent=STYLES["cell"], fontSize=7.5, leading=8.9)
_big = ParagraphStyle("big", parent=STYLES["body"], fontName=BOLD, fontSize=22, leading=25, textColor=NHS_DARK_BLUE)


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    quarter: Quarter,
    out: str | Path,
    for_publication: bool = False,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    asks: list[str] | None = None,
) -> int:
    """Write the report to *out*; the number of cells suppression altered (0 when not for publication).
    *asks* are the requests to the Board as the commissioner edited them (each completes "The Board is asked
    to …"); None prints the draft (system_board.draft_asks). Edited requests are checked for patient
    identifiers first. Cancelled from *cancel* leaves neither a file nor an audit entry."""
    out = Path(out)
    if not consolidated.latest(db, quarter):
        raise ValidationError(
            f"This workspace holds no signed-off return for {quarter.label}; import the teams' return files first."
        )
    if asks is not None:
        asks = [a.strip() for a in asks if a and a.strip()]
        system_board.check_asks(db, asks)
    disclosure = Disclosure(for_publication)
    with part_file(out) as part:
        build_report(db, quarter, part.path, disclosure, progress, cancel, asks)
        altered = len(disclosure.altered)
        record_export(
            db,
            part,
            actor,
            "report",
            None,
            f"Exported the {quarter.label} system report to {out.name}"
            + (
                f" for publication ({altered} cells suppressed or rounded)"
                if for_publication
                else " (not for publication)"
            ),
            {
                "file": str(out),
                "for_publication": for_publication,
                "quarter": quarter.code,
                "altered": altered,
                "asks": "drafted" if asks is None else "edited",
            },
            progress,
            cancel,
        )
    return altered


def board_of(db: sqlite_utils.Database, quarter: Quarter, for_publication: bool = False) -> system_board.Board:
    """The front page's facts as the report will print them (protected for publication): what the Export
    dialog drafts the requests to the Board from."""
    disclosure = Disclosure(for_publication)
    cells = consolidated.grid(db, quarter)
    shown = {
        (k.code, t["code"]): disclosure.figures(k, t["code"], cells.get((k.code, t["code"])), log=False)
        for k in catalogue()
        for t in consolidated.localities(db)
    }
    return _board(db, quarter, shown, for_publication)


def _board(db, quarter: Quarter, shown: dict, for_publication: bool, funnels=None) -> system_board.Board:
    return system_board.summarise(
        db,
        quarter,
        funnels=funnels,
        shown={key: (f.number, f.bottom, f.rag) for key, f in shown.items()},
        protect=lambda kpi, row: Disclosure(for_publication).figures(kpi, "LLR", row, log=False).number,
        comments=not for_publication,
    )


def draft_asks(db: sqlite_utils.Database, quarter: Quarter, for_publication: bool = False) -> list[str]:
    return system_board.draft_asks(board_of(db, quarter, for_publication))


def build_report(
    db: sqlite_utils.Database,
    quarter: Quarter,
    out: Path,
    disclosure: Disclosure,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    asks: list[str] | None = None,
) -> None:
    stage(progress, cancel, 0.0, "Reading the teams' returns…")
    teams = consolidated.localities(db)
    by_place = places.by_place(teams)
    by_ccg = places.by_ccg(teams)
    cells = consolidated.grid(db, quarter)
    # Every figure of the quarter goes through the disclosure once, KPI by KPI in the order the tables show
    # them (teams by place, each place's subtotal after its teams, LLR, then the former CCG areas), so the
    # appendix lists each altered cell exactly once and the charts reuse the same protected figures.
    shown: dict[tuple[str, str], Figures] = {}
    subtotal: dict[tuple[str, str, str], Figures] = {}  # (KPI, "place" or "ccg", group name)
    llr: dict[str, Figures] = {}
    for k in catalogue():
        for g in by_place:
            for code in g.codes:
                shown[(k.code, code)] = disclosure.figures(k, code, cells.get((k.code, code)))
            if len(g.codes) > 1:
                subtotal[(k.code, "place", g.name)] = _group(k, g, cells, disclosure, f"{g.name} total")
        llr[k.code] = _llr(k, [cells.get((k.code, t["code"])) for t in teams], disclosure)
        for g in by_ccg:
            same = next((pl for pl in by_place if pl.codes == g.codes and len(pl.codes) > 1), None)
            subtotal[(k.code, "ccg", g.name)] = (
                subtotal[(k.code, "place", same.name)]  # the city is both a place and a former CCG: listed once
                if same
                else _group(k, g, cells, disclosure, f"{g.name} CCG")
            )
    publication = disclosure.for_publication
    funnels = {
        k.code: consolidated.funnel(db, k.code, quarter) for k in catalogue() if k.unit in consolidated.FUNNEL_UNITS
    }
    board = _board(db, quarter, shown, publication, funnels)
    drafted = asks is None
    asks = system_board.draft_asks(board) if asks is None else asks
    held = set(consolidated.latest(db, quarter))
    stage(progress, cancel, 0.1, "Writing the summary and the teams side by side…")
    story = [
        *_summary_page(quarter, board, asks, drafted, publication),
        PageBreak(),
        *_cover(db, quarter, teams, shown, publication),
        landscape_next(),
        PageBreak(),
        *_side_by_side(quarter, by_place, shown, subtotal, llr, held, publication),
        portrait_next(),
        PageBreak(),
        *_by_ccg(quarter, by_ccg, subtotal, llr, publication),
        *_rates(db, quarter, by_place, shown, llr, held, publication, funnels),
        PageBreak(),
        *_comments(quarter, teams, cells, shown, publication),
    ]
    story += _funnels(db, quarter, teams, shown, publication, progress, cancel, funnels)
    story += [PageBreak(), *_trends(db, quarter, teams, disclosure, progress, cancel)]
    stage(progress, cancel, 0.65, "Writing the completeness of returns…")
    story += [PageBreak(), *_completeness(db, quarter, teams)]
    if publication:
        story += [PageBreak(), *_appendix(disclosure)]
    marking = "FOR PUBLICATION · small numbers suppressed" if disclosure.for_publication else "NOT FOR PUBLICATION"
    build(
        out,
        story,
        title=f"System report · {quarter.label}",
        subject="LLR integrated locality teams: quarterly KPI returns compared",
        marking=marking,
        progress=progress,
        cancel=cancel,
    )


# --- figures ---------------------------------------------------------------------------------------------


def _llr(kpi: Kpi, rows: list[dict[str, Any] | None], disclosure: Disclosure) -> Figures:
    """The LLR figure: the pooled rate (Σ numerators / Σ denominators) or the total count. Totals are summed
    from the exact values and only then protected (REFERENCE §4)."""
    return disclosure.figures(kpi, "LLR", consolidated.pooled(kpi, rows), log=True)


def _group(kpi: Kpi, group: places.Group, cells, disclosure: Disclosure, label: str) -> Figures:
    """A place's or former CCG area's subtotal, pooled like LLR from its teams' exact figures, then protected."""
    return disclosure.figures(kpi, label, consolidated.pooled(kpi, [cells.get((kpi.code, c)) for c in group.codes]))


def _target(kpi: Kpi) -> str:
    if kpi.target is None:
        return "—"
    sign = "≥" if kpi.direction == "high" else "≤"
    unit = "%" if kpi.unit == "percent" else ""
    tol = ""
    if kpi.tolerance:
        edge = kpi.target - kpi.tolerance if kpi.direction == "high" else kpi.target + kpi.tolerance
        tol = f"\namber {sign} {edge:g}{unit}" if kpi.direction == "high" else f"\namber {sign} {edge:g}{unit}"
    return f"{sign}\u00a0{kpi.target:g}{unit}{tol}"  # no break between the sign and its figure


# --- page 1: the Board's summary ---------------------------------------------------------------------------


def _marking(for_publication: bool) -> Table:
    marking = Table(
        [[markup(f"<b>{PUBLICATION_NOTE if for_publication else NOT_FOR_PUBLICATION}</b>", "body")]],
        colWidths=[CONTENT_WIDTH],
    )
    marking.setStyle(
        TableStyle(
            [
                (
                    "BACKGROUND",
                    (0, 0),
                    (-1, -1),
                    colors.HexColor("#E8F1FA") if for_publication else colors.HexColor("#FDECEA"),
                ),
                ("LINEBEFORE", (0, 0), (0, -1), 3, NHS_BLUE if for_publication else NHS_RED),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return marking


def _codes(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " and " + codes[-1]


def _summary_page(quarter: Quarter, board: system_board.Board, asks: list[str], drafted: bool, publication: bool):
    fig = system_board.figure
    n = len(board.teams)
    held = f"{board.received} of {n} teams' returns are held"
    if board.missing:
        held += f" (none yet from {_codes(board.missing)})"
    if board.late:
        held += f"; {len(board.late)} signed off after the deadline ({_codes(board.late)})"
    every = f"{len(board.every_target)} team{'s' if len(board.every_target) != 1 else ''} met every target" + (
        f" ({_codes(board.every_target)})" if board.every_target else ""
    )
    headline = (
        f"{held}. Between them the teams met <b>{board.targets_met} of {board.targets_judged}</b> targets "
        f"({system_board.met_share(board)}); {every}."
    )
    judged = len(board.llr_met) + len(board.llr_missed)
    if judged:
        missed = "; ".join(
            f"{RAG_WORD[rag]} on " + _codes([f"<b>{k.code}</b>" for k, r in board.llr_missed if r == rag])
            for rag in ("R", "A")
            if any(r == rag for _, r in board.llr_missed)
        )
        headline += (
            f" <b>LLR as a whole</b> (all teams pooled) met <b>{len(board.llr_met)} of {judged}</b> percentage "
            "targets" + (f"; it is {missed}." if missed else ".")
        )
    if board.common_reds:
        headline += (
            " Red in three or more teams: "
            + "; ".join(f"<b>{k.code}</b> ({r} teams)" for k, r in board.common_reds[:4])
            + "."
        )
    story = [
        markup("NHS Leicester, Leicestershire and Rutland · integrated locality teams", "body"),
        Spacer(1, 1.5 * mm),
        Paragraph(f"System report {quarter.label}", STYLES["title"]),
        markup(
            f"For the Health and Wellbeing Board: the quarterly KPI returns of the {n} teams, "
            f"{quarter.start:%d %B %Y} to {quarter.end:%d %B %Y}. Aggregate figures only; no patient data.",
            "small",
        ),
        Spacer(1, 2 * mm),
        _marking(publication),
        Paragraph("Summary for the Board", STYLES["h1"]),
        Paragraph(headline, _summary),
    ]
    # Better and worse than last quarter, with the teams' own reasons.
    if board.previous is not None:
        story.append(Paragraph(f"Better and worse than {board.previous.label}", STYLES["h2"]))
        rows = []
        for word, changes in (("Better", board.better), ("Worse", board.worse)):
            for c in changes:
                why = "<br/>".join(f"<b>{t}</b>: {escape(text)}" for t, text in c.why)
                if not board.comments:
                    why = "<i>teams' comments are not published</i>"
                rows.append(
                    [
                        p(word, "cell_bold"),
                        Paragraph(f"<b>{c.kpi.code}</b> {escape(system_board.short(c.kpi, 52))}", _tiny_cell),
                        Paragraph(f"{fig(c.kpi, c.before)} → <b>{fig(c.kpi, c.after)}</b>", _tiny_cell),
                        Paragraph(why or "<i>no comment given</i>", _tiny_cell),
                    ]
                )
        if rows:
            w = CONTENT_WIDTH
            story.append(
                table(
                    ["", "KPI", "LLR", "A team's reason (its comment on this KPI)"],
                    rows,
                    [0.09 * w, 0.33 * w, 0.17 * w, 0.41 * w],
                    row_styles=[("TOPPADDING", (0, 1), (-1, -1), 2), ("BOTTOMPADDING", (0, 1), (-1, -1), 2)],
                )
            )
            story.append(
                p(
                    f"LLR pooled over the teams that returned the KPI in both quarters; changes of "
                    f"{system_board.PERCENT_POINTS:g} point (percentages) or {system_board.RELATIVE:.0%} (rates, "
                    f"counts) or more, up to {system_board.MOST} each way, with the comment of the team that moved "
                    "most that way.",
                    "small",
                )
            )
        else:
            story.append(p("No KPI moved by a point or 5% or more across LLR.", "body"))
    # Outliers named from the funnel plots.
    story.append(Paragraph("Outliers: beyond the funnel plots' 99.8% limits", STYLES["h2"]))
    if board.outliers:
        grouped: dict[str, list[system_board.Outlier]] = {}
        for o in board.outliers:
            grouped.setdefault(o.kpi.code, []).append(o)
        lines = []
        for code, found in grouped.items():
            parts = []
            for label, pick in (
                ("worse", lambda o: o.worse is True),
                ("better", lambda o: o.worse is False),
                ("", lambda o: o.worse is None),
            ):
                chosen = [o for o in found if pick(o)]
                if chosen:
                    side = ", ".join(
                        f"{o.team} {fig(o.kpi, o.value)} ({'above' if o.above else 'below'})" for o in chosen
                    )
                    parts.append(f"{label + ': ' if label else ''}{side}")
            k = found[0].kpi
            lines.append(
                f"<b>{code}</b> {escape(system_board.short(k))}, LLR {fig(k, found[0].centre)} — " + "; ".join(parts)
            )
        story += [Paragraph(line, _ask, bulletText="•") for line in lines]
        story.append(
            p(
                "More than chance alone is likely to explain: a prompt to ask why, not a verdict. Worse or better "
                "by the KPI's direction of good.",
                "small",
            )
        )
    else:
        story.append(p("No team lies beyond the 99.8% limits on any funnel plot this quarter.", "body"))
    story.append(Paragraph("The Board is asked to:", STYLES["h2"]))
    story += [Paragraph(escape(a), _ask, bulletText=f"{i}.") for i, a in enumerate(asks, start=1)] or [
        p("(no request)", "body")
    ]
    story.append(
        p(
            "Drafted by Locality Desk from the exceptions in this report."
            if drafted
            else "Drafted from the exceptions in this report and edited by the commissioner before export.",
            "small",
        )
    )
    return story


# --- cover -----------------------------------------------------------------------------------------------


def _cover(db, quarter: Quarter, teams, shown, for_publication: bool) -> list:
    done = consolidated.completeness(db, quarter)
    w = CONTENT_WIDTH
    tiles = Table(
        [
            [
                Paragraph(f"{n} <font size=11 color='#425563'>of {done.expected}</font>", _big)
                for n in (done.received, done.on_time, done.signed_off)
            ],
            [
                p(t, "small")
                for t in ("returns received", f"on time (signed off by {done.deadline:%d %b %Y})", "signed off")
            ],
        ],
        colWidths=[w / 3] * 3,
    )
    tiles.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), NHS_PALE_GREY),
                ("LINEAFTER", (0, 0), (1, -1), 2, colors.white),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    missing = (
        f"No return held from {', '.join(done.missing)}: their columns are blank throughout."
        if done.missing
        else f"All {done.expected} teams' returns are held."
    )
    kpis = {k.code: k for k in catalogue() if k.part_of is None}
    rows, styles = [], []
    for t in teams:
        rags = [(code, f.rag) for (code, team), f in shown.items() if team == t["code"] and f.rag]
        reds = [code for code, r in rags if r == "R"]
        if t["code"] in done.missing:
            rows.append([t["code"], t["name"], "—", "—", "—", "no return"])
            continue
        rows.append(
            [
                p(t["code"], "cell_bold"),
                t["name"],
                str(len(reds)),
                str(sum(1 for _, r in rags if r == "A")),
                str(sum(1 for _, r in rags if r == "G")),
                Paragraph(", ".join(f"<b>{c}</b>" for c in reds) or "none", STYLES["cell"]),
            ]
        )
        if reds:
            styles.append(("TEXTCOLOR", (2, len(rows)), (2, len(rows)), NHS_RED))
    counts = {c: sum(1 for (code, _), f in shown.items() if code == c and f.rag == "R") for c in kpis}
    common = sorted((n, c) for c, n in counts.items() if n)[::-1][:4]
    headline = (
        (
            "Most often red: "
            + "; ".join(f"<b>{c}</b> {escape(kpis[c].name)} ({n} of {len(teams)} teams)" for n, c in common)
            + "."
        )
        if common
        else "No team returned a red."
    )
    return [
        Paragraph(f"Completeness of returns, {quarter.label}", STYLES["h1"]),
        tiles,
        Spacer(1, 2 * mm),
        p(missing, "small"),
        Paragraph("Headline: reds by team", STYLES["h1"]),
        markup(headline, "body"),
        Spacer(1, 2 * mm),
        table(
            ["Team", "Name", "Red", "Amber", "Green", "Red KPIs"],
            rows,
            [0.08 * w, 0.26 * w, 0.07 * w, 0.08 * w, 0.08 * w, 0.43 * w],
            row_styles=[("ALIGN", (2, 0), (4, -1), "CENTER"), *styles],
        ),
        Spacer(1, 2 * mm),
        p(
            "RAG against each KPI's target: green meets it, amber is within the KPI's tolerance, red is beyond. "
            "KPIs without a target (counts and the entered outcome rates) carry no RAG."
            + (" For publication the RAG is judged on the published (rounded) value." if for_publication else ""),
            "small",
        ),
        Paragraph("In this report", STYLES["h2"]),
        p(
            "The Board's summary (page 1) · the teams side by side by place, with place subtotals and LLR · the "
            "former CCG areas · rates per 1,000 and per 100,000 beside LLR · teams' comments on the reds · funnel "
            "plots of every percentage and rate KPI (does a team differ from LLR by more than chance?) · trends "
            "across the held quarters · completeness of returns by quarter"
            + (" · the disclosure check (every cell altered by suppression)" if for_publication else ""),
            "body",
        ),
    ]


def _short(kpi: Kpi) -> str:
    return kpi.name if len(kpi.name) <= 48 else kpi.name[:46] + "…"


# --- the teams side by side, by place (landscape) --------------------------------------------------------


def _value_cell(f: Figures, kpi: Kpi, style: ParagraphStyle = _grid_cell, not_entered: bool = False) -> Paragraph:
    """The value and its RAG letter, then numerator/denominator (on two lines when they are long)."""
    if not_entered and f.value == "—":
        return Paragraph(f"<font size=6 color='#768692'>{NOT_ENTERED}</font>", style)
    head = f"<b>{escape(f.value)}</b>" + (f" <font size=6.8>{f.rag}</font>" if f.rag else "")
    if kpi.denominator and f.numerator != "—":
        sep = "/" if len(f.numerator) + len(f.denominator) <= 10 else "/<br/>"
        head += f"<br/><font size=6 color='#425563'>{escape(f.numerator)}{sep}{escape(f.denominator)}</font>"
    return Paragraph(head, style)


def _optional(kpi: Kpi) -> bool:
    return kpi.source == "entered" and not kpi.required


def _side_by_side(quarter: Quarter, groups, shown, subtotal, llr, held, for_publication: bool) -> list:
    """KPIs down; across, each place's teams then its subtotal, and LLR last."""
    columns: list[tuple[str, str]] = []  # ("team", code) / ("place", name) / ("llr", "LLR")
    for g in groups:
        columns += [("team", c) for c in g.codes]
        if len(g.codes) > 1:
            columns.append(("place", g.name))
    columns.append(("llr", "LLR"))
    code_w, target_w = 50 * mm, 15 * mm
    col_w = (LANDSCAPE_WIDTH - code_w - target_w) / len(columns)
    total_cols = [i + 2 for i, (kind, _) in enumerate(columns) if kind != "team"]
    place_row = [Paragraph("", STYLES["head"]), Paragraph("", STYLES["head"])]
    spans = []
    col = 2
    for g in groups:
        width = len(g.codes) + (1 if len(g.codes) > 1 else 0)
        name = g.name + (" *" if g.note else "")
        place_row += [Paragraph(escape(name), _grid_head)] + [""] * (width - 1)
        spans.append(("SPAN", (col, 0), (col + width - 1, 0)))
        spans.append(("LINEAFTER", (col + width - 1, 0), (col + width - 1, -1), 1.2, colors.white))
        col += width
    place_row.append(Paragraph("", _grid_head))
    header = [Paragraph("KPI", STYLES["head"]), Paragraph("Target", _grid_head)]
    for kind, name in columns:
        label = {"team": name, "place": "total", "llr": "LLR"}[kind]
        header.append(Paragraph(f"<b>{escape(label)}</b>" if kind != "team" else escape(label), _grid_head))
    out = []
    parts = (GROUPS[:1], GROUPS[1:3], GROUPS[3:])  # a landscape page each
    for n, kinds in enumerate(parts):
        data = [place_row, header]
        styles: list[tuple] = []
        for prefix, title in kinds:
            data.append([Paragraph(f"<b>{escape(title)}</b>", STYLES["cell"])] + [""] * (len(columns) + 1))
            r = len(data) - 1
            styles += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), NHS_PALE_GREY)]
            for kpi in (k for k in catalogue() if k.code.split("-")[0] == prefix):
                r = len(data)
                compact = kpi.part_of is not None
                if compact:  # COH-06a-g: one slim line each under COH-06, value only
                    name = kpi.name.replace(" delivered in the quarter", "")
                    row = [Paragraph(f"{kpi.code[-1]}. {escape(name)}", _sub_name), Paragraph("", _tiny)]
                    styles += [("TOPPADDING", (0, r), (-1, r), 1), ("BOTTOMPADDING", (0, r), (-1, r), 1)]
                else:
                    unit = trend_chart.short_unit(kpi)
                    row = [
                        Paragraph(
                            f"<b>{kpi.code}</b> {escape(kpi.name)} <font color='#768692'>({unit})</font>",
                            STYLES["cell"],
                        ),
                        Paragraph(escape(_target(kpi)).replace("\n", "<br/>"), _tiny),
                    ]
                for i, (kind, name) in enumerate(columns):
                    if kind == "team":
                        f = shown[(kpi.code, name)]
                        blank = _optional(kpi) and name in held
                    elif kind == "place":
                        f = subtotal[(kpi.code, "place", name)]
                        blank = _optional(kpi)
                    else:
                        f = llr[kpi.code]
                        blank = _optional(kpi)
                    style = _sub_cell if compact else _grid_cell
                    row.append(Paragraph(f"{escape(f.value)}", style) if compact else _value_cell(f, kpi, style, blank))
                    if f.rag:
                        styles.append(("BACKGROUND", (2 + i, r), (2 + i, r), RAG_FILL[f.rag]))
                data.append(row)
        grid = Table(data, colWidths=[code_w, target_w] + [col_w] * len(columns), repeatRows=2)
        grid.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 1), NHS_BLUE),
                    ("BACKGROUND", (2, 0), (-1, 0), NHS_DARK_BLUE),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.white),
                    ("LINEAFTER", (1, 0), (-2, -1), 0.4, colors.white),
                    *[("BACKGROUND", (c, 2), (c, -1), colors.HexColor("#F4F7F8")) for c in total_cols],
                    *[("LINEBEFORE", (c, 1), (c, -1), 1.0, NHS_DARK_GREY) for c in total_cols],
                    ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                    *spans,
                    *styles,
                ]
            )
        )
        heading = f"The teams side by side by place, {quarter.label}" + (" (continued)" if n else "")
        out += [
            Paragraph(heading, STYLES["h1"]),
            grid,
            Spacer(1, 2 * mm),
            p(
                "Each cell: the value and its RAG letter (G meets the target, A within tolerance, R beyond; the "
                "shading repeats the letter), then numerator/denominator. Place totals and LLR pool the teams' "
                "returns held: counts are summed, and a percentage or rate is Σ numerators / Σ denominators "
                "(a count's total carries no RAG: its target is each team's). — no value returned; "
                f"{NOT_ENTERED}: an optional entered metric left blank."
                + (
                    " Counts are suppressed (* for 1–7) or rounded to the nearest 5, and each percentage or rate "
                    "recomputed from the published figures; totals are pooled from the exact figures, then "
                    "protected."
                    if for_publication
                    else ""
                ),
                "small",
            ),
            p("* " + places.RUTLAND_RULE, "small"),
        ]
        if n < len(parts) - 1:
            out.append(PageBreak())
    return out


def _by_ccg(quarter: Quarter, groups, subtotal, llr, for_publication: bool) -> list:
    """The same figures pooled by former CCG area, for boards that still read LLR that way."""
    w = CONTENT_WIDTH
    kpi_w, target_w = 0.32 * w, 0.1 * w
    col_w = (w - kpi_w - target_w) / (len(groups) + 1)
    data = [
        [
            Paragraph("KPI", STYLES["head"]),
            Paragraph("Target", _grid_head),
            *[
                Paragraph(f"{escape(g.name)}<br/><font size=6.5>{len(g.codes)} teams</font>", _grid_head)
                for g in groups
            ],
            Paragraph("LLR", _grid_head),
        ]
    ]
    styles: list[tuple] = []
    for kpi in catalogue():
        if kpi.part_of is not None:
            continue
        r = len(data)
        row = [
            Paragraph(f"<b>{kpi.code}</b> {escape(kpi.name)}", _tiny_cell),
            Paragraph(escape(_target(kpi)).replace("\n", "<br/>"), _tiny),
        ]
        figs = [subtotal[(kpi.code, "ccg", g.name)] for g in groups] + [llr[kpi.code]]
        for i, f in enumerate(figs):
            row.append(_value_cell(f, kpi, _grid_cell, _optional(kpi)))
            if f.rag:
                styles.append(("BACKGROUND", (2 + i, r), (2 + i, r), RAG_FILL[f.rag]))
        data.append(row)
    grid = Table(data, colWidths=[kpi_w, target_w] + [col_w] * (len(groups) + 1), repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.white),
                ("LINEAFTER", (1, 0), (-2, -1), 0.4, colors.white),
                ("LINEBEFORE", (-1, 1), (-1, -1), 1.0, NHS_DARK_GREY),
                ("BACKGROUND", (-1, 1), (-1, -1), colors.HexColor("#F4F7F8")),
                ("TOPPADDING", (0, 0), (-1, -1), 1.2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.2),
                *styles,
            ]
        )
    )
    return [
        Paragraph(f"By former CCG area, {quarter.label}", STYLES["h1"]),
        grid,
        Spacer(1, 2 * mm),
        p(
            "Each area pools its teams' returns like LLR (counts summed; percentages and rates Σ numerators / "
            "Σ denominators). East Leicestershire & Rutland includes MSR, the team that serves Rutland."
            + (" Published figures, protected as in the tables before." if for_publication else ""),
            "small",
        ),
    ]


def _rates(db, quarter: Quarter, groups, shown, llr, held, for_publication: bool, funnels) -> list:
    """Every rate per 1,000 or per 100,000 beside the LLR rate, each team marked where the funnel plot puts it
    beyond LLR's limits, with Byar's 95% interval (REFERENCE §2, §3)."""
    kpis = [k for k in catalogue() if k.unit in RATE_UNITS]
    entered = [k for k in kpis if any(shown[(k.code, c)].number is not None for g in groups for c in g.codes)]
    blank = [k for k in kpis if k not in entered]
    out = [
        Paragraph(f"Rates beside LLR, {quarter.label}", STYLES["h1"]),
        p(
            "Each team's rate with Byar's 95% confidence interval, and its place against LLR on the KPI's funnel "
            f"plot: {UP} / {DOWN} significantly above / below LLR (beyond the 99.8% limits), {UP_95} / {DOWN_95} "
            "beyond the 95% limits only; no mark, within chance of LLR. Whether above is worse depends on the "
            "KPI's direction of good"
            + (" (every rate here is better low)." if all(k.direction == "low" for k in kpis) else ".")
            + (" Drawn from the published figures." if for_publication else ""),
            "small",
        ),
        Spacer(1, 1.5 * mm),
    ]
    if not entered:
        return out + [p("No team returned a rate this quarter.", "body")]
    names = {t["code"]: t["name"] for t in consolidated.localities(db)}
    w = CONTENT_WIDTH
    team_w = 0.27 * w
    col_w = (w - team_w) / len(entered)
    data = [
        [Paragraph("Team", STYLES["head"])]
        + [
            Paragraph(
                f"<b>{k.code}</b><br/><font size=6>{escape(UNIT_AXIS[k.unit])}"
                + (f" · target {escape(_target(k).splitlines()[0])}" if k.target is not None else "")
                + "</font>",
                _grid_head,
            )
            for k in entered
        ]
    ]
    styles: list[tuple] = []
    for g in groups:
        r = len(data)
        data.append([Paragraph(f"<b>{escape(g.name)}</b>", _tiny_cell)] + [""] * len(entered))
        styles += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), NHS_PALE_GREY)]
        for code in g.codes:
            row = [Paragraph(f"<b>{code}</b> {escape(names.get(code, ''))}", _tiny_cell)]
            for k in entered:
                f = shown[(k.code, code)]
                row.append(_rate_cell(k, f, funnels[k.code], code, _optional(k) and code in held))
            data.append(row)
    data.append(
        [Paragraph("<b>LLR</b> all teams pooled", _tiny_cell)]
        + [_rate_cell(k, llr[k.code], None, "LLR", _optional(k)) for k in entered]
    )
    styles.append(("BACKGROUND", (0, len(data) - 1), (-1, len(data) - 1), colors.HexColor("#F4F7F8")))
    styles.append(("LINEABOVE", (0, len(data) - 1), (-1, len(data) - 1), 1.0, NHS_DARK_GREY))
    grid = Table(data, colWidths=[team_w] + [col_w] * len(entered), repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.HexColor("#E8EDEE")),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                *styles,
            ]
        )
    )
    out.append(grid)
    if blank:
        out.append(
            p(
                f"{_codes([k.code for k in blank])}: not entered by any team this quarter"
                + (" (optional metrics)." if all(_optional(k) for k in blank) else "."),
                "small",
            )
        )
    return out


def _rate_cell(kpi: Kpi, f: Figures, funnel, team: str, optional: bool) -> Paragraph:
    if f.number is None:
        text = NOT_ENTERED if optional and f.value == "—" else f.value
        return Paragraph(f"<font color='#768692'>{escape(text)}</font>", _grid_cell)
    mark = ""
    if funnel is not None and f.bottom:
        band, above = consolidated.position(funnel, f.bottom, f.number)
        mark = {
            consolidated.BEYOND_998: UP if above else DOWN,
            consolidated.BEYOND_95: UP_95 if above else DOWN_95,
        }.get(band, "")
    interval = ""
    if f.top is not None and f.bottom:
        lo, hi = ci.byar(f.top, 0.95)
        scale = UNITS[kpi.unit] / f.bottom
        low, high = number(kpi, (lo or 0) * scale), number(kpi, hi * scale)
        interval = f"<br/><font size=5.8 color='#425563'>{low}–{high}</font>"
    return Paragraph(f"<b>{escape(f.value)}</b> {mark}{interval}", _grid_cell)


def _comments(quarter: Quarter, teams, cells, shown, for_publication: bool) -> list:
    out = [Paragraph(f"Teams' comments on the reds, {quarter.label}", STYLES["h1"])]
    if for_publication:
        # Free text written for the commissioner can quote small numbers that suppression cannot see.
        return out + [
            p("Omitted for publication: the teams' free-text comments are not checked for small numbers.", "body")
        ]
    kpis = {k.code: k for k in catalogue()}
    rows = []
    for t in teams:
        for k in catalogue():
            row = cells.get((k.code, t["code"]))
            f = shown[(k.code, t["code"])]
            if row and f.rag == "R":
                rows.append(
                    [
                        p(t["code"], "cell_bold"),
                        Paragraph(f"<b>{k.code}</b> {escape(_short(kpis[k.code]))}", STYLES["cell"]),
                        f"{f.value} (target {_target(k).splitlines()[0]})",
                        (row["comment"] or "").strip() or "NO COMMENT GIVEN",
                    ]
                )
    w = CONTENT_WIDTH
    if not rows:
        return out + [p("No team returned a red this quarter.", "body")]
    return out + [table(["Team", "KPI", "Value", "Comment"], rows, [0.08 * w, 0.32 * w, 0.19 * w, 0.41 * w])]


# --- funnel plots ----------------------------------------------------------------------------------------


def _funnels(
    db,
    quarter: Quarter,
    teams,
    shown,
    for_publication: bool,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    funnels: dict | None = None,
) -> list:
    out = [
        PageBreak(),
        Paragraph(f"Funnel plots, {quarter.label}", STYLES["h1"]),
        p(
            "Each team's value against its denominator. The limits narrow as the denominator grows: a team "
            "inside the dashed 95% limits differs from LLR by no more than chance would explain; beyond the "
            "solid 99.8% limits, by more than chance alone is likely to explain — a prompt to ask why, not a "
            "verdict (Spiegelhalter 2005; exact binomial or Poisson limits around the pooled LLR value). "
            "Points are not RAG-coloured: the shape shows how far out a team lies. Two different lines: the "
            "solid blue centre line is LLR (all teams pooled), which the limits are drawn around; the dotted "
            "yellow line is the KPI's one target from the catalogue, the same target the RAG letters judge by. "
            "A team can sit within chance of LLR and still miss the target, when LLR as a whole misses it."
            + (
                " For publication, points are drawn from the published (rounded) figures; a team whose numerator "
                "or denominator is suppressed is omitted from the plot."
                if for_publication
                else ""
            ),
            "body",
        ),
        Spacer(1, 2 * mm),
    ]
    kpis = catalogue()
    not_entered = []
    for n, kpi in enumerate(kpis):
        if kpi.unit not in consolidated.FUNNEL_UNITS:
            continue
        stage(progress, cancel, 0.2 + 0.2 * n / len(kpis), f"Drawing the funnel plot of {kpi.code}…")
        f = funnels[kpi.code] if funnels is not None else consolidated.funnel(db, kpi.code, quarter)
        title = Paragraph(f"Funnel plot: {kpi.code} {escape(kpi.name)}", STYLES["h2"])
        if f is None and _optional(kpi):
            not_entered.append(kpi.code)  # the optional BCF metrics, often blank: one line for them all
            continue
        if f is None:
            out.append(KeepTogether([title, p("No team returned figures for this KPI.", "body")]))
            continue
        points, omitted = [], []
        for pt in f.points:
            figs = shown[(kpi.code, pt["locality"])]
            if not for_publication:
                points.append(funnel_chart.classify(f, pt["locality"], pt["denominator"], pt["value"]))
            elif figs.number is None or not figs.bottom:
                omitted.append(pt["locality"])
            else:
                points.append(funnel_chart.classify(f, pt["locality"], figs.bottom, figs.number))
        chart = funnel_chart.drawing(f, points, CONTENT_WIDTH, 92 * mm)
        notes = [_outlier_line(points)]
        if kpi.unit == "percent" and len(f.points) >= 2:
            od = funnel_stats.overdispersion([q["numerator"] for q in f.points], [q["denominator"] for q in f.points])
            tau2 = "0" if od.tau2 == 0 else f"{od.tau2:.1e}"
            notes.append(
                f"Overdispersion φ = {od.phi:.2f}, τ² = {tau2} (arcsine scale, winsorised 10%; "
                f"limits drawn unadjusted — with 11 teams φ is a rough estimate)."
            )
        if kpi.target is not None:
            notes.append(
                f"Target {escape(funnel_chart.target_text(kpi))} (dotted yellow); LLR {f.centre:,.1f} (blue), "
                "the centre of the limits."
            )
        if omitted:
            notes.append(f"Not plotted for publication (suppressed figures): {', '.join(omitted)}.")
        out.append(KeepTogether([title, chart, *[markup(n, "small") for n in notes], Spacer(1, 4 * mm)]))
    if not_entered:
        out.append(
            p(
                f"No funnel plot for {_codes(not_entered)}: optional entered metrics that no team entered this "
                "quarter (not entered).",
                "body",
            )
        )
    return out


def _outlier_line(points: list[funnel_chart.Point]) -> str:
    def names(band: int) -> str:
        chosen = [f"{q.locality} ({'above' if q.above else 'below'})" for q in points if q.band == band]
        return ", ".join(chosen) or "none"

    return (
        f"<b>Beyond 99.8%:</b> {names(funnel_chart.BEYOND_998)}. "
        f"<b>Beyond 95% only:</b> {names(funnel_chart.BEYOND_95)}. "
        f"{sum(1 for q in points if q.band == funnel_chart.WITHIN)} of {len(points)} teams within 95%."
    )


# --- trends ----------------------------------------------------------------------------------------------


def _trends(
    db,
    quarter: Quarter,
    teams,
    disclosure: Disclosure,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> list:
    span = [q for q in consolidated.held_quarters(db) if q.code <= quarter.code][-TREND_SPAN:]
    grids = [consolidated.grid(db, q) for q in span]
    labels = [f"Q{q.q} {q.year % 100:02d}/{(q.year + 1) % 100:02d}" for q in span]
    panels = []
    width, height = CONTENT_WIDTH / 2 - 2 * mm, 58 * mm
    kpis = [k for k in catalogue() if k.part_of is None]  # COH-06's breakdowns are in the tables only
    blank = []
    for n, kpi in enumerate(kpis):
        stage(progress, cancel, 0.4 + 0.25 * n / len(kpis), f"Drawing the trend of {kpi.code}…")
        if _optional(kpi) and not any(
            (row := g.get((kpi.code, t["code"]))) and row["numerator"] is not None for g in grids for t in teams
        ):
            blank.append(kpi.code)
            continue
        series = {
            t["code"]: [
                disclosure.figures(kpi, t["code"], g.get((kpi.code, t["code"])), log=False).number for g in grids
            ]
            for t in teams
        }
        if kpi.denominator:
            llr = [
                _llr(kpi, [g.get((kpi.code, t["code"])) for t in teams], Disclosure(disclosure.for_publication)).number
                for g in grids
            ]
            name = "LLR pooled"
        else:
            llr = [
                statistics.median(vals) if (vals := [s[i] for s in series.values() if s[i] is not None]) else None
                for i in range(len(span))
            ]
            name = "median team"
        panels.append(trend_chart.panel(kpi, labels, series, llr, name, width, height))
    rows = [panels[i : i + 2] + [""] * (2 - len(panels[i : i + 2])) for i in range(0, len(panels), 2)]
    grid = Table(rows, colWidths=[CONTENT_WIDTH / 2] * 2)
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, NHS_PALE_GREY),
            ]
        )
    )
    return [
        Paragraph(f"Trends, {span[0].label} to {span[-1].label}", STYLES["h1"]),
        p(
            "Each KPI across the held quarters: every team a thin grey line, LLR in blue (the pooled value for a "
            "percentage or rate, the median team for a count), the target dotted in yellow. A break in a line is "
            "a quarter with no return"
            + (" or a figure suppressed for publication." if disclosure.for_publication else ".")
            + " COH-06's breakdowns by type (COH-06a–g) are in the tables only."
            + (f" Not entered in any held quarter: {_codes(blank)}." if blank else ""),
            "body",
        ),
        Spacer(1, 2 * mm),
        grid,
    ]


# --- completeness ----------------------------------------------------------------------------------------


def _completeness(db, quarter: Quarter, teams) -> list:
    span = [q for q in consolidated.held_quarters(db) if q.code <= quarter.code]
    w = CONTENT_WIDTH
    summary = []
    for q in span:
        c = consolidated.completeness(db, q)
        summary.append(
            [
                q.label,
                f"{c.received} of {c.expected}",
                f"{c.on_time} of {c.expected}",
                f"{c.signed_off} of {c.expected}",
                f"{c.deadline:%d %b %Y}",
                ", ".join(c.missing) or "none",
            ]
        )
    out = [
        Paragraph("Completeness of returns by quarter", STYLES["h1"]),
        p(
            f"A return is on time when signed off within {consolidated.ON_TIME_DAYS} days of the quarter's end "
            "(DHIS2's timely reporting rate). Received counts the teams whose signed-off return is held.",
            "body",
        ),
        Spacer(1, 2 * mm),
        table(
            ["Quarter", "Received", "On time", "Signed off", "On-time deadline", "Missing"],
            summary,
            [0.14 * w, 0.13 * w, 0.13 * w, 0.13 * w, 0.17 * w, 0.3 * w],
        ),
        Paragraph("Sign-off date of each team's return", STYLES["h2"]),
    ]
    held = {q.code: consolidated.latest(db, q) for q in span}
    header = ["Team", *[q.label.replace(" Q", "\nQ") for q in span]]
    rows, styles = [], []
    for r, t in enumerate(teams, start=1):
        row = [p(t["code"], "cell_bold")]
        for c, q in enumerate(span, start=1):
            ret = held[q.code].get(t["code"])
            deadline = q.end + dt.timedelta(days=consolidated.ON_TIME_DAYS)
            if ret is None:
                row.append("missing")
                styles.append(("TEXTCOLOR", (c, r), (c, r), NHS_RED))
                continue
            at = ret["signed_off_at"][:10] if ret["signed_off_at"] else None
            text = dt.date.fromisoformat(at).strftime("%d %b %y") if at else "not signed"
            if ret["revision"] and ret["revision"] > 1:
                text += f"\nrevision {ret['revision']}"
            if not at or at > deadline.isoformat():
                text += "\nLATE"
                styles.append(("TEXTCOLOR", (c, r), (c, r), NHS_RED))
            row.append(text)
        rows.append(row)
    col = (w - 0.1 * w) / max(1, len(span))
    out += [
        table(header, rows, [0.1 * w] + [col] * len(span), row_styles=[("ALIGN", (1, 0), (-1, -1), "CENTER"), *styles]),
        Spacer(1, 2 * mm),
        p(
            "LATE: signed off after the on-time deadline. A revision number shows the return "
            "was re-opened and signed off again; the latest revision is the one reported.",
            "small",
        ),
    ]
    return out


# --- disclosure check ------------------------------------------------------------------------------------


def _appendix(disclosure: Disclosure) -> list:
    """Rows in the order the reader met the cells: KPI by KPI, team by team, LLR last. The original figures are
    not printed: a list of them would undo the suppression it reports."""
    rows = [[a.team, a.kpi, a.field, a.shown, _how(a)] for a in disclosure.altered]
    suppressed = sum(1 for a in disclosure.altered if suppression.SUPPRESSED in a.shown)
    w = CONTENT_WIDTH
    # Plain strings, not paragraphs: a publication of the 11 teams alters several hundred cells, and a
    # paragraph per cell made this table most of the report's writing time.
    grid = Table(
        [["Team or total", "KPI", "Field", "Shown", "Why"], *(rows or [["—", "", "No cell altered", "", ""]])],
        colWidths=[0.27 * w, 0.1 * w, 0.13 * w, 0.13 * w, 0.37 * w],
        repeatRows=1,
    )
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                ("FONTNAME", (0, 0), (-1, 0), BOLD),
                ("FONTSIZE", (0, 0), (-1, -1), 7.5),
                ("LEADING", (0, 0), (-1, -1), 9),
                ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
                ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F4F7F8")]),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return [
        Paragraph("Appendix: disclosure check", STYLES["h1"]),
        p(
            f"Every figure in the tables of this report that differs from the teams' returns: {len(rows)} cells, "
            f"{suppressed} of them suppressed (*), the rest rounded to the nearest 5 or recomputed from rounded "
            "figures. Method: NHS Digital 2018 (zero stays 0; 1 to 7 shown as *; 8 and more rounded to the nearest "
            "5), applied to counts of people; counts of meetings, actions, homes and visits are not about "
            "individuals and are shown exactly. Percentages and rates are recomputed from the published numerator "
            "and denominator and, like every value of a KPI, shown to one decimal place (below a published "
            "denominator of 4,000 that decimal is not meaningful, NHS Digital); place, former-CCG and LLR "
            "totals are summed from the exact figures and then protected. The charts are drawn from the same "
            "published figures.",
            "body",
        ),
        Spacer(1, 2 * mm),
        grid,
    ]


def _how(a) -> str:
    if suppression.SUPPRESSED in a.shown:
        return "suppressed (1 to 7)"
    if a.field in ("numerator", "denominator") or not by_code()[a.kpi].denominator:
        return "rounded to the nearest 5"
    return "recomputed from published figures"
