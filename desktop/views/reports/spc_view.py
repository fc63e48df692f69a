"""The XmR chart of one KPI of a locality, in NHS England's Making Data Count style, drawn from the same SpcResult
and with the same colours, marker shapes and wording as the PDF report (reports/spc_chart, mdc_icons, through
reports/mdc_style): the points joined, the mean solid, the process limits dashed, the target dash-dot when the
chart has one; a special-cause point coloured AND shaped (square improvement, triangle concern, diamond neither)
so that colour is never the only cue. Under 13 points the limits are trial limits and there are no icons.

A recorded step change (models/kpi/rebases.py) splits the chart into segments, as on paper: each draws its mean
and limits over its own points, a dotted vertical marker stands where one starts, and the periods are named
above the plot. Under the chart the KPI's step changes are listed, each with its reason and a Remove button,
beside "Record a step change…"; the view only asks (signals), the page does the writing.

pyqtgraph is imported the first time a chart is drawn; the chart and its items are made once and then updated
in place."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...models.kpi.catalogue import UNIT_AXIS
from ...reports.charts import mdc_style
from ..kit.field_help import help_label
from ..kit.style import colours, paint_chart, still_chart
from ..kit.widgets import button_bar
from .spc_list_model import icon_pixmap

SYMBOLS = {"circle": "o", "square": "s", "triangle": "t1", "diamond": "d"}  # pyqtgraph's names for the shapes
AXIS_LABEL = UNIT_AXIS
RECORD = "&Record a step change…"
NOT_DRAWN = "not drawn yet: each level needs at least two periods of the chart"


def stat(kpi: Any, value: float) -> str:
    """A mean or limit as the PDF prints it (locality_report.stat): one decimal, even for a count."""
    return f"{value:,.1f}" + ("%" if kpi.unit == "percent" else "")


def short_labels(labels: Sequence[str], monthly: bool) -> list[str]:
    """Axis labels as the PDF's (locality_report._short): 'Oct 24' for a month, '26/27 Q2' for a quarter."""
    if monthly:
        return [f"{lab[:3]} {lab[-2:]}" if len(lab) >= 8 else lab for lab in labels]
    return [lab[2:] if len(lab) > 8 else lab for lab in labels]


def step_label(row: Any, step: dict[str, Any]) -> str:
    """The period a step change on the chart starts: 'Apr 2025'."""
    return mdc_style.step_label(row.labels[step["index"]], row.monthly)


def held_points(spc: Any) -> int:
    """The points the current limits come from: those since the last step change, else all."""
    return spc.segments[-1].end - spc.segments[-1].start if spc.segments else len(spc.points)


def caption(row: Any) -> str:
    """The line under the chart, as the PDF's: the span, the mean and the limits (clipped to what the measure
    can take; since the last step change, when there is one), the periods left off, and 'trial limits' under
    13 points."""
    r, spc = row, row.spc
    pct = r.kpi.unit == "percent"
    kind = "Monthly" if r.monthly else "Quarterly (signed-off returns)"
    since = f" since {step_label(r, r.rebases[-1])}" if r.rebases else ""
    text = (
        f"{kind}, {r.labels[0]} to {r.labels[-1]} ({len(r.labels)} points) · mean{since} {stat(r.kpi, spc.mean)} · "
        f"limits {stat(r.kpi, max(spc.lpl, 0))} to {stat(r.kpi, min(spc.upl, 100) if pct else spc.upl)}"
    )
    if r.gaps:
        unit = "month" if r.monthly else "quarter"
        text += f" · {r.gaps} {unit}{'' if r.gaps == 1 else 's'} without a value left off"
    if spc.trial_limits:
        text += f" · trial limits: only {held_points(spc)} points{since} (MDC fixes limits from 13); no icons"
    return text


def wording(row: Any) -> str:
    """The variation and assurance in words, as the PDF's exceptions page says them; why there is no
    assurance icon where it is withheld."""
    spc = row.spc
    if spc is None:
        return ""
    if spc.trial_limits:
        since = " since the last step change" if row.rebases else ""
        return f"Too few points ({held_points(spc)}{since}) for SPC icons."
    text = mdc_style.LABELS[spc.variation_icon] + " in the latest period"
    if spc.assurance_icon:
        words = mdc_style.LABELS[spc.assurance_icon]
        return f"{text}; {words[0].lower()}{words[1:]}."
    note = row.assurance_note or "no target on this chart"
    return f"{text}; no assurance icon: {mdc_style.brief(note)}."


def steps_said(row: Any) -> str:
    """The step changes on the chart in a sentence, for its accessible description; '' when there are none."""
    if not row.rebases:
        return ""
    said = "; ".join(f"from {step_label(row, r)}: {r['reason']}" for r in row.rebases)
    return f" Limits recalculated at {len(row.rebases)} step change{'s' if len(row.rebases) > 1 else ''} ({said})."


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
        f"<span style='color:{colours().chart_ink}'>┊</span> step change",
    ]
    return "&nbsp;&nbsp; ".join(parts)


