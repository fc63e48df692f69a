"""The chosen KPI compared across the 11 teams, beside the consolidated grid: a funnel plot for a percentage or a
rate (REFERENCE §2: each point a team, labelled with its code and never RAG-coloured; the LLR value and the
95 % and 99.8 % limits) and its trend across the quarters held (every team a thin grey line, the chosen one
drawn over them in blue and labelled). pyqtgraph is imported the first time a chart is drawn.

Clicking a team's point or line calls `on_team(locality_code)`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..models.consolidated import Funnel
from ..models.kpi_catalogue import Kpi
from ..models.quarters import Quarter
from .returns_model import number, with_unit
from .style import NHS_BLUE, NHS_DARK_BLUE, NHS_SECONDARY_TEXT, NHS_TEXT

POINT = "#768692"  # NHS mid grey: a team, whatever its value
OTHER_LINE = "#C4CCD1"
LIMIT = "#4C6272"
AXIS_LABEL = {"percent": "%", "per_100": "per 100", "per_1000": "per 1,000", "count": "count"}


def short(quarter: Quarter) -> str:
    """A quarter on two lines ("Q3" over "25/26"), so eight of them fit under a narrow chart."""
    year, q = quarter.label[2:].split(" ")
    return f"{q}\n{year}"


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
        self.detail = QLabel()
        self.detail.setObjectName("fieldHelp")
        self.detail.setWordWrap(True)
        self.funnel_note = QLabel()
        self.funnel_note.setObjectName("fieldHelp")
        self.funnel_note.setWordWrap(True)
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

    def show_kpi(self, kpi: Kpi, quarter: Quarter, funnel: Funnel | None, span: Sequence[Quarter],
                 series: Mapping[str, Sequence[float | None]], selected: str | None,
                 names: Mapping[str, str]) -> None:
        """*series*: locality code -> the KPI's value in each quarter of *span*; *selected*: a locality code."""
        self.heading.setText(f"{kpi.code} {kpi.name}")
        self.detail.setText(self._detail(kpi, quarter, funnel, series, span, selected, names))
        self._funnel(kpi, quarter, funnel, selected)
        self._trend(kpi, span, series, selected)

    @staticmethod
    def _detail(kpi: Kpi, quarter: Quarter, funnel: Funnel | None, series: Mapping[str, Sequence[float | None]],
                span: Sequence[Quarter], selected: str | None, names: Mapping[str, str]) -> str:
        if selected is None:
            return f"{quarter.label}: choose a team's cell to pick it out on the charts."
        name = f"{names.get(selected, selected)} ({selected})"
        point = next((p for p in funnel.points if p["locality"] == selected), None) if funnel else None
        if point is not None:
            where = "outside" if point["outside_95"] else "inside"
            return (f"{quarter.label} · {name}: {with_unit(kpi, point['value'])} ({_figures(kpi, point)}), "
                    f"{where} the 95% limits around the LLR value of {with_unit(kpi, funnel.centre)}.")
        values = series.get(selected, [])
        now = values[list(span).index(quarter)] if quarter in span and values else None
        return f"{quarter.label} · {name}: " + (with_unit(kpi, now) if now is not None else "no figure held.")

    def _funnel(self, kpi: Kpi, quarter: Quarter, funnel: Funnel | None, selected: str | None) -> None:
        if funnel is None:
            if self.funnel_chart is not None:
                self.funnel_chart.hide()
            self.legend.hide()
            self.funnel_points = self.centre_line = None
            self.limit_curves = {}
            self.funnel_note.setText(
                f"No funnel plot: {kpi.code} is a count, and a funnel plot needs a numerator and a denominator "
                "to compare teams of different sizes. Its trend is below." if kpi.unit == "count" else
                f"No funnel plot: no team has figures for {kpi.code} in {quarter.label}.")
            self.funnel_note.show()
            return
        import pyqtgraph as pg

        if self.funnel_chart is None:
            self.funnel_chart = _chart("funnelChart")
            self.funnel_chart.setMinimumHeight(230)
            self.funnel_box.addWidget(self.funnel_chart)
            self.funnel_box.addWidget(self.legend)
        chart = self.funnel_chart
        chart.clear()
        chart.show()
        chart.setAccessibleName(f"Funnel plot of {kpi.code} in {quarter.label}")
        chart.setLabel("left", f"{kpi.code}, {AXIS_LABEL[kpi.unit]}", color=NHS_SECONDARY_TEXT)
        chart.setLabel("bottom", f"Denominator: {kpi.denominator}", color=NHS_SECONDARY_TEXT)
        self.limit_curves = {}
        for level, style in ((0.998, Qt.PenStyle.SolidLine), (0.95, Qt.PenStyle.DashLine)):
            lower, upper = funnel.limits[level]
            pen = pg.mkPen(LIMIT, width=1.2, style=style)
            self.limit_curves[(level, "upper")] = chart.plot(funnel.x, upper, pen=pen)
            self.limit_curves[(level, "lower")] = chart.plot(funnel.x, lower, pen=pen)
        self.centre_line = chart.plot([funnel.x[0], funnel.x[-1]], [funnel.centre] * 2,
                                      pen=pg.mkPen(NHS_TEXT, width=2))
        # The key sits under the chart, where it can never hide a team.
        self.legend.setText(f"<span style='color:{NHS_TEXT}'><b>━━</b> LLR {with_unit(kpi, funnel.centre)}</span>"
                            f"&nbsp;&nbsp;&nbsp;<span style='color:{LIMIT}'>╌╌ 95% limits&nbsp;&nbsp;&nbsp;"
                            "── 99.8% limits</span>")
        self.legend.show()
        xs = np.array([p["denominator"] for p in funnel.points], dtype=float)
        ys = np.array([p["value"] for p in funnel.points], dtype=float)
        codes = [p["locality"] for p in funnel.points]
        chosen = [c == selected for c in codes]
        self.funnel_points = pg.ScatterPlotItem(
            x=xs, y=ys, data=codes, size=[13 if c else 9 for c in chosen],
            brush=[pg.mkBrush(NHS_BLUE if c else POINT) for c in chosen],
            pen=[pg.mkPen(NHS_DARK_BLUE, width=2) if c else pg.mkPen("w", width=1) for c in chosen],
            hoverable=True, tip=lambda x, y, data: f"{data}: {y:.1f} ({number(x)} in the denominator)")
        self.funnel_points.sigClicked.connect(self._point_clicked)
        chart.addItem(self.funnel_points)
        # Show the teams, not the far tails of the limits at tiny denominators.
        inside = funnel.x >= xs.min() * 0.8
        low = min(ys.min(), funnel.limits[0.998][0][inside].min(), funnel.centre)
        high = max(ys.max(), funnel.limits[0.998][1][inside].max(), funnel.centre)
        pad = (high - low) * 0.08 or 1
        y_range = (max(0.0, low - pad), high + pad)
        x_range = (float(funnel.x[0]), float(funnel.x[-1]) * 1.04)
        chart.setYRange(*y_range, padding=0)
        chart.setXRange(*x_range, padding=0)
        box = chart.getViewBox()
        size = (box.width() or 380.0, box.height() or 220.0)
        anchors = place_labels(xs, ys, codes, x_range, y_range, size, codes.index(selected) if selected in codes
                               else None)
        for code, x, y, chosen_one, anchor in zip(codes, xs, ys, chosen, anchors, strict=True):
            label = pg.TextItem(code, color=NHS_DARK_BLUE if chosen_one else NHS_TEXT, anchor=anchor,
                                fill=pg.mkBrush(255, 255, 255, 210) if chosen_one else None)
            label.setFont(_font(9, bold=chosen_one))
            label.setZValue(20 if chosen_one else 10)
            label.setPos(x, y)
            chart.addItem(label)
        outside = [p["locality"] for p in funnel.points if p["outside_95"]]
        self.funnel_note.setText(
            f"Each point is a team: x its {kpi.denominator}, y its value. "
            + (f"Outside the 95% limits: {', '.join(outside)}." if outside else
               "Every team is inside the 95% limits: the differences are what chance alone would give."))
        self.funnel_note.show()

    def _trend(self, kpi: Kpi, span: Sequence[Quarter], series: Mapping[str, Sequence[float | None]],
               selected: str | None) -> None:
        import pyqtgraph as pg

        if self.trend_chart is None:
            self.trend_chart = _chart("trendChart")
            self.trend_chart.setMinimumHeight(170)
            self.trend_box.addWidget(self.trend_chart)
        chart = self.trend_chart
        chart.clear()
        chart.show()
        self.trend_title.setText(f"Trend of {kpi.code} in the {len(span)} quarters held"
                                 + (f", {selected} in blue" if selected else "") + ":")
        self.trend_title.show()
        chart.setAccessibleName(f"Trend of {kpi.code} for the 11 teams across {len(span)} quarters")
        chart.setLabel("left", AXIS_LABEL[kpi.unit], color=NHS_SECONDARY_TEXT)
        chart.getAxis("bottom").setTicks([[(i, short(q)) for i, q in enumerate(span)]])
        chart.getAxis("bottom").setHeight(38)
        xs = np.arange(len(span), dtype=float)
        self.trend_lines = {}
        order = sorted(series, key=lambda code: code == selected)  # the chosen team drawn last, on top
        for code in order:
            ys = np.array([np.nan if v is None else v for v in series[code]], dtype=float)
            if np.isnan(ys).all():
                continue
            if code == selected:
                line = chart.plot(xs, ys, pen=pg.mkPen(NHS_BLUE, width=3), symbol="o", symbolSize=6,
                                  symbolBrush=NHS_BLUE, symbolPen=None, connect="finite")
                last = int(np.flatnonzero(~np.isnan(ys))[-1])
                label = pg.TextItem(code, color=NHS_DARK_BLUE, anchor=(-0.2, 0.5))
                label.setFont(_font(9, bold=True))
                label.setPos(xs[last], ys[last])
                chart.addItem(label)
            else:
                line = chart.plot(xs, ys, pen=pg.mkPen(OTHER_LINE, width=1.2), connect="finite")
            line.setCurveClickable(True, width=8)
            line.sigClicked.connect(lambda _item, _ev=None, code=code: self._team_clicked(code))
            self.trend_lines[code] = line
        chart.setXRange(-0.6, max(len(span) - 1, 1) + 1.1, padding=0)

    # -- clicks -----------------------------------------------------------------------------------------------
    def _point_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self._team_clicked(points[0].data())

    def _team_clicked(self, code: str) -> None:
        if self.on_team is not None:
            self.on_team(code)


