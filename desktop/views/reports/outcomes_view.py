"""The Outcomes section of the Reports screen (issue 27): for the chosen locality and quarter, the patients who joined
the caseload four quarters before, against a matched comparison group, as the locality report's Outcomes page
shows them and in its words (reports/outcomes_page.py).

One outcome at a time, chosen in a list: the estimate with its 95 % interval beside the naive before/after change,
the numbers matched and unmatched, a chart of the two groups' mean use around joining, the estimate per
intervention type (a table that sorts), the balance table and the caveats. When nothing can be evaluated the section
says why in a sentence instead.

The evaluation reads every risk run of the locality, so it is worked out on a worker thread with its own connection
(tasks.start_quiet) and kept per (locality, quarter) until something is written; pyqtgraph is imported the first
time a chart is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ...models.quarters import Quarter
from ..kit import tasks
from ..kit.field_help import help_label
from ..kit.session import Session
from ..kit.style import colours, paint_chart, still_chart
from ..kit.tables import SMALL_ROW_HEIGHT, list_table

if TYPE_CHECKING:
    from ...models.outcomes.evaluation import Evaluation, OutcomeResult

TITLE = "Outcomes: did the team's work change hospital use?"
WORKING = "Working out the outcomes…"
CASELOAD = "#005EB8"  # NHS blue, as on paper (reports/charts/outcomes.py)
COMPARISON_LIGHT, COMPARISON_DARK = "#231F20", "#E8EDEE"  # the comparison's ink: dark on white, light on dark
FOLLOW_UP_SHADE = (118, 134, 146, 40)  # NHS mid grey, faint: the follow-up quarters
INTERVENTION_COLUMNS = ("Intervention", "Joiners", "Matched", "Estimate", "95% CI", "Before/after alone")
BALANCE_COLUMNS = (
    "Covariate",
    "Level",
    "Joiners",
    "All eligible",
    "Matched joiners",
    "Comparison",
    "SMD before",
    "SMD after",
)
SORT = Qt.ItemDataRole.UserRole + 1  # the number a column sorts by; the text is what is shown


def _words() -> ModuleType:
    """The report's Outcomes wording (reports/outcomes_page.py), imported when first needed: it brings reportlab and
    numpy, which the screen's first paint should not wait for, and the worker has loaded them by then."""
    from ...reports import outcomes_page

    return outcomes_page


def _item(text: str, sort: float | str | None = None) -> QStandardItem:
    item = QStandardItem(text)
    item.setEditable(False)
    item.setData(text if sort is None else sort, SORT)
    return item


def intervention_rows(r: OutcomeResult) -> list[list[QStandardItem]]:
    """The per-intervention table's rows; a group too small to estimate sorts after every estimate."""
    words, rows = _words(), []
    for g in r.by_intervention:
        e = g.result
        rows.append(
            [
                _item(g.intervention or ""),
                _item(f"{e.treated:,}", e.treated),
                _item(f"{e.matched:,}", e.matched),
                _item(
                    "too few" if e.too_few else words.number(r.outcome, e.estimate, signed=True),
                    math.inf if e.too_few else e.estimate,
                ),
                _item(
                    "—" if e.too_few else words.interval(r.outcome, e.ci_low, e.ci_high),
                    math.inf if e.too_few else e.ci_low,
                ),
                _item(words.naive_text(r.outcome, e), math.inf if e.naive_estimate is None else e.naive_estimate),
            ]
        )
    return rows


def balance_rows(r: OutcomeResult) -> list[list[QStandardItem]]:
    words, rows = _words(), []
    for b in r.balance:
        level = b.level if b.level is not None else f"mean ({words.UNITS[r.outcome]})"
        after = _item(words.smd(b.smd_after))
        if b.smd_after is None or abs(b.smd_after) >= words.BALANCED:
            after.setText(f"{after.text()} (imbalanced)")  # said in words, not by colour alone
        rows.append(
            [
                _item(b.covariate),
                _item(level),
                _item(words.share(b, b.treated)),
                _item(words.share(b, b.controls)),
                _item(words.share(b, b.treated_matched)),
                _item(words.share(b, b.controls_matched)),
                _item(words.smd(b.smd_before)),
                after,
            ]
        )
    return rows


