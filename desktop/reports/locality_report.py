"""The quarterly locality report a federation manager sends to the board (DESIGN §11).

Page by page: a front page that reads as a board paper (issue 24, point 4: the headline, the recommendations
"The Board is asked to …" drafted by models/kpi/board.py and edited before export, what is better and worse
than last quarter and why, a one-page dashboard of the KPIs with targets); the return's status, the G/A/R counts,
the reds, key numbers, the key and the notes; the KPI table (target, numerator/denominator, value with its 95 %
interval or why it has none, the LLR value beside a rate, RAG as letter and colour, MDC variation and assurance
icons, year to date, forecast outturn against the annual plan, direction of travel, commentary); the
exceptions, each red with its comment and the actions raised against it; cohort, MDT and care-home summaries;
the Outcomes page (issue 27: the caseload's joiners a year on against a matched comparison, outcomes_page.py);
then an SPC chart per KPI, two to a row. Aggregate only, so not OFFICIAL-SENSITIVE; every export is audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepInFrame,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from ..models import clock, free_text
from ..models.clock import Actor
from ..models.kpi import board
from ..models.kpi.board import Year, YearRow
from ..models.kpi.catalogue import Kpi, travel_word
from ..models.kpi.locality_figures import KpiRow, LocalityFigures, gather
from ..models.outcomes.evaluation import Evaluation
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Quarter
from . import outcomes_page
from .charts import mdc_icons
from .charts.spc import legend, xmr_chart
from .fonts import BOLD, OBLIQUE
from .styles import (
    CONTENT_WIDTH,
    NHS_BLUE,
    NHS_DARK_BLUE,
    NHS_DARK_GREY,
    NHS_GREEN,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    NHS_RED,
    PAGE_HEIGHT,
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

RAG_WORDS = {"G": "met target", "A": "within tolerance", "R": "off target", None: "no target"}
_S = {  # styles this report adds to the house set
    "rag": ParagraphStyle(
        "rag", parent=STYLES["cell_bold"], alignment=TA_CENTER, textColor=colors.white, fontSize=10, leading=12
    ),
    "rag_dark": ParagraphStyle("rag_dark", parent=STYLES["cell_bold"], alignment=TA_CENTER, fontSize=10, leading=12),
    "tiny": ParagraphStyle("tiny", parent=STYLES["cell"], fontSize=7, leading=8.5, textColor=NHS_DARK_GREY),
    "comment": ParagraphStyle(
        "comment",
        parent=STYLES["cell"],
        fontName=OBLIQUE,
        fontSize=7.5,
        leading=9.5,
        textColor=NHS_DARK_GREY,
    ),
    "num": ParagraphStyle("num", parent=STYLES["cell"], fontSize=8, leading=10),
    "tile_big": ParagraphStyle("tile_big", parent=STYLES["cell"], alignment=TA_CENTER, fontSize=22, leading=26),
    "tile": ParagraphStyle("tile", parent=STYLES["cell"], alignment=TA_CENTER, fontSize=8.5, leading=11),
    "draft": ParagraphStyle("draft", parent=STYLES["body"], fontName=BOLD, fontSize=12, leading=15, textColor=NHS_RED),
    "front_title": ParagraphStyle("front_title", parent=STYLES["title"], fontSize=17, leading=20, spaceAfter=1 * mm),
    "front_sub": ParagraphStyle("front_sub", parent=STYLES["subtitle"], fontSize=9.5, leading=12, spaceAfter=3 * mm),
    "headline": ParagraphStyle("headline", parent=STYLES["body"], fontSize=11.5, leading=14.5, textColor=NHS_DARK_BLUE),
    "ask": ParagraphStyle("ask", parent=STYLES["body"], fontSize=8.8, leading=10.8),
    "dash": ParagraphStyle("dash", parent=STYLES["cell"], fontSize=7.8, leading=9.4),
}


def _p(text: object, style: str) -> Paragraph:
    """p() for this report's own styles."""
    return Paragraph(escape(text).replace("\n", "<br/>"), _S[style])


