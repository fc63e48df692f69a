"""Drawing helpers the report charts share: tidy axis ticks, a plot frame that maps data to points, and a
polyline clipped to the frame (reportlab Drawings have no clipping of their own, and a funnel limit runs off
the top of the plot at small denominators)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ..fonts import REGULAR
from ..styles import NHS_DARK_GREY, NHS_PALE_GREY

AXIS_FONT = REGULAR


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About *count* round tick values (1, 2, 2.5 or 5 × 10^k apart) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(1, count)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks, t = [], first
    while t <= high + 1e-9 * step:
        ticks.append(round(t, 10))
        t += step
    return ticks


def tick_label(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """*text* cut with an ellipsis so it fits in *width* points, measured in the face it is drawn in."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass
class Frame:
    """The plotting rectangle of a drawing and the data ranges it shows."""

    left: float
    bottom: float
    width: float
    height: float
    x0: float
    x1: float
    y0: float
    y1: float

    def px(self, x: float) -> float:
        return self.left + (x - self.x0) / (self.x1 - self.x0) * self.width

    def py(self, y: float) -> float:
        return self.bottom + (y - self.y0) / (self.y1 - self.y0) * self.height

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def top(self) -> float:
        return self.bottom + self.height

    def axes(
        self,
        d: Drawing,
        xticks: Sequence[float],
        yticks: Sequence[float],
        x_labels: Sequence[str] | None = None,
        font_size: float = 6.5,
        grid: bool = True,
    ) -> None:
        """Light horizontal gridlines, the two axis lines and their tick labels."""
        for t in yticks:
            y = self.py(t)
            if grid:
                d.add(Line(self.left, y, self.right, y, strokeColor=NHS_PALE_GREY, strokeWidth=0.4))
            d.add(
                String(
                    self.left - 3,
                    y - font_size / 3,
                    tick_label(t),
                    fontName=AXIS_FONT,
                    fontSize=font_size,
                    fillColor=NHS_DARK_GREY,
                    textAnchor="end",
                )
            )
        for i, t in enumerate(xticks):
            x = self.px(t)
            d.add(Line(x, self.bottom, x, self.bottom - 2, strokeColor=NHS_DARK_GREY, strokeWidth=0.5))
            text = x_labels[i] if x_labels else tick_label(t)
            d.add(
                String(
                    x,
                    self.bottom - 3 - font_size,
                    text,
                    fontName=AXIS_FONT,
                    fontSize=font_size,
                    fillColor=NHS_DARK_GREY,
                    textAnchor="middle",
                )
            )
        d.add(Line(self.left, self.bottom, self.right, self.bottom, strokeColor=NHS_DARK_GREY, strokeWidth=0.6))
        d.add(Line(self.left, self.bottom, self.left, self.top, strokeColor=NHS_DARK_GREY, strokeWidth=0.6))


def clipped_lines(
    frame: Frame,
    xs: Sequence[float],
    ys: Sequence[float],
    color: colors.Color,
    width: float,
    dash: Sequence[float] | None = None,
) -> list[PolyLine]:
    """The data polyline cut to the frame's y range: runs inside are kept, each crossing is interpolated onto
    the edge, so a limit leaves the plot at its border instead of being squashed along it."""
    runs: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []

    def inside(y: float) -> bool:
        return frame.y0 <= y <= frame.y1

    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        if not (frame.x0 <= x <= frame.x1) or math.isnan(y):
            continue
        if i and inside(y) != inside(ys[i - 1]) and frame.x0 <= xs[i - 1]:
            edge = frame.y1 if max(y, ys[i - 1]) > frame.y1 else frame.y0
            t = (edge - ys[i - 1]) / (y - ys[i - 1])
            crossing = (xs[i - 1] + t * (x - xs[i - 1]), edge)
            if inside(y):
                current = [crossing]
            else:
                current.append(crossing)
                runs.append(current)
                current = []
        if inside(y):
            current.append((x, y))
    if current:
        runs.append(current)
    lines = []
    for run in runs:
        if len(run) < 2:
            continue
        pts = [v for x, y in run for v in (frame.px(x), frame.py(y))]
        lines.append(
            PolyLine(
                pts,
                strokeColor=color,
                strokeWidth=width,
                strokeDashArray=list(dash) if dash else None,
                strokeLineJoin=1,
            )
        )
    return lines
