"""The cohort table view: many rows selectable at once, chips in the criteria column, fixed row height, and
selection kept across filtering by patient id rather than by row number."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu

from ..kit.record_table import RecordTable
from .chips import ChipDelegate
from .model import CohortColumn, CohortModel


class CohortTable(RecordTable):
    def __init__(self, model: CohortModel, parent=None):
        super().__init__(parent)
        self.setObjectName("cohortTable")
        self.setAccessibleName("Cohort patients")
        self.setModel(model)
        self.setAlternatingRowColors(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        # Fixed heights: Qt never measures 60,000 rows to lay them out.
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        self._chips = ChipDelegate(self)
        self._set_widths()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self.setSortingEnabled(True)
        header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)  # the frame comes in name order

    def use_columns(self, columns: tuple[CohortColumn, ...]) -> None:
        """Show the model's column set *columns* at their starting widths, sorted by name as the frame comes."""
        self.cohort_model().set_columns(columns)
        self._set_widths()
        self.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)

    def _set_widths(self) -> None:
        model = self.cohort_model()
        for number, column in enumerate(model.columns):
            self.setColumnWidth(number, column.width)
            self.setColumnHidden(number, False)
            self.setItemDelegateForColumn(number, self._chips if column.key == "criteria" else None)

    def column_menu(self) -> QMenu:
        """Tick boxes to show or hide each column (the name always stays)."""
        menu = QMenu(self)
        for number, column in enumerate(self.cohort_model().columns):
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

    def row_id(self, row: int) -> str:
        return self.cohort_model().patient_id(row)

    def rows_of(self, ids: Sequence[str]) -> list[int]:
        return self.cohort_model().view_rows_of(list(ids))
