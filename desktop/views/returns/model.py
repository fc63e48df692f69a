"""The grid of a quarterly return (DESIGN §10): one row per KPI of the catalogue, its figures, RAG as a letter
and a colour, the last four signed-off quarters and the comment. Entered KPIs and comments are edited in
place while the return is a draft, or not started yet; the page does the write and says whether it landed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from ...models.kpi.catalogue import UNIT_SUFFIX as CATALOGUE_SUFFIX
from ...models.kpi.catalogue import Kpi
from ...models.kpi.returns import COMMENT_HELP, ENTER_HELP
from ..kit.style import rag_background
from ..kit.table_model import Column, Index, RowsModel

COLUMNS = (
    Column("code", "Code"),
    Column("name", "KPI"),
    Column("figures", "Num. / denom."),
    Column("value", "Value"),
    Column("target", "Target"),
    Column("rag", "RAG"),
    Column("history", "Last four quarters"),
    Column("comment", "Comment"),
)
KEYS = tuple(c.key for c in COLUMNS)
RAG_NAMES = {
    "G": "Green: meets the target",
    "A": "Amber: short of the target, within its tolerance",
    "R": "Red: beyond the tolerance; say why in a comment",
}
UNIT_SUFFIX = {**CATALOGUE_SUFFIX, "percent": "%"}
DASH = "—"

# write(kpi_code, column_key, text) -> the fresh return_values row, or None when it was refused
Writer = Callable[[str, str, str], "dict[str, Any] | None"]


def number(value: float | None) -> str:
    if value is None:
        return DASH
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def with_unit(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return DASH
    shown = f"{value:.1f}" if kpi.unit != "count" else number(value)
    return shown + UNIT_SUFFIX[kpi.unit]


def target_text(kpi: Kpi) -> str:
    if kpi.target is None:
        return ""
    sign = {"high": "≥ ", "low": "≤ "}.get(kpi.direction or "", "")
    return sign + (number(kpi.target) if kpi.unit == "count" else f"{kpi.target:g}") + UNIT_SUFFIX[kpi.unit]


def figures_text(kpi: Kpi, row: dict[str, Any]) -> str:
    if kpi.denominator is None:
        return number(row.get("numerator"))
    if row.get("numerator") is None and row.get("denominator") is None:
        return DASH
    return f"{number(row.get('numerator'))} / {number(row.get('denominator'))}"


def history_text(kpi: Kpi, history: list[tuple[str, float | None]]) -> str:
    return " · ".join(DASH if v is None else (number(v) if kpi.unit == "count" else f"{v:.1f}") for _, v in history)


class ReturnsModel(RowsModel):
    """A row per KPI; `values` holds the return's figures by KPI code (returns.values, or returns.preview for a
    quarter not started)."""

    def __init__(self, writer: Writer | None = None, parent=None):
        super().__init__(COLUMNS, parent)
        self.writer = writer
        self.values: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, list[tuple[str, float | None]]] = {}
        self.editable = False

    def set_return(
        self,
        kpis: list[Kpi],
        values: dict[str, dict[str, Any]],
        histories: dict[str, list[tuple[str, float | None]]],
        editable: bool,
    ) -> None:
        with self.resetting():
            self._rows, self.values, self.histories, self.editable = list(kpis), dict(values), histories, editable

    def set_values(self, values: dict[str, dict[str, Any]]) -> None:
        """Other figures for the same KPIs, without a reset: an editor open on a cell stays open."""
        self.values = dict(values)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(COLUMNS) - 1))

    def kpi(self, row: int) -> Kpi:
        return self.record(row)

    @staticmethod
    def id_of(record: Kpi) -> str:
        return record.code

    def update_row(self, code: str, fresh: dict[str, Any]) -> None:
        self.values[code] = fresh
        row = self.row_of(code)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # -- Qt -----------------------------------------------------------------------------------------------
    def is_editable(self, index: Index) -> bool:
        if not self.editable or not index.isValid():
            return False
        key = KEYS[index.column()]
        return key == "comment" or (key == "figures" and self.kpi(index.row()).source == "entered")

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsEditable if self.is_editable(index) else flags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kpi = self.kpi(index.row())
        row = self.values.get(kpi.code, {})
        key = KEYS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(kpi, row, key)
        if role == Qt.ItemDataRole.EditRole:
            if key == "comment":
                return row.get("comment") or ""
            if key == "figures":
                text = self._display(kpi, row, key)
                return "" if text == DASH else text.replace(",", "")
            return self._display(kpi, row, key)
        if role == Qt.ItemDataRole.BackgroundRole and key == "rag":
            return rag_background(row.get("rag"))
        if role == Qt.ItemDataRole.AccessibleTextRole and key == "rag":
            return RAG_NAMES.get(row.get("rag") or "", "No RAG").split(":")[0]
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "rag":
                return RAG_NAMES.get(row.get("rag") or "", "No RAG: this KPI has no target.")
            if key == "figures":
                tip = f"Numerator: {kpi.numerator}" + (f"\nDenominator: {kpi.denominator}" if kpi.denominator else "")
                return f"{tip}\n{ENTER_HELP}" if self.is_editable(index) else tip
            if key == "comment" and self.is_editable(index):
                return COMMENT_HELP
            if key == "name":
                return kpi.definition
        if role == Qt.ItemDataRole.WhatsThisRole and self.is_editable(index):
            return ENTER_HELP if key == "figures" else COMMENT_HELP
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("figures", "value", "target", "rag"):
            return (
                int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if key != "rag"
                else int(Qt.AlignmentFlag.AlignCenter)
            )
        return None

    def _display(self, kpi: Kpi, row: dict[str, Any], key: str) -> str:
        if key == "code":
            return kpi.code + (" ✎" if kpi.source == "entered" else "")
        if key == "name":
            return kpi.name
        if key == "figures":
            return figures_text(kpi, row)
        if key == "value":
            return with_unit(kpi, row.get("value"))
        if key == "target":
            return target_text(kpi)
        if key == "rag":
            return row.get("rag") or ""
        if key == "history":
            return history_text(kpi, self.histories.get(kpi.code, []))
        return row.get("comment") or ""

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not self.is_editable(index) or self.writer is None:
            return False
        kpi = self.kpi(index.row())
        key = KEYS[index.column()]
        text = "" if value is None else str(value)
        if text.strip() == str(self.data(index, Qt.ItemDataRole.EditRole)).strip():
            return False
        fresh = self.writer(kpi.code, key, text)
        if fresh is None:
            return False
        self.update_row(kpi.code, fresh)
        return True
