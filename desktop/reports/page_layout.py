"""A4 documents that mix portrait and landscape pages with the house header and footer (styles.py).

styles.build lays everything out in portrait; a table of 11 teams across reads far better on a landscape
page, so this uses reportlab's BaseDocTemplate with one PageTemplate per orientation (a story switches with
`landscape_next()` / `portrait_next()` before a PageBreak) and draws the header and footer at each page's own
size. The marking on the right of the header says on every page whether the report may be published."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate, Frame, NextPageTemplate, PageTemplate

from ..models import clock
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from .styles import MARGIN, decorate_page, numbered_canvas
from .writing import layout_progress

TOP, BOTTOM = 15 * mm, 16 * mm
LANDSCAPE = landscape(A4)
LANDSCAPE_WIDTH = LANDSCAPE[0] - 2 * MARGIN
LANDSCAPE_HEIGHT = LANDSCAPE[1] - TOP - BOTTOM
PORTRAIT_HEIGHT = A4[1] - TOP - BOTTOM


def landscape_next() -> NextPageTemplate:
    return NextPageTemplate("landscape")


def portrait_next() -> NextPageTemplate:
    return NextPageTemplate("portrait")


def build(
    out: str | Path,
    story: list,
    title: str,
    subject: str,
    marking: str,
    generated_at: dt.datetime | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> None:
    stamp = (generated_at or clock.now()).strftime("%d %b %Y %H:%M")

    def decorate(c: pdfcanvas.Canvas, page: int, total: int) -> None:
        decorate_page(c, page, total, title, subject, stamp, marking, marking_size=8.5)

    def frame(size: tuple[float, float], name: str) -> Frame:
        return Frame(
            MARGIN,
            BOTTOM,
            size[0] - 2 * MARGIN,
            size[1] - TOP - BOTTOM,
            id=name,
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )

    doc = BaseDocTemplate(
        str(out),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=TOP,
        bottomMargin=BOTTOM,
        title=title,
        subject=subject,
        author="Locality Desk",
    )
    doc.addPageTemplates(
        [
            PageTemplate("portrait", [frame(A4, "p")], pagesize=A4),
            PageTemplate("landscape", [frame(LANDSCAPE, "l")], pagesize=LANDSCAPE),
        ]
    )
    doc.setProgressCallBack(layout_progress(progress, cancel))
    doc.build(story, canvasmaker=numbered_canvas(decorate))
