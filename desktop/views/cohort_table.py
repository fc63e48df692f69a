"""The cohort table view: many rows selectable at once, chips in the criteria column, fixed row height, and
selection kept across filtering by patient id rather than by row number."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView

from .chips import ChipDelegate
from .cohort_model import COLUMNS, KEYS, CohortModel


class CohortTable(QTableView):
    def __init__(self, model: CohortModel, parent=None):
        super().__init__(parent)
        self.setObjectName("cohortTable")
        self.setAccessibleName("Cohort patients")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        vertical = self.verticalHeader()
        vertical.hide()
        # Fixed heights: Qt never measures 60,000 rows to lay them out.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionsMovable(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for number, column in enumerate(COLUMNS):
            self.setColumnWidth(number, column.width)
        self.setItemDelegateForColumn(KEYS.index("criteria"), ChipDelegate(self))
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self.setSortingEnabled(True)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # the frame comes in name order

    def column_menu(self) -> QMenu:
        """Tick boxes to show or hide each column (the name always stays)."""
        menu = QMenu(self)
        for number, column in enumerate(COLUMNS):
            action = menu.addAction(column.heading)
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(number))
            action.setEnabled(column.key != "name")
            action.toggled.connect(lambda on, n=number: self.setColumnHidden(n, not on))
        return menu

    def _column_menu(self, pos: QPoint) -> None:
        self.column_menu().exec(self.horizontalHeader().mapToGlobal(pos))

    def cohort_model(self) -> CohortModel:
        return self.model()

    def selected_rows(self) -> list[int]:
        """View rows selected, read from the selection's ranges (cheap even when thousands are selected)."""
        rows: list[int] = []
        for rng in self.selectionModel().selection():
            rows.extend(range(rng.top(), rng.bottom() + 1))
        return sorted(set(rows))

    def selected_ids(self) -> list[str]:
        model = self.cohort_model()
        return [model.patient_id(r) for r in self.selected_rows()]

    def current_id(self) -> str | None:
        index = self.currentIndex()
        return self.cohort_model().patient_id(index.row()) if index.isValid() else None

    def select_ids(self, patient_ids: list[str], current: str | None = None) -> None:
        """Select these patients where they are shown, and make *current* the current row."""
        model = self.cohort_model()
        rows = np.array(model.view_rows_of(patient_ids), dtype=np.int64)
        selection = QItemSelection()
        if len(rows):
            # Runs of consecutive rows become one range each.
            breaks = np.flatnonzero(np.diff(rows) != 1) + 1
            last = model.columnCount() - 1
            for run in np.split(rows, breaks):
                selection.select(model.index(int(run[0]), 0), model.index(int(run[-1]), last))
        flags = QItemSelectionModel.SelectionFlag
        chosen = self.selectionModel()
        current_rows = model.view_rows_of([current]) if current else []
        if current_rows:
            chosen.setCurrentIndex(model.index(current_rows[0], 0), flags.NoUpdate)
            self.scrollTo(model.index(current_rows[0], 0))
        chosen.select(selection, flags.ClearAndSelect)

    def selectAll(self) -> None:
        # One range for the lot (Ctrl+A); Qt's own walks every cell of 60,000 rows.
        model = self.cohort_model()
        if model.rowCount():
            self.selectionModel().select(
                QItemSelection(model.index(0, 0), model.index(model.rowCount() - 1, model.columnCount() - 1)),
                QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def select_row(self, row: int) -> None:
        model = self.cohort_model()
        if 0 <= row < model.rowCount():
            index = model.index(row, 0)
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.scrollTo(index)
