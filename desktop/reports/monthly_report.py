"""The monthly exception report of a locality (issue 24, point 5): one A4 page for the monthly ILT meeting.

West Leicestershire's plan has a monthly progress report that "will be an exception report, RAG rated" (seed
000). From the top: the locality and month with a box saying the figures are a draft as at a day (and "month to
date" for a month not over); the RAG count; the table of the KPIs that can be computed monthly with their
target and RAG rule, value, RAG, last month and direction of travel; then the exceptions, each red with the
open actions raised against it, or a prompt to raise one. The page is shrunk to fit rather than run on. Aggregate
only, so not OFFICIAL-SENSITIVE; every export is audited, and a Cancel or failure leaves no file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepInFrame, Paragraph, Spacer, Table, TableStyle

from ..models import clock, free_text
from ..models.clock import Actor
from ..models.kpi.catalogue import travel_word
from ..models.kpi.monthly_figures import ACTIONS_SHOWN, MonthlyFigures, MonthlyRow, as_monthly, gather
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Month
from .charts import mdc_icons
from .page_layout import PORTRAIT_HEIGHT
from .styles import (
    CONTENT_WIDTH,
    NHS_AMBER,
    NHS_DARK_GREY,
    NHS_MID_GREY,
    NHS_RED,
    RAG_COLOURS,
    STYLES,
    build,
    escape,
    marked_box,
    markup,
    p,
    side_by_side,
    table,
)
from .styles import (
    day_text as _d,
)
from .writing import part_file, record_export, stage

MIN_SCALE = 0.8  # the smallest the page is shrunk to before fewer actions are listed
NO_ACTION = "No action raised — raise one from the MDT action log"
_S = {
    "title": ParagraphStyle("m_title", parent=STYLES["title"], fontSize=17, leading=20, spaceAfter=1 * mm),
    "subtitle": ParagraphStyle("m_subtitle", parent=STYLES["subtitle"], fontSize=10, leading=13, spaceAfter=3 * mm),
    "h1": ParagraphStyle(
        "m_h1", parent=STYLES["h1"], fontSize=12, leading=15, spaceBefore=3.5 * mm, spaceAfter=1.5 * mm
    ),
    "num": ParagraphStyle("m_num", parent=STYLES["cell"], fontSize=7.8, leading=9.5),
    "tiny": ParagraphStyle("m_tiny", parent=STYLES["cell"], fontSize=7, leading=8.5, textColor=NHS_DARK_GREY),
    "rag": ParagraphStyle(
        "m_rag", parent=STYLES["cell_bold"], alignment=TA_CENTER, textColor=colors.white, fontSize=9, leading=11
    ),
    "rag_dark": ParagraphStyle("m_rag_dark", parent=STYLES["cell_bold"], alignment=TA_CENTER, fontSize=9, leading=11),
}


def _p(text: object, style: str = "num") -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), _S[style])


def _m(text: str, style: str = "num") -> Paragraph:
    return Paragraph(text, _S[style])


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_code: str,
    month: Month,
    out: str | Path,
    today: dt.date | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> Path:
    """Write the monthly exception report of *locality_code* for *month* to *out* and audit the export.
    ValidationError for a month not begun or before the locality's first risk extract; Cancelled from *cancel*
    leaves neither a file nor an audit entry."""
    out = Path(out)
    stage(progress, cancel, 0.0, f"Gathering the figures of {locality_code.upper()} for {month.label}…")
    figures = gather(db, locality_code, month, today or clock.today())
    free_text.refuse(
        db,
        {f"description of action {a['reference']}": a["description"] for r in figures.reds for a in r.actions},
        "the monthly exception report cannot be exported",
        "Edit the action on the MDT & actions screen, then export again.",
        "the report goes to the locality meeting and must never identify a patient",
    )
    state = "month to date" if figures.month_to_date else "draft"
    with part_file(out) as part:
        build_report(figures, part.path, progress, cancel)
        record_export(
            db,
            part,
            actor,
            "report",
            None,
            f"Exported the {month.label} monthly exception report for {figures.locality['name']} ({state}) "
            f"to {out.name}",
            {
                "file": str(out),
                "report": "monthly",
                "locality": figures.locality["code"],
                "month": month.code,
                "month_to_date": figures.month_to_date,
                "reds": [r.kpi.code for r in figures.reds],
            },
            progress,
            cancel,
        )
    return out


def fmt(row: MonthlyRow, value: float | None) -> str:
    if value is None:
        return "—"
    if row.kpi.unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if row.kpi.unit == "count" else f"{value:,.1f}"


def build_report(
    f: MonthlyFigures, out: Path, progress: Progress = no_progress, cancel: CancelCheck = never_cancel
) -> None:
    m, name = f.month, f.locality["name"]
    stage(progress, cancel, 0.5, "Writing the KPIs and the exceptions…")
    state = "MONTH TO DATE" if f.month_to_date else "DRAFT"
    build(
        out,
        [_one_page(f)],
        title=f"{name} · {m.label} · {state}",
        subject=f"Monthly exception report, {name}",
        sensitive=False,
        progress=progress,
        cancel=cancel,
    )


def _one_page(f: MonthlyFigures) -> KeepInFrame:
    """The page's content, shrunk to fit when a month has many reds or actions: it is laid out on a wider page, as
    much wider as it is too tall, and KeepInFrame scales the whole back to A4, tables and text alike. Below
    MIN_SCALE the text would be too small to read at a meeting, so fewer actions are listed per red first (the
    rest are counted); only a month that still does not fit is shrunk further."""
    for shown in range(ACTIONS_SHOWN, 0, -1):
        content = _fit(_listing(f, shown), MIN_SCALE)
        if content is not None:
            return _frame(content)
    return _frame(_fit(_listing(f, 1), 0.0) or [])


def _fit(f: MonthlyFigures, floor: float) -> list | None:
    """The content laid out at the largest scale from 1 down to *floor* at which it fits the page (to within a
    few per cent, by bisection); None if it does not fit even at *floor*."""
    if (best := _laid_out(f, 1.0)) is not None:
        return best
    low, high = max(floor, 0.1), 1.0
    if (best := _laid_out(f, low)) is None:
        return None
    for _ in range(6):
        middle = (low + high) / 2
        if (content := _laid_out(f, middle)) is not None:
            low, best = middle, content
        else:
            high = middle
    return best


def _laid_out(f: MonthlyFigures, scale: float) -> list | None:
    """The content on a page 1/*scale* as wide, if it is no more than 1/*scale* as tall as the page."""
    width = CONTENT_WIDTH / scale
    content = _content(f, width)
    height = sum(
        item.wrap(width, 100 * PORTRAIT_HEIGHT)[1] + item.getSpaceBefore() + item.getSpaceAfter() for item in content
    )
    return content if height * scale <= PORTRAIT_HEIGHT - 2 else None


def _frame(content: list) -> KeepInFrame:
    return KeepInFrame(CONTENT_WIDTH, PORTRAIT_HEIGHT - 1, content, mode="shrink", hAlign="LEFT", fakeWidth=False)


def _listing(f: MonthlyFigures, shown: int) -> MonthlyFigures:
    """*f* with at most *shown* actions listed under each red, the rest counted."""
    rows = [replace(r, actions=r.actions[:shown], more_actions=r.more_actions + len(r.actions[shown:])) for r in f.rows]
    return replace(f, rows=rows)


def _content(f: MonthlyFigures, width: float) -> list:
    m, name = f.month, f.locality["name"]
    return [
        Paragraph(f"{escape(name)} locality", _S["title"]),
        markup(
            f"Monthly RAG exception report · {m.start:%B %Y} ({_d(m.start)} to {_d(m.end)}) · Integrated Locality Team",
            "subtitle",
        ),
        _status(f, width),
        Spacer(1, 2 * mm),
        _counts(f, width),
        Paragraph("Monthly KPIs", _S["h1"]),
        _kpi_table(f, width),
        Paragraph(f"Exceptions: the reds and their actions ({len(f.reds)})", _S["h1"]),
        _exceptions(f, width),
        Spacer(1, 2.5 * mm),
        p(
            "RAG against each KPI's one target in the catalogue: G meets it, A is within the KPI's tolerance, R is "
            "beyond; – no target. A count per period (a flow: COH-06, MDT-01, MDT-02) is judged against a third of "
            "its quarterly target. Values are computed from the locality's own records by the same code as the "
            "quarterly return; they are aggregate and identify no patient. The KPIs that follow the quarterly risk "
            "extract, and those entered from secondary-care data, are in the quarterly locality report, as are the "
            "month-by-month SPC charts. Actions are as recorded in the MDT action log "
            f"on {_d(f.today)}; only open ones are listed.",
            "small",
        ),
    ]


def _status(f: MonthlyFigures, width: float) -> Any:
    if f.month_to_date:
        text = (
            f"<b>MONTH TO DATE</b>: {_d(f.month.start)} to {_d(f.as_at)}, figures as at {_d(f.as_at)}. The month is "
            "not over: percentages stand as they are today, and counts per month cover the days so far, so "
            "they are not rated or compared with last month until the month ends."
        )
        colour = NHS_AMBER
    else:
        text = (
            f"<b>DRAFT</b>: figures as at {_d(f.today)}, computed from the records for {f.month.start:%B %Y}. "
            "Monthly figures are for ILT monitoring and are not signed off; the quarter's return is the figure of "
            "record, and a late entry for the month changes them."
        )
        colour = NHS_RED
    return marked_box(text, colour, width, 4)


def _counts(f: MonthlyFigures, width: float) -> Any:
    """One line of RAG counts, each with its colour chip."""
    words = {"R": "red", "A": "amber", "G": "green", None: "without a target or not rated"}
    cells, styles = [], []
    for i, k in enumerate(("R", "A", "G", None)):
        n = sum(1 for r in f.rows if r.rag == k and not r.kpi.part_of)  # COH-06's breakdown is one line
        cells += ["", _m(f"<b>{n}</b> {words[k]}")]
        styles.append(("BACKGROUND", (2 * i, 0), (2 * i, 0), RAG_COLOURS.get(k, NHS_MID_GREY)))
    t = Table(
        [cells],
        colWidths=[3 * mm, 0.14 * width, 3 * mm, 0.14 * width, 3 * mm, 0.14 * width, 3 * mm, 0.3 * width],
        hAlign="LEFT",
    )
    t.setStyle(
        TableStyle(
            [
                *styles,
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return t


def _rag(rag: str | None) -> Any:
    # White on green and red; black on amber, where white would not read.
    return _p(rag or "–", "rag" if rag in ("G", "R") else "rag_dark")


def _direction(r: MonthlyRow) -> Any:
    """An arrow and, for greyscale prints, the word: better or worse by the KPI's direction of good."""
    if r.change is None:
        return _p("no value last month" if r.previous is None and r.value is not None else "—", "tiny")
    word = travel_word(r.change, r.better)
    return side_by_side([[mdc_icons.trend_arrow(r.change, r.better, 9), _p(word, "tiny")]], [11, None])


def _kpi_table(f: MonthlyFigures, width: float) -> Any:
    widths = _shares(width, 8.5, 31, 19.5, 9, 7.5, 5.5, 8, 11)
    rows, styles = [], []
    band = [colors.white, colors.HexColor("#F4F7F8")]
    parts = [r for r in f.rows if r.kpi.part_of]
    for n, r in enumerate(r for r in f.rows if not r.kpi.part_of):
        i = len(rows) + 1
        fraction = (
            "—"
            if r.numerator is None
            else f"{r.numerator:,.0f}" + (f" / {r.denominator:,.0f}" if r.denominator is not None else "")
        )
        rows.append(
            [
                _m(f"<b>{r.kpi.code}</b>"),
                _p(r.kpi.name),
                _p(_thresholds(r), "tiny"),
                _p(fraction),
                _m(f"<b>{fmt(r, r.value)}</b>"),
                _rag(r.rag),
                _p(fmt(r, r.previous)),
                _direction(r),
            ]
        )
        last = i
        breakdown = [b for b in parts if b.kpi.part_of == r.kpi.code]
        if breakdown:
            text = " · ".join(f"{b.kpi.intervention or b.kpi.name} {fmt(b, b.value)}" for b in breakdown)
            rows.append(["", _p(f"by type: {text}", "tiny")] + [""] * 6)
            last = i + 1
            styles += [("SPAN", (1, last), (-1, last)), ("TOPPADDING", (0, last), (-1, last), 0)]
        styles.append(("BACKGROUND", (0, i), (-1, last), band[n % 2]))
        if r.rag in RAG_COLOURS:
            styles.append(("BACKGROUND", (5, i), (5, i), RAG_COLOURS[r.rag]))
    styles += [("VALIGN", (5, 1), (5, -1), "MIDDLE"), ("VALIGN", (7, 1), (7, -1), "MIDDLE")]
    return table(
        ["KPI", "Indicator", "Target · amber band", "Num. / den.", "Value", "RAG", "Last month", "Direction"],
        rows,
        widths,
        row_styles=styles,
    )


def _exceptions(f: MonthlyFigures, width: float) -> Any:
    if not f.reds:
        return p(f"No KPI is red for {f.month.start:%B %Y}: there are no exceptions to report.", "body")
    rows, styles = [], []
    for r in f.reds:
        first = len(rows) + 1
        head = _m(
            f"<b>{r.kpi.code}</b> {escape(r.kpi.name)}<br/><font color='#DA291C'><b>{fmt(r, r.value)}</b></font>"
            f" against {escape(_target(r))}" + (f"; last month {fmt(r, r.previous)}" if r.previous is not None else "")
        )
        if not r.actions:
            rows.append([head, _m(f"<font color='#DA291C'><b>{escape(NO_ACTION)}</b></font>"), "", "", ""])
            styles.append(("SPAN", (1, first), (-1, first)))
        for n, a in enumerate(r.actions):
            overdue = (a["due_date"] or "9999") < f.as_at.isoformat()
            status = a["status"] + (" · <font color='#DA291C'><b>overdue</b></font>" if overdue else "")
            rows.append(
                [
                    head if n == 0 else "",
                    _m(f"<b>{escape(a['reference'])}</b> {escape(a['description'])}"),
                    _p(a["owner_name"]),
                    _p(_d(a["due_date"])),
                    _m(status),
                ]
            )
        if r.more_actions:
            rows.append(["", _p(f"and {r.more_actions} more open in the MDT action log", "tiny"), "", "", ""])
            styles.append(("SPAN", (1, len(rows)), (-1, len(rows))))
        last = len(rows)
        styles += [("SPAN", (0, first), (0, last)), ("LINEBELOW", (0, last), (-1, last), 0.6, NHS_MID_GREY)]
    return table(
        ["Red KPI", "Open action", "Owner", "Due", "Status"],
        rows,
        _shares(width, 30, 39, 13, 9, 9),
        row_styles=[*styles, ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white])],
    )


def _shares(width: float, *percent: float) -> list[float]:
    """Column widths from their shares of *width*, in per cent."""
    return [width * share / 100 for share in percent]


def _thresholds(r: MonthlyRow) -> str:
    """The month's target and where amber ends, short enough for one line: "≥ 80%; amber down to 70%"; red is
    beyond the amber band (the key under the page says so). A flow adds its quarterly target."""
    if r.rag is None and r.kpi.flow and r.kpi.target is not None:
        return r.rule  # a flow in a month not over: not rated yet
    if r.target is None:
        return "no target"
    text = _target(r, short=True)
    monthly = as_monthly(r.kpi)
    if monthly.tolerance:
        high = r.kpi.direction == "high"
        edge = r.target - monthly.tolerance if high else r.target + monthly.tolerance
        text += f"; amber {'down' if high else 'up'} to {_figure(r, edge)}"
    if r.kpi.flow:
        text += f" ({r.kpi.target:g} a quarter)"
    return text


def _figure(r: MonthlyRow, value: float) -> str:
    """A target or threshold: no decimals where it is whole ("80%", "0.67")."""
    return f"{round(value, 2):g}" + ("%" if r.kpi.unit == "percent" else "")


def _target(r: MonthlyRow, short: bool = False) -> str:
    if r.target is None:
        return "no target"
    sign = "≥" if r.kpi.direction == "high" else "≤"
    figure = f"{sign} {_figure(r, r.target)}"
    return figure if short else f"a target of {figure}" + (" this month" if r.kpi.flow else "")


__all__ = ["NO_ACTION", "build_report", "export", "fmt"]
