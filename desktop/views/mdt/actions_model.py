"""A Qt table model over the rows actions.listing returns: the action log, and a meeting's agreed actions.

Overdue rows are drawn on a pale red and their status reads "OVERDUE · open", so the meaning never rests
on colour alone. The action log holds a locality's actions (a few hundred a year), so the model keeps them
all and sorts in memory; column -1 restores the domain's order (overdue first, then soonest due).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from ..kit import formats
from ..kit.style import colours
from ..kit.table_model import ID_ROLE, Column, Index, RowsModel

OVERDUE_ROLE = Qt.ItemDataRole.UserRole + 4
OVERDUE = "OVERDUE"

COLUMNS = (
    Column("reference", "Reference", width=112),
    Column("description", "Action", width=250),
    Column("patient", "Patient", width=148),
    Column("owner_name", "Owner", width=122),
    Column("owner_organisation", "Organisation", width=130),
    Column("due_date", "Due", width=88),
    Column("status", "Status", width=112),
    Column("escalated_to", "Escalated", width=96),
    Column("meeting_date", "Meeting", width=88),
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


class ActionsModel(RowsModel):
    """The chosen columns (*keys*, every one by default) of actions.listing rows, in the domain's order until a
    heading is clicked."""

    def __init__(self, keys: Sequence[str] | None = None, parent=None):
        super().__init__([BY_KEY[k] for k in keys] if keys else COLUMNS, parent)
        self._domain_order: list[Mapping[str, Any]] = []
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)

    # -- contents -----------------------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        with self.resetting():
            self._domain_order = list(rows)
            self._rows = self._sorted(self._domain_order)

    def overdue_count(self) -> int:
        return sum(1 for r in self._rows if r.get("overdue"))

    # -- QAbstractTableModel ------------------------------------------------------------------------------
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
