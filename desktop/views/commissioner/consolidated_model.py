"""The consolidated grid of a quarter (DESIGN §10): the 20 KPIs down, the 11 teams across, each cell a team's
value with its RAG letter on the RAG colour (the letter is always there, so colour is never the only cue).

Column 0 is the KPI (its code and unit; the name is its tooltip); columns 1… are the localities in code order.
The units live in that first column so that eleven teams fit side by side with the charts beside them; a
cell's tooltip gives the value with its unit, the figures it came from and the team's comment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt

from ...models.kpi.catalogue import Kpi
from ..kit.style import rag_background
from ..kit.table_model import Column, Index, RowsModel
from ..returns.model import DASH, RAG_NAMES, figures_text, number, target_text, with_unit

KPI_COLUMN = Column("kpi", "KPI", tip="The KPI and its unit; hover for its name")
UNIT_LABEL = {"percent": "%", "per_100": "/100", "per_1000": "/1,000", "per_100000": "/100,000", "count": "count"}
RAG_WORD = {"G": "green", "A": "amber", "R": "red"}


def bare(kpi: Kpi, value: float | None) -> str:
    """The value without its unit (the KPI column carries it): one decimal for a rate or a percentage."""
    if value is None:
        return DASH
    return number(value) if kpi.unit == "count" else f"{value:.1f}"


class ConsolidatedModel(RowsModel):
    """A row per KPI; the KPI column, then a column per team."""

    def __init__(self, parent=None):
        super().__init__((), parent)
        self.teams: list[dict[str, Any]] = []  # id, code, name
        self.cells: dict[tuple[str, str], dict[str, Any]] = {}

    def set_grid(
        self, kpis: Sequence[Kpi], teams: Sequence[Mapping[str, Any]], cells: Mapping[tuple[str, str], dict[str, Any]]
    ) -> None:
        with self.resetting():
            self._rows, self.teams, self.cells = list(kpis), [dict(t) for t in teams], dict(cells)
            # No KPIs, no grid: not even the heading row.
            self.columns = (
                [KPI_COLUMN, *(Column(t["code"], t["code"], tip=t["name"]) for t in self.teams)] if self._rows else []
            )

    def kpi(self, row: int) -> Kpi:
        return self.record(row)

    @staticmethod
    def id_of(record: Kpi) -> str:
        return record.code

    def team(self, column: int) -> dict[str, Any] | None:
        """The locality of a column; None for the KPI column."""
        return self.teams[column - 1] if 1 <= column <= len(self.teams) else None

    def column_of(self, locality_code: str) -> int:
        return next(n + 1 for n, t in enumerate(self.teams) if t["code"] == locality_code)

    def cell(self, row: int, column: int) -> dict[str, Any] | None:
        team = self.team(column)
        return None if team is None else self.cells.get((self.kpi(row).code, team["code"]))

    # -- Qt -----------------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        kpi = self.kpi(index.row())
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
            return f"{team['name']}, {kpi.code}: {with_unit(kpi, row.get('value'))}" + (
                f", {RAG_WORD[rag]}" if rag else ""
            )
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
