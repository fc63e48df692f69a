"""A patient's risk across the locality's runs (cohort.history): a small table, and a line of eFI deficits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..kit import formats
from ..kit.field_help import help_label
from ..kit.style import NHS_BLUE, colours, paint_chart
from ..kit.tables import records_table
from .chips import chips_for

HEADINGS = ("Extract", "eFI", "LTCs", "Cost", "Criteria")


class HistoryView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(6)
        self.note = help_label("")
        layout.addWidget(self.note)
        self.table = records_table("riskHistory", "Risk in each imported extract", HEADINGS)
        self.table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.table, 1)
        self.chart_holder = QVBoxLayout()
        layout.addLayout(self.chart_holder)
        self.chart = None  # pyqtgraph is imported the first time there is a line to draw

    def set_history(self, rows: Sequence[Mapping[str, Any]], ltc_min: int, bands: tuple[int, int] = (9, 13)) -> None:
        """*bands*: the deficits where moderate and severe frailty start, drawn as lines on the chart."""
        self.table.setRowCount(len(rows))
        for r, h in enumerate(reversed(rows)):  # newest first, as people read a record
            in_cohort = h["in_cohort"]
            criteria = ", ".join(c.text for c in chips_for(h["criteria"] or "", ltc_min)) if in_cohort else ""
            change = h["change"] or ("" if in_cohort else "not in the cohort")
            cells = (
                formats.date(h["extract_date"]),
                "" if h["efi_deficits"] is None else str(h["efi_deficits"]),
                "" if h["ltc_count"] is None else str(h["ltc_count"]),
                "" if h["cost_ratio"] is None else formats.ratio(h["cost_ratio"]),
                " · ".join(t for t in (criteria, change) if t),
            )
            why = _change(h)  # the detail ("eFI moderate → severe") is long: it is the whole row's tooltip
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(why or None)
                self.table.setItem(r, c, item)
        self.note.setText(
            "Not in any imported extract yet."
            if not rows
            else f"In {sum(1 for h in rows if h['in_cohort'])} of the {len(rows)} extracts since they "
            "first joined the cohort; newest first."
        )
        self._plot([h for h in rows if h["efi_deficits"] is not None], bands)

    def _plot(self, points: Sequence[Mapping[str, Any]], bands: tuple[int, int]) -> None:
        if len(points) < 2:
            if self.chart is not None:
                self.chart.hide()
            return
        if self.chart is None:
            self.chart = _make_chart()
            self.chart_holder.addWidget(self.chart)
        self.chart.show()
        paint_chart(self.chart)
        days = [dt.datetime.fromisoformat(p["extract_date"]).replace(tzinfo=dt.UTC).timestamp() for p in points]
        values = [p["efi_deficits"] for p in points]
        self.chart.clear()
        import pyqtgraph as pg

        for deficits, label in zip(bands, ("moderate", "severe"), strict=True):
            line = pg.InfiniteLine(
                pos=deficits,
                angle=0,
                movable=False,
                pen=pg.mkPen(colours().secondary, width=1, style=Qt.PenStyle.DashLine),
                label=f"{label} frailty",
                labelOpts={"position": 0.02, "color": colours().secondary, "anchors": [(0, 1), (0, 1)]},
            )
            self.chart.addItem(line)
        self.chart.plot(
            days,
            values,
            pen=pg.mkPen(NHS_BLUE, width=2),
            symbol="o",
            symbolSize=6,
            symbolBrush=NHS_BLUE,
            symbolPen=None,
        )
        self.chart.setYRange(0, max(bands[1] + 4, max(values) + 2), padding=0)


def _change(h: Mapping[str, Any]) -> str:
    change = h["change"] or ""
    detail = h["detail"] or ""
    if change and detail:
        return f"{formats.sentence_case(change)}: {detail}"
    return formats.sentence_case(change or detail)


def _make_chart():
    import pyqtgraph as pg

    chart = pg.PlotWidget(
        background=colours().chart_background, axisItems={"bottom": pg.DateAxisItem(orientation="bottom")}
    )
    chart.setObjectName("efiChart")
    chart.setAccessibleName("eFI deficits in each extract")
    chart.setFixedHeight(130)
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.hideButtons()
    chart.showGrid(y=True, alpha=0.15)
    chart.setLabel("left", "eFI deficits", color=colours().secondary)
    for axis in ("left", "bottom"):
        chart.getAxis(axis).setTextPen(colours().secondary)
        chart.getAxis(axis).setPen(colours().secondary)
    return chart
