"""One list of the My work screen: a heading with its counts, a table (Enter or a double-click opens the chosen
item where the work is done), and in its place, when the list is empty, a sentence saying so."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...models import my_work
from ..kit import formats
from ..kit.style import colours
from ..kit.table_model import Column, Index, RecordsModel
from ..reference.records_view import RecordsView

OVERDUE = "OVERDUE"
FIT_ROWS = 6  # a list this short is shown whole, no taller
LEAST_ROWS = 3  # the rows a list keeps when the screen is short of height
QWIDGETSIZE_MAX = (1 << 24) - 1


class WorkModel(RecordsModel):
    """Display rows; a row whose "overdue" is true is drawn on the action log's pale red, and its *when_key*
    column in the overdue text colour (the words say OVERDUE too, so the meaning never rests on colour)."""

    def __init__(self, columns: Sequence[Column], when_key: str, parent=None):
        super().__init__(columns, parent)
        self.when_key = when_key

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.row() < self.rowCount() and self.record(index.row()).get("overdue"):
            if role == Qt.ItemDataRole.BackgroundRole:
                return colours().overdue
            if role == Qt.ItemDataRole.ForegroundRole and self.key(index.column()) == self.when_key:
                return colours().overdue_text
        return super().data(index, role)


class Section(QFrame):
    """*title* with a mnemonic (Alt+letter puts the keyboard on the list); *opened* is called with the chosen
    row's record."""

    def __init__(
        self,
        name: str,
        title: str,
        columns: Sequence[Column],
        when_key: str,
        empty: str,
        opened: Callable[[Mapping[str, Any]], None],
        stretch_column: int = 0,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setObjectName(f"{name}Section")
        self.empty_text = empty
        self.opened = opened
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        self.heading = QLabel(title)
        self.heading.setObjectName("sectionTitle")
        box.addWidget(self.heading)
        self.summary = QLabel()
        self.summary.setObjectName("countLabel")
        self.summary.setWordWrap(True)
        box.addWidget(self.summary)
        self.model = WorkModel(columns, when_key, self)
        self.table = RecordsView()
        self.table.setObjectName(f"{name}Table")
        self.table.setAccessibleName(title.replace("&", ""))
        self.table.setModel(self.model)
        self.table.setSortingEnabled(False)  # the domain's order: overdue and soonest first
        self.table.stretch_column = stretch_column
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        # activated: Enter, and a double-click on every platform style that does not open on one click.
        self.table.activated.connect(lambda index: self.open_row(index.row()))
        self.heading.setBuddy(self.table)
        self.empty = QLabel(empty)
        self.empty.setObjectName("countLabel")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.empty.setContentsMargins(2, 8, 2, 8)
        box.addWidget(self.table, 1)
        box.addWidget(self.empty)
        for label in (self.heading, self.summary, self.empty):
            label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_rows(self, rows: Sequence[Mapping[str, Any]], summary: str, empty: str | None = None) -> None:
        chosen = self.table.currentIndex()
        current = self.model.row_id(chosen.row()) if chosen.isValid() else None
        self.model.set_rows(rows)
        self.table.fit_columns()
        self.summary.setText(summary)
        self.summary.setVisible(bool(summary))
        self.empty.setText(empty or self.empty_text)
        self.table.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self._fit_height(len(rows))
        row = self.model.row_of(current) if current is not None else None
        if row is None and current is not None and rows:
            row = min(chosen.row(), len(rows) - 1)  # the item just dealt with is gone: stay at its place
        if row is not None:
            self.table.setCurrentIndex(self.model.index(row, 0))

    def _fit_height(self, rows: int) -> None:
        """A short list is only as tall as its rows, so the height goes to the lists that need it."""
        table = self.table
        whole = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + 4
        whole += table.verticalHeader().defaultSectionSize() * max(rows, 1)
        table.setMaximumHeight(whole if rows <= FIT_ROWS else QWIDGETSIZE_MAX)
        # A few rows at the least, whatever the font: below that the screen scrolls (MyWorkPage).
        shown = min(max(rows, 1), LEAST_ROWS)
        table.setMinimumHeight(whole - table.verticalHeader().defaultSectionSize() * (max(rows, 1) - shown))
        self._fit_labels()
        self.setMaximumHeight(min(self.layout().maximumSize().height(), QWIDGETSIZE_MAX))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # A sentence that wraps onto more lines in a narrow column (a large font) keeps them all: a label's own
        # height is worked out for another width, and the section is no taller than its parts.
        if event.size().width() != event.oldSize().width():
            self._fit_labels()
            self.setMaximumHeight(min(self.layout().maximumSize().height(), QWIDGETSIZE_MAX))

    def _fit_labels(self) -> None:
        for label in (self.summary, self.empty):
            label.setMinimumHeight(label.heightForWidth(self.width()) if label.text() else 0)

    def open_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.opened(self.model.record(row))

    def count(self) -> int:
        return self.model.rowCount()


# -- what each list shows -------------------------------------------------------------------------------------------
def days_text(days: int) -> str:
    if days < 0:
        return f"{OVERDUE} by {formats.count(-days, 'day')}"
    return "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"


def working_days_text(days: int) -> str:
    if days < 0:
        return f"{OVERDUE} by {-days:,}"  # the heading says in what: working days
    return "due today" if days == 0 else f"{days:,} left"


REVIEW_COLUMNS = (
    Column("patient", "Patient"),
    Column("nhs", "NHS number"),
    Column("due", "Review due"),
    Column("when", "When"),
)
ACTION_COLUMNS = (
    Column("reference", "Reference"),
    Column("description", "Action"),
    Column("patient", "Patient"),
    Column("due", "Due"),
    Column("when", "When"),
)
PCSP_COLUMNS = (
    Column("home", "Care home"),
    Column("resident", "Resident"),
    Column("due", "PCSP due"),
    Column(
        "when",
        "Working days",
        tip="Working days left to the PCSP due date (weekends and England bank holidays not counted)",
    ),
)
ROUND_COLUMNS = (
    Column("home", "Care home"),
    Column("clinical_lead", "Clinical lead"),
    Column("week", "Week of"),
)
FLAG_COLUMNS = (
    Column("patient", "Patient"),
    Column("reason", "Why"),
    Column("flagged_by", "Flagged by"),
    Column("since", "Since"),
)


def review_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "nhs": formats.nhs_number(r["nhs_number"]),
            "due": formats.date(r["due"]),
            "when": days_text(r["days"]),
        }
        for r in rows
    ]


def action_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    when = {my_work.OVERDUE: OVERDUE, my_work.THIS_WEEK: "This week", my_work.LATER: "Later"}
    return [
        {
            **r,
            "due": formats.date(r["due"]),
            "when": when[r["when"]] + (" · in progress" if r["status"] == "in progress" else ""),
        }
        for r in rows
    ]


def pcsp_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "home": ("★ " if r["mine"] else "") + r["home"],
            "due": formats.date(r["due"]),
            "when": working_days_text(r["working_days"]),
        }
        for r in rows
    ]


def round_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **r,
            "home": ("★ " if r["mine"] else "") + r["home"],
            "clinical_lead": r["clinical_lead"] or "none named",
            "week": formats.date(r["week_of"]),
        }
        for r in rows
    ]


def flag_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "since": formats.date(r["since"])} for r in rows]
