"""The outcomes chart: mean use around joining for the caseload and its matched comparison group (issue 27).

x is quarters from joining (0 = the risk run the joiners were picked from), y the mean use in the 12 months
before each run. The caseload is a solid blue line with round markers and the comparison a dashed dark line with
square markers, so the two read apart printed in grey; a dotted line marks joining and the follow-up quarters are
shaded, because the estimate compares the two lines' change from 0 to the end of that stretch.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ...models.outcomes.series import Point
from ..fonts import REGULAR
from ..styles import NHS_BLUE, NHS_DARK_GREY
from .kit import Frame, clipped_lines, nice_ticks

CASELOAD = NHS_BLUE
COMPARISON = colors.HexColor("#231F20")  # NHS black: dark enough beside the blue in greyscale
FOLLOW_UP_SHADE = colors.HexColor("#F0F4F5")
AXIS_PT = 6.5


def series_chart(
    points: Sequence[Point], follow_up_quarters: int, width: float, height: float, unit: str = ""
) -> Drawing:
    """The two groups' means over *points*; a gap where a group had nobody with a value at that run."""
    d = Drawing(width, height)
    values = [v for p in points for v in (p.treated, p.controls) if v is not None]
    if not values:
        d.add(String(width / 2, height / 2, "No values to chart", fontName=REGULAR, fontSize=7, textAnchor="middle"))
        return d
    high = max(values) * 1.05 or 1.0
    yt = nice_ticks(0.0, high, 4)
    if yt[-1] < high:  # the top tick covers every point: none is drawn above the plot
        yt.append(yt[-1] + (yt[1] - yt[0] if len(yt) > 1 else high))
    xs = [p.quarter for p in points]
    f = Frame(
        left=34, bottom=30, width=width - 42, height=height - 46, x0=xs[0] - 0.4, x1=xs[-1] + 0.4, y0=0.0, y1=yt[-1]
    )
    d.add(
        Rect(
            f.px(0), f.bottom, f.px(follow_up_quarters) - f.px(0), f.height, fillColor=FOLLOW_UP_SHADE, strokeColor=None
        )
    )
    f.axes(d, xs, yt, x_labels=[f"{q:+d}" if q else "0" for q in xs], font_size=AXIS_PT)
    d.add(
        Line(f.px(0), f.bottom, f.px(0), f.top, strokeColor=NHS_DARK_GREY, strokeWidth=0.7, strokeDashArray=[1.2, 1.6])
    )
    d.add(String(f.px(0) + 2, f.bottom + 2, "joined", fontName=REGULAR, fontSize=AXIS_PT, fillColor=NHS_DARK_GREY))
    d.add(
        String(
            f.left + f.width / 2,
            f.bottom - 2 * AXIS_PT - 4,
            "quarters from joining",
            fontName=REGULAR,
            fontSize=AXIS_PT,
            fillColor=NHS_DARK_GREY,
            textAnchor="middle",
        )
    )
    if unit:
        d.add(String(2, f.top + 7, unit, fontName=REGULAR, fontSize=AXIS_PT, fillColor=NHS_DARK_GREY))
    _line(d, f, xs, [p.controls for p in points], COMPARISON, [3, 2], "square")
    _line(d, f, xs, [p.treated for p in points], CASELOAD, None, "circle")
    # The key, along the bottom edge.
    x = f.left
    for colour, dash, shape, text in (
        (CASELOAD, None, "circle", "caseload (matched joiners)"),
        (COMPARISON, [3, 2], "square", "comparison group (weighted)"),
    ):
        d.add(Line(x, 3, x + 14, 3, strokeColor=colour, strokeWidth=1.2, strokeDashArray=dash))
        d.add(_marker(shape, x + 7, 3, colour))
        d.add(String(x + 17, 1, text, fontName=REGULAR, fontSize=AXIS_PT, fillColor=NHS_DARK_GREY))
        x += 26 + stringWidth(text, REGULAR, AXIS_PT)
    return d


def _line(d: Drawing, f: Frame, xs: list[int], ys: list[float | None], colour, dash, shape: str) -> None:
    run: list[tuple[int, float]] = []
    for x, y in [*zip(xs, ys, strict=True), (None, None)]:
        if y is not None:
            run.append((x, y))
            continue
        if len(run) >= 2:
            for line in clipped_lines(f, [a for a, _ in run], [b for _, b in run], colour, 1.4, dash):
                d.add(line)
        for a, b in run:
            d.add(_marker(shape, f.px(a), f.py(b), colour))
        run = []


def _marker(shape: str, x: float, y: float, colour) -> object:
    if shape == "circle":
        return Circle(x, y, 1.9, fillColor=colour, strokeColor=None)
    return Rect(x - 1.7, y - 1.7, 3.4, 3.4, fillColor=colors.white, strokeColor=colour, strokeWidth=0.8)