class SpcView(QWidget):
    record_requested = Signal()  # "Record a step change…" on the KPI shown
    remove_requested = Signal(dict)  # Remove beside a recorded step change (its kpi_rebases row)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("spcView")
        self.row: Any = None
        self.chart = None
        self.may_record, self.why_not = True, ""
        self.step_items: list[Any] = []  # the chart's markers and segment names, made afresh per chart
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
        layout.addWidget(self._build_steps())
        self.note = help_label("")
        layout.addWidget(self.note, 1, Qt.AlignmentFlag.AlignTop)
        self.show_nothing("Choose a KPI in the list to see its chart.")

    def _build_steps(self) -> QWidget:
        """The KPI's step changes, each with its reason and Remove, and the button to record another."""
        self.steps = QWidget()
        self.steps.setObjectName("stepChanges")
        box = QVBoxLayout(self.steps)
        box.setContentsMargins(0, 4, 0, 0)
        box.setSpacing(4)
        top = button_bar()
        self.steps_heading = QLabel("Step changes")
        self.steps_heading.setObjectName("fieldLabel")
        self.record_button = QPushButton(RECORD)
        self.record_button.setObjectName("recordStepChange")
        self.record_button.setAccessibleName("Record a step change")
        self.record_button.clicked.connect(self.record_requested)
        top.addWidget(self.steps_heading)
        top.addStretch(1)
        top.addWidget(self.record_button)
        box.addLayout(top)
        self.steps_list = QVBoxLayout()
        self.steps_list.setContentsMargins(0, 0, 0, 0)
        self.steps_list.setSpacing(2)
        box.addLayout(self.steps_list)
        self.steps_none = help_label(
            "None recorded: the limits come from every point. Record a step change when the process itself "
            "changed (a new rota, a new matron, the team's start-up), and the limits are recalculated from then."
        )
        box.addWidget(self.steps_none)
        self.remove_buttons: list[QPushButton] = []
        return self.steps

    def set_permission(self, allowed: bool, why: str = "") -> None:
        """Whether the user may record and remove step changes, and why not (the buttons' tooltip)."""
        self.may_record, self.why_not = allowed, why
        for button in [self.record_button, *self.remove_buttons]:
            button.setEnabled(allowed)
        self.record_button.setToolTip(
            "Recalculate the limits from the date the process changed, with the reason printed under the chart"
            if allowed
            else why
        )
        for button in self.remove_buttons:
            button.setToolTip(button.property("tip") if allowed else why)

    def show_steps(self, row: Any, recorded: list[dict[str, Any]]) -> None:
        """List *recorded* (the KPI's kpi_rebases rows, oldest first); those on the chart by the period they
        start, the others saying why they are not drawn."""
        while self.steps_list.count():
            item = self.steps_list.takeAt(0)
            gone = item.widget()
            if gone is not None:
                gone.setParent(None)  # out of the panel now, deleted once the event loop runs
                gone.deleteLater()
        self.remove_buttons = []
        drawn = {r["id"]: r for r in row.rebases} if row is not None else {}
        for step in recorded:
            line = QWidget()
            line.setObjectName("stepChange")
            inner = QHBoxLayout(line)
            inner.setContentsMargins(0, 0, 0, 0)
            on_chart = drawn.get(step["id"])
            day = dt.date.fromisoformat(step["effective_on"])
            start = step_label(row, on_chart) if on_chart else f"{day:%d/%m/%Y}"
            words = f"Limits recalculated from {start}: {step['reason']}"
            if not on_chart:
                words += f" ({NOT_DRAWN})"
            label = QLabel(words)
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            remove = QPushButton("Remove")
            remove.setObjectName("removeStepChange")
            remove.setAccessibleName(f"Remove the step change from {start}")
            remove.setProperty("tip", f"Take away the step change from {day:%d/%m/%Y}: the limits run on across it")
            remove.clicked.connect(lambda _checked=False, s=step: self.remove_requested.emit(dict(s)))
            inner.addWidget(label, 1)
            inner.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)
            self.steps_list.addWidget(line)
            self.remove_buttons.append(remove)
        self.steps_none.setVisible(not recorded)
        self.set_permission(self.may_record, self.why_not)

    # -- states -------------------------------------------------------------------------------------------
    def show_nothing(self, text: str) -> None:
        self.row = None
        self.heading.setText("")
        self.heading.setVisible(False)
        self.steps.hide()
        for widget in (self.words, self.caption, self.legend, self.variation_icon, self.assurance_icon):
            widget.hide()
        if self.chart is not None:
            self.chart.hide()
        self.note.setText(text)
        self.note.show()

    def show_row(self, row: Any, recorded: list[dict[str, Any]] | None = None) -> None:
        """Draw the chart of *row* (a locality_figures.KpiRow) and list the KPI's step changes: *recorded*, all
        of them as rebases.listing gives them; by default those on the chart."""
        self.row = row
        self.heading.setText(f"{row.kpi.code} {row.kpi.name}")
        self.heading.setVisible(True)
        self.show_steps(row, list(row.rebases) if recorded is None else recorded)
        self.steps.show()
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

        chart = self.chart = still_chart("spcChart")
        chart.setMinimumHeight(220)
        self.chart_box.addWidget(chart)
        self.upl_line = chart.plot([], [], pen=pg.mkPen(mdc_style.COMMON, width=1.3, style=Qt.PenStyle.DashLine))
        self.lpl_line = chart.plot([], [], pen=pg.mkPen(mdc_style.COMMON, width=1.3, style=Qt.PenStyle.DashLine))
        self.mean_line = chart.plot([], [], pen=pg.mkPen(colours().chart_ink, width=1.3))
        # The segments before the last step change: each over its own points, broken between (NaN gaps).
        dashed = pg.mkPen(mdc_style.COMMON, width=1.3, style=Qt.PenStyle.DashLine)
        self.past_upl = chart.plot([], [], pen=dashed, connect="finite")
        self.past_lpl = chart.plot([], [], pen=dashed, connect="finite")
        self.past_mean = chart.plot([], [], pen=pg.mkPen(colours().chart_ink, width=1.3), connect="finite")
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
            self.past_mean.setPen(pg.mkPen(colours().chart_ink, width=1.3))
            self.legend.setText(legend_html())
        spc, kpi = row.spc, row.kpi
        n = len(spc.points)
        values = [p.value for p in spc.points]
        xs = np.arange(n, dtype=float)
        pct = kpi.unit == "percent"
        since = f" since {step_label(row, row.rebases[-1])}" if row.rebases else ""
        pg_chart.setAccessibleName(
            f"SPC chart of {kpi.code} {kpi.name}: {n} points, mean{since} {stat(kpi, spc.mean)}, "
            f"limits {stat(kpi, spc.lpl)} to {stat(kpi, spc.upl)}. {wording(row)}{steps_said(row)}"
        )
        pg_chart.setLabel("left", AXIS_LABEL[kpi.unit], color=colours().secondary)
        segments = spc.segments or ()
        last_start = segments[-1].start if segments else 0
        ends = [last_start - 0.5 + (0.08 if last_start else 0), n - 0.5]
        self.upl_line.setData(ends, [spc.upl] * 2)
        self.lpl_line.setData(ends, [spc.lpl] * 2)
        self.mean_line.setData(ends, [spc.mean] * 2)
        self._draw_past(segments[:-1])
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
        lines = [v for g in segments or [spc] for v in (g.mean, g.upl, g.lpl)] + (
            [target] if target is not None else []
        )
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
        if len(segments) > 1:  # a line of room above the points for the segments' names
            high += 0.12 * (high - low)
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
        self._draw_steps(row, segments, high)

    def _draw_past(self, past: Sequence[Any]) -> None:
        """The mean and limits of each segment before the last, over its own points, a gap before the next."""
        xs: list[float] = []
        series: dict[str, list[float]] = {"upl": [], "lpl": [], "mean": []}
        for g in past:
            xs += [g.start - 0.5 + (0.08 if g.start else 0), g.end - 0.5 - 0.08, math.nan]
            for name in series:
                series[name] += [getattr(g, name)] * 2 + [math.nan]
        for item, name in ((self.past_upl, "upl"), (self.past_lpl, "lpl"), (self.past_mean, "mean")):
            item.setData(xs, series[name])

    def _draw_steps(self, row: Any, segments: Sequence[Any], top: float) -> None:
        """A dotted vertical marker at each step change and the segments named along the top of the plot."""
        pg, chart = self._pg, self.chart
        for item in self.step_items:
            chart.removeItem(item)
        self.step_items = []
        if len(segments) < 2:
            return
        labels = short_labels(row.labels, row.monthly)
        for g in segments:
            if g.start:
                marker = pg.InfiniteLine(
                    pos=g.start - 0.5,
                    angle=90,
                    movable=False,
                    pen=pg.mkPen(colours().chart_ink, width=1.2, style=Qt.PenStyle.DotLine),
                )
                chart.addItem(marker)
                self.step_items.append(marker)
            name = pg.TextItem(
                "Baseline" if not g.start else f"From {labels[g.start]}", color=colours().secondary, anchor=(0, 0)
            )
            name.setPos(g.start - 0.45, top)
            chart.addItem(name)
            self.step_items.append(name)
