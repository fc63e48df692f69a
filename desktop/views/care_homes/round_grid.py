"""The home-round grid: homes down, the quarter's weeks across, a weekly home round held (✓ on green) or
missed (✗ on red) in each cell, and each home's coverage. The text marker carries the meaning; the tint
only helps the eye."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ...models import clock
from ..kit import formats
from ..kit.style import colours
from ..kit.table_model import ID_ROLE, Column, Index, RowsModel

HELD, MISSED, THIS_WEEK, NOT_YET = "✓", "✗", "…", ""
STATE_ROLE = Qt.ItemDataRole.UserRole + 3


class RoundGridModel(RowsModel):
    """A row per home; column 0 the home, then one column per week of the quarter, then "covered / due"."""

    def __init__(self, parent=None):
        super().__init__((), parent)
        self.weeks: list[dt.date] = []
        self.started = self.finished = 0  # weeks of the quarter begun and over by today (visits.week_progress)
        self.gaps: dict[str, list[str]] = {}
        self.today = clock.today()

    def set_grid(self, grid: dict[str, Any], gaps: list[dict[str, Any]], today: dt.date) -> None:
        with self.resetting():
            self.weeks = list(grid["weeks"])
            self.started, self.finished = grid["started"], grid["finished"]
            self._rows = list(grid["homes"])
            self.gaps = {g["id"]: list(g["problems"]) for g in gaps}
            self.today = today
            centred = Qt.AlignmentFlag.AlignCenter
            weeks = [
                Column(
                    week.isoformat(),
                    f"{week.day}\n{week:%b}",
                    tip=f"The week of Monday {formats.date(week)}",
                    align=centred,
                )
                for week in self.weeks
            ]
            # An empty quarter with no homes has no columns at all, not even the home's.
            self.columns = (
                [Column("home", "Care home"), *weeks, Column("coverage", "Covered\n/ due", align=centred)]
                if self._rows or self.weeks
                else []
            )

    # -- what a cell means ---------------------------------------------------------------------------------
    def week_of(self, column: int) -> dt.date | None:
        return self.weeks[column - 1] if 1 <= column <= len(self.weeks) else None

    def is_week(self, column: int) -> bool:
        return self.week_of(column) is not None

    def coverage_column(self) -> int:
        return len(self.weeks) + 1

    def home(self, row: int) -> dict[str, Any]:
        return self.record(row)

    def visit_ids(self, row: int, column: int) -> list[str]:
        return list(self.home(row)["cells"][column - 1]) if self.is_week(column) else []

    def state(self, row: int, column: int) -> str | None:
        """HELD, MISSED, THIS_WEEK (begun, no round yet) or NOT_YET for a week cell; None for the home and
        coverage columns. This week is not a miss until it is over."""
        week = self.week_of(column)
        if week is None:
            return None
        if self.home(row)["cells"][column - 1]:
            return HELD
        if column - 1 >= self.started:
            return NOT_YET
        return MISSED if column - 1 < self.finished else THIS_WEEK

    # -- QAbstractTableModel -------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        row, column = index.row(), index.column()
        home = self.home(row)
        if role == ID_ROLE:
            return home["id"]
        if column == 0:
            return self._home_data(home, role)
        if column == self.coverage_column():
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{home['covered']} / {home['due']}"
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return Qt.AlignmentFlag.AlignCenter
            if role == Qt.ItemDataRole.ToolTipRole:
                return (
                    f"Weekly home rounds held in {home['covered']} of the {home['due']} weeks begun "
                    "so far this quarter (this week included)"
                )
            return None
        state = self.state(row, column)
        if role == STATE_ROLE:
            return state
        if role == Qt.ItemDataRole.DisplayRole:
            held = len(home["cells"][column - 1])
            return f"{HELD} {held}" if held > 1 else state
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.BackgroundRole:
            return {HELD: colours().rag["G"], MISSED: colours().rag["R"]}.get(state)  # tints behind text
        if role == Qt.ItemDataRole.ForegroundRole and state in (HELD, MISSED):
            return QColor(colours().text)
        if role == Qt.ItemDataRole.ToolTipRole:
            week = formats.date(self.week_of(column))
            if state == HELD:
                return f"Home round held in the week of {week}: Enter or click to see it"
            if state == MISSED:
                return f"No home round in the week of {week}: Enter or click to log a visit"
            if state == THIS_WEEK:
                return "This week: no home round logged yet. Enter or click to log one"
            return f"The week of {week} has not begun"
        return None

    def _home_data(self, home: dict[str, Any], role: int) -> Any:
        problems = self.gaps.get(home["id"])
        if role == Qt.ItemDataRole.DisplayRole:
            return f"⚠ {home['name']}" if problems else home["name"]
        if role == Qt.ItemDataRole.ToolTipRole:
            if problems:
                return f"{home['name']} (CQC {home['cqc_id']}): " + "; ".join(problems) + "."
            return f"{home['name']} (CQC {home['cqc_id']}, {home['beds'] or '?'} beds)"
        if role == Qt.ItemDataRole.BackgroundRole and problems:
            return colours().rag["A"]
        return None


class RoundGridView(QTableView):
    """Click a cell, or press Enter on it, to open that week's round (or log one for a missed week)."""

    cell_chosen = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model_ = RoundGridModel(self)
        self.setModel(self.model_)
        self.setObjectName("roundGrid")
        self.setAccessibleName("Weekly home rounds of the quarter")
        self.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(30)
        self.horizontalHeader().setHighlightSections(False)
        self.clicked.connect(lambda index: self.cell_chosen.emit(index.row(), index.column()))

    def fit(self) -> None:
        """The home names whole, the weeks sharing what is left (never narrower than their dates)."""
        header = self.horizontalHeader()
        header.setMinimumSectionSize(44)
        if not self.model_.columnCount():
            return
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for column in range(1, self.model_.coverage_column()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.model_.coverage_column(), QHeaderView.ResizeMode.ResizeToContents)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and index.isValid():
            self.cell_chosen.emit(index.row(), index.column())
            return
        super().keyPressEvent(event)
