"""Small-multiple trend panels: one KPI across the held quarters, the 11 teams as thin grey lines and the LLR
line (pooled for a ratio, the median team for a count) drawn over them in NHS blue, so the eye follows the
system and sees the spread of teams behind it without a legend of eleven colours."""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.graphics.shapes import Circle, Drawing, Line, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from ...models.kpi.catalogue import UNIT_AXIS, Kpi
from ..fonts import BOLD, REGULAR
from ..styles import NHS_BLUE, NHS_DARK_BLUE, NHS_DARK_GREY, NHS_WARM_YELLOW
from .kit import Frame, clipped_lines, fit_text, nice_ticks

TEAM_GREY = colors.HexColor("#AEB7BD")


def short_unit(kpi: Kpi) -> str:
    return UNIT_AXIS[kpi.unit]


def panel(
    kpi: Kpi,
    labels: Sequence[str],
    teams: dict[str, list[float | None]],
    llr: list[float | None],
    llr_name: str,
    width: float,
    height: float,
) -> Drawing:
    d = Drawing(width, height)
    d.add(String(0, height - 9, f"{kpi.code}", fontName=BOLD, fontSize=8, fillColor=NHS_DARK_BLUE))
    # Measured, not counted: the name starts after the code and is cut to the panel in the face it prints in.
    x = stringWidth(kpi.code, BOLD, 8) + 4
    unit = f" ({short_unit(kpi)})"
    name = fit_text(kpi.name, REGULAR, 7, width - x - stringWidth(unit, REGULAR, 7)) + unit
    d.add(String(x, height - 9, name, fontName=REGULAR, fontSize=7, fillColor=NHS_DARK_GREY))
    values = [v for series in (*teams.values(), llr) for v in series if v is not None]
    if kpi.target is not None:
        values.append(kpi.target)
    if not values:
        d.add(
            String(
                width / 2,
                height / 2,
                "No values held",
                fontName=REGULAR,
                fontSize=7,
                fillColor=NHS_DARK_GREY,
                textAnchor="middle",
            )
        )
        return d
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or max(1.0, abs(high) * 0.1)
    low = 0.0 if low >= 0 and low - pad < 0 else low - pad
    high = high + pad
    if kpi.unit == "percent":
        high = min(high, 100.0)
    yt = nice_ticks(low, high, 4)
    n = len(labels)
    f = Frame(
        left=30,
        bottom=26,
        width=width - 46,
        height=height - 40,
        x0=-0.3,
        x1=n - 0.7,
        y0=min(low, yt[0]),
        y1=max(high, yt[-1]),
    )
    f.axes(d, list(range(n)), yt, x_labels=[""] * n, font_size=5.6)
    for i, label in enumerate(labels):  # "Q3" over "24/25": eight quarters side by side need two lines
        quarter, _, year = label.partition(" ")
        for k, text in enumerate((quarter, year)):
            d.add(
                String(
                    f.px(i),
                    f.bottom - 8 - 6 * k,
                    text,
                    fontName=REGULAR,
                    fontSize=5.6,
                    fillColor=NHS_DARK_GREY,
                    textAnchor="middle",
                )
            )
    if kpi.target is not None and f.y0 <= kpi.target <= f.y1:
        y = f.py(kpi.target)
        d.add(Line(f.left, y, f.right, y, strokeColor=NHS_WARM_YELLOW, strokeWidth=0.9, strokeDashArray=[1.5, 1.5]))
        d.add(
            String(f.left + 2, y + 2, f"target {kpi.target:g}", fontName=REGULAR, fontSize=5.5, fillColor=NHS_DARK_GREY)
        )
    for series in teams.values():
        _series(d, f, series, TEAM_GREY, 0.6, dots=False)
    _series(d, f, llr, NHS_BLUE, 1.8, dots=True)
    last = next(((i, v) for i, v in reversed(list(enumerate(llr))) if v is not None), None)
    if last:
        d.add(
            String(
                f.px(last[0]) + 4,
                f.py(last[1]) - 2,
                _fmt(last[1], kpi),
                fontName=BOLD,
                fontSize=6,
                fillColor=NHS_BLUE,
            )
        )
    # A key, small: grey lines are teams, blue is LLR.
    d.add(Line(f.left + 2, 2, f.left + 14, 2, strokeColor=TEAM_GREY, strokeWidth=0.8))
    d.add(String(f.left + 16, 0, "each team", fontName=REGULAR, fontSize=5.5, fillColor=NHS_DARK_GREY))
    x = f.left + 20 + stringWidth("each team", REGULAR, 5.5)
    d.add(Line(x, 2, x + 12, 2, strokeColor=NHS_BLUE, strokeWidth=1.8))
    d.add(String(x + 14, 0, llr_name, fontName=REGULAR, fontSize=5.5, fillColor=NHS_DARK_GREY))
    return d


def _fmt(value: float, kpi: Kpi) -> str:
    return f"{value:,.0f}" if kpi.unit == "count" else f"{value:.1f}"


def _series(d: Drawing, f: Frame, series: Sequence[float | None], color, width: float, dots: bool) -> None:
    """Consecutive held quarters are joined; a gap (no return, or a value suppressed for publication) breaks
    the line rather than bridging it, so nothing is implied about the missing quarter."""
    run: list[tuple[int, float]] = []
    for i, v in enumerate([*series, None]):
        if v is not None:
            run.append((i, v))
            continue
        if len(run) >= 2:
            for line in clipped_lines(f, [x for x, _ in run], [y for _, y in run], color, width):
                d.add(line)
        if dots or len(run) == 1:
            for x, y in run:
                d.add(Circle(f.px(x), f.py(y), 1.6 if dots else 0.9, fillColor=color, strokeColor=None))
        run = []
