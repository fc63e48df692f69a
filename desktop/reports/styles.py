"""The house style every report shares: A4, NHS identity colours, header and footer on every page with the
page number, the generated-at stamp and, where patient-identifiable, the OFFICIAL-SENSITIVE marking."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from ..models import clock
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from .fonts import BOLD, REGULAR
from .writing import layout_progress

NHS_BLUE = colors.HexColor("#005EB8")
NHS_DARK_BLUE = colors.HexColor("#003087")
NHS_PALE_GREY = colors.HexColor("#E8EDEE")
NHS_MID_GREY = colors.HexColor("#768692")
NHS_DARK_GREY = colors.HexColor("#425563")
NHS_RED = colors.HexColor("#DA291C")
NHS_AMBER = colors.HexColor("#ED8B00")
NHS_GREEN = colors.HexColor("#009639")
NHS_WARM_YELLOW = colors.HexColor("#FFB81C")
RAG_COLOURS = {"G": NHS_GREEN, "A": NHS_AMBER, "R": NHS_RED}

MARGIN = 16 * mm
PAGE_WIDTH, PAGE_HEIGHT = A4
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN

_base = getSampleStyleSheet()
STYLES = {
    "title": ParagraphStyle(
        "title",
        parent=_base["Title"],
        fontName=BOLD,
        fontSize=20,
        leading=24,
        textColor=NHS_DARK_BLUE,
        alignment=TA_LEFT,
        spaceAfter=2 * mm,
    ),
    "subtitle": ParagraphStyle(
        "subtitle",
        parent=_base["Normal"],
        fontName=REGULAR,
        fontSize=11,
        leading=14,
        textColor=NHS_DARK_GREY,
        spaceAfter=5 * mm,
    ),
    "h1": ParagraphStyle(
        "h1",
        parent=_base["Heading2"],
        fontName=BOLD,
        fontSize=14,
        leading=17,
        textColor=NHS_BLUE,
        spaceBefore=5 * mm,
        spaceAfter=2.5 * mm,
        keepWithNext=1,
    ),
    "h2": ParagraphStyle(
        "h2",
        parent=_base["Heading3"],
        fontName=BOLD,
        fontSize=11.5,
        leading=14,
        textColor=NHS_DARK_BLUE,
        spaceBefore=3 * mm,
        spaceAfter=1.5 * mm,
        keepWithNext=1,
    ),
    "body": ParagraphStyle("body", parent=_base["Normal"], fontName=REGULAR, fontSize=9.5, leading=12.5),
    "small": ParagraphStyle(
        "small", parent=_base["Normal"], fontName=REGULAR, fontSize=8, leading=10, textColor=NHS_DARK_GREY
    ),
    "cell": ParagraphStyle("cell", parent=_base["Normal"], fontName=REGULAR, fontSize=8.5, leading=10.5),
    "cell_bold": ParagraphStyle("cell_bold", parent=_base["Normal"], fontName=BOLD, fontSize=8.5, leading=10.5),
    "head": ParagraphStyle(
        "head", parent=_base["Normal"], fontName=BOLD, fontSize=8.5, leading=10.5, textColor=colors.white
    ),
}


def escape(text: object) -> str:
    # NFC: a name typed or exported with combining accents (e + U+0308) prints as the one precomposed letter;
    # reportlab places glyphs side by side and would set a combining mark off its letter.
    text = unicodedata.normalize("NFC", str("" if text is None else text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def p(text: object, style: str = "cell") -> Paragraph:
    """A paragraph with the text escaped, so a name like 'O'Brien & Sons <Ltd>' prints as typed; a newline
    in the text starts a new line."""
    return Paragraph(escape(text).replace("\n", "<br/>"), STYLES[style])


def markup(text: str, style: str = "body") -> Paragraph:
    """A paragraph of trusted markup (our own <b> and <font> tags)."""
    return Paragraph(text, STYLES[style])


def day_text(day: dt.date | str | None) -> str:
    """A date as a board paper writes it ("7 Dec 2026"); a dash for none. Takes a date or an ISO string."""
    if not day:
        return "—"
    day = dt.date.fromisoformat(day[:10]) if isinstance(day, str) else day
    return f"{day.day} {day:%b %Y}"


def marked_box(text: str, colour: colors.Color, width: float, padding: float = 5) -> Table:
    """A paragraph of trusted markup in a box with a thick bar on its left, in *colour*: how a report says
    whether its figures are draft, month to date or signed off."""
    box = Table([[markup(text, "body")]], colWidths=[width])
    box.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, colour),
                ("LINEBEFORE", (0, 0), (0, -1), 5, colour),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), padding),
                ("BOTTOMPADDING", (0, 0), (-1, -1), padding),
            ]
        )
    )
    return box


def side_by_side(rows: list[list], widths: Sequence[float | None], bottom: float = 0) -> Table:
    """Cells set beside one another with no padding, centred on each other: an arrow and its word."""
    t = Table(rows, colWidths=list(widths))
    t.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return t


def table(
    header: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[float], row_styles: Sequence[tuple] = ()
) -> Table:
    """A report table: blue heading row repeated on each page, pale banding, hairline rules."""
    data = [[p(h, "head") for h in header]]
    data += [[cell if hasattr(cell, "wrap") else p(cell) for cell in row] for row in rows]
    t = Table(data, colWidths=list(widths), repeatRows=1)
    t.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NHS_BLUE),
                ("FONTNAME", (0, 0), (-1, -1), REGULAR),  # for a bare-string cell: reportlab's default is Helvetica
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F4F7F8")]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, NHS_PALE_GREY),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *row_styles,
            ]
        )
    )
    return t


class _NumberedCanvas(pdfcanvas.Canvas):
    """Draws the header and footer after the last page is known, for 'Page 3 of 7'."""

    def __init__(self, *args, decorate=None, **kwargs):
        # Otherwise every page opens on Helvetica (the doc templates pass None), and text drawn before any
        # setFont would lose its letters.
        kwargs["initialFontName"] = kwargs.get("initialFontName") or REGULAR
        super().__init__(*args, **kwargs)
        self._saved: list[dict] = []
        self._decorate = decorate

    def showPage(self):
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._decorate(self, self._pageNumber, total)
            super().showPage()
        super().save()


def numbered_canvas(decorate):
    """The canvasmaker for doc.build: every page gets *decorate(canvas, page, total)* once the total is known."""
    return lambda *a, **k: _NumberedCanvas(*a, decorate=decorate, **k)


def decorate_page(
    c: pdfcanvas.Canvas,
    page: int,
    total: int,
    title: str,
    subject: str,
    stamp: str,
    marking: str | None,
    marking_size: float = 9,
    footnote: str | None = None,
) -> None:
    """The house header (blue band, title, a marking on the right) and footer (generated-at, page x of y, an
    optional bold footnote), drawn at the page's own size so portrait and landscape pages share it."""
    width, height = c._pagesize
    c.saveState()
    c.setFillColor(NHS_BLUE)
    c.rect(0, height - 9 * mm, width, 9 * mm, stroke=0, fill=1)
    c.setFillColor(colors.white)
    c.setFont(BOLD, 9)
    c.drawString(MARGIN, height - 6 * mm, "Locality Desk")
    c.setFont(REGULAR, 9)
    c.drawString(MARGIN + 26 * mm, height - 6 * mm, title)
    if marking:
        c.setFont(BOLD, marking_size)
        c.drawRightString(width - MARGIN, height - 6 * mm, marking)
    c.setFillColor(NHS_DARK_GREY)
    c.setFont(REGULAR, 7.5)
    c.drawString(MARGIN, 8 * mm, f"Generated {stamp} by Locality Desk · {subject}")
    c.drawRightString(width - MARGIN, 8 * mm, f"Page {page} of {total}")
    if footnote:
        c.setFont(BOLD, 7.5)
        c.drawCentredString(width / 2, 4 * mm, footnote)
    c.restoreState()


def build(
    out: str | Path,
    story: list,
    title: str,
    subject: str,
    sensitive: bool,
    generated_at: dt.datetime | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> None:
    """Lay *story* out on A4 with the house header and footer and write the PDF to *out*; Cancelled from
    *cancel* stops the layout before anything is written."""
    stamp = (generated_at or clock.now()).strftime("%d %b %Y %H:%M")

    def decorate(c: pdfcanvas.Canvas, page: int, total: int) -> None:
        decorate_page(
            c,
            page,
            total,
            title,
            subject,
            stamp,
            "OFFICIAL-SENSITIVE" if sensitive else None,
            footnote="OFFICIAL-SENSITIVE: contains patient-identifiable information. Do not forward; "
            "destroy securely after use."
            if sensitive
            else None,
        )

    doc = SimpleDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
        title=title,
        subject=subject,
        author="Locality Desk",
    )
    doc.setProgressCallBack(layout_progress(progress, cancel))
    doc.build(story, canvasmaker=numbered_canvas(decorate))
