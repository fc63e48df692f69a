"""The chosen KPI compared across the 11 teams, beside the consolidated grid: a funnel plot for a percentage or a
rate (REFERENCE §2: each point a team, labelled with its code and never RAG-coloured; the LLR value and the
95 % and 99.8 % limits) and its trend across the quarters held (every team a thin grey line, the chosen one
drawn over them in blue and labelled). pyqtgraph is imported the first time a chart is drawn.

Clicking a team's point or line calls `on_team(locality_code)`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ...models.kpi.catalogue import UNIT_AXIS, Kpi
from ...models.kpi.consolidated import LEVELS, Funnel
from ...models.quarters import Quarter
from ..kit.field_help import help_label
from ..kit.style import NHS_BLUE, NHS_DARK_BLUE, colours, paint_chart
from ..returns.model import number, with_unit

POINT = "#768692"  # NHS mid grey: a team, whatever its value
OTHER_LINE = "#C4CCD1"
LIMIT = "#4C6272"
AXIS_LABEL = UNIT_AXIS


def short(quarter: Quarter, first: bool = False) -> str:
    """A quarter's tick: "Q3", with its year ("25/26") beneath on the first tick and at each Q1, so that eight
    quarters fit under a narrow chart without their labels running together."""
    year, q = quarter.label[2:].split(" ")
    return f"{q}\n{year}" if first or q == "Q1" else q


def _figures(kpi: Kpi, point: Mapping) -> str:
    return f"{number(point['numerator'])} / {number(point['denominator'])}"


class ComparisonCharts(QWidget):
    def __init__(self, on_team: Callable[[str], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("comparisonCharts")
        self.on_team = on_team
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(6)
        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        self.detail = help_label("")
        self.funnel_note = help_label("")
        self.legend = QLabel()
        self.legend.setObjectName("chartLegend")
        self.legend.setAccessibleName("Key to the funnel plot")
        self.trend_title = QLabel()
        self.trend_title.setObjectName("fieldHelp")
        for label in (self.heading, self.detail):
            layout.addWidget(label)
        self.funnel_box = QVBoxLayout()
        layout.addLayout(self.funnel_box, 3)
        layout.addWidget(self.funnel_note)
        layout.addWidget(self.trend_title)
        self.trend_box = QVBoxLayout()
        layout.addLayout(self.trend_box, 2)
        layout.addStretch(0)
        self.funnel_chart = None  # made the first time there is a funnel to draw
        self.trend_chart = None
        self.funnel_points = None  # the teams' ScatterPlotItem
        self.limit_curves: dict[tuple[float, str], object] = {}  # (level, "lower"|"upper") -> curve
        self.centre_line = None
        self.trend_lines: dict[str, object] = {}  # locality code -> curve
        self.funnel_labels: dict[str, TeamLabel] = {}
        self.trend_label: TeamLabel | None = None
        self._styled: dict[str, bool] = {}  # locality code -> drawn as the chosen team
        self._ticks: list = []
        self._funnel_of: tuple | None = None  # (KPI code, quarter) the funnel's curves are drawn for
        self._trend_of: tuple | None = None
        self._brushes: dict[bool, object] = {}
        self._pens: dict[bool, object] = {}
        self.show_nothing("Choose a cell of the grid to compare that KPI across the teams.")

    # -- what is shown ----------------------------------------------------------------------------------------
    def show_nothing(self, text: str) -> None:
        self.heading.setText("Compare the teams")
        self.detail.setText(text)
        self.funnel_note.hide()
        self.legend.hide()
        self.trend_title.hide()
        for chart in (self.funnel_chart, self.trend_chart):
            if chart is not None:
                chart.hide()

    def show_kpi(
        self,
        kpi: Kpi,
        quarter: Quarter,
        funnel: Funnel | None,
        span: Sequence[Quarter],
        series: Mapping[str, Sequence[float | None]],
        selected: str | None,
        names: Mapping[str, str],
    ) -> None:
        """*series*: locality code -> the KPI's value in each quarter of *span*; *selected*: a locality code."""
        self.heading.setText(f"{kpi.code} {kpi.name}")
        self.detail.setText(self._detail(kpi, quarter, funnel, series, span, selected, names))
        self._funnel(kpi, quarter, funnel, selected)
        self._trend(kpi, span, series, selected)

    @staticmethod
    def _detail(
        kpi: Kpi,
        quarter: Quarter,
        funnel: Funnel | None,
        series: Mapping[str, Sequence[float | None]],
        span: Sequence[Quarter],
        selected: str | None,
        names: Mapping[str, str],
    ) -> str:
        if selected is None:
            return f"{quarter.label}: choose a team's cell to pick it out on the charts."
        name = f"{names.get(selected, selected)} ({selected})"
        point = next((p for p in funnel.points if p["locality"] == selected), None) if funnel else None
        if point is not None:
            where = "outside" if point["outside_95"] else "inside"
            return (
                f"{quarter.label} · {name}: {with_unit(kpi, point['value'])} ({_figures(kpi, point)}), "
                f"{where} the 95% limits around the LLR value of {with_unit(kpi, funnel.centre)}."
            )
        values = series.get(selected, [])
        now = values[list(span).index(quarter)] if quarter in span and values else None
        return f"{quarter.label} · {name}: " + (with_unit(kpi, now) if now is not None else "no figure held.")

    def _funnel(self, kpi: Kpi, quarter: Quarter, funnel: Funnel | None, selected: str | None) -> None:
        if funnel is None:
            if self.funnel_chart is not None:
                self.funnel_chart.hide()
            self.legend.hide()
            self.funnel_note.setText(
                f"No funnel plot: {kpi.code} is a count, and a funnel plot needs a numerator and a denominator "
                "to compare teams of different sizes. Its trend is below."
                if kpi.unit == "count"
                else f"No funnel plot: no team has figures for {kpi.code} in {quarter.label}."
            )
            self.funnel_note.show()
            return
        chart = self._funnel_chart()
        chart.show()
        if paint_chart(chart):
            import pyqtgraph as pg

            self.centre_line.setPen(pg.mkPen(colours().chart_ink, width=2))
            self._pens[False] = pg.mkPen(colours().chart_background, width=1)
            self._funnel_of = None  # draw the points again with the new rims
        chart.setAccessibleName(f"Funnel plot of {kpi.code} in {quarter.label}")
        _set_label(chart, "left", f"{kpi.code}, {AXIS_LABEL[kpi.unit]}")
        _set_label(chart, "bottom", f"Denominator: {kpi.denominator}")
        same = self._funnel_of == (kpi.code, quarter)  # another team of the same KPI: only the emphasis moves
        self._funnel_of = (kpi.code, quarter)
        if not same:
            for level in LEVELS:
                lower, upper = funnel.limits[level]
                self.limit_curves[(level, "upper")].setData(funnel.x, upper)
                self.limit_curves[(level, "lower")].setData(funnel.x, lower)
            self.centre_line.setData([funnel.x[0], funnel.x[-1]], [funnel.centre] * 2)
        # The key sits under the chart, where it can never hide a team.
        ink = colours().chart_ink
        self.legend.setText(
            f"<span style='color:{ink}'><b>━━</b> LLR {with_unit(kpi, funnel.centre)}</span>"
            f"&nbsp;&nbsp;&nbsp;<span style='color:{LIMIT}'>╌╌ 95% limits&nbsp;&nbsp;&nbsp;"
            "── 99.8% limits</span>"
        )
        self.legend.show()
        xs = np.array([p["denominator"] for p in funnel.points], dtype=float)
        ys = np.array([p["value"] for p in funnel.points], dtype=float)
        codes = [p["locality"] for p in funnel.points]
        chosen = [c == selected for c in codes]
        self.funnel_points.setData(
            x=xs,
            y=ys,
            data=codes,
            size=[13 if c else 9 for c in chosen],
            brush=[self._brushes[c] for c in chosen],
            pen=[self._pens[c] for c in chosen],
        )
        # Show the teams, not the far tails of the limits at tiny denominators.
        inside = funnel.x >= xs.min() * 0.8
        low = min(ys.min(), funnel.limits[0.998][0][inside].min(), funnel.centre)
        high = max(ys.max(), funnel.limits[0.998][1][inside].max(), funnel.centre)
        pad = (high - low) * 0.08 or 1
        y_range = (max(0.0, low - pad), high + pad)
        x_range = (float(funnel.x[0]), float(funnel.x[-1]) * 1.04)
        if not same:
            chart.setRange(xRange=x_range, yRange=y_range, padding=0)
        box = chart.getViewBox()
        size = (box.width() or 380.0, box.height() or 220.0)
        anchors = place_labels(
            xs, ys, codes, x_range, y_range, size, codes.index(selected) if selected in codes else None
        )
        for code, label in self.funnel_labels.items():
            label.setVisible(code in codes)
        for code, x, y, chosen_one, anchor in zip(codes, xs, ys, chosen, anchors, strict=True):
            if code not in self.funnel_labels:
                self.funnel_labels[code] = TeamLabel(code)
                chart.addItem(self.funnel_labels[code])
            self.funnel_labels[code].place(x, y, anchor, chosen_one)
        outside = [p["locality"] for p in funnel.points if p["outside_95"]]
        self.funnel_note.setText(
            f"Each point is a team: x its {kpi.denominator}, y its value. "
            + (
                f"Outside the 95% limits: {', '.join(outside)}."
                if outside
                else "Every team is inside the 95% limits: the differences are what chance alone would give."
            )
        )
        self.funnel_note.show()

    def _funnel_chart(self):
        """The funnel's chart and its items, made once and then updated in place."""
        if self.funnel_chart is not None:
            return self.funnel_chart
        import pyqtgraph as pg

        chart = self.funnel_chart = _chart("funnelChart")
        chart.setMinimumHeight(230)
        self.funnel_box.addWidget(chart)
        self.funnel_box.addWidget(self.legend)
        for level, style in ((0.998, Qt.PenStyle.SolidLine), (0.95, Qt.PenStyle.DashLine)):
            pen = pg.mkPen(LIMIT, width=1.2, style=style)
            for side in ("upper", "lower"):
                self.limit_curves[(level, side)] = chart.plot([], [], pen=pen)
        self.centre_line = chart.plot([], [], pen=pg.mkPen(colours().chart_ink, width=2))
        self._brushes = {True: pg.mkBrush(NHS_BLUE), False: pg.mkBrush(POINT)}
        self._pens = {True: pg.mkPen(NHS_DARK_BLUE, width=2), False: pg.mkPen(colours().chart_background, width=1)}
        self.funnel_points = pg.ScatterPlotItem(
            hoverable=True, tip=lambda x, y, data: f"{data}: {y:.1f} ({number(x)} in the denominator)"
        )
        self.funnel_points.sigClicked.connect(self._point_clicked)
        chart.addItem(self.funnel_points)
        return chart

    def _trend(
        self, kpi: Kpi, span: Sequence[Quarter], series: Mapping[str, Sequence[float | None]], selected: str | None
    ) -> None:
        import pyqtgraph as pg

        if self.trend_chart is None:
            self.trend_chart = _chart("trendChart")
            self.trend_chart.setMinimumHeight(170)
            self.trend_chart.getAxis("bottom").setHeight(38)
            self.trend_box.addWidget(self.trend_chart)
            self.trend_label = TeamLabel("")
            self.trend_chart.addItem(self.trend_label)
        chart = self.trend_chart
        chart.show()
        paint_chart(chart)
        self.trend_title.setText(
            f"Trend of {kpi.code} in the {len(span)} quarter{'s' if len(span) != 1 else ''} held"
            + (f", {selected} in blue" if selected else "")
            + ":"
        )
        self.trend_title.show()
        chart.setAccessibleName(f"Trend of {kpi.code} for the 11 teams across {len(span)} quarters")
        _set_label(chart, "left", AXIS_LABEL[kpi.unit])
        ticks = [[(i, short(q, first=i == 0)) for i, q in enumerate(span)]]
        if ticks != self._ticks:
            chart.getAxis("bottom").setTicks(ticks)
            self._ticks = ticks
        xs = np.arange(len(span), dtype=float)
        same = self._trend_of == (kpi.code, tuple(span))  # another team of the same KPI: only the emphasis moves
        self._trend_of = (kpi.code, tuple(span))
        self.trend_label.setVisible(False)
        every = [v for values in series.values() for v in values if v is not None]
        for code, values in series.items():
            ys = np.array([np.nan if v is None else v for v in values], dtype=float)
            line = self.trend_lines.get(code)
            if line is None:
                line = self.trend_lines[code] = chart.plot([], [], connect="finite")
                line.setCurveClickable(True, width=8)
                line.sigClicked.connect(partial(self._line_clicked, code))
            if not same:
                line.setData(xs, ys, connect="finite")
            chosen = code == selected
            if self._styled.get(code) != chosen:
                self._styled[code] = chosen
                line.setPen(pg.mkPen(NHS_BLUE, width=3) if chosen else pg.mkPen(OTHER_LINE, width=1.2))
                line.setSymbol("o" if chosen else None)
                line.setSymbolSize(6)
                line.setSymbolBrush(NHS_BLUE)
                line.setSymbolPen(None)
                line.setZValue(10 if chosen else 0)
            if chosen and not np.isnan(ys).all():
                last = int(np.flatnonzero(~np.isnan(ys))[-1])
                self.trend_label.setText(code)
                self.trend_label.place(xs[last], ys[last], (-0.2, 0.5), True)
                self.trend_label.setVisible(True)
        if not same and every:
            low, high = min(every), max(every)
            pad = (high - low) * 0.08 or 1
            chart.setRange(xRange=(-0.6, max(len(span) - 1, 1) + 1.5), yRange=(low - pad, high + pad), padding=0)

    # -- clicks -----------------------------------------------------------------------------------------------
    def _point_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self._team_clicked(points[0].data())

    def _line_clicked(self, code: str, *_args) -> None:
        self._team_clicked(code)

    def _team_clicked(self, code: str) -> None:
        if self.on_team is not None:
            self.on_team(code)


