"""A table of records under a filter bar (the cohort, the action log): many rows chosen at once, the choice kept
across filtering by record id rather than row number, and keys that join the two: Down or Enter in the filter
box goes into the table, Esc in the table clears the filters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QStackedWidget, QTableView, QWidget

from .filter_bar import FilterBar
from .key_filter import KeyFilter, on_key


class RecordTable(QTableView):
    """Subclasses say which record a view row shows (`row_id`) and where records are shown (`rows_of`)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)

    def row_id(self, row: int) -> str:
        raise NotImplementedError

    def rows_of(self, ids: Sequence[str]) -> list[int]:
        """The view rows showing these records (those filtered out are left out)."""
        raise NotImplementedError

    # -- reading the choice ----------------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        """View rows selected, read from the selection's ranges (cheap even when thousands are selected)."""
        rows: list[int] = []
        for rng in self.selectionModel().selection():
            rows.extend(range(rng.top(), rng.bottom() + 1))
        return sorted(set(rows))

    def selected_ids(self) -> list[str]:
        return [self.row_id(r) for r in self.selected_rows()]

    def current_id(self) -> str | None:
        index = self.currentIndex()
        return self.row_id(index.row()) if index.isValid() else None

    # -- choosing --------------------------------------------------------------------------------------------
    def select_ids(self, ids: Sequence[str], current: str | None = None) -> None:
        """Select these records where they are shown, and make *current* the current row."""
        model = self.model()
        rows = np.array(sorted(self.rows_of(list(ids))), dtype=np.int64)
        selection = QItemSelection()
        if len(rows):
            # Runs of consecutive rows become one range each.
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            last = model.columnCount() - 1
            for run in np.split(rows, breaks):
                selection.select(model.index(int(run[0]), 0), model.index(int(run[-1]), last))
        flags = QItemSelectionModel.SelectionFlag
        chosen = self.selectionModel()
        current_rows = self.rows_of([current]) if current else []
        if current_rows:
            chosen.setCurrentIndex(model.index(current_rows[0], 0), flags.NoUpdate)
            self.scrollTo(model.index(current_rows[0], 0))
        chosen.select(selection, flags.ClearAndSelect)

    def select_row(self, row: int) -> None:
        model = self.model()
        if 0 <= row < model.rowCount():
            index = model.index(row, 0)
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self.scrollTo(index)

    def selectAll(self) -> None:
        # One range for the lot (Ctrl+A); Qt's own walks every cell, slow at 60,000 rows.
        model = self.model()
        if model.rowCount():
            self.selectionModel().select(
                QItemSelection(model.index(0, 0), model.index(model.rowCount() - 1, model.columnCount() - 1)),
                QItemSelectionModel.SelectionFlag.ClearAndSelect,
            )


def join_filter_and_table(filters: FilterBar, table: RecordTable) -> QObject:
    """Down or Enter in the filter box applies the text now and goes into the table, choosing the first row if
    none is chosen, so typing then arrowing needs no mouse; Esc in the table clears every filter."""

    def into_table() -> None:
        filters.flush()
        if table.model().rowCount():
            table.setFocus()
            if not table.selected_rows():
                table.select_row(0)

    no = Qt.KeyboardModifier.NoModifier
    on_key(table, Qt.Key.Key_Escape, filters.clear)
    return KeyFilter(
        filters.text,
        {(Qt.Key.Key_Down, no): into_table, (Qt.Key.Key_Return, no): into_table, (Qt.Key.Key_Enter, no): into_table},
    )


def table_or_message(table: QTableView) -> tuple[QStackedWidget, QLabel]:
    """The table, and in its place when nothing matches the filters a message saying so and what to do."""
    message = QLabel()
    message.setObjectName("emptyState")
    message.setWordWrap(True)
    message.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
    stack = QStackedWidget()
    stack.addWidget(table)
    stack.addWidget(message)
    return stack, message