def _m(text: str, style: str) -> Paragraph:
    """markup() (trusted markup) for this report's own styles."""
    return Paragraph(text, _S[style])


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_code: str,
    quarter: Quarter,
    out: str | Path,
    today: dt.date | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    asks: list[str] | None = None,
) -> Path:
    """Write the report of *locality_code* for *quarter* to *out* and audit the export. *asks* are the
    recommendations to the board, each finishing "The Board is asked to …" (None: board.draft_asks, the draft);
    like the comments they are refused if they identify a patient. Cancelled from *cancel* leaves neither a file
    nor an audit entry."""
    out = Path(out)
    stage(progress, cancel, 0.0, f"Gathering the figures of {locality_code.upper()}…")
    figures = gather(db, locality_code, quarter, today or clock.today())
    # Here, not in gather(): the Reports screen shows the same figures inside the workspace, where names may be.
    fields = {f"comment on {row.kpi.code}": row.comment for row in figures.rows}
    fields.update(
        {f"description of action {a['reference']}": a["description"] for row in figures.rows for a in row.actions}
    )
    asks = board.draft_asks(figures) if asks is None else [a.strip() for a in asks if a and a.strip()]
    fields.update({f"recommendation {board.letter(n)} to the board": text for n, text in enumerate(asks)})
    free_text.refuse(
        db,
        fields,
        "the locality report cannot be exported",
        "Edit it on the Returns or MDT & actions screen (reopen a signed-off return first), then export again.",
        "the report goes to the locality board and must never identify a patient",
    )
    status = "DRAFT" if figures.draft else f"signed off by {figures.ret['signed_off_by']}"
    stage(progress, cancel, 0.3, "Evaluating the outcomes of the caseload's joiners…")
    outcomes = outcomes_page.for_report(db, figures.locality["id"], quarter)
    with part_file(out) as part:
        build_report(figures, part.path, progress, cancel, asks=asks, year=board.year(db, figures), outcomes=outcomes)
        record_export(
            db,
            part,
            actor,
            "report",
            None,
            f"Exported the {quarter.label} locality report for {figures.locality['name']} ({status}) to {out.name}",
            {
                "file": str(out),
                "locality": figures.locality["code"],
                "quarter": quarter.code,
                "draft": figures.draft,
            },
            progress,
            cancel,
        )
    return out


def fmt(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if kpi.unit == "count" else f"{value:,.1f}"


def target_text(kpi: Kpi) -> str:
    if kpi.target is None or kpi.direction not in ("high", "low"):
        return "—"
    figure = _whole(kpi, kpi.target)  # targets are whole numbers: "≥ 60%", not "≥ 60.0%"
    return ("≥ " if kpi.direction == "high" else "≤ ") + figure


def stat(kpi: Kpi, value: float) -> str:
    """A mean or limit: one decimal even for a count, whose mean is rarely whole."""
    return f"{value:,.1f}" + ("%" if kpi.unit == "percent" else "")


def build_report(
    f: LocalityFigures,
    out: Path,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    asks: list[str] | None = None,
    year: Year | None = None,
    outcomes: Evaluation | None = None,
) -> None:
    """Lay the report out; *outcomes* (export() always passes it) adds the Outcomes page before the charts."""
    q = f.quarter
    year = year or Year([q])
    asks = board.draft_asks(f) if asks is None else asks
    title = f"{f.locality['name']} · {q.label}" + (" · DRAFT" if f.draft else "")
    stage(progress, cancel, 0.5, "Writing the board summary, the KPIs and the exceptions…")
    story: list = [
        # One page whatever the quarter holds: a long list of reds is set a little smaller rather than spill.
        KeepInFrame(CONTENT_WIDTH, FRONT_HEIGHT, _front_page(f, asks, year), mode="shrink"),
        PageBreak(),
        _status(f),
        Spacer(1, 3 * mm),
        Paragraph("RAG summary", STYLES["h1"]),
        _tiles(f),
        Spacer(1, 2 * mm),
        *_reds(f),
        Paragraph("Key numbers", STYLES["h1"]),
        _key_numbers(f),
        Spacer(1, 2 * mm),
        KeepTogether(_key()),
        Spacer(1, 2 * mm),
        Paragraph("Notes", STYLES["h2"]),
        p(
            "Figures are aggregate counts from the locality's own records and, for the entered KPIs (OUT-, BCF-), "
            "from secondary-care and council data entered by the federation manager; an optional entered KPI "
            "left blank shows \u201cnot entered\u201d. No patient is identified. Intervals are 95 %: Wilson's for "
            "percentages of patients, Byar's (exact below 10) for counts and rates of patients, as PHE Fingertips "
            f"publishes them. {NO_INTERVAL_MARK} No interval: a census or a count of the team's own activity is "
            "not a sample, so it has none. Actions and care-home rounds are as recorded on "
            f"{f.today:%d %b %Y}.",
            "small",
        ),
        PageBreak(),
        Paragraph("Key performance indicators", STYLES["h1"]),
        _kpi_table(f, year),
        p(
            "Key to the icons, arrows and RAG letters on page 2. Values are for the quarter, with the numerator / "
            f"denominator and the 95% interval under each. {NO_INTERVAL_MARK} No interval: census / activity count, "
            "not a sample.",
            "small",
        ),
        Spacer(1, 1 * mm),
        p(board.NOTES, "small"),
        PageBreak(),
        Paragraph("Exceptions: indicators off target", STYLES["h1"]),
        *_exceptions(f),
        *_summaries(f),
        *(outcomes_page.story(outcomes) if outcomes is not None else []),
    ]
    # The COH-06 breakdowns are a line under COH-06 in the table, not charts of their own.
    charts = _charts(dataclasses.replace(f, rows=[r for r in f.rows if not r.kpi.part_of]), progress, cancel)
    story += [
        CondPageBreak(120 * mm),  # charts follow on if two rows of them fit; no half-empty page otherwise
        Paragraph("Statistical process control charts", STYLES["h1"]),
        markup(
            "Making Data Count XmR charts: each point is one period; the mean is the solid line and the process "
            "limits (mean ± 2.66 × average moving range) dashed. A point beyond a limit, 7 in a row on one side of "
            "the mean, 7 rising or falling, or 2 of 3 near a limit is special cause. Computed KPIs are charted "
            "month by month; entered KPIs (OUT-, BCF-) exist only quarterly in signed-off returns, so their limits "
            "stay trial limits until 13 quarters are held. Monthly charts of counts per period (COH-06, MDT-01, "
            "MDT-02) leave out the quarterly target.",
            "small",
        ),
        Spacer(1, 1.5 * mm),
        legend(CONTENT_WIDTH),
        Spacer(1, 1 * mm),
        *charts,
    ]
    build(
        out,
        story,
        title=title,
        subject=f"Quarterly locality report, {f.locality['name']}",
        sensitive=False,
        progress=progress,
        cancel=cancel,
    )


# -- the front page: the board summary ---------------------------------------------------------------------------
NO_INTERVAL_MARK = "\u2020"  # †: where a census or an activity count would have had its interval
FRONT_HEIGHT = PAGE_HEIGHT - 31 * mm - 14  # the frame of build(): its margins and padding
CHANGES_SHOWN = 3  # better and worse each: the largest changes; the KPI table has every one


def _front_page(f: LocalityFigures, asks: list[str], year: Year) -> list:
    q = f.quarter
    ret = f.ret
    if f.draft:
        state = "<font color='#DA291C'><b>DRAFT</b></font>: the return is not signed off; figures may change"
    else:
        state = f"Return signed off by {escape(ret['signed_off_by'])} on {_d(ret['signed_off_at'])}"
    out: list = [
        Paragraph(f"{escape(f.locality['name'])} locality: report to the board", _S["front_title"]),
        _m(
            f"Quarterly KPI report, {q.label} ({_d(q.start.isoformat())} to {_d(q.end.isoformat())}) · {state}",
            "front_sub",
        ),
        _headline_box(board.headline(f)),
        Paragraph("Recommendations", STYLES["h2"]),
        markup("<b>The Board is asked to:</b>", "body"),
        Spacer(1, 1 * mm),
        _asks_list(asks),
        Paragraph("Since last quarter", STYLES["h2"]),
        _changes(f),
        Paragraph("Dashboard: the KPIs with targets", STYLES["h2"]),
        *_dashboard(f, year),
        Spacer(1, 1 * mm),
        p(
            "RAG: G met the target, A within tolerance, R beyond. YTD: the financial year to date; forecast: the "
            "year-end at the run rate so far, coloured against the annual plan (rules under the KPI table). "
            "Arrows: direction of travel against last quarter and the same quarter last year, filled when better "
            "or worse by the KPI's direction of good.",
            "small",
        ),
    ]
    return out


def _headline_box(text: str) -> Any:
    box = Table([[_m(f"<b>{escape(text)}</b>", "headline")]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F4F7F8")),
                ("LINEBEFORE", (0, 0), (0, -1), 5, NHS_BLUE),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return box


def _asks_list(asks: list[str]) -> Any:
    if not asks:
        return p("(No recommendation was made.)", "body")
    ends = [";"] * (len(asks) - 1) + ["."]  # one sentence, as a board paper lists its recommendations
    rows = [
        [_p(board.letter(n), "ask"), _p(text.rstrip(".;") + end, "ask")]
        for n, (text, end) in enumerate(zip(asks, ends, strict=True))
    ]
    t = Table(rows, colWidths=[8 * mm, CONTENT_WIDTH - 8 * mm])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return t


def _changes(f: LocalityFigures) -> Any:
    """Better and worse than last quarter, side by side, each with the comment that says why."""
    better, worse = board.changes(f)

    def column(items: list[board.Change], word: str) -> list:
        if not items:
            return [_p(f"Nothing is {word} than last quarter.", "num")]
        cells = []
        for c in items[:CHANGES_SHOWN]:
            k = c.row.kpi
            text = (
                f"<b>{k.code}</b> {escape(board.short(k))}: {fmt(k, c.row.previous)} \u2192 "
                f"<b>{fmt(k, c.row.value)}</b>"
            )
            if c.why:
                text += f"<br/><font name='{OBLIQUE}' color='#425563'>\u201c{escape(c.why)}\u201d</font>"
            cells.append(_m(text, "num"))
        if len(items) > CHANGES_SHOWN:
            cells.append(_p(f"and {len(items) - CHANGES_SHOWN} more (see the KPI table)", "tiny"))
        return cells

    w = CONTENT_WIDTH / 2
    left, right = column(better, "better"), column(worse, "worse")
    head = [
        _m(f"<font color='#009639'><b>Better ({len(better)})</b></font>", "num"),
        _m(f"<font color='#DA291C'><b>Worse ({len(worse)})</b></font>", "num"),
    ]
    rows = [head] + [
        [left[i] if i < len(left) else "", right[i] if i < len(right) else ""]
        for i in range(max(len(left), len(right)))
    ]
    t = Table(rows, colWidths=[w, w])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, NHS_MID_GREY),
                ("LINEAFTER", (0, 0), (0, -1), 0.25, NHS_PALE_GREY),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return t


def _dashboard(f: LocalityFigures, year: Year) -> list:
    """One line per KPI with a target; the optional entered KPIs left blank are named in one line below."""
    w = CONTENT_WIDTH
    widths = [0.085 * w, 0.25 * w, 0.14 * w, 0.075 * w, 0.055 * w, 0.08 * w, 0.145 * w, 0.085 * w, 0.085 * w]
    rows, styles, blank = [], [], []
    for r in board.headline_rows(f):
        if r.kpi.target is None:
            continue
        if _not_entered(r):
            blank.append(r.kpi.code)
            continue
        k, yr = r.kpi, year.row(r.kpi.code)
        i = len(rows) + 1
        value = fmt(k, r.value)
        if yr is not None and yr.llr is not None:
            value += f" (LLR {fmt(k, yr.llr)})"
        rows.append(
            [
                _m(f"<b>{k.code}</b>", "dash"),
                _p(board.short(k)[:1].upper() + board.short(k)[1:], "dash"),
                _p(value, "dash"),
                _p(target_text(k), "dash"),
                _rag(r.rag),
                _p(fmt(k, yr.ytd) if yr else "—", "dash"),
                _outturn(k, yr, "dash"),
                _arrow(k, r.value, r.previous),
                _arrow(k, r.value, yr.last_year if yr else None),
            ]
        )
        if r.rag in RAG_COLOURS:
            styles.append(("BACKGROUND", (4, i), (4, i), RAG_COLOURS[r.rag]))
    styles += [
        ("ALIGN", (4, 1), (4, -1), "CENTER"),
        ("ALIGN", (7, 1), (8, -1), "CENTER"),
        ("VALIGN", (0, 1), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 1), (-1, -1), 1.2),
        ("BOTTOMPADDING", (0, 1), (-1, -1), 1.2),
    ]
    out: list = [
        table(
            ["KPI", "Indicator", "This quarter", "Target", "RAG", "YTD", "Forecast / plan", "Last Q", "Last yr"],
            rows,
            widths,
            row_styles=styles,
        )
    ]
    if blank:
        out.append(p(f"Not entered this quarter (optional): {', '.join(blank)}.", "small"))
    return out


def _not_entered(r: KpiRow) -> str:
    return "not entered" if r.value is None and r.kpi.source == "entered" else ""


def _outturn(k: Kpi, yr: YearRow | None, style: str = "num") -> Any:
    if yr is None or yr.forecast is None:
        return _p("—", style)
    plan = "" if yr.plan is None else f" / {_whole(k, yr.plan)}"
    colour = {"G": "#009639", "A": "#B35F00", "R": "#DA291C"}.get(yr.outturn_rag or "", "#212B32")
    letter = f" {yr.outturn_rag}" if yr.outturn_rag else ""
    return _m(f"<font color='{colour}'><b>{fmt(k, yr.forecast)}</b>{letter}</font>{plan}", style)


def _whole(k: Kpi, value: float) -> str:
    """A plan or target as written: "60%", not "60.0%"."""
    return fmt(k, value).replace(".0%", "%")


def _arrow(k: Kpi, now: float | None, then: float | None) -> Any:
    change, better = k.movement(now, then)
    return _p("–", "tiny") if change is None else mdc_icons.trend_arrow(change, better)


def _travel_cell(r: KpiRow, yr: YearRow | None) -> Any:
    """Direction of travel: against last quarter and the same quarter last year, each an arrow and a word."""
    k = r.kpi
    lines = []
    for label, then in (("Q", r.previous), ("yr", yr.last_year if yr else None)):
        word = board.travel(k, r.value, then)
        text = f"{label}: no value" if word is None else f"{label}: {word}, was {fmt(k, then)}"
        lines.append([_arrow(k, r.value, then) if word else "", _p(text, "tiny")])
    return side_by_side(lines, [13, None], bottom=1)


def _status(f: LocalityFigures) -> Any:
    ret = f.ret
    if ret is None:
        text = (
            f"<b>DRAFT</b>: no return has been started for {f.quarter.label}. These figures were computed "
            f"from the records on {f.today:%d %b %Y}; entered KPIs (OUT-) are blank and there is no commentary."
        )
        colour = NHS_RED
    elif ret["status"] == "draft":
        text = (
            f"<b>DRAFT</b>: revision {ret['revision']} of the {f.quarter.label} return is not signed off yet; "
            "figures and commentary may change."
        )
        colour = NHS_RED
    else:
        text = (
            f"<b>Signed off</b> by {escape(ret['signed_off_by'])} on {_d(ret['signed_off_at'])} "
            f"(revision {ret['revision']})"
            + (f"; exported to the commissioner on {_d(ret['exported_at'])}" if ret["exported_at"] else "")
            + ". The figures are those frozen at sign-off."
        )
        colour = NHS_GREEN
    return marked_box(text, colour, CONTENT_WIDTH)


def _tiles(f: LocalityFigures) -> Any:
    counts = {k: sum(1 for r in board.headline_rows(f) if r.rag == k) for k in ("G", "A", "R", None)}
    cells, styles = [], []
    for i, k in enumerate(("G", "A", "R", None)):
        letter = k or "–"
        cells.append([_m(f"<b>{counts[k]}</b>", "tile_big"), _m(f"<b>{letter}</b> · {RAG_WORDS[k]}", "tile")])
        colour = RAG_COLOURS.get(k, NHS_PALE_GREY)
        styles += [("LINEABOVE", (i, 0), (i, 0), 6, colour), ("BOX", (i, 0), (i, 0), 0.5, NHS_MID_GREY)]
    t = Table([cells], colWidths=[CONTENT_WIDTH / 4 - 2 * mm] * 4, spaceBefore=0)
    t.setStyle(
        TableStyle(
            [
                *styles,
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


def _reds(f: LocalityFigures) -> list:
    reds = f.reds
    if not reds:
        return [p("No indicator is red this quarter.", "body")]
    w = CONTENT_WIDTH
    rows = [
        [
            r.kpi.code,
            r.kpi.name,
            f"{fmt(r.kpi, r.value)} against {target_text(r.kpi)}",
            _trend(r),
            str(sum(1 for a in r.actions if a["status"] in ("open", "in progress"))),
        ]
        for r in reds
    ]
    return [
        Paragraph(f"Off target ({len(reds)})", STYLES["h2"]),
        table(
            ["KPI", "Indicator", "Value", "Since last quarter", "Open actions"],
            rows,
            [0.09 * w, 0.38 * w, 0.22 * w, 0.19 * w, 0.12 * w],
        ),
    ]


def _key_numbers(f: LocalityFigures) -> Any:
    def v(code: str) -> str:
        r = f.row(code)
        return fmt(r.kpi, r.value)

    run, mdt, homes = f.cohort_run, f.mdt, f.homes
    w = CONTENT_WIDTH
    rows = [
        [
            "Cohort at quarter end",
            f"{v('COH-01')} patients" + (f" (extract of {_d(run['extract_date'])})" if run else ""),
            "On the ILT caseload",
            v("COH-02"),
        ],
        [
            "MDT meetings held",
            f"{len(mdt['meetings'])} (target {f.row('MDT-01').kpi.target:.0f})",
            "Patients discussed",
            f"{v('MDT-02')} distinct patients",
        ],
        [
            "Care homes",
            f"{homes['homes']} homes, {homes['beds']} beds",
            "Weekly home rounds",
            f"{homes['covered']} of {homes['due']} home-weeks",
        ],
        [
            "Actions open now",
            f"{mdt['open']} ({mdt['overdue']} overdue)",
            "New residents with a PCSP in 7 days",
            f"{homes['pcsp_on_time']} of {homes['admissions']}",
        ],
    ]
    t = Table(
        [[_m(f"<b>{escape(c)}</b>", "num") if i % 2 == 0 else _p(c, "num") for i, c in enumerate(row)] for row in rows],
        colWidths=[0.21 * w, 0.29 * w, 0.27 * w, 0.23 * w],
    )
    t.setStyle(
        TableStyle(
            [
                ("ROWBACKGROUNDS", (0, 0), (-1, -1), [colors.white, colors.HexColor("#F4F7F8")]),
                ("LINEABOVE", (0, 0), (-1, 0), 1.2, NHS_BLUE),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, NHS_PALE_GREY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return t


def _trend(r: KpiRow) -> Any:
    """The trend cell: a drawn arrow, and in words whether that is better or worse, for greyscale prints."""
    if r.change is None:
        return _p("no previous value" if r.previous is None else "—", "tiny")
    word = travel_word(r.change, r.better)
    return side_by_side(
        [[mdc_icons.trend_arrow(r.change, r.better), _p(f"{word}, was {fmt(r.kpi, r.previous)}", "tiny")]], [13, None]
    )


def _rag(rag: str | None) -> Any:
    # White on green and red; black on amber, where white would not read.
    return _p(rag or "–", "rag" if rag in ("G", "R") else "rag_dark")


def _value_cell(r: KpiRow, yr: YearRow | None = None) -> Any:
    missing = _not_entered(r)
    if missing:
        return _p(missing, "tiny")
    text = f"<b>{fmt(r.kpi, r.value)}</b>"
    if r.numerator is not None and r.denominator is not None:
        text += f"<br/><font size=6.8>{r.numerator:,.0f} / {r.denominator:,.0f}</font>"
    if r.value is not None and r.ci is None:
        # A census or an activity count (kpi.no_interval_reason) is marked and keyed; anything else just says so.
        mark = NO_INTERVAL_MARK if r.kpi.interval_method is None else ""
        text += f"<br/><font size=6.8 color='#425563'>no interval{mark}</font>"
    elif r.ci is not None and r.value is not None:
        low, high = r.ci
        pct = "%" if r.kpi.unit == "percent" else ""
        low_text = "—" if low is None else f"{low:,.1f}"
        text += f"<br/><font size=6.8 color='#425563'>{low_text}–{high:,.1f}{pct}</font>"
    if yr is not None and yr.llr is not None:
        text += f"<br/><font size=6.8 color='#003087'>LLR {fmt(r.kpi, yr.llr)}</font>"
    return _m(text, "num")


def _icon(drawing: Any, r: KpiRow) -> Any:
    if r.spc is None:
        return _p("–", "tiny")
    if r.spc.trial_limits:
        return _p("trial", "tiny")  # MDC shows no icons below 13 points
    return drawing


def _kpi_table(f: LocalityFigures, year: Year | None = None) -> Any:
    w = CONTENT_WIDTH
    widths = [0.08, 0.19, 0.07, 0.13, 0.055, 0.055, 0.07, 0.075, 0.095, 0.18]
    widths = [x * w for x in widths]
    year = year or Year([f.quarter])
    parts = {}
    for r in f.rows:
        if r.kpi.part_of:
            parts.setdefault(r.kpi.part_of, []).append(r)
    rows, styles = [], []
    band = [colors.white, colors.HexColor("#F4F7F8")]
    for n, r in enumerate(r for r in f.rows if not r.kpi.part_of):
        i = len(rows) + 1
        yr = year.row(r.kpi.code)
        rows.append(
            [
                _m(f"<b>{r.kpi.code}</b>", "num"),
                _p(r.kpi.name, "num"),
                _p(target_text(r.kpi), "num"),
                _value_cell(r, yr),
                _rag(r.rag),
                _icon(mdc_icons.variation(r.spc.variation_icon if r.spc else None), r),
                _icon(mdc_icons.assurance(r.spc.assurance_icon if r.spc else None), r),
                _p(fmt(r.kpi, yr.ytd) if yr else "—", "num"),
                _outturn(r.kpi, yr),
                _travel_cell(r, yr),
            ]
        )
        last = i
        extra = []
        if r.kpi.code in parts:
            extra.append(
                "<b>By type:</b> "
                + " · ".join(
                    f"{b.kpi.code} {escape(_type_name(b.kpi))} {fmt(b.kpi, b.value)}" for b in parts[r.kpi.code]
                )
            )
        if r.comment:
            extra.append(f"<b>Comment:</b> {escape(r.comment)}")
        for line in extra:
            last += 1
            rows.append(["", _m(line, "comment")] + [""] * 8)
            styles += [
                ("SPAN", (1, last), (-1, last)),
                ("TOPPADDING", (0, last), (-1, last), 0),
                ("LINEBELOW", (0, last - 1), (-1, last - 1), 0, colors.white),
            ]
        styles.append(("BACKGROUND", (0, i), (-1, last), band[n % 2]))
        if r.rag in RAG_COLOURS:
            styles.append(("BACKGROUND", (4, i), (4, i), RAG_COLOURS[r.rag]))
    styles += [
        ("VALIGN", (4, 1), (6, -1), "MIDDLE"),
        ("ALIGN", (4, 1), (6, -1), "CENTER"),
        ("VALIGN", (9, 1), (9, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    return table(
        [
            "KPI",
            "Indicator",
            "Target",
            "Value, num. / den., 95% CI",
            "RAG",
            "Var.",
            "Assur.",
            "YTD",
            "Forecast / plan",
            "Direction of travel",
        ],
        rows,
        widths,
        row_styles=styles,
    )


def _type_name(kpi: Kpi) -> str:
    """A COH-06 breakdown by its type alone: "Care-plan reviews", not "… delivered in the quarter"."""
    return kpi.name.replace(" delivered in the quarter", "").lower()


def _key() -> list:
    """What the icons, arrows and RAG letters mean (the MDC legend a board member needs)."""

    def item(drawing: Any, text: str) -> list:
        return [drawing, _p(text, "tiny")]

    var = [
        item(mdc_icons.variation(k), mdc_icons.LABELS[k])
        for k in ("common_cause", "improvement_high", "improvement_low", "concern_high", "concern_low", "neutral_high")
    ]
    ass = [
        item(mdc_icons.assurance(k), mdc_icons.LABELS[k])
        for k in ("consistent_pass", "consistent_fail", "inconsistent")
    ]
    ass += [
        item(mdc_icons.trend_arrow("up", True), "Better than last quarter (arrow shows the direction)"),
        item(mdc_icons.trend_arrow("down", False), "Worse than last quarter"),
        item(mdc_icons.trend_arrow("same", None), "Same, or neither better nor worse"),
    ]
    rows = [a + b for a, b in zip(var, ass, strict=True)]
    w = CONTENT_WIDTH
    t = Table(rows, colWidths=[18, w / 2 - 18, 18, w / 2 - 18])
    t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return [
        Paragraph("Key", STYLES["h2"]),
        markup(
            "<b>Variation</b> icon (left): the state of the latest point of the KPI's SPC chart. "
            "<b>Assurance</b> icon: whether the process limits say the target will be met. MDC shows "
            'neither with fewer than 13 points ("trial"). <b>RAG</b>: G met the target, A within the '
            "KPI's tolerance, R beyond it; – no target. Concern icons are filled discs and improvement "
            "icons rings, so they read apart in greyscale.",
            "small",
        ),
        Spacer(1, 1.5 * mm),
        t,
    ]


def _exceptions(f: LocalityFigures) -> list:
    if not f.reds:
        return [p("No indicator is red this quarter.", "body")]
    out: list = []
    w = CONTENT_WIDTH
    for r in f.reds:
        tol = f" (amber within {fmt(r.kpi, r.kpi.tolerance)})" if r.kpi.tolerance else ""
        prev = "" if r.previous is None else f"; last quarter {fmt(r.kpi, r.previous)}"
        block: list = [
            Paragraph(f"{r.kpi.code} · {escape(r.kpi.name)}", STYLES["h2"]),
            markup(
                f"<b>{fmt(r.kpi, r.value)}</b> against a target of {target_text(r.kpi)}{tol}{prev}. "
                + _variation_sentence(r),
                "body",
            ),
            Spacer(1, 1 * mm),
        ]
        block.append(
            markup(f"<b>Commentary:</b> {escape(r.comment)}", "body")
            if r.comment
            else markup(
                "<font color='#DA291C'><b>No commentary recorded.</b></font> A red needs one before sign-off.", "body"
            )
        )
        block.append(Spacer(1, 1.5 * mm))
        if r.actions:
            rows = [
                [
                    a["reference"],
                    a["description"],
                    a["owner_name"],
                    _d(a["due_date"]),
                    a["status"] + (f" {_d(a['completed_on'])}" if a["completed_on"] else ""),
                ]
                for a in r.actions
            ]
            block.append(
                table(
                    ["Action", "Description", "Owner", "Due", "Status"],
                    rows,
                    [0.15 * w, 0.43 * w, 0.17 * w, 0.11 * w, 0.14 * w],
                )
            )
            more = [
                f"{r.more_actions} more open or due this quarter" if r.more_actions else "",
                f"{_plural(r.earlier_actions, 'earlier action')} closed before the quarter began"
                if r.earlier_actions
                else "",
            ]
            if any(more):
                block.append(p("Also " + "; ".join(m for m in more if m) + ".", "small"))
        else:
            block.append(
                markup("<font color='#DA291C'><b>No action has been raised against this KPI.</b></font>", "body")
            )
        out += [KeepTogether(block), Spacer(1, 2 * mm)]
    return out


ASSURANCE_WORDS = {
    "pass": "Assurance: the process will consistently meet the target.",
    "fail": "Assurance: fail. It will not meet its target without a change to the process.",
    "hit-and-miss": "Assurance: hit and miss. The target lies within the process limits, so it will be met "
    "in some periods and missed in others.",
}


def _variation_sentence(r: KpiRow) -> str:
    if r.spc is None:
        return ""
    if r.spc.trial_limits:
        head = f"Too few points ({len(r.spc.points)}) for SPC icons."
    else:
        head = mdc_icons.LABELS[r.spc.variation_icon] + " in the latest period."
    if r.assurance:
        return f"{head} {ASSURANCE_WORDS[r.assurance]}"
    return f"{head} No assurance: {escape(r.assurance_note)}." if r.assurance_note and not r.spc.trial_limits else head


def _summaries(f: LocalityFigures) -> list:
    w = CONTENT_WIDTH
    run, mdt, homes = f.cohort_run, f.mdt, f.homes
    out: list = [CondPageBreak(60 * mm), Paragraph("The cohort, MDT and care homes", STYLES["h1"])]
    if run:
        rows = [
            ["Patients in the cohort", f"{run['cohort_total']:,}"],
            ["of whom frail (eFI)", f"{run['frailty']:,}"],
            ["with multimorbidity", f"{run['multimorbidity']:,}"],
            ["with high cost", f"{run['high_cost']:,}"],
            ["joined / left at this extract", f"{run['new']:,} / {run['left']:,}"],
            ["population in the extract", f"{run['rows']:,}"],
        ]
        cohort_t = table(
            [f"Cohort (extract of {_d(run['extract_date'])})", ""],
            rows,
            [0.3 * w, 0.17 * w],
            row_styles=[("SPAN", (0, 0), (-1, 0))],
        )
    else:
        cohort_t = p("No risk extract was imported by the end of the quarter.", "body")
    dates = ", ".join(_d(m["held_on"]) for m in mdt["meetings"]) or "none"
    mdt_rows = [
        ["Meetings held", f"{len(mdt['meetings'])}: {dates}"],
        ["Patient items discussed", str(mdt["items"])],
        ["Distinct patients (MDT-02)", fmt(f.row("MDT-02").kpi, f.row("MDT-02").value)],
        ["Actions raised in the quarter", f"{mdt['actions_raised']} ({mdt['raised_done']} done)"],
        [f"Open on {f.today:%d %b %Y}", f"{mdt['open']} ({mdt['overdue']} overdue)"],
    ]
    mdt_t = table(["MDT", ""], mdt_rows, [0.22 * w, 0.27 * w], row_styles=[("SPAN", (0, 0), (-1, 0))])
    side = Table([[cohort_t, mdt_t]], colWidths=[0.49 * w, 0.51 * w])
    side.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    out += [side, Spacer(1, 3 * mm)]
    pct = f" ({100 * homes['covered'] / homes['due']:.0f}%)" if homes["due"] else ""
    home_rows = [
        ["Homes and beds", f"{homes['homes']} homes, {homes['beds']} registered beds"],
        ["Weekly home rounds", f"{homes['covered']} of {homes['due']} home-weeks{pct}"],
        ["Homes that missed a round", _short_homes(homes["short"], homes["homes"])],
        [
            "New residents with a PCSP within 7 working days",
            f"{homes['pcsp_on_time']} of {homes['admissions']} ({homes['pcsp_late']} late or overdue)",
        ],
        [
            "Register gaps today",
            "; ".join(f"{g['name']}: {', '.join(g['problems'])}" for g in homes["gaps"])
            or "none: every home has a named lead and an aligned practice",
        ],
    ]
    out.append(
        KeepTogether(
            table(
                ["Care homes (Enhanced Health in Care Homes)", ""],
                home_rows,
                [0.3 * w, 0.7 * w],
                row_styles=[("SPAN", (0, 0), (-1, 0))],
            )
        )
    )
    return out


def _short_homes(short: list[tuple[str, int, int]], total: int, shown: int = 5) -> str:
    """The homes with the fewest weekly rounds, not all of them: a board reads the worst few."""
    if not short:
        return "none"
    listed = "; ".join(f"{n} ({c} of {d})" for n, c, d in short[:shown])
    return (f"{len(short)} of {total} homes. " if len(short) > shown else "") + (
        f"Fewest rounds: {listed}" if len(short) > shown else listed
    )


def _charts(f: LocalityFigures, progress: Progress = no_progress, cancel: CancelCheck = never_cancel) -> list:
    cell_w = CONTENT_WIDTH / 2
    chart_w, chart_h = cell_w - 10, 112
    cells = []
    for n, r in enumerate(f.rows):
        stage(progress, cancel, 0.55 + 0.15 * n / len(f.rows), f"Drawing the SPC chart of {r.kpi.code}…")
        cells.append(_chart_cell(r, chart_w, chart_h))
    rows = [cells[i : i + 2] + [""] * (2 - len(cells[i : i + 2])) for i in range(0, len(cells), 2)]
    grid = Table(rows, colWidths=[cell_w, cell_w])
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, NHS_PALE_GREY),
            ]
        )
    )
    return [grid]


def _chart_cell(r: KpiRow, width: float, height: float) -> Any:
    from .charts import mdc_style  # the step-change and assurance wording shared with the app's SPC view

    steps = [(mdc_style.step_label(r.labels[s["index"]], r.monthly), s["reason"]) for s in r.rebases]
    name = _m(f"<b>{r.kpi.code}</b> {escape(r.kpi.name)}", "num")
    if r.spc is not None and r.spc.trial_limits:
        head = Table([[name, _p("trial limits", "tiny")]], colWidths=[width - 40, 40])
    else:
        head = Table(
            [
                [
                    name,
                    _icon(mdc_icons.variation(r.spc.variation_icon if r.spc else None, 13), r),
                    _icon(mdc_icons.assurance(r.spc.assurance_icon if r.spc else None, 13), r),
                ]
            ],
            colWidths=[width - 34, 17, 17],
        )
    head.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    if r.spc is None:
        body: Any = _p("Not enough values for a chart yet.", "tiny")
        notes = []
    else:
        pct = r.kpi.unit == "percent"
        body = xmr_chart(
            r.spc,
            _short(r.labels, r.monthly),
            width,
            height,
            target=r.chart_target,
            bounds=(0, 100) if pct else (0, None),
            suffix="%" if pct else "",
        )
        kind = "Monthly" if r.monthly else "Quarterly (signed-off returns)"
        since = f" since {steps[-1][0]}" if steps else ""  # the mean and limits are the last segment's
        caption = (
            f"{kind}, {r.labels[0]} to {r.labels[-1]} ({len(r.labels)} points)"
            f" · mean{since} {stat(r.kpi, r.spc.mean)} · limits {stat(r.kpi, max(r.spc.lpl, 0))} to "
            f"{stat(r.kpi, min(r.spc.upl, 100) if pct else r.spc.upl)}"
            + (f" · {_plural(r.gaps, 'month' if r.monthly else 'quarter')} without a value left off" if r.gaps else "")
        )
        notes = [_p(caption, "tiny")]
    # Each step change with its reason (issue 24), then why the assurance icon is withheld where it is (trial
    # limits say so on the chart; a KPI with no target needs no word).
    notes += [_m(f"<b>Limits recalculated from {escape(on)}:</b> {escape(why)}", "tiny") for on, why in steps]
    withheld = r.assurance is None and r.assurance_note not in ("", "no target")
    if r.spc is not None and not r.spc.trial_limits and withheld:
        notes.append(_p(f"No assurance icon: {mdc_style.brief(r.assurance_note)}.", "tiny"))
    parts = [[head], [body]] + [[n] for n in notes]
    t = Table(parts, colWidths=[width])
    t.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return t


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _short(labels: list[str], monthly: bool) -> list[str]:
    """Axis labels short enough to show often: 'Oct 24' for a month, '26/27 Q2' for a quarter."""
    if monthly:
        return [f"{lab[:3]} {lab[-2:]}" if len(lab) >= 8 else lab for lab in labels]
    return [lab[2:] if len(lab) > 8 else lab for lab in labels]
