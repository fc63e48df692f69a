"""The quarterly locality report a federation manager sends to the board (DESIGN §11).

Page by page: a cover with the return's status and the headline (G/A/R counts, the reds, key numbers); the
KPI table (target, numerator/denominator, value with its 95 % interval, RAG as letter and colour, MDC
variation and assurance icons, trend since last quarter, commentary) with its key; the exceptions, each red
with its comment and the actions raised against it; cohort, MDT and care-home summaries; then an SPC chart per
KPI, two to a row. Aggregate only, so not OFFICIAL-SENSITIVE; every export is audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from ..models import clock, free_text
from ..models.clock import Actor
from ..models.kpi.catalogue import Kpi
from ..models.kpi.locality_figures import KpiRow, LocalityFigures, gather
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Quarter
from .charts import mdc_icons
from .charts.spc import legend, xmr_chart
from .fonts import BOLD, OBLIQUE
from .styles import (
    CONTENT_WIDTH,
    NHS_AMBER,
    NHS_BLUE,
    NHS_DARK_GREY,
    NHS_GREEN,
    NHS_MID_GREY,
    NHS_PALE_GREY,
    NHS_RED,
    STYLES,
    build,
    escape,
    markup,
    p,
    table,
)
from .writing import part_file, record_export, stage

RAG_COLOURS = {"G": NHS_GREEN, "A": NHS_AMBER, "R": NHS_RED}
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
) -> Path:
    """Write the report of *locality_code* for *quarter* to *out* and audit the export. Cancelled from *cancel*
    leaves neither a file nor an audit entry."""
    out = Path(out)
    stage(progress, cancel, 0.0, f"Gathering the figures of {locality_code.upper()}…")
    figures = gather(db, locality_code, quarter, today or clock.today())
    # Here, not in gather(): the Reports screen shows the same figures inside the workspace, where names may be.
    fields = {f"comment on {row.kpi.code}": row.comment for row in figures.rows}
    fields.update(
        {f"description of action {a['reference']}": a["description"] for row in figures.rows for a in row.actions}
    )
    free_text.refuse(
        db,
        fields,
        "the locality report cannot be exported",
        "Edit it on the Returns or MDT & actions screen (reopen a signed-off return first), then export again.",
        "the report goes to the locality board and must never identify a patient",
    )
    status = "DRAFT" if figures.draft else f"signed off by {figures.ret['signed_off_by']}"
    with part_file(out) as part:
        build_report(figures, part.path, progress, cancel)
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


def _d(iso: str | None) -> str:
    if not iso:
        return "—"
    day = dt.date.fromisoformat(iso[:10])
    return f"{day.day} {day:%b %Y}"


def fmt(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{value:.1f}%"
    return f"{value:,.0f}" if kpi.unit == "count" else f"{value:,.1f}"


def target_text(kpi: Kpi) -> str:
    if kpi.target is None or kpi.direction not in ("high", "low"):
        return "—"
    figure = fmt(kpi, kpi.target).replace(".0%", "%")  # targets are whole numbers: "≥ 60%", not "≥ 60.0%"
    return ("≥ " if kpi.direction == "high" else "≤ ") + figure


def stat(kpi: Kpi, value: float) -> str:
    """A mean or limit: one decimal even for a count, whose mean is rarely whole."""
    return f"{value:,.1f}" + ("%" if kpi.unit == "percent" else "")


def build_report(
    f: LocalityFigures, out: Path, progress: Progress = no_progress, cancel: CancelCheck = never_cancel
) -> None:
    q = f.quarter
    title = f"{f.locality['name']} · {q.label}" + (" · DRAFT" if f.draft else "")
    stage(progress, cancel, 0.5, "Writing the headline, the KPIs and the exceptions…")
    story: list = [
        Paragraph(f"{escape(f.locality['name'])} locality", STYLES["title"]),
        markup(
            f"Quarterly KPI report · {q.label} ({_d(q.start.isoformat())} to {_d(q.end.isoformat())}) · "
            f"Integrated Locality Team",
            "subtitle",
        ),
        _status(f),
        Spacer(1, 3 * mm),
        Paragraph("Headline", STYLES["h1"]),
        _tiles(f),
        Spacer(1, 2 * mm),
        *_reds(f),
        Paragraph("Key numbers", STYLES["h1"]),
        _key_numbers(f),
        Spacer(1, 2 * mm),
        KeepTogether(_key()),
        Spacer(1, 2 * mm),
        p(
            "Figures are aggregate counts from the locality's own records and, for OUT-01 to OUT-04, from "
            "secondary-care data entered by the federation manager. No patient is identified. Intervals are "
            "95 %: Wilson's for percentages, Byar's (exact below 10) for counts and rates, as PHE Fingertips "
            f"publishes them. Actions and care-home rounds are as recorded on {f.today:%d %b %Y}.",
            "small",
        ),
        PageBreak(),
        Paragraph("Key performance indicators", STYLES["h1"]),
        _kpi_table(f),
        p(
            "Key to the icons, arrows and RAG letters on page 1. Values are for the quarter; the 95% interval is "
            "under each value.",
            "small",
        ),
        PageBreak(),
        Paragraph("Exceptions: indicators off target", STYLES["h1"]),
        *_exceptions(f),
        *_summaries(f),
    ]
    charts = _charts(f, progress, cancel)
    story += [
        CondPageBreak(120 * mm),  # charts follow on if two rows of them fit; no half-empty page otherwise
        Paragraph("Statistical process control charts", STYLES["h1"]),
        markup(
            "Making Data Count XmR charts: each point is one period; the mean is the solid line and the process "
            "limits (mean ± 2.66 × average moving range) dashed. A point beyond a limit, 7 in a row on one side of "
            "the mean, 7 rising or falling, or 2 of 3 near a limit is special cause. Computed KPIs are charted "
            "month by month; entered KPIs (OUT-) exist only quarterly in signed-off returns, so their limits stay "
            "trial limits until 13 quarters are held. Monthly charts of counts per period (COH-06, MDT-01, "
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
    box = Table([[markup(text, "body")]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colour),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colour),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return box


def _tiles(f: LocalityFigures) -> Any:
    counts = {k: sum(1 for r in f.rows if r.rag == k) for k in ("G", "A", "R", None)}
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
    word = {True: "better", False: "worse", None: {"same": "same", "up": "higher", "down": "lower"}[r.change]}[r.better]
    t = Table(
        [[mdc_icons.trend_arrow(r.change, r.better), _p(f"{word}, was {fmt(r.kpi, r.previous)}", "tiny")]],
        colWidths=[13, None],
    )
    t.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


def _rag(rag: str | None) -> Any:
    # White on green and red; black on amber, where white would not read.
    return _p(rag or "–", "rag" if rag in ("G", "R") else "rag_dark")


def _value_cell(r: KpiRow) -> Any:
    text = f"<b>{fmt(r.kpi, r.value)}</b>"
    if r.ci is not None and r.value is not None:
        low, high = r.ci
        pct = "%" if r.kpi.unit == "percent" else ""
        low_text = "—" if low is None else f"{low:,.1f}"
        text += f"<br/><font size=6.8 color='#425563'>{low_text}–{high:,.1f}{pct}</font>"
    return _m(text, "num")


def _icon(drawing: Any, r: KpiRow) -> Any:
    if r.spc is None:
        return _p("–", "tiny")
    if r.spc.trial_limits:
        return _p("trial", "tiny")  # MDC shows no icons below 13 points
    return drawing


def _kpi_table(f: LocalityFigures) -> Any:
    w = CONTENT_WIDTH
    widths = [0.08 * w, 0.25 * w, 0.075 * w, 0.1 * w, 0.12 * w, 0.055 * w, 0.06 * w, 0.07 * w, 0.19 * w]
    rows, styles = [], []
    band = [colors.white, colors.HexColor("#F4F7F8")]
    for n, r in enumerate(f.rows):
        i = len(rows) + 1
        fraction = (
            "—"
            if r.numerator is None
            else f"{r.numerator:,.0f}" + (f" / {r.denominator:,.0f}" if r.denominator is not None else "")
        )
        rows.append(
            [
                _m(f"<b>{r.kpi.code}</b>", "num"),
                _p(r.kpi.name, "num"),
                _p(target_text(r.kpi), "num"),
                _p(fraction, "num"),
                _value_cell(r),
                _rag(r.rag),
                _icon(mdc_icons.variation(r.spc.variation_icon if r.spc else None), r),
                _icon(mdc_icons.assurance(r.spc.assurance_icon if r.spc else None), r),
                _trend(r),
            ]
        )
        last = i
        if r.comment:
            rows.append(["", _m(f"<b>Comment:</b> {escape(r.comment)}", "comment")] + [""] * 7)
            last = i + 1
            styles += [
                ("SPAN", (1, last), (-1, last)),
                ("TOPPADDING", (0, last), (-1, last), 0),
                ("LINEBELOW", (0, i), (-1, i), 0, colors.white),
            ]
        styles.append(("BACKGROUND", (0, i), (-1, last), band[n % 2]))
        if r.rag in RAG_COLOURS:
            styles.append(("BACKGROUND", (5, i), (5, i), RAG_COLOURS[r.rag]))
    styles += [
        ("VALIGN", (5, 1), (7, -1), "MIDDLE"),
        ("ALIGN", (5, 1), (7, -1), "CENTER"),
        ("VALIGN", (8, 1), (8, -1), "MIDDLE"),
    ]
    return table(
        ["KPI", "Indicator", "Target", "Num. / den.", "Value, 95% CI", "RAG", "Var.", "Assur.", "Since last quarter"],
        rows,
        widths,
        row_styles=styles,
    )


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


def _variation_sentence(r: KpiRow) -> str:
    if r.spc is None:
        return ""
    if r.spc.trial_limits:
        return f"Too few points ({len(r.spc.points)}) for SPC icons."
    return (
        mdc_icons.LABELS[r.spc.variation_icon]
        + " in the latest period"
        + (
            f"; {mdc_icons.LABELS[r.spc.assurance_icon][0].lower()}{mdc_icons.LABELS[r.spc.assurance_icon][1:]}."
            if r.spc.assurance_icon
            else "."
        )
    )


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
        caption = ""
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
        caption = (
            f"{kind}, {r.labels[0]} to {r.labels[-1]} ({len(r.labels)} points)"
            f" · mean {stat(r.kpi, r.spc.mean)} · limits {stat(r.kpi, max(r.spc.lpl, 0))} to "
            f"{stat(r.kpi, min(r.spc.upl, 100) if pct else r.spc.upl)}"
            + (f" · {_plural(r.gaps, 'month' if r.monthly else 'quarter')} without a value left off" if r.gaps else "")
        )
    parts = [[head], [body]] + ([[_p(caption, "tiny")]] if caption else [])
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
