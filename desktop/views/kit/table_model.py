"""A read-only Qt table model over display rows that desktop.models functions return.

Reference tables hold at most a few hundred rows, so the model keeps them all; the large patient
tables of later issues need the lazy id-backed model of STYLE practice 5 instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from .style import colours

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
MISSING = "⚠ none"
LONG_TEXT = 24

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    # When set, an empty value is a gap worth seeing: shown as MISSING on amber, with this as tooltip.
    missing_means: str | None = None


class RowsModel(QAbstractTableModel):
    def __init__(self, columns: Sequence[Column], parent=None):
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Mapping[str, Any]] = []
        self._numeric: set[str] = set()

    # -- contents ---------------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._numeric = {c.key for c in self._columns if _all_numbers(r.get(c.key) for r in self._rows)}
        self.endResetModel()

    def rows(self) -> list[Mapping[str, Any]]:
        return list(self._rows)

    def row_id(self, row: int) -> str:
        return self._rows[row]["id"]

    def row_of(self, row_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r["id"] == row_id), None)

    def record(self, row: int) -> Mapping[str, Any]:
        return self._rows[row]

    def is_missing(self, row: int, column: int) -> bool:
        col = self._columns[column]
        return col.missing_means is not None and self._rows[row].get(col.key) in (None, "")

    # -- QAbstractTableModel ----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section].heading
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(self._columns[section].key in self._numeric)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(self._columns):
            return None
        col = self._columns[index.column()]
        value = self._rows[index.row()].get(col.key)
        missing = self.is_missing(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if missing:
                return MISSING
            if value is None:
                return ""
            return f"{value:,}" if col.key in self._numeric else str(value)
        if role == SORT_ROLE:
            if col.key in self._numeric:
                return -1 if value is None else value
            return "" if value is None else str(value).casefold()
        if role == ID_ROLE:
            return self._rows[index.row()]["id"]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(col.key in self._numeric)
        if missing and role == Qt.ItemDataRole.BackgroundRole:
            return colours().rag["A"]
        if missing and role == Qt.ItemDataRole.ForegroundRole:
            return QColor(colours().text)
        if role == Qt.ItemDataRole.ToolTipRole:
            if missing:
                return col.missing_means
            # Long text may be elided in a narrow column; the tooltip shows it whole.
            return value if isinstance(value, str) and len(value) > LONG_TEXT else None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


def _all_numbers(values) -> bool:
    seen = False
    for v in values:
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            return False
        seen = True
    return seen


def _alignment(numeric: bool) -> Qt.AlignmentFlag:
    horizontal = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter
