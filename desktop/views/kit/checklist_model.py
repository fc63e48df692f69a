"""A short list of records with a tick box in the first column, as a Qt table model. Subclasses say what a
row shows and what its tick means: present at a meeting (attendees_editor), or picked for the agenda
(agenda_picker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt

from .table_model import Column, Index, RowsModel


class ChecklistModel(RowsModel):
    def __init__(self, headings: Sequence[str], parent=None):
        super().__init__([Column(heading, heading) for heading in headings], parent)

    # -- what a subclass says --------------------------------------------------------------------------------
    def display(self, row: int, column: int) -> str:
        raise NotImplementedError

    def is_ticked(self, row: int) -> bool:
        raise NotImplementedError

    def set_ticked(self, row: int, on: bool) -> None:
        raise NotImplementedError

    def can_tick(self, row: int) -> bool:
        """False shows the row greyed out, its tick fixed."""
        return True

    def is_greyed(self, row: int) -> bool:
        return not self.can_tick(row)

    # -- QAbstractTableModel ---------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if self.is_ticked(row) else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and self.is_greyed(row):
            return Qt.GlobalColor.darkGray
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            self.set_ticked(index.row(), Qt.CheckState(value) == Qt.CheckState.Checked)
            return True
        return False

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if self.can_tick(index.row()):
            flags |= Qt.ItemFlag.ItemIsEnabled
            if index.column() == 0:
                flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags
