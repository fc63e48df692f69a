"""A funnel plot of the 11 teams as a reportlab vector drawing (REFERENCE §2): the pooled LLR centre line,
95 % (dashed) and 99.8 % (solid) limits around it, the KPI's one catalogue target (`kpi.target`) dotted in
yellow where it has one, every team a point labelled with its code. The limits test "differs from LLR by more
than chance"; the target line shows where the Board's standard sits against that.

Points are one neutral colour, never RAG (FunnelPlotR avoids red/green on purpose: a funnel shows whether a
team differs by more than chance, not whether it is good). How far out a team sits is carried by the marker's
shape, so the chart still reads when printed in greyscale."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ...models.kpi.catalogue import UNIT_AXIS, UNIT_SUFFIX
from ...models.kpi.consolidated import BEYOND_95, BEYOND_998, WITHIN, Funnel, position
from ..fonts import BOLD, REGULAR
from ..styles import NHS_BLUE, NHS_DARK_GREY, NHS_MID_GREY, NHS_WARM_YELLOW
from .kit import Frame, clipped_lines, nice_ticks

POINT = colors.HexColor("#231F20")  # NHS black: neutral, and the strongest contrast for the markers
LIMIT_95 = NHS_MID_GREY
LIMIT_998 = colors.HexColor("#4D4D4D")  # neutral grey, kept apart from the blue LLR line
TARGET = NHS_WARM_YELLOW  # dotted, as on the trend panels: the one catalogue target of the KPI
LABEL_SIZE = 6.5


@dataclass(frozen=True)
class Point:
    locality: str
    x: float  # denominator
    y: float  # value in display units
    band: int  # WITHIN, BEYOND_95 or BEYOND_998
    above: bool


def unit_label(funnel: Funnel) -> str:
    kpi = funnel.kpi
    return "%" if kpi.unit == "percent" else f"{UNIT_AXIS[kpi.unit]} {kpi.denominator}"


def classify(funnel: Funnel, locality: str, denominator: float, value: float) -> Point:
    """Where a team sits against the limits at its own denominator (REFERENCE §2.3; consolidated.position)."""
    band, above = position(funnel, denominator, value)
    return Point(locality, denominator, value, band, above)


def points_of(funnel: Funnel) -> list[Point]:
    return [classify(funnel, p["locality"], p["denominator"], p["value"]) for p in funnel.points]


def drawing(funnel: Funnel, points: list[Point], width: float, height: float) -> Drawing:
    d = Drawing(width, height)
    xs = [p.x for p in points] or [float(funnel.x.min()), float(funnel.x.max())]
    x0, x1 = min(float(funnel.x.min()), min(xs) * 0.9), max(float(funnel.x.max()), max(xs) * 1.05)
    # The y range shows every point and the limits over the teams' own span of denominators; further out
    # the limits open towards 0 and 100 % and would flatten the part of the plot that matters.
    lo998, hi998 = funnel.limits[0.998]
    span = (funnel.x >= min(xs) * 0.9) & (funnel.x <= max(xs) * 1.05)
    ys = [p.y for p in points] + [funnel.centre] + list(lo998[span]) + list(hi998[span])
    target = funnel.kpi.target
    if target is not None:
        ys.append(target)  # the one catalogue target is always on the plot: it is what the Board judges by
    pad = (max(ys) - min(ys)) * 0.08 or 1.0
    y0, y1 = max(0.0, min(ys) - pad), max(ys) + pad
    if funnel.kpi.unit == "percent":
        y1 = min(100.0, y1)
    yt = nice_ticks(y0, y1, 5)
    xt = nice_ticks(x0, x1, 5)
    f = Frame(
        left=38, bottom=46, width=width - 50, height=height - 60, x0=x0, x1=x1, y0=min(y0, yt[0]), y1=max(y1, yt[-1])
    )
    f.axes(d, [t for t in xt if x0 <= t <= x1], yt)
    grid = list(map(float, funnel.x))
    for level, color, dash, w in ((0.998, LIMIT_998, None, 0.9), (0.95, LIMIT_95, (3, 2), 0.8)):
        lower, upper = funnel.limits[level]
        for line in (
            *clipped_lines(f, grid, list(map(float, lower)), color, w, dash),
            *clipped_lines(f, grid, list(map(float, upper)), color, w, dash),
        ):
            d.add(line)
    d.add(Line(f.left, f.py(funnel.centre), f.right, f.py(funnel.centre), strokeColor=NHS_BLUE, strokeWidth=1.2))
    d.add(
        String(
            f.right - 2,
            f.py(funnel.centre) + 2.5,
            f"LLR {funnel.centre:.1f}",
            fontName=BOLD,
            fontSize=6.5,
            fillColor=NHS_BLUE,
            textAnchor="end",
        )
    )
    placed: list[tuple[float, float, float, float]] = [
        (f.right - 40, f.py(funnel.centre) + 1, f.right, f.py(funnel.centre) + 10)
    ]
    if target is not None:
        ty = f.py(target)
        d.add(Line(f.left, ty, f.right, ty, strokeColor=TARGET, strokeWidth=1.3, strokeDashArray=[1.5, 1.5]))
        text = f"target {target_text(funnel.kpi)}"
        # Beside the LLR label would collide when the two lines are close: put the target's at the left.
        d.add(
            Rect(f.left + 1, ty + 1.5, stringWidth(text, BOLD, 6.5) + 2, 7.5, fillColor=colors.white,
                 strokeColor=None, fillOpacity=0.85)
        )  # fmt: skip
        d.add(String(f.left + 2, ty + 2.5, text, fontName=BOLD, fontSize=6.5, fillColor=NHS_DARK_GREY))
        placed.append((f.left, ty + 1, f.left + stringWidth(text, BOLD, 6.5) + 4, ty + 10))
    marks = [(f.px(p.x), f.py(p.y)) for p in points]
    for (cx, cy), p in zip(marks, points, strict=True):
        _marker(d, cx, cy, p.band)
    for (cx, cy), p in zip(marks, points, strict=True):
        _label(d, f, cx, cy, p.locality, placed, [m for m in marks if m != (cx, cy)])
    # Axis titles: the denominator across, the value with its unit up the side.
    d.add(
        String(
            f.left + f.width / 2,
            22,
            f"Denominator: {funnel.kpi.denominator}",
            fontName=REGULAR,
            fontSize=7,
            fillColor=NHS_DARK_GREY,
            textAnchor="middle",
        )
    )
    title = String(
        0,
        0,
        f"{funnel.kpi.code} ({unit_label(funnel)})",
        fontName=REGULAR,
        fontSize=7,
        fillColor=NHS_DARK_GREY,
        textAnchor="middle",
    )
    g = Group(title)
    g.transform = (0, 1, -1, 0, 9, f.bottom + f.height / 2)
    d.add(g)
    _legend(d, f.left, 4, funnel.kpi)
    return d


def target_text(kpi) -> str:
    """ "≥ 80%", "≤ 150 per 100,000": the catalogue target with its direction."""
    sign = "≥" if kpi.direction == "high" else "≤"
    unit = "%" if kpi.unit == "percent" else UNIT_SUFFIX[kpi.unit]
    return f"{sign}\u00a0{kpi.target:g}{unit}"


def _marker(d: Drawing, x: float, y: float, band: int) -> None:
    if band == BEYOND_998:  # a diamond, larger: the shape that matters most stands out most
        r = 4.2
        d.add(
            Polygon(
                [x, y + r, x + r, y, x, y - r, x - r, y], fillColor=POINT, strokeColor=colors.white, strokeWidth=0.5
            )
        )
    elif band == BEYOND_95:
        r = 2.9
        d.add(Rect(x - r, y - r, 2 * r, 2 * r, fillColor=POINT, strokeColor=colors.white, strokeWidth=0.5))
    else:
        d.add(Circle(x, y, 2.6, fillColor=POINT, strokeColor=colors.white, strokeWidth=0.5))


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _label(d: Drawing, f: Frame, x: float, y: float, text: str, placed: list, marks: list) -> None:
    """Put the code beside its point where it collides least with labels already placed, other points and
    the frame; far moves get a hairline leader back to the point."""
    w, h = len(text) * LABEL_SIZE * 0.62, LABEL_SIZE
    best = None
    for dist in (4.5, 9, 14, 20):
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)):
            lx = x + dx * dist if dx > 0 else x - w - dist if dx < 0 else x - w / 2
            ly = y + dy * dist if dy > 0 else y - h - dist if dy < 0 else y - h / 2 + 0.5
            box = (lx, ly, lx + w, ly + h)
            cost = sum(_overlaps(box, o) for o in placed) * 3
            cost += sum(_overlaps(box, (mx - 3, my - 3, mx + 3, my + 3)) for mx, my in marks) * 3
            cost += max(0, f.left - lx) * h + max(0, box[2] - f.right) * h + max(0, f.bottom - ly) * w
            cost += max(0, box[3] - f.top) * w
            cost += dist * 0.02
            if best is None or cost < best[0]:
                best = (cost, box, dist)
        if best[0] < 1:
            break
    _, box, dist = best
    placed.append(box)
    if dist > 6:
        cx = min(max(x, box[0]), box[2])
        cy = min(max(y, box[1]), box[3])
        d.add(Line(x, y, cx, cy, strokeColor=NHS_MID_GREY, strokeWidth=0.4))
    # A white backing keeps the code legible where it sits on a limit or the LLR line.
    d.add(
        Rect(
            box[0] - 0.8,
            box[1],
            box[2] - box[0] + 1.6,
            box[3] - box[1] + 0.8,
            fillColor=colors.white,
            strokeColor=None,
            fillOpacity=0.85,
        )
    )
    d.add(String(box[0], box[1] + 1, text, fontName=REGULAR, fontSize=LABEL_SIZE, fillColor=POINT))


def _legend(d: Drawing, x: float, y: float, kpi=None) -> None:
    items = [("line", NHS_BLUE, None, "LLR (pooled): centre of the limits")]
    if kpi is not None and kpi.target is not None:
        items.append(("line", TARGET, (1.5, 1.5), "target"))
    items += [
        ("line", LIMIT_95, (3, 2), "95% limits"),
        ("line", LIMIT_998, None, "99.8% limits"),
        ("mark", WITHIN, None, "within 95%"),
        ("mark", BEYOND_95, None, "beyond 95%"),
        ("mark", BEYOND_998, None, "beyond 99.8%"),
    ]
    size = 6.3 if len(items) < 7 else 5.9
    for kind, what, dash, text in items:
        if kind == "line":
            d.add(
                Line(
                    x,
                    y + 2.5,
                    x + 14,
                    y + 2.5,
                    strokeColor=what,
                    strokeWidth=1.1,
                    strokeDashArray=list(dash) if dash else None,
                )
            )
            x += 17
        else:
            _marker(d, x + 3, y + 2.5, what)
            x += 9
        d.add(String(x, y, text, fontName=REGULAR, fontSize=size, fillColor=NHS_DARK_GREY))
        x += stringWidth(text, REGULAR, size) + 7