# Where a point's label goes, tried in turn: right, left, above, below, then the four diagonals (TextItem anchors).
ANCHORS = ((-0.2, 0.5), (1.2, 0.5), (0.5, 1.05), (0.5, -0.05), (-0.1, 1.0), (-0.1, 0.0), (1.1, 1.0), (1.1, 0.0))


def offset(anchor: tuple[float, float], width: float, height: float) -> tuple[float, float]:
    """Where a label's top left goes, in pixels from its point, for an anchor; clear of the point's symbol."""
    dx = -anchor[0] * width + (7 if anchor[0] < 0 else -7 if anchor[0] > 1 else 0)
    dy = -anchor[1] * height + (-3 if anchor[1] > 1 else 3 if anchor[1] < 0 else 0)
    return dx, dy


def place_labels(
    xs: Sequence[float],
    ys: Sequence[float],
    codes: Sequence[str],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    size: tuple[float, float],
    first: int | None = None,
) -> list:
    """An anchor per point so that no two labels overlap each other or another point, where one of the eight
    places allows it (else the right): the chosen team (*first*) is placed first."""
    sx = size[0] / ((x_range[1] - x_range[0]) or 1)
    sy = size[1] / ((y_range[1] - y_range[0]) or 1)
    pixels = [((x - x_range[0]) * sx, (y_range[1] - y) * sy) for x, y in zip(xs, ys, strict=True)]
    taken: list[tuple[float, float, float, float]] = [(px - 6, py - 6, px + 6, py + 6) for px, py in pixels]
    anchors: list = [ANCHORS[0]] * len(codes)
    order = sorted(range(len(codes)), key=lambda i: (i != first, pixels[i][0]))
    for i in order:
        px, py = pixels[i]
        width, height = 7.5 * len(codes[i]) + 4, 15
        for anchor in ANCHORS:
            dx, dy = offset(anchor, width, height)
            left, top = px + dx, py + dy
            rect = (left, top, left + width, top + height)
            if not any(_overlap(rect, other) for n, other in enumerate(taken) if n != i):
                anchors[i] = anchor
                taken.append(rect)
                break
        else:
            taken.append((px + 6, py - height / 2, px + 6 + width, py + height / 2))
    return anchors


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class TeamLabel(QGraphicsRectItem):
    """A team's code beside its point, the same size however the chart is scaled; moved, not remade, as the
    chosen KPI changes. Plain Qt items, which emit no signals."""

    def __init__(self, text: str):
        super().__init__(0, 0, 0, 0)
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.ground = QGraphicsRectItem(self)  # white, behind the chosen team's code so it reads over a point
        self.ground.setPen(QPen(Qt.PenStyle.NoPen))
        self.ground.setBrush(_translucent(colours().chart_background))
        self.text = QGraphicsSimpleTextItem(text, self)

    def setText(self, text: str) -> None:
        self.text.setText(text)

    def place(self, x: float, y: float, anchor: tuple[float, float], chosen: bool) -> None:
        self.setPos(x, y)
        self.setZValue(20 if chosen else 10)
        self.text.setFont(_font(9, bold=chosen))
        self.text.setBrush(QColor(colours().strong if chosen else colours().chart_ink))
        box = self.text.boundingRect()
        self.text.setPos(*offset(anchor, box.width(), box.height()))
        self.ground.setRect(box.adjusted(-2, 0, 2, 0))
        self.ground.setPos(self.text.pos())
        self.ground.setVisible(chosen)


def _set_label(chart, axis: str, text: str) -> None:
    """An axis title, set only when it changes (each set redraws the axis)."""
    item = chart.getAxis(axis)
    if item.labelText != text:
        chart.setLabel(axis, text, color=colours().secondary)


def _font(points: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    return font


def _chart(name: str):
    import pyqtgraph as pg

    chart = pg.PlotWidget(background=colours().chart_background)
    chart.setObjectName(name)
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.hideButtons()
    chart.showGrid(x=False, y=True, alpha=0.15)
    for axis in ("left", "bottom"):
        chart.getAxis(axis).setTextPen(colours().secondary)
        chart.getAxis(axis).setPen(colours().secondary)
        chart.getAxis(axis).setStyle(tickFont=_font(8))
    chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return chart


def _translucent(colour: str) -> QColor:
    """The chart's ground, a little see-through: the chosen team's code reads over a point without hiding it."""
    ground = QColor(colour)
    ground.setAlpha(215)
    return ground
