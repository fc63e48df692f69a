"""The consolidated grid of a quarter (DESIGN §10): the 20 KPIs down, the 11 teams across, each cell a team's
value with its RAG letter on the RAG colour (the letter is always there, so colour is never the only cue).

Column 0 is the KPI (its code and unit; the name is its tooltip); columns 1… are the localities in code order.
The units live in that first column so that eleven teams fit side by side with the charts beside them; a
cell's tooltip gives the value with its unit, the figures it came from and the team's comment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ...models.kpi.catalogue import Kpi
from ..kit.style import rag_background
from ..returns.model import DASH, RAG_NAMES, figures_text, number, target_text, with_unit

Index = QModelIndex | QPersistentModelIndex
UNIT_LABEL = {"percent": "%", "per_100": "/100", "per_1000": "/1,000", "count": "count"}
RAG_WORD = {"G": "green", "A": "amber", "R": "red"}


def bare(kpi: Kpi, value: float | None) -> str:
    """The value without its unit (the KPI column carries it): one decimal for a rate or a percentage."""
    if value is None:
        return DASH
    return number(value) if kpi.unit == "count" else f"{value:.1f}"


class ConsolidatedModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.kpis: list[Kpi] = []
        self.teams: list[dict[str, Any]] = []  # id, code, name
        self.cells: dict[tuple[str, str], dict[str, Any]] = {}

    def set_grid(self, kpis: Sequence[Kpi], teams: Sequence[Mapping[str, Any]],
                 cells: Mapping[tuple[str, str], dict[str, Any]]) -> None:
        self.beginResetModel()
        self.kpis, self.teams, self.cells = list(kpis), [dict(t) for t in teams], dict(cells)
        self.endResetModel()

    def kpi(self, row: int) -> Kpi:
        return self.kpis[row]

    def team(self, column: int) -> dict[str, Any] | None:
        """The locality of a column; None for the KPI column."""
        return self.teams[column - 1] if 1 <= column <= len(self.teams) else None

    def row_of(self, code: str) -> int:
        return next(n for n, k in enumerate(self.kpis) if k.code == code)

    def column_of(self, locality_code: str) -> int:
        return next(n + 1 for n, t in enumerate(self.teams) if t["code"] == locality_code)

    def cell(self, row: int, column: int) -> dict[str, Any] | None:
        team = self.team(column)
        return None if team is None else self.cells.get((self.kpis[row].code, team["code"]))

    # -- Qt -----------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.kpis)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or not self.kpis else len(self.teams) + 1

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        team = self.team(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return "KPI" if team is None else team["code"]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "The KPI and its unit; hover for its name" if team is None else team["name"]
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kpi = self.kpis[index.row()]
        team = self.team(index.column())
        if team is None:
            return self._kpi_data(kpi, role)
        row = self.cells.get((kpi.code, team["code"]))
        rag = (row or {}).get("rag") or ""
        if role == Qt.ItemDataRole.DisplayRole:
            if row is None:
                return DASH
            return bare(kpi, row.get("value")) + (f" {rag}" if rag else "")
        if role == Qt.ItemDataRole.BackgroundRole:
            return rag_background(rag)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(kpi, team, row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if row is None:
                return f"{team['name']}, {kpi.code}: no return held"
            return (f"{team['name']}, {kpi.code}: {with_unit(kpi, row.get('value'))}"
                    + (f", {RAG_WORD[rag]}" if rag else ""))
        return None

    @staticmethod
    def _kpi_data(kpi: Kpi, role: int):
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{kpi.code} {UNIT_LABEL[kpi.unit]}"
        if role == Qt.ItemDataRole.ToolTipRole:
            target = target_text(kpi)
            return f"{kpi.code} {kpi.name}" + (f"\nTarget: {target}" if target else "\nNo target")
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{kpi.code} {kpi.name}"
        return None

    @staticmethod
    def _tip(kpi: Kpi, team: Mapping[str, Any], row: dict[str, Any] | None) -> str:
        head = f"{team['name']} ({team['code']}) · {kpi.code} {kpi.name}"
        if row is None:
            return f"{head}\nNo return held for this quarter."
        lines = [head, f"Value: {with_unit(kpi, row.get('value'))}"]
        if kpi.denominator:
            lines.append(f"Figures: {figures_text(kpi, row)} ({kpi.numerator} / {kpi.denominator})")
        rag = row.get("rag")
        lines.append(RAG_NAMES[rag] if rag else "No RAG: this KPI has no target.")
        if row.get("comment"):
            lines.append(f"Team's comment: {row['comment']}")
        return "\n".join(lines)
