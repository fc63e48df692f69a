"""The XmR chart of one KPI of a locality, in NHS England's Making Data Count style, drawn from the same SpcResult
and with the same colours, marker shapes and wording as the PDF report (reports/spc_chart, mdc_icons, through
reports/mdc_style): the points joined, the mean solid, the process limits dashed, the target dash-dot when the
chart has one; a special-cause point coloured AND shaped (square improvement, triangle concern, diamond neither)
so that colour is never the only cue. Under 13 points the limits are trial limits and there are no icons.

pyqtgraph is imported the first time a chart is drawn; the chart and its items are made once and then updated
in place."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...models.kpi.catalogue import UNIT_AXIS
from ...reports.charts import mdc_style
from ..kit.field_help import help_label
from ..kit.style import colours, paint_chart
from .spc_list_model import icon_pixmap

SYMBOLS = {"circle": "o", "square": "s", "triangle": "t1", "diamond": "d"}  # pyqtgraph's names for the shapes
AXIS_LABEL = UNIT_AXIS


def stat(kpi: Any, value: float) -> str:
    """A mean or limit as the PDF prints it (locality_report.stat): one decimal, even for a count."""
    return f"{value:,.1f}" + ("%" if kpi.unit == "percent" else "")


def short_labels(labels: Sequence[str], monthly: bool) -> list[str]:
    """Axis labels as the PDF's (locality_report._short): 'Oct 24' for a month, '26/27 Q2' for a quarter."""
    if monthly:
        return [f"{lab[:3]} {lab[-2:]}" if len(lab) >= 8 else lab for lab in labels]
    return [lab[2:] if len(lab) > 8 else lab for lab in labels]


def caption(row: Any) -> str:
    """The line under the chart, as the PDF's: the span, the mean and the limits (clipped to what the measure
    can take), the periods left off, and 'trial limits' under 13 points."""
    r, spc = row, row.spc
    pct = r.kpi.unit == "percent"
    kind = "Monthly" if r.monthly else "Quarterly (signed-off returns)"
    text = (
        f"{kind}, {r.labels[0]} to {r.labels[-1]} ({len(r.labels)} points) · mean {stat(r.kpi, spc.mean)} · "
        f"limits {stat(r.kpi, max(spc.lpl, 0))} to {stat(r.kpi, min(spc.upl, 100) if pct else spc.upl)}"
    )
    if r.gaps:
        unit = "month" if r.monthly else "quarter"
        text += f" · {r.gaps} {unit}{'' if r.gaps == 1 else 's'} without a value left off"
    if spc.trial_limits:
        text += f" · trial limits: only {len(spc.points)} points (MDC fixes limits from 13); no icons"
    return text


def wording(row: Any) -> str:
    """The variation and assurance in words, as the PDF's exceptions page says them."""
    spc = row.spc
    if spc is None:
        return ""
    if spc.trial_limits:
        return f"Too few points ({len(spc.points)}) for SPC icons."
    text = mdc_style.LABELS[spc.variation_icon] + " in the latest period"
    if spc.assurance_icon:
        words = mdc_style.LABELS[spc.assurance_icon]
        return f"{text}; {words[0].lower()}{words[1:]}."
    return text + "; no target on this chart, so no assurance icon."


def legend_html() -> str:
    """The key under the chart, in the PDF legend's words, each shape drawn in its colour."""
    glyphs = {"circle": "●", "square": "■", "triangle": "▲", "diamond": "◆"}
    fills = {
        "circle": mdc_style.COMMON,
        "square": mdc_style.IMPROVEMENT,
        "triangle": mdc_style.CONCERN,
        "diamond": mdc_style.NEUTRAL,
    }
    parts = [f"<span style='color:{fills[s]}'>{glyphs[s]}</span> {mdc_style.SHAPE_WORDS[s]}" for s in glyphs]
    parts += [
        f"<span style='color:{colours().chart_ink}'>━━</span> mean",
        f"<span style='color:{mdc_style.COMMON}'>╌╌</span> process limits",
        f"<span style='color:{mdc_style.TARGET}'>─·─</span> target",
    ]
    return "&nbsp;&nbsp; ".join(parts)


