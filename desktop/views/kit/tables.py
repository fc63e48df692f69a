"""Table views the screens share: a short list with one row chosen at a time (meetings, an agenda, attendees,
patients to pick), and a small read-only table of a patient's records (risk history, interventions)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTableWidget

ROW_HEIGHT = 28
SMALL_ROW_HEIGHT = 26


def list_table(model: QAbstractItemModel, name: str, widths: Sequence[int], alternating: bool = True) -> QTableView:
    """One row chosen at a time, nothing edited in place; the given column widths, the last column stretched."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
    table.setAlternatingRowColors(alternating)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table


def records_table(name: str, accessible_name: str, headings: Sequence[str]) -> QTableWidget:
    """A few rows shown whole: columns sized to their contents, the last one taking what is left."""
    table = QTableWidget(0, len(headings))
    table.setObjectName(name)
    table.setAccessibleName(accessible_name)
    table.setHorizontalHeaderLabels(list(headings))
    table.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(SMALL_ROW_HEIGHT)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headings) - 1, QHeaderView.ResizeMode.Stretch)
    return table
