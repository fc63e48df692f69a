"""An XmR chart in NHS England's Making Data Count style (REFERENCE §1) as a reportlab vector Drawing.

The points are joined by a line, the mean is solid and the process limits dashed, a target (when it applies)
is a labelled dash-dot line. Special-cause points are coloured as MDC colours them AND drawn with their own
marker shape, because board papers are often printed in black and white: a square is improvement, a
triangle concern, a diamond a neutral signal, a small circle common cause. Under 13 points the limits are
trial limits (§1.5) and the chart says so.

A recorded step change (models/kpi/rebases.py) splits the chart into segments: each draws its own mean and
limits over its own points only, with a break between them, a dotted vertical marker where a step change
starts one, and the periods named above the plot ("Baseline", "From Jun 25"). Only the last segment's limits
carry the UPL/LPL tags: they are the ones the icons describe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ...models.stats.spc import Segment, SpcResult
from .. import fonts
from . import mdc_style
from .kit import fit_text

IMPROVEMENT = colors.HexColor(mdc_style.IMPROVEMENT)  # NHS light blue, MDC's improvement blue
CONCERN = colors.HexColor(mdc_style.CONCERN)  # NHS orange, MDC's concern
NEUTRAL = colors.HexColor(mdc_style.NEUTRAL)  # NHS purple, MDC's "neither"
COMMON = colors.HexColor(mdc_style.COMMON)  # NHS mid grey
INK = colors.HexColor(mdc_style.INK)  # NHS black: the mean and axis text
TARGET = colors.HexColor(mdc_style.TARGET)  # NHS red, as MDC draws the target
OUTLINE = colors.HexColor(mdc_style.OUTLINE)  # dark rim so a light-blue marker still shows when printed in grey
STEP_DASH = [1.2, 1.6]  # the step-change marker: dotted, unlike the dashed limits
BREAK = 1.5  # points of blank either side of a step change, so the segments' lines read as separate

FONT, BOLD = fonts.REGULAR, fonts.BOLD
AXIS_PT = 6.5  # the smallest size that stays legible on an A4 print
TITLE_PT = 8

_COLOURS = {
    mdc_style.COMMON: COMMON,
    mdc_style.IMPROVEMENT: IMPROVEMENT,
    mdc_style.CONCERN: CONCERN,
    mdc_style.NEUTRAL: NEUTRAL,
}
# point type → (shape, fill); the shape carries the meaning in greyscale (mdc_style.MARKERS, as the app draws it)
MARKERS = {kind: (shape, _COLOURS[fill]) for kind, (shape, fill) in mdc_style.MARKERS.items()}


def marker(shape: str, x: float, y: float, fill: colors.Color, r: float) -> object:
    """One point marker centred on (x, y), about 2r across."""
    stroke = OUTLINE if fill is IMPROVEMENT else INK
    if shape == "circle":
        return Circle(x, y, r * 0.75, fillColor=fill, strokeColor=None)
    if shape == "square":
        return Rect(x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r, fillColor=fill, strokeColor=stroke, strokeWidth=0.5)
    if shape == "triangle":
        return Polygon(
            [x - r, y - r * 0.8, x + r, y - r * 0.8, x, y + r * 1.05],
            fillColor=fill,
            strokeColor=stroke,
            strokeWidth=0.5,
        )
    return Polygon(
        [x, y - r * 1.15, x + r, y, x, y + r * 1.15, x - r, y], fillColor=fill, strokeColor=stroke, strokeWidth=0.5
    )


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round-numbered ticks covering [low, high], about *count* of them."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"


def xmr_chart(
    result: SpcResult,
    labels: Sequence[str],
    width: float,
    height: float,
    title: str = "",
    target: float | None = None,
    bounds: tuple[float | None, float | None] = (None, None),
    suffix: str = "",
) -> Drawing:
    """The chart of *result* (one point per label) in a *width* × *height* point Drawing.

    *bounds* clips the value axis to what the measure can take (0–100 for a percentage), so a negative lower
    limit does not stretch the chart; a limit outside the bounds is left off. *suffix* follows tick values.
    """
    d = Drawing(width, height)
    values = [p.value for p in result.points]
    segments = segments_of(result)
    stepped = len(segments) > 1
    top_pad = (TITLE_PT + 5 if title else 2) + (AXIS_PT + 2 if stepped else 0)
    bottom_pad = AXIS_PT + 6 + (AXIS_PT + 3 if result.trial_limits else 0)
    lines = [v for g in segments for v in (g.mean, g.upl, g.lpl)] + ([target] if target is not None else [])
    low, high = min(values + lines), max(values + lines)
    lo_bound, hi_bound = bounds
    if lo_bound is not None:
        low = max(low, lo_bound)
    if hi_bound is not None:
        high = min(high, hi_bound)
    span = (high - low) or max(abs(high), 1.0)
    low, high = low - 0.06 * span, high + 0.06 * span
    if lo_bound is not None:
        low = max(low, lo_bound)
    if hi_bound is not None:
        high = min(high, hi_bound)
    if high <= low:
        high = low + 1
    ticks = [t for t in nice_ticks(low, high) if low - 1e-9 <= t <= high + 1e-9]
    tick_texts = [_number(t) + suffix for t in ticks]
    left = max((stringWidth(t, FONT, AXIS_PT) for t in tick_texts), default=10) + 4
    right = 16  # room for the limit labels
    plot_w, plot_h = width - left - right, height - top_pad - bottom_pad
    x0, y0 = left, bottom_pad

    def sx(i: int) -> float:
        return x0 + (plot_w * (i + 0.5) / len(values))

    def edge(i: int) -> float:  # the boundary before point i
        return x0 + plot_w * i / len(values)

    def sy(v: float) -> float:
        return y0 + plot_h * (v - low) / (high - low)

    if title:
        d.add(
            String(
                0,
                height - TITLE_PT,
                fit_text(title, BOLD, TITLE_PT, width),
                fontName=BOLD,
                fontSize=TITLE_PT,
                fillColor=INK,
            )
        )
    d.add(Rect(x0, y0, plot_w, plot_h, fillColor=None, strokeColor=colors.HexColor("#D0D7D9"), strokeWidth=0.4))
    for t, text in zip(ticks, tick_texts, strict=True):
        d.add(Line(x0 - 2, sy(t), x0, sy(t), strokeColor=COMMON, strokeWidth=0.4))
        d.add(
            String(x0 - 3, sy(t) - AXIS_PT / 3, text, fontName=FONT, fontSize=AXIS_PT, textAnchor="end", fillColor=INK)
        )

    tags: list[tuple[float, str, colors.Color]] = []

    def hline(
        v: float, colour: colors.Color, dash: list[float] | None, w: float, label: str, span: tuple[float, float]
    ) -> None:
        if not low <= v <= high:
            return  # outside what the measure can take (e.g. a lower limit below 0 %)
        d.add(Line(span[0], sy(v), span[1], sy(v), strokeColor=colour, strokeWidth=w, strokeDashArray=dash))
        if label:
            tags.append((sy(v), label, colour))

    for g in segments:
        last = g is segments[-1]
        span = (edge(g.start) + (BREAK if g.start else 0), edge(g.end) - (0 if last else BREAK))
        hline(g.upl, COMMON, [3, 2], 0.8, "UPL" if last else "", span)
        hline(g.lpl, COMMON, [3, 2], 0.8, "LPL" if last else "", span)
        hline(g.mean, INK, None, 0.8, "", span)
        if stepped:  # which periods the segment's limits come from, above the plot
            words = "Baseline" if not g.start else f"From {labels[g.start]}"
            room = edge(g.end) - edge(g.start) - 2
            d.add(
                String(
                    edge(g.start) + 1,
                    y0 + plot_h + 2,
                    fit_text(words, FONT, AXIS_PT, room),
                    fontName=FONT,
                    fontSize=AXIS_PT,
                    fillColor=INK,
                )
            )
        if g.start:
            d.add(
                Line(
                    edge(g.start),
                    y0,
                    edge(g.start),
                    y0 + plot_h + AXIS_PT + 1,
                    strokeColor=INK,
                    strokeWidth=0.7,
                    strokeDashArray=STEP_DASH,
                )
            )
    if target is not None:
        hline(target, TARGET, [5, 1.5, 1, 1.5], 0.9, "Tgt", (x0, x0 + plot_w))
    # A target close to a limit would print its tag on top of the limit's: push tags apart, upwards.
    floor = -1e9
    for y, label, colour in sorted(tags):
        y = max(y, floor + AXIS_PT)
        floor = y
        d.add(String(x0 + plot_w + 1.5, y - AXIS_PT / 3, label, fontName=FONT, fontSize=AXIS_PT, fillColor=colour))
    d.add(
        PolyLine(
            [c for i, v in enumerate(values) for c in (sx(i), sy(_clip(v, low, high)))],
            strokeColor=COMMON,
            strokeWidth=0.8,
        )
    )
    r = min(2.6, max(1.6, plot_w / len(values) / 3.2))
    for i, point in enumerate(result.points):
        shape, fill = MARKERS[point.point_type]
        d.add(marker(shape, sx(i), sy(_clip(point.value, low, high)), fill, r if shape != "circle" else r * 0.9))

    # Period labels: as many as fit without touching, always including the latest.
    widest = max(stringWidth(lab, FONT, AXIS_PT) for lab in labels) + 4
    step = max(1, math.ceil(widest / (plot_w / len(values))))
    shown = set(range(len(values) - 1, -1, -step))
    for i in shown:
        d.add(
            String(
                sx(i), y0 - AXIS_PT - 2, labels[i], fontName=FONT, fontSize=AXIS_PT, textAnchor="middle", fillColor=INK
            )
        )
    if result.trial_limits:
        held = segments[-1].end - segments[-1].start
        said = (
            f"Trial limits: only {held} points since the step change; no icons until 13."
            if stepped
            else f"Trial limits: only {held} points (MDC fixes limits from 13); no icons."
        )
        d.add(
            String(
                x0,
                1,
                fit_text(
                    said,
                    fonts.OBLIQUE,
                    AXIS_PT,
                    width - x0,
                ),
                fontName=fonts.OBLIQUE,
                fontSize=AXIS_PT,
                fillColor=INK,
            )
        )
    return d


def segments_of(result: SpcResult) -> tuple[Segment, ...]:
    """The chart's segments: one per step change and the baseline before them; one for a result made without."""
    if result.segments:
        return result.segments
    return (Segment(0, len(result.points), result.mean, result.upl, result.lpl, result.amr),)


