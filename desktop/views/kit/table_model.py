"""The table models of the screens: RowsModel, a Qt table model over a list of rows and a list of Column
declarations, and RecordsModel, the read-only one over the display rows that desktop.models functions return.

Every table here holds at most a few thousand rows, so a model keeps them all; the cohort's 60,000 patients
have the lazy model over numpy columns of STYLE practice 5 instead (cohort.model.CohortModel).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    tip: str | None = None  # the heading's tooltip
    align: Qt.AlignmentFlag | None = None  # the heading's alignment; None leaves it to the style
    width: int = 0  # a starting width in pixels, for the tables that set one


class RowsModel(QAbstractTableModel):
    """Rows (mappings, KPIs, file outcomes: whatever a subclass reads) under Column declarations. The counts,
    the headings and the access to a row are here; a subclass says what a cell shows (data) and may do
    (flags). A record is named by its "id" unless the subclass's id_of says otherwise."""

    def __init__(self, columns: Iterable[Column] = (), parent=None):
        super().__init__(parent)
        self.columns: list[Column] = list(columns)
        self._rows: list[Any] = []

    # -- contents ---------------------------------------------------------------------------------------
    @contextmanager
    def resetting(self) -> Iterator[None]:
        """Change the rows, the columns or whatever data() reads inside this: views see one reset."""
        self.beginResetModel()
        try:
            yield
        finally:
            self.endResetModel()

    def set_rows(self, rows: Iterable[Any]) -> None:
        with self.resetting():
            self._rows = list(rows)

    def records(self) -> list[Any]:
        return list(self._rows)

    def record(self, row: int) -> Any:
        return self._rows[row]

    @staticmethod
    def id_of(record: Any) -> Any:
        return record["id"]

    def row_id(self, row: int) -> Any:
        return self.id_of(self._rows[row])

    def row_of(self, record_id: Any) -> int | None:
        return next((n for n, r in enumerate(self._rows) if self.id_of(r) == record_id), None)

    def key(self, column: int) -> str:
        return self.columns[column].key

    # -- QAbstractTableModel ----------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].heading
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.columns[section].tip
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.heading_alignment(section)
        return None

    def heading_alignment(self, section: int) -> Qt.AlignmentFlag | None:
        return self.columns[section].align

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


class RecordsModel(RowsModel):
    """Read-only display rows (mappings with an "id"): numbers right-aligned with thousands separators, an empty
    value a Column says matters shown as missing, and SORT_ROLE and ID_ROLE for a sorting proxy."""

    def __init__(self, columns: Sequence[Column], parent=None):
        super().__init__(columns, parent)
        self._numeric: set[str] = set()

    def set_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        with self.resetting():
            self._rows = list(rows)
            self._numeric = {c.key for c in self.columns if _all_numbers(r.get(c.key) for r in self._rows)}

    def display_texts(self, column: int) -> set[str] | None:
        """The distinct texts *column* shows, read from the rows rather than cell by cell through Qt (a column fitted
        to 1,000 audit entries: ~15 ms, not ~300); None when a subclass shows its own texts."""
        if type(self).data is not RecordsModel.data:
            return None
        col = self.columns[column]
        numeric, texts = col.key in self._numeric, set()
        for r in self._rows:
            value = r.get(col.key)
            if col.missing_means is not None and value in (None, ""):
                texts.add(MISSING)
            elif value is not None:
                texts.add(f"{value:,}" if numeric else str(value))
        return texts

    def is_missing(self, row: int, column: int) -> bool:
        col = self.columns[column]
        return col.missing_means is not None and self._rows[row].get(col.key) in (None, "")

    def heading_alignment(self, section: int) -> Qt.AlignmentFlag:
        return _alignment(self.columns[section].key in self._numeric)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(self.columns):
            return None
        col = self.columns[index.column()]
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
