"""The commissioner's system report for a quarter (DESIGN §11): the 11 integrated locality teams compared.

Cover (completeness, headline reds), the teams side by side (landscape), teams' comments on the reds, a
funnel plot per percentage or rate KPI, every KPI's trend across the held quarters, completeness of returns
per quarter and, for publication, the disclosure check. Built only from the returns a workspace holds:
aggregate, no patient data. `for_publication` applies NHS Digital's small-number suppression (disclosure.py);
without it every page says the report is not for publication. Every export is audited."""

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
from ..models.kpi import consolidated
from ..models.kpi.catalogue import Kpi, by_code, catalogue
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Quarter
from ..models.stats import funnel as funnel_stats
from ..models.stats import suppression
from .charts import funnel as funnel_chart
from .charts import trend as trend_chart
from .disclosure import Disclosure, Figures
from .fonts import BOLD
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
)
RAG_FILL = {"G": colors.HexColor("#CDE8D4"), "A": colors.HexColor("#FCE3BF"), "R": colors.HexColor("#F6CBC7")}
RAG_WORD = {"G": "green", "A": "amber", "R": "red"}
TREND_SPAN = 8  # quarters: two years is what a board compares against

_tiny = ParagraphStyle("tiny", parent=STYLES["cell"], fontSize=6.3, leading=7.6, textColor=NHS_DARK_GREY)
_grid_cell = ParagraphStyle("grid_cell", parent=STYLES["cell"], fontSize=7.6, leading=9, alignment=1)
_grid_head = ParagraphStyle("grid_head", parent=STYLES["head"], fontSize=7.6, leading=9, alignment=1)
_big = ParagraphStyle("big", parent=STYLES["body"], fontName=BOLD, fontSize=22, leading=25, textColor=NHS_DARK_BLUE)


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    quarter: Quarter,
    out: str | Path,
    for_publication: bool = False,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> int:
    """Write the report to *out*; the number of cells suppression altered (0 when not for publication).
    Cancelled from *cancel* leaves neither a file nor an audit entry."""
    out = Path(out)
    if not consolidated.latest(db, quarter):
        raise ValidationError(
            f"This workspace holds no signed-off return for {quarter.label}; import the teams' return files first."
        )
    disclosure = Disclosure(for_publication)
    with part_file(out) as part:
        build_report(db, quarter, part.path, disclosure, progress, cancel)
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
            {"file": str(out), "for_publication": for_publication, "quarter": quarter.code, "altered": altered},
            progress,
            cancel,
        )
    return altered


def build_report(
    db: sqlite_utils.Database,
    quarter: Quarter,
    out: Path,
    disclosure: Disclosure,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> None:
    stage(progress, cancel, 0.0, "Reading the teams' returns…")
    teams = consolidated.localities(db)
    cells = consolidated.grid(db, quarter)
    # Every figure of the quarter goes through the disclosure once, in table order, so the appendix lists
    # each altered cell exactly once and the charts reuse the same protected figures.
    shown = {
        (k.code, t["code"]): disclosure.figures(k, t["code"], cells.get((k.code, t["code"])))
        for k in catalogue()
        for t in teams
    }
    llr = {k.code: _llr(k, [cells.get((k.code, t["code"])) for t in teams], disclosure) for k in catalogue()}
    publication = disclosure.for_publication
    stage(progress, cancel, 0.1, "Writing the cover and the teams side by side…")
    story = [
        *_cover(db, quarter, teams, shown, publication),
        landscape_next(),
        PageBreak(),
        *_side_by_side(quarter, teams, shown, llr, publication),
        portrait_next(),
        PageBreak(),
        *_comments(quarter, teams, cells, shown, publication),
    ]
    story += _funnels(db, quarter, teams, shown, publication, progress, cancel)
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
    held = [r for r in rows if r and r["numerator"] is not None]
    if not held:
        return disclosure.figures(kpi, "LLR", None, log=False)
    total = {"numerator": sum(r["numerator"] for r in held), "denominator": None, "rag": None}
    if kpi.denominator:
        held = [r for r in held if r["denominator"]]
        total["numerator"] = sum(r["numerator"] for r in held)
        total["denominator"] = sum(r["denominator"] for r in held)
        total["value"] = kpi.value(total["numerator"], total["denominator"]) if total["denominator"] else None
        total["rag"] = kpi.rag(total["value"])
    return disclosure.figures(kpi, "LLR", total)


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


def _cell(f: Figures, kpi: Kpi) -> Paragraph:
    head = f"<b>{escape(f.value)}</b>" + (f" <font size=6.8>{f.rag}</font>" if f.rag else "")
    if kpi.denominator and f.numerator != "—":
        head += f"<br/><font size=6.2 color='#425563'>{escape(f.numerator)}/{escape(f.denominator)}</font>"
    return Paragraph(head, _grid_cell)


# --- cover -----------------------------------------------------------------------------------------------


def _cover(db, quarter: Quarter, teams, shown, for_publication: bool) -> list:
    done = consolidated.completeness(db, quarter)
    w = CONTENT_WIDTH
    marking = Table(
        [[markup(f"<b>{PUBLICATION_NOTE if for_publication else NOT_FOR_PUBLICATION}</b>", "body")]], colWidths=[w]
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
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
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
    kpis = {k.code: k for k in catalogue()}
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
        Spacer(1, 2 * mm),
        markup("NHS Leicester, Leicestershire and Rutland · integrated locality teams", "subtitle"),
        Paragraph(f"System report {quarter.label}", STYLES["title"]),
        markup(
            f"Quarterly KPI returns of the {done.expected} teams compared, {quarter.start:%d %B %Y} to "
            f"{quarter.end:%d %B %Y}. Aggregate figures only; no patient data.",
            "subtitle",
        ),
        marking,
        Spacer(1, 5 * mm),
        Paragraph("Completeness of returns", STYLES["h1"]),
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
            "The teams side by side · teams' comments on the reds · funnel plots of every percentage and rate KPI "
            "(does a team differ from LLR by more than chance?) · trends across the held quarters · completeness of "
            "returns by quarter"
            + (" · the disclosure check (every cell altered by suppression)" if for_publication else ""),
            "body",
        ),
    ]


def _short(kpi: Kpi) -> str:
    return kpi.name if len(kpi.name) <= 48 else kpi.name[:46] + "…"


# --- the teams side by side (landscape) ------------------------------------------------------------------


def _side_by_side(quarter: Quarter, teams, shown, llr, for_publication: bool) -> list:
    out = []
    halves = (GROUPS[:2], GROUPS[2:])
    for n, groups in enumerate(halves):
        code_w, target_w, llr_w = 60 * mm, 19 * mm, 18 * mm
        team_w = (LANDSCAPE_WIDTH - code_w - target_w - llr_w) / len(teams)
        data = [
            [
                Paragraph("KPI", STYLES["head"]),
                Paragraph("Target", _grid_head),
                Paragraph("LLR", _grid_head),
                *[Paragraph(t["code"], _grid_head) for t in teams],
            ]
        ]
        styles: list[tuple] = []
        for prefix, title in groups:
            data.append([Paragraph(f"<b>{escape(title)}</b>", STYLES["cell"])] + [""] * (len(teams) + 2))
            r = len(data) - 1
            styles += [("SPAN", (0, r), (-1, r)), ("BACKGROUND", (0, r), (-1, r), NHS_PALE_GREY)]
            for kpi in (k for k in catalogue() if k.code.split("-")[0] == prefix):
                unit = trend_chart.short_unit(kpi)
                row = [
                    Paragraph(
                        f"<b>{kpi.code}</b> {escape(kpi.name)} <font color='#768692'>({unit})</font>", STYLES["cell"]
                    ),
                    Paragraph(escape(_target(kpi)).replace("\n", "<br/>"), _tiny),
                    _cell(llr[kpi.code], kpi),
                ]
                r = len(data)
                for i, t in enumerate(teams):
                    f = shown[(kpi.code, t["code"])]
                    row.append(_cell(f, kpi))
                    if f.rag:
                        styles.append(("BACKGROUND", (3 + i, r), (3 + i, r), RAG_FILL[f.rag]))
                data.append(row)
        grid = Table(data, colWidths=[code_w, target_w, llr_w] + [team_w] * len(teams), repeatRows=1)
        grid.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.4, colors.white),
                    ("LINEAFTER", (2, 0), (-2, -1), 0.4, colors.white),
                    ("LINEAFTER", (2, 1), (2, -1), 1.2, NHS_DARK_GREY),
                    ("BACKGROUND", (2, 1), (2, -1), colors.HexColor("#F4F7F8")),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    *styles,
                ]
            )
        )
        heading = f"The teams side by side, {quarter.label}" + (" (continued)" if n else "")
        out += [
            Paragraph(heading, STYLES["h1"]),
            grid,
            Spacer(1, 2.5 * mm),
            p(
                "Each cell: the value and its RAG letter (G meets the target, A within tolerance, R beyond; the "
                "shading repeats the letter), then numerator/denominator. LLR: all teams pooled (Σ numerators / "
                "Σ denominators) or the total count. — no value returned."
                + (
                    " Counts are suppressed (* for 1–7) or rounded to the nearest 5, and each percentage or rate "
                    "recomputed from the published figures."
                    if for_publication
                    else ""
                ),
                "small",
            ),
        ]
        if n == 0:
            out.append(PageBreak())
    return out


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
) -> list:
    out = [
        PageBreak(),
        Paragraph(f"Funnel plots, {quarter.label}", STYLES["h1"]),
        p(
            "Each team's value against its denominator. The limits narrow as the denominator grows: a team "
            "inside the dashed 95% limits differs from LLR by no more than chance would explain; beyond the "
            "solid 99.8% limits, by more than chance alone is likely to explain — a prompt to ask why, not a "
            "verdict (Spiegelhalter 2005; exact binomial or Poisson limits around the pooled LLR value). "
            "Points are not RAG-coloured: the shape shows how far out a team lies."
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
    for n, kpi in enumerate(kpis):
        if kpi.unit not in consolidated.FUNNEL_UNITS:
            continue
        stage(progress, cancel, 0.2 + 0.2 * n / len(kpis), f"Drawing the funnel plot of {kpi.code}…")
        f = consolidated.funnel(db, kpi.code, quarter)
        title = Paragraph(f"Funnel plot: {kpi.code} {escape(kpi.name)}", STYLES["h2"])
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
        if omitted:
            notes.append(f"Not plotted for publication (suppressed figures): {', '.join(omitted)}.")
        out.append(KeepTogether([title, chart, *[markup(n, "small") for n in notes], Spacer(1, 4 * mm)]))
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
    kpis = catalogue()
    for n, kpi in enumerate(kpis):
        stage(progress, cancel, 0.4 + 0.25 * n / len(kpis), f"Drawing the trend of {kpi.code}…")
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
            + (" or a figure suppressed for publication." if disclosure.for_publication else "."),
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
    return [
        Paragraph("Appendix: disclosure check", STYLES["h1"]),
        p(
            f"Every figure in the tables of this report that differs from the teams' returns: {len(rows)} cells, "
            f"{suppressed} of them suppressed (*), the rest rounded to the nearest 5 or recomputed from rounded "
            "figures. Method: NHS Digital 2018 (zero stays 0; 1 to 7 shown as *; 8 and more rounded to the nearest "
            "5), applied to counts of people; counts of meetings, actions, homes and visits are not about "
            "individuals and are shown exactly. Percentages and rates are recomputed from the published numerator "
            "and denominator, to one decimal place only when the published denominator is 4,000 or more; LLR "
            "totals are summed from the exact figures and then protected. The charts are drawn from the same "
            "published figures.",
            "body",
        ),
        Spacer(1, 2 * mm),
        table(
            ["Team", "KPI", "Field", "Shown", "Why"],
            rows or [["—", "", "No cell altered", "", ""]],
            [0.12 * w, 0.14 * w, 0.16 * w, 0.18 * w, 0.40 * w],
        ),
    ]


def _how(a) -> str:
    if suppression.SUPPRESSED in a.shown:
        return "suppressed (1 to 7)"
    if a.field in ("numerator", "denominator") or not by_code()[a.kpi].denominator:
        return "rounded to the nearest 5"
    return "recomputed from published figures"