def _clip(v: float, low: float, high: float) -> float:
    return min(max(v, low), high)


def legend(width: float) -> Drawing:
    """A key to the chart's markers and lines, for the top of the chart pages."""
    d = Drawing(width, 14)
    x, y = 0.0, 5.0
    items = [
        (shape, fill, mdc_style.SHAPE_WORDS[shape])
        for shape, fill in (("circle", COMMON), ("square", IMPROVEMENT), ("triangle", CONCERN), ("diamond", NEUTRAL))
    ]
    for shape, fill, text in items:
        d.add(marker(shape, x + 3, y + 2.5, fill, 2.6 if shape != "circle" else 2.3))
        d.add(String(x + 8, y, text, fontName=FONT, fontSize=7, fillColor=INK))
        x += 14 + stringWidth(text, FONT, 7)
    for dash, colour, text in (
        ([], INK, "mean"),
        ([3, 2], COMMON, "process limits"),
        ([5, 1.5, 1, 1.5], TARGET, "target"),
    ):
        d.add(Line(x, y + 2.5, x + 14, y + 2.5, strokeColor=colour, strokeWidth=0.9, strokeDashArray=dash or None))
        d.add(String(x + 17, y, text, fontName=FONT, fontSize=7, fillColor=INK))
        x += 24 + stringWidth(text, FONT, 7)
    d.add(Line(x + 3, y - 2, x + 3, y + 8, strokeColor=INK, strokeWidth=0.7, strokeDashArray=STEP_DASH))
    d.add(String(x + 7, y, "step change", fontName=FONT, fontSize=7, fillColor=INK))
    return d