class SpcView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("spcView")
        self.row: Any = None
        self.chart = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(6)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        self.variation_icon = QLabel()
        self.assurance_icon = QLabel()
        head.addWidget(self.heading, 1)
        head.addWidget(self.variation_icon)
        head.addWidget(self.assurance_icon)
        layout.addLayout(head)
        self.words = QLabel()
        self.words.setObjectName("spcWording")
        self.words.setWordWrap(True)
        layout.addWidget(self.words)
        self.chart_box = QVBoxLayout()
        self.chart_box.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.chart_box, 1)
        self.caption = help_label("")
        layout.addWidget(self.caption)
        self.legend = help_label(legend_html())
        layout.addWidget(self.legend)
        self.note = help_label("")
        layout.addWidget(self.note, 1, Qt.AlignmentFlag.AlignTop)
        self.show_nothing("Choose a KPI in the list to see its chart.")

    # -- states -------------------------------------------------------------------------------------------
    def show_nothing(self, text: str) -> None:
        self.row = None
        self.heading.setText("")
        self.heading.setVisible(False)
        for widget in (self.words, self.caption, self.legend, self.variation_icon, self.assurance_icon):
            widget.hide()
        if self.chart is not None:
            self.chart.hide()
        self.note.setText(text)
        self.note.show()

    def show_row(self, row: Any) -> None:
        """Draw the chart of *row* (a locality_figures.KpiRow)."""
        self.row = row
        self.heading.setText(f"{row.kpi.code} {row.kpi.name}")
        self.heading.setVisible(True)
        spc = row.spc
        if spc is None:
            if self.chart is not None:
                self.chart.hide()
            for widget in (self.words, self.caption, self.legend, self.variation_icon, self.assurance_icon):
                widget.hide()
            self.note.setText("Not enough values for a chart yet: an XmR chart needs two periods or more.")
            self.note.show()
            return
        self.note.hide()
        self.words.setText(wording(row))
        self.words.show()
        self._icons(spc)
        self.caption.setText(caption(row))
        self.caption.show()
        self.legend.show()
        self._draw(row)

    def _icons(self, spc: Any) -> None:
        for label, kind in ((self.variation_icon, spc.variation_icon), (self.assurance_icon, spc.assurance_icon)):
            shown = kind is not None and not spc.trial_limits
            label.setVisible(shown)
            if shown:
                label.setPixmap(icon_pixmap(kind, 26))
                label.setToolTip(mdc_style.LABELS[kind])
                label.setAccessibleName(mdc_style.LABELS[kind])

    # -- the chart ----------------------------------------------------------------------------------------------
    def _chart(self):
        if self.chart is not None:
            return self.chart
        import pyqtgraph as pg

        chart = self.chart = pg.PlotWidget(background=colours().chart_background)
        chart.setObjectName("spcChart")
        chart.setMenuEnabled(False)
        chart.setMouseEnabled(x=False, y=False)
        chart.hideButtons()
        chart.showGrid(x=False, y=True, alpha=0.12)
        font = QFont()
        font.setPointSize(8)
        for axis in ("left", "bottom"):
            chart.getAxis(axis).setTextPen(colours().secondary)
            chart.getAxis(axis).setPen(colours().secondary)
            chart.getAxis(axis).setStyle(tickFont=font)
        chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        chart.setMinimumHeight(220)
        self.chart_box.addWidget(chart)
        self.upl_line = chart.plot([], [], pen=pg.mkPen(mdc_style.COMMON, width=1.3, style=Qt.PenStyle.DashLine))
        self.lpl_line = chart.plot([], [], pen=pg.mkPen(mdc_style.COMMON, width=1.3, style=Qt.PenStyle.DashLine))
        self.mean_line = chart.plot([], [], pen=pg.mkPen(colours().chart_ink, width=1.3))
        self.target_line = chart.plot([], [], pen=pg.mkPen(mdc_style.TARGET, width=1.5, style=Qt.PenStyle.DashDotLine))
        self.series_line = chart.plot([], [], pen=pg.mkPen(mdc_style.COMMON, width=1.3))
        self.points = pg.ScatterPlotItem(hoverable=True, tip=lambda x, y, data: data)
        chart.addItem(self.points)
        self.tags = {
            name: pg.TextItem(name, color=colour, anchor=(0, 0.5))
            for name, colour in (("UPL", mdc_style.COMMON), ("LPL", mdc_style.COMMON), ("Tgt", mdc_style.TARGET))
        }
        for tag in self.tags.values():
            chart.addItem(tag)
        self._pg = pg
        return chart

    def _draw(self, row: Any) -> None:
        pg_chart = self._chart()
        pg = self._pg
        pg_chart.show()
        if paint_chart(pg_chart):
            self.mean_line.setPen(pg.mkPen(colours().chart_ink, width=1.3))
            self.legend.setText(legend_html())
        spc, kpi = row.spc, row.kpi
        n = len(spc.points)
        values = [p.value for p in spc.points]
        xs = np.arange(n, dtype=float)
        pct = kpi.unit == "percent"
        pg_chart.setAccessibleName(
            f"SPC chart of {kpi.code} {kpi.name}: {n} points, mean {stat(kpi, spc.mean)}, "
            f"limits {stat(kpi, spc.lpl)} to {stat(kpi, spc.upl)}. {wording(row)}"
        )
        pg_chart.setLabel("left", AXIS_LABEL[kpi.unit], color=colours().secondary)
        ends = [-0.5, n - 0.5]
        self.upl_line.setData(ends, [spc.upl] * 2)
        self.lpl_line.setData(ends, [spc.lpl] * 2)
        self.mean_line.setData(ends, [spc.mean] * 2)
        target = row.chart_target
        if target is not None:
            self.target_line.setData(ends, [target] * 2)
        else:
            self.target_line.setData([], [])
        self.target_line.setVisible(target is not None)
        self.series_line.setData(xs, values)
        labels = short_labels(row.labels, row.monthly)
        symbols, brushes, pens, tips = [], [], [], []
        for point, full in zip(spc.points, row.labels, strict=True):
            shape, fill = mdc_style.MARKERS[point.point_type]
            symbols.append(SYMBOLS[shape])
            brushes.append(pg.mkBrush(fill))
            # The ink rim (near black on paper, light on a dark chart) keeps a purple "neither" point visible.
            rim = mdc_style.OUTLINE if fill == mdc_style.IMPROVEMENT else colours().chart_ink
            pens.append(pg.mkPen(None) if shape == "circle" else pg.mkPen(rim, width=1))
            kind = point.point_type.replace("special_cause_", "special cause: ").replace("_", " ")
            tips.append(
                f"{full}: {stat(kpi, point.value) if kpi.unit != 'count' else f'{point.value:,.0f}'}"
                f" · {kind}" + (f" ({', '.join(point.rules)})" if point.rules else "")
            )
        self.points.setData(
            x=xs,
            y=values,
            symbol=symbols,
            brush=brushes,
            pen=pens,
            data=tips,
            size=[7 if s == "o" else 11 for s in symbols],
        )
        # The value axis covers the points and lines, clipped to what the measure can take, as on paper.
        lines = [spc.mean, spc.upl, spc.lpl] + ([target] if target is not None else [])
        low, high = min(values + lines), max(values + lines)
        lo_bound, hi_bound = 0.0, (100.0 if pct else None)
        low = max(low, lo_bound)
        if hi_bound is not None:
            high = min(high, hi_bound)
        span = (high - low) or max(abs(high), 1.0)
        low, high = max(low - 0.06 * span, lo_bound), high + 0.06 * span
        if hi_bound is not None:
            high = min(high, hi_bound)
        if high <= low:
            high = low + 1
        right = n - 0.5 + max(1.6, n * 0.11)  # room for the limit tags
        pg_chart.setRange(xRange=(-0.7, right), yRange=(low, high), padding=0)
        for name, value in (("UPL", spc.upl), ("LPL", spc.lpl), ("Tgt", target)):
            tag = self.tags[name]
            tag.setVisible(value is not None and low <= value <= high)
            if value is not None:
                tag.setPos(n - 0.45, value)
        # Period labels: as many as fit, always the latest.
        width = pg_chart.width() or 600
        step = max(1, math.ceil(n * 52 / max(width - 60, 100)))
        shown = sorted(range(n - 1, -1, -step))
        pg_chart.getAxis("bottom").setTicks([[(float(i), labels[i]) for i in shown], []])
