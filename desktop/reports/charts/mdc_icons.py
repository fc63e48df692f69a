"""Making Data Count variation and assurance icons, and trend arrows, drawn as small vector Drawings that sit
in a table cell (REFERENCE §1.4).

MDC's own PNG icons have no licence file, so these are look-alikes drawn with reportlab shapes. They keep
MDC's colours and letters (H/L for a high or low signal, P/F/? for pass, fail, hit-or-miss) and add what
greyscale printing needs: a concern icon is a filled disc with a white letter, an improvement icon a ring,
so the two read apart without colour. The arrows are drawn, not typed, so they sit centred at any size.
"""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, String
from reportlab.lib import colors

from ..fonts import BOLD
from ..styles import NHS_BLUE, NHS_GREEN, NHS_RED
from . import mdc_style
from .spc import COMMON, CONCERN, NEUTRAL

WHITE = colors.white
LABELS = mdc_style.LABELS


def _ring(d: Drawing, size: float, colour: colors.Color, filled: bool) -> None:
    c = size / 2
    d.add(Circle(c, c, c - 0.7, strokeColor=colour, strokeWidth=1.2, fillColor=colour if filled else WHITE))


def _arrowhead(d: Drawing, x: float, y: float, size: float, up: bool, colour: colors.Color) -> None:
    h = size * 0.16
    tip, base = (y + h, y - h * 0.4) if up else (y - h, y + h * 0.4)
    d.add(Polygon([x - h * 0.8, base, x + h * 0.8, base, x, tip], fillColor=colour, strokeColor=None))


def variation(kind: str | None, size: float = 14) -> Drawing:
    """The variation icon *kind* (spc.SpcResult.variation_icon); an empty Drawing for None."""
    d = Drawing(size, size)
    if kind is None:
        return d
    c = size / 2
    if kind == "common_cause":
        _ring(d, size, COMMON, False)
        xs = [c - size * 0.28 + i * size * 0.14 for i in range(5)]
        ys = [c + (size * 0.07 if i % 2 else -size * 0.07) for i in range(5)]
        d.add(PolyLine([v for xy in zip(xs, ys, strict=True) for v in xy], strokeColor=COMMON, strokeWidth=0.8))
        for x, y in zip(xs, ys, strict=True):
            d.add(Circle(x, y, size * 0.045, fillColor=COMMON, strokeColor=None))
        return d
    family, side = kind.split("_")
    colour = {"improvement": NHS_BLUE, "concern": CONCERN, "neutral": NEUTRAL}[family]
    filled = family == "concern"
    _ring(d, size, colour, filled)
    ink = WHITE if filled else colour
    letter = "H" if side == "high" else "L"
    d.add(
        String(
            c - size * 0.1,
            c - size * 0.19,
            letter,
            fontName=BOLD,
            fontSize=size * 0.52,
            textAnchor="middle",
            fillColor=ink,
        )
    )
    _arrowhead(d, c + size * 0.24, c, size, side == "high", ink)
    return d


def assurance(kind: str | None, size: float = 14) -> Drawing:
    """The assurance icon *kind* (spc.SpcResult.assurance_icon); an empty Drawing for None."""
    d = Drawing(size, size)
    if kind is None:
        return d
    colour, letter, filled = {
        "consistent_pass": (NHS_BLUE, "P", False),
        "consistent_fail": (CONCERN, "F", True),
        "inconsistent": (COMMON, "?", False),
    }[kind]
    _ring(d, size, colour, filled)
    ink = WHITE if filled else colour
    c = size / 2
    d.add(
        String(
            c,
            c - size * 0.12,
            letter,
            fontName=BOLD,
            fontSize=size * 0.5,
            textAnchor="middle",
            fillColor=ink,
        )
    )
    d.add(
        Line(
            c - size * 0.26,
            c - size * 0.22,
            c + size * 0.26,
            c - size * 0.22,
            strokeColor=ink,
            strokeWidth=0.7,
            strokeDashArray=[1.2, 0.8],
        )
    )  # the target the letter is judged against
    return d


def trend_arrow(change: str | None, better: bool | None, size: float = 11) -> Drawing:
    """An arrow for the change since last quarter: *change* "up", "down" or "same"; green when *better*, red
    when worse, grey when neither or unknown."""
    d = Drawing(size, size)
    if change is None:
        return d
    colour = NHS_GREEN if better else NHS_RED if better is False else COMMON
    c = size / 2
    w = 1.6
    if change == "same":
        d.add(Line(size * 0.1, c, size * 0.62, c, strokeColor=colour, strokeWidth=w))
        d.add(
            Polygon(
                [size * 0.55, c - size * 0.28, size * 0.95, c, size * 0.55, c + size * 0.28],
                fillColor=colour,
                strokeColor=None,
            )
        )
        return d
    up = change == "up"
    tail, head = (size * 0.08, size * 0.62) if up else (size * 0.92, size * 0.38)
    d.add(Line(c, tail, c, head, strokeColor=colour, strokeWidth=w))
    base = head - (0.07 * size if up else -0.07 * size)
    tip = size * 0.95 if up else size * 0.05
    d.add(Polygon([c - size * 0.3, base, c + size * 0.3, base, c, tip], fillColor=colour, strokeColor=None))
    return d