# Where a point's label goes, tried in turn: right, left, above, below, then the four diagonals (TextItem anchors).
ANCHORS = ((-0.2, 0.5), (1.2, 0.5), (0.5, 1.05), (0.5, -0.05), (-0.1, 1.0), (-0.1, 0.0), (1.1, 1.0), (1.1, 0.0))


def place_labels(xs: Sequence[float], ys: Sequence[float], codes: Sequence[str], x_range: tuple[float, float],
                 y_range: tuple[float, float], size: tuple[float, float], first: int | None = None) -> list:
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
            left = px - anchor[0] * width + (6 if anchor[0] < 0 else -6 if anchor[0] > 1 else 0)
            top = py - anchor[1] * height
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


def _font(points: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(points)
    font.setBold(bold)
    return font


def _chart(name: str):
    import pyqtgraph as pg

    chart = pg.PlotWidget(background="w")
    chart.setObjectName(name)
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.hideButtons()
    chart.showGrid(x=False, y=True, alpha=0.15)
    for axis in ("left", "bottom"):
        chart.getAxis(axis).setTextPen(NHS_SECONDARY_TEXT)
        chart.getAxis(axis).setPen(NHS_SECONDARY_TEXT)
        chart.getAxis(axis).setStyle(tickFont=_font(8))
    chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return chart
