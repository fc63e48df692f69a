"""A Qt table model over the rows actions.listing returns: the action log, and a meeting's agreed actions.

Overdue rows are drawn on a pale red and their status reads "OVERDUE · open", so the meaning never rests
on colour alone. The action log holds a locality's actions (a few hundred a year), so the model keeps them
all and sorts in memory; column -1 restores the domain's order (overdue first, then soonest due).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from ..kit import formats
from ..kit.style import colours

ID_ROLE = Qt.ItemDataRole.UserRole + 2
OVERDUE_ROLE = Qt.ItemDataRole.UserRole + 4
OVERDUE = "OVERDUE"

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    heading: str
    width: int


COLUMNS = (
    Column("reference", "Reference", 112),
    Column("description", "Action", 250),
    Column("patient", "Patient", 148),
    Column("owner_name", "Owner", 122),
    Column("owner_organisation", "Organisation", 130),
    Column("due_date", "Due", 88),
    Column("status", "Status", 112),
    Column("escalated_to", "Escalated", 96),
    Column("meeting_date", "Meeting", 88),
)
BY_KEY = {c.key: c for c in COLUMNS}
DATES = ("due_date", "meeting_date")


def patient_name(row: Mapping[str, Any]) -> str:
    if not row.get("family_name"):
        return ""
    return f"{str(row['family_name']).upper()}, {row.get('given_name') or ''}".rstrip(", ")


def status_text(row: Mapping[str, Any]) -> str:
    """'OVERDUE' (overdue means still open), 'OVERDUE · in progress', or the status itself."""
    if row.get("overdue"):
        return OVERDUE if row["status"] == "open" else f"{OVERDUE} · {row['status']}"
    return formats.sentence_case(row["status"])


class ActionsModel(QAbstractTableModel):
    def __init__(self, keys: Sequence[str] | None = None, parent=None):
        super().__init__(parent)
        self.columns = [BY_KEY[k] for k in keys] if keys else list(COLUMNS)
        self._rows: list[Mapping[str, Any]] = []
        self._domain_order: list[Mapping[str, Any]] = []
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    # -- contents -----------------------------------------------------------------------------------------
    def set_rows(self, rows: Sequence[Mapping[str, Any]]) -> None:
        self.beginResetModel()
        self._domain_order = list(rows)
        self._rows = self._sorted(self._domain_order)
        self.endResetModel()

    def record(self, row: int) -> Mapping[str, Any]:
        return self._rows[row]

    def action_id(self, row: int) -> str:
        return self._rows[row]["id"]

    def row_of(self, action_id: str) -> int | None:
        return next((i for i, r in enumerate(self._rows) if r["id"] == action_id), None)

    def overdue_count(self) -> int:
        return sum(1 for r in self._rows if r.get("overdue"))

    # -- QAbstractTableModel ------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.columns):
            return self.columns[section].heading
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= len(self.columns):
            return None
        row, key = self._rows[index.row()], self.columns[index.column()].key
        overdue = bool(row.get("overdue"))
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, key)
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return colours().overdue  # a tint of NHS red: the text stays easy to read on it
        if role == Qt.ItemDataRole.ForegroundRole and overdue and key in ("status", "due_date"):
            return colours().overdue_text
        if role == Qt.ItemDataRole.FontRole and overdue and key == "status":
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == ID_ROLE:
            return row["id"]
        if role == OVERDUE_ROLE:
            return overdue
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._rows = self._sorted(self._domain_order)
        self.layoutChanged.emit()

    # -- internals ------------------------------------------------------------------------------------------
    @staticmethod
    def _display(row: Mapping[str, Any], key: str) -> str:
        if key == "patient":
            return patient_name(row)
        if key == "status":
            return status_text(row)
        if key in DATES:
            return formats.date(row.get(key))
        if key == "owner_organisation":
            return formats.sentence_case(row.get(key))
        value = row.get(key)
        return "" if value is None else str(value)

    @staticmethod
    def _tooltip(row: Mapping[str, Any], key: str) -> str | None:
        if key == "description":
            return row["description"]
        if key == "patient" and row.get("nhs_number"):
            return f"{patient_name(row)} · NHS {formats.nhs_number(row['nhs_number'])}"
        if key == "status" and row.get("overdue"):
            return f"Overdue: due {formats.date(row['due_date'])} and still {row['status']}"
        if key == "status" and row.get("completed_on"):
            return f"Completed {formats.date(row['completed_on'])}"
        if key == "escalated_to" and row.get("escalated_to"):
            return f"Escalated on {formats.date(row.get('escalated_on'))}: {row.get('escalation_reason') or ''}"
        return None

    def _sorted(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        column, order = self._sort
        if not 0 <= column < len(self.columns):
            return list(rows)
        key = self.columns[column].key

        def sort_key(r: Mapping[str, Any]) -> tuple:
            if key == "reference":
                return (r.get("year") or 0, r.get("seq") or 0)
            if key == "status":
                return (not r.get("overdue"), r["status"])
            text = self._display(r, key) if key not in DATES else (r.get(key) or "")
            return ("" if text is None else str(text).casefold(),)

        return sorted(rows, key=sort_key, reverse=order == Qt.SortOrder.DescendingOrder)