def chart_description(r: OutcomeResult, follow_up: int) -> str:
    """What the chart shows, for a screen reader: the two lines' first and last values."""
    words = _words()

    def ends(values: list[float | None]) -> str:
        held = [v for v in values if v is not None]
        if not held:
            return "no values"
        return f"{words.number(r.outcome, held[0])} to {words.number(r.outcome, held[-1])}"

    quarters = [p.quarter for p in r.series]
    return (
        f"Chart of mean {words.LABELS[r.outcome].lower()} per patient ({words.UNITS[r.outcome]}) from "
        f"{quarters[0]} to +{quarters[-1]} quarters around joining, follow-up shaded to +{follow_up}: caseload "
        f"{ends([p.treated for p in r.series])}; comparison group {ends([p.controls for p in r.series])}."
    )


def scrolled(view: QWidget) -> QScrollArea:
    """*view* in a frameless scroll area: the chart and the two tables are taller than the tab."""
    area = QScrollArea()
    area.setObjectName("outcomesScroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(view)
    return area


class OutcomesView(QWidget):
    """The section: loads the evaluation of a (locality, quarter) in the background and shows it."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("outcomesView")
        self.session = session
        self.cache: dict[tuple[str, str], Evaluation] = {}
        self.loading: set[tuple[str, str]] = set()
        self.key: tuple[str, str] | None = None
        self.evaluation: Evaluation | None = None
        self.chart = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 12, 8)
        layout.setSpacing(6)
        self.title = QLabel(TITLE)
        self.title.setObjectName("sectionTitle")
        layout.addWidget(self.title)
        self.state = help_label("")
        self.state.setObjectName("outcomesState")
        layout.addWidget(self.state)
        self.body = QWidget()
        layout.addWidget(self.body)
        layout.addStretch(1)
        self._build_body()
        self.show_state("Choose a locality in the tool bar to see its outcomes.")

    def _build_body(self) -> None:
        box = QVBoxLayout(self.body)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.who = help_label("")
        box.addWidget(self.who)
        row = QHBoxLayout()
        label = QLabel("Ou&tcome")
        self.choice = QComboBox()
        self.choice.setObjectName("outcomeChoice")
        self.choice.setAccessibleName("Outcome shown")
        label.setBuddy(self.choice)
        self.choice.currentIndexChanged.connect(self.show_outcome)
        row.addWidget(label)
        row.addWidget(self.choice)
        row.addStretch(1)
        box.addLayout(row)
        self.headline = QLabel()
        self.headline.setObjectName("outcomesHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.headline)
        self.counts = help_label("")
        box.addWidget(self.counts)
        self.chart_box = QVBoxLayout()
        self.chart_box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(self.chart_box)
        self.legend = help_label("")
        box.addWidget(self.legend)
        self.note = help_label("")  # why this outcome has no estimate, in place of the chart and tables
        box.addWidget(self.note)
        self.groups_heading = QLabel("By intervention type")
        self.groups_heading.setObjectName("fieldLabel")
        box.addWidget(self.groups_heading)
        self.groups_model = QStandardItemModel(0, len(INTERVENTION_COLUMNS), self)
        self.groups_model.setHorizontalHeaderLabels(list(INTERVENTION_COLUMNS))
        self.groups_model.setSortRole(SORT)
        self.groups = list_table(self.groups_model, "outcomesByIntervention", [])
        self.groups.setAccessibleName("Estimates by intervention type; sort by clicking a column heading")
        self.groups.setSortingEnabled(True)
        self.groups.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # A to Z until a heading is clicked
        self.groups.verticalHeader().setDefaultSectionSize(SMALL_ROW_HEIGHT)
        box.addWidget(self.groups)
        self.balance_heading = QLabel("Balance before and after matching")
        self.balance_heading.setObjectName("fieldLabel")
        box.addWidget(self.balance_heading)
        self.balance_model = QStandardItemModel(0, len(BALANCE_COLUMNS), self)
        self.balance_model.setHorizontalHeaderLabels(list(BALANCE_COLUMNS))
        self.balance = list_table(self.balance_model, "outcomesBalance", [])
        self.balance.setAccessibleName("Balance table: each covariate's share in each group, and the SMD")
        self.balance.verticalHeader().setDefaultSectionSize(SMALL_ROW_HEIGHT)
        box.addWidget(self.balance)
        self.caveats = help_label("")
        self.caveats.setObjectName("outcomesCaveats")
        box.addWidget(self.caveats)

    # -- loading ------------------------------------------------------------------------------------------
    @property
    def is_loading(self) -> bool:
        return bool(self.loading)

    def forget(self) -> None:
        """Something was written: every evaluation is worked out again when next shown."""
        self.cache.clear()

    def show_for(self, locality: Mapping[str, Any] | None, quarter: Quarter) -> None:
        """Show the evaluation the report for *quarter* prints for *locality*, loading it if need be."""
        if locality is None:
            self.key = None
            self.show_state("Choose a locality in the tool bar to see its outcomes.")
            return
        key = self.key = (locality["id"], quarter.code)
        if key in self.cache:
            self.show_evaluation(self.cache[key])
            return
        self.show_state(WORKING)
        if key in self.loading:
            return
        self.loading.add(key)
        tasks.start_quiet(
            self.session.path,
            lambda db, _progress, _cancel: (key, _words().for_report(db, key[0], quarter)),
            self._loaded,
            self._failed,
        )

    @Slot(object)
    def _loaded(self, outcome: tuple[tuple[str, str], Evaluation]) -> None:
        if self.session.closed:  # the window moved to another workspace, or closed, while it loaded
            return
        key, evaluation = outcome
        self.loading.discard(key)
        self.cache[key] = evaluation
        if key == self.key:
            self.show_evaluation(evaluation)

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        if self.session.closed:
            return
        self.loading.clear()
        self.show_state(f"The outcomes could not be worked out: {exc}")

    # -- showing ------------------------------------------------------------------------------------------
    def show_state(self, text: str) -> None:
        """The empty state: a sentence saying what is missing, and nothing else."""
        self.evaluation = None
        self.body.hide()
        self.state.setText(text)
        self.state.show()

    def show_evaluation(self, evaluation: Evaluation) -> None:
        from ...models.outcomes.evaluation import CAVEATS

        words = _words()
        reason = words.why_not(evaluation)
        if reason:
            self.show_state(f"{words.who(evaluation)}\n\n{reason}")
            self.evaluation = evaluation
            return
        chosen = self.choice.currentData()
        self.evaluation = evaluation
        self.state.hide()
        self.body.show()
        self.who.setText(words.who(evaluation))
        self.caveats.setText(" ".join(CAVEATS))
        self.choice.blockSignals(True)
        self.choice.clear()
        for r in evaluation.outcomes:
            self.choice.addItem(words.LABELS[r.outcome], r.outcome)
        # The outcome chosen stays chosen across localities and quarters; else the first with an estimate.
        names = [r.outcome for r in evaluation.outcomes]
        first = next((n for n, r in enumerate(evaluation.outcomes) if not r.overall.too_few), 0)
        self.choice.setCurrentIndex(names.index(chosen) if chosen in names else first)
        self.choice.blockSignals(False)
        self.show_outcome(self.choice.currentIndex())

    def show_outcome(self, index: int) -> None:
        if self.evaluation is None or not 0 <= index < len(self.evaluation.outcomes):
            return
        words = _words()
        r = self.evaluation.outcomes[index]
        o = r.overall
        estimated = not o.too_few
        for widget in (self.groups_heading, self.groups, self.balance_heading, self.balance, self.legend):
            widget.setVisible(estimated)
        if self.chart is not None:
            self.chart.setVisible(estimated)
        self.note.setVisible(not estimated)
        if not estimated:
            self.headline.setText(f"{words.LABELS[r.outcome]}: too few to estimate")
            self.counts.setText(words.counts_text(r))
            self.note.setText(words.not_estimated(r))
            return
        self.headline.setText(
            f"<b>Estimate {words.estimate_text(r.outcome, o)}</b> {words.UNITS[r.outcome]} per patient, against "
            f"<b>{words.naive_text(r.outcome, o)}</b> before/after alone. {words.reading(r)}"
        )
        self.counts.setText(words.counts_text(r))
        self._fill(self.groups_model, intervention_rows(r))
        header = self.groups.horizontalHeader()  # the order the user chose holds for every outcome and quarter
        self.groups.sortByColumn(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._fill(self.balance_model, balance_rows(r))
        for table in (self.groups, self.balance):
            table.resizeColumnsToContents()
            rows = table.model().rowCount()
            table.setFixedHeight(table.horizontalHeader().height() + rows * SMALL_ROW_HEIGHT + 2 * table.frameWidth())
        self._draw(r, self.evaluation.follow_up_quarters)

    @staticmethod
    def _fill(model: QStandardItemModel, rows: list[list[QStandardItem]]) -> None:
        model.removeRows(0, model.rowCount())
        for row in rows:
            model.appendRow(row)

    # -- the chart ----------------------------------------------------------------------------------------------
    def _chart(self):
        if self.chart is not None:
            return self.chart
        import pyqtgraph as pg

        chart = self.chart = still_chart("outcomesChart")
        chart.getAxis("left").enableAutoSIPrefix(False)  # 0.35 admissions, not 350 × 0.001
        chart.setLabel("bottom", "quarters from joining", color=colours().secondary)
        # Its own height, a little over a third of a laptop screen: in the tab's scroll area it would take it all.
        chart.setFixedHeight(max(240, chart.fontMetrics().lineSpacing() * 16))
        self.shade = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(*FOLLOW_UP_SHADE), pen=pg.mkPen(None))
        chart.addItem(self.shade)
        self.joined = pg.InfiniteLine(
            pos=0, angle=90, movable=False, pen=pg.mkPen(colours().secondary, width=1, style=Qt.PenStyle.DotLine)
        )
        chart.addItem(self.joined)
        self.comparison_line = chart.plot([], [], connect="finite")
        self.caseload_line = chart.plot([], [], connect="finite")
        self.chart_box.addWidget(chart)
        self._pg = pg
        return chart

    def _draw(self, r: OutcomeResult, follow_up: int) -> None:
        words, chart = _words(), self._chart()
        pg = self._pg
        paint_chart(chart)
        ink = COMPARISON_DARK if colours().name == "dark" else COMPARISON_LIGHT
        xs = [float(p.quarter) for p in r.series]
        nan = float("nan")
        self.caseload_line.setData(
            xs,
            [nan if p.treated is None else p.treated for p in r.series],
            pen=pg.mkPen(CASELOAD, width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush=pg.mkBrush(CASELOAD),
            symbolPen=pg.mkPen(None),
        )
        self.comparison_line.setData(
            xs,
            [nan if p.controls is None else p.controls for p in r.series],
            pen=pg.mkPen(ink, width=1.6, style=Qt.PenStyle.DashLine),
            symbol="s",
            symbolSize=7,
            symbolBrush=pg.mkBrush(colours().chart_background),
            symbolPen=pg.mkPen(ink, width=1.2),
        )
        self.shade.setRegion((0, follow_up))
        values = [v for p in r.series for v in (p.treated, p.controls) if v is not None]
        high = max(values) if values else 1.0
        chart.setRange(xRange=(xs[0] - 0.4, xs[-1] + 0.4), yRange=(0, high * 1.08 or 1.0), padding=0)
        chart.getAxis("bottom").setTicks([[(x, f"{int(x):+d}" if x else "0") for x in xs], []])
        chart.setLabel("left", words.UNITS[r.outcome], color=colours().secondary)
        chart.setAccessibleName(chart_description(r, follow_up))
        self.legend.setText(
            f"<span style='color:{CASELOAD}'>━●━</span> caseload (matched joiners) &nbsp;&nbsp; "
            f"<span style='color:{ink}'>╌■╌</span> comparison group (weighted) &nbsp;&nbsp; "
            "shaded: the follow-up quarters; dotted: joining"
        )
