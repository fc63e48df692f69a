"""The teams' outcome estimates on a forest plot (issue 27): for the quarter shown and the outcome chosen, each team
whose return estimated it is a row, its difference-in-differences estimate a square and its 95 % interval a line,
around a zero line, sorted from the largest fall in use to the largest rise. Teams whose return says too few joiners
or not measured, and teams with no return, are listed beneath rather than drawn: an interval that is not there
cannot be compared.

The figures come from desktop.models.kpi.return_outcomes (views hold no SQL); pyqtgraph is imported the first time
a plot is drawn, as for the screen's other comparison charts."""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...models.kpi import return_outcomes
from ...models.kpi.return_outcomes import Forest
from ...models.quarters import Quarter, parse
from ..kit.field_help import help_label
from ..kit.style import NHS_BLUE, NHS_DARK_BLUE, colours, paint_chart
from .comparison_charts import _chart, _set_label

ROW_PIXELS = 24  # per team: eleven rows and the axis fit the tab without crowding the codes
UNITS = {
    "emergency_admissions": "admissions",
    "ae_attendances": "attendances",
    "emergency_bed_days": "bed days",
    "cost": "£",
}


def figure(value: float, outcome: str) -> str:
    """A change as the plot's text gives it: signed, £ whole for cost, two decimals for the rest."""
    if outcome == "cost":
        return f"{'−' if value < 0 else '+' if value > 0 else ''}£{abs(value):,.0f}"
    return f"{value:+.2f}".replace("-", "−")


def interval(row, outcome: str) -> str:
    return f"{figure(row.estimate, outcome)} ({figure(row.ci_low, outcome)} to {figure(row.ci_high, outcome)})"


class OutcomesForest(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("outcomesForest")
        self.db: sqlite_utils.Database | None = None
        self.quarter: Quarter | None = None
        self.forest: Forest | None = None
        self.chart = None  # made the first time there is a plot to draw
        self.intervals: dict[str, object] = {}  # locality code -> its interval's curve
        self.points = None
        self.zero_line = None
        self._stale = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 0, 0)
        layout.setSpacing(6)
        self.heading = QLabel("Outcomes of the teams' caseloads")
        self.heading.setObjectName("sectionTitle")
        self.heading.setWordWrap(True)
        layout.addWidget(self.heading)
        row = QHBoxLayout()
        self.chooser_label = QLabel("Outcome:")
        self.chooser = QComboBox()
        self.chooser.setObjectName("forestOutcome")
        self.chooser.setAccessibleName("Outcome on the forest plot")
        self.chooser.setToolTip("The hospital use compared across the teams")
        self.chooser_label.setBuddy(self.chooser)
        self.chooser.currentIndexChanged.connect(lambda _n: self._draw())
        row.addWidget(self.chooser_label)
        row.addWidget(self.chooser, 1)
        layout.addLayout(row)
        self.note = help_label("")
        layout.addWidget(self.note)
        self.plot_box = QVBoxLayout()
        layout.addLayout(self.plot_box, 1)
        self.others = help_label("")
        self.others.setObjectName("forestOthers")
        self.others.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.others)
        layout.addStretch(0)

    # -- what is shown ----------------------------------------------------------------------------------------
    def set_quarter(self, db: sqlite_utils.Database, quarter: Quarter) -> None:
        """Show *quarter*'s returns: now if the plot is on screen, else the next time it is."""
        self.db, self.quarter = db, quarter
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        if self.db is None or self.quarter is None:
            return
        self._stale = False
        choices = return_outcomes.outcomes_held(self.db, self.quarter)
        wanted = self.chooser.currentData()
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for outcome in choices:
            self.chooser.addItem(return_outcomes.label(outcome), outcome)
        if wanted in choices:
            self.chooser.setCurrentIndex(choices.index(wanted))
        self.chooser.blockSignals(False)
        self.chooser.setEnabled(bool(choices))
        if not choices:
            self.show_empty(self.quarter)
            return
        self._draw()

    def _draw(self) -> None:
        outcome = self.chooser.currentData()
        if self.db is None or self.quarter is None or outcome is None:
            return
        self.show_forest(return_outcomes.forest(self.db, self.quarter, outcome))

    def show_empty(self, quarter: Quarter) -> None:
        self.forest = None
        self.heading.setText(f"Outcomes of the teams' caseloads, {quarter.label}")
        self.note.setText(
            f"No return held for {quarter.label} carries outcome estimates. A team's return carries them once its "
            "risk extracts give each patient's hospital use (emergency admissions, A&E attendances, bed days or "
            "cost) and a year of follow-up has passed since the patients it evaluates joined the caseload."
        )
        self.others.hide()
        if self.chart is not None:
            self.chart.hide()

    def show_forest(self, forest: Forest) -> None:
        self.forest = forest
        quarter, outcome = forest.quarter, forest.outcome
        self.heading.setText(f"{forest.label}: the teams' estimates, {quarter.label} returns")
        joiners = parse(forest.joining_quarter).label if forest.joining_quarter else "the quarter"
        unit = UNITS.get(outcome, "")
        self.note.setText(
            f"Patients who joined a caseload in {joiners}, followed up for {forest.follow_up_quarters or 4} "
            f"quarters. Each row is a team: the square is its estimated change per patient over a year ({unit}) "
            "against matched cohort patients who did not join, the line its 95% interval. Left of "
            "the zero line the caseload used less; an interval that crosses zero shows no change. Observational: "
            "what the matching cannot see may still bias an estimate."
        )
        self.others.setText(self._others_text(forest))
        self.others.setVisible(bool(self.others.text()))
        if not forest.rows:
            if self.chart is not None:
                self.chart.hide()
            self.note.setText(
                self.note.text() + f" No team's return has enough matched joiners to estimate this for {joiners}."
            )
            return
        self._plot(forest)

    @staticmethod
    def _others_text(forest: Forest) -> str:
        parts = []
        if forest.too_few:
            parts.append(
                "Too few joiners to estimate: "
                + ", ".join(f"{name} ({code}, {n} matched)" for code, name, n in forest.too_few)
                + "."
            )
        if forest.not_measured:
            parts.append("Not measured: " + ", ".join(f"{name} ({code})" for code, name in forest.not_measured) + ".")
        if forest.no_return:
            parts.append("No return held: " + ", ".join(f"{name} ({code})" for code, name in forest.no_return) + ".")
        return "\n".join(parts)

    # -- the plot -------------------------------------------------------------------------------------------
    def _plot(self, forest: Forest) -> None:
        import pyqtgraph as pg

        chart = self._chart()
        chart.show()
        if paint_chart(chart):
            self.zero_line.setPen(pg.mkPen(colours().chart_ink, width=1.2, style=Qt.PenStyle.DashLine))
        rows = forest.rows
        n = len(rows)
        ys = [float(n - 1 - i) for i in range(n)]  # the first row (the largest fall) at the top
        for code, line in self.intervals.items():
            line.setVisible(code in {r.code for r in rows})
        pen = pg.mkPen(NHS_BLUE, width=2.5)
        for row, y in zip(rows, ys, strict=True):
            line = self.intervals.get(row.code)
            if line is None:
                line = self.intervals[row.code] = chart.plot([], [], pen=pen)
            line.setData([row.ci_low, row.ci_high], [y, y])
            line.setVisible(True)
        self.points.setData(
            x=[r.estimate for r in rows],
            y=ys,
            data=[f"{r.name} ({r.code}): {interval(r, forest.outcome)}, {r.matched} matched" for r in rows],
        )
        chart.getAxis("left").setTicks([[(y, r.code) for r, y in zip(rows, ys, strict=True)], []])
        _set_label(chart, "bottom", f"Change per patient over a year ({UNITS.get(forest.outcome, '')})")
        low = min(0.0, *(r.ci_low for r in rows))
        high = max(0.0, *(r.ci_high for r in rows))
        pad = (high - low) * 0.06 or 1.0
        chart.setRange(xRange=(low - pad, high + pad), yRange=(-0.7, n - 0.3), padding=0)
        chart.setMinimumHeight(ROW_PIXELS * n + 60)
        chart.setAccessibleName(
            f"Forest plot of {forest.label.lower()} in the {forest.quarter.label} returns: "
            f"{n} team{'s' if n != 1 else ''} estimated"
        )
        chart.setAccessibleDescription(self.described(rows, forest.outcome))
        chart.setToolTip(self.described(rows, forest.outcome).replace("; ", "\n"))

    @staticmethod
    def described(rows: Sequence, outcome: str) -> str:
        """The plot in words, top row first, for a screen reader and the tooltip."""
        return "; ".join(f"{r.code} {interval(r, outcome)}" for r in rows)

    def _chart(self):
        """The plot and its items, made once and then updated in place."""
        if self.chart is not None:
            return self.chart
        import pyqtgraph as pg

        chart = self.chart = _chart("forestChart")
        chart.showGrid(x=True, y=False, alpha=0.15)
        chart.getAxis("bottom").enableAutoSIPrefix(False)  # "(x0.001)" under admissions per patient misleads
        # Reached with Tab, so a screen reader can read the teams' estimates from its description.
        chart.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.plot_box.addWidget(chart)
        self.zero_line = pg.InfiniteLine(
            pos=0.0, angle=90, pen=pg.mkPen(colours().chart_ink, width=1.2, style=Qt.PenStyle.DashLine)
        )
        chart.addItem(self.zero_line)
        self.points = pg.ScatterPlotItem(
            symbol="s",
            size=10,
            brush=pg.mkBrush(NHS_DARK_BLUE),
            pen=pg.mkPen(NHS_DARK_BLUE),
            hoverable=True,
            tip=lambda x, y, data: data,
        )
        self.points.setZValue(10)
        chart.addItem(self.points)
        return chart

    def estimated_codes(self) -> list[str]:
        """The teams drawn, top row first."""
        return [r.code for r in self.forest.rows] if self.forest else []
