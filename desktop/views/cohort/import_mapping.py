"""Parts of the import dialog: the column-mapping table, the preview of the file, and the rejected rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QHeaderView, QTableView, QTableWidget, QTableWidgetItem

from ...models.cohort.extract_layout import CANONICAL, EFI_COLUMNS, REQUIRED, not_imported_reason
from ...models.cohort.extract_rules import COLUMN_HELP
from ..kit.field_help import explain
from ..kit.table_model import Column, Index, RowsModel

# What each canonical column (DESIGN §6.1) is called on screen.
LABELS = {
    "nhs_number": "NHS number",
    "date_of_birth": "Date of birth",
    "given_name": "Given name",
    "family_name": "Family name",
    "sex": "Sex",
    "postcode": "Postcode",
    "practice_code": "Practice code (ODS)",
    "ltc_count": "Long-term conditions (count)",
    "efi_score": "eFI score (0–1)",
    "efi_deficits": "eFI deficits (0–36)",
    "prob_unplanned_admission": "Probability of unplanned admission",
    "predicted_cost": "Predicted cost (£)",
    "expected_cost": "Expected cost (£)",
    "care_home_id": "Care home (CQC location id)",
    "eol_register": "End-of-life register (Y/N)",
    "housebound": "Housebound (Y/N)",
    "emergency_admissions_12m": "Emergency admissions, last 12 months",
    "ae_attendances_12m": "A&E attendances, last 12 months",
    "emergency_bed_days_12m": "Emergency bed days, last 12 months",
    "cost_12m": "Cost of care, last 12 months (£)",
}
NOT_IMPORTED = "— not imported —"
EFI_EITHER = "eFI score or deficits"


def is_required(column: str) -> bool:
    return column in REQUIRED or column in EFI_COLUMNS


def required_status(mapping: dict[str, str]) -> list[tuple[str, bool]]:
    """(label, mapped?) for each required column, the eFI pair counted as one."""
    targets = set(mapping.values())
    status = [(LABELS[c], c in targets) for c in REQUIRED]
    status.insert(2, (EFI_EITHER, bool(targets.intersection(EFI_COLUMNS))))
    return status


class MappingTable(QTableWidget):
    """One row per heading in the file: its first value, and the canonical column it imports as."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(0, 3, parent)
        self.setObjectName("mappingTable")
        self.setAccessibleName("Columns in the file and what each imports as")
        self.setHorizontalHeaderLabels(["Column in the file", "First value", "Imports as"])
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(34)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(1, 96)
        self.combos: dict[str, QComboBox] = {}

    def set_columns(self, headings: Sequence[str], first_row: Sequence[str], mapping: dict[str, str]) -> None:
        self.combos = {}
        self.setRowCount(len(headings))
        for row, heading in enumerate(headings):
            name = QTableWidgetItem(heading or "(no heading)")
            self.setItem(row, 0, name)
            sample = first_row[row] if row < len(first_row) else ""
            value = QTableWidgetItem(sample)
            value.setForeground(Qt.GlobalColor.darkGray)
            value.setToolTip(sample or None)
            self.setItem(row, 1, value)
            combo = QComboBox()
            combo.setMinimumWidth(250)
            combo.setAccessibleName(f"Import the column {heading} as")
            combo.addItem(NOT_IMPORTED, None)
            for column in CANONICAL:
                combo.addItem(LABELS[column] + (" (required)" if is_required(column) else ""), column)
                combo.setItemData(combo.count() - 1, COLUMN_HELP[column], Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(max(0, combo.findData(mapping.get(heading))))
            combo.setProperty("heading", heading)
            _explain_choice(combo)
            combo.currentIndexChanged.connect(lambda _i, h=heading: self._chosen(h))
            self.setCellWidget(row, 2, combo)
            self.combos[heading] = combo
        self.changed.emit()

    def mapping(self) -> dict[str, str]:
        return {h: c.currentData() for h, c in self.combos.items() if c.currentData()}

    def set_target(self, heading: str, column: str | None) -> None:
        combo = self.combos[heading]
        combo.setCurrentIndex(max(0, combo.findData(column)))

    def _chosen(self, heading: str) -> None:
        # A canonical column comes from one heading only: choosing it here takes it from any other.
        target = self.combos[heading].currentData()
        if target:
            for other, combo in self.combos.items():
                if other != heading and combo.currentData() == target:
                    combo.blockSignals(True)
                    combo.setCurrentIndex(0)
                    combo.blockSignals(False)
                    _explain_choice(combo)
        _explain_choice(self.combos[heading])
        self.changed.emit()


def _explain_choice(combo: QComboBox) -> None:
    """The chosen column's rule on the box itself, so hovering over a mapping says what its values must be; a
    heading left out that the practice systems or ACG write says what it is and why it is not imported."""
    column = combo.currentData()
    if column:
        explain(combo, COLUMN_HELP[column])
        return
    known = not_imported_reason(str(combo.property("heading") or ""))
    explain(combo, f"Not imported: recognised as {known}." if known else "Not imported: the column is left out.")


class PreviewModel(RowsModel):
    """The first rows of the file, exactly as text, under the file's own headings."""

    def __init__(self, parent=None):
        super().__init__((), parent)
        self.row_numbers: list[int] = []

    def set_preview(
        self, headings: Sequence[str], rows: Sequence[Sequence[str]], row_numbers: Sequence[int] = ()
    ) -> None:
        """*row_numbers*: each row's number as a spreadsheet numbers it (default: the heading is row 1 and no
        row is skipped)."""
        with self.resetting():
            self.columns = [Column(heading, heading) for heading in headings]
            self._rows = [list(r) for r in rows]
            self.row_numbers = list(row_numbers) or list(range(2, len(rows) + 2))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Vertical:
            # Spreadsheet row numbers, as the rejections name them: below any title lines and the heading.
            if role != Qt.ItemDataRole.DisplayRole or section >= len(self.row_numbers):
                return None
            return str(self.row_numbers[section])
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        return self.record(index.row())[index.column()]


class RejectionsModel(RowsModel):
    """Rejected rows (extract_rules.Rejection: row, column, reason), sortable by any of the three."""

    def __init__(self, parent=None):
        super().__init__((Column("row", "Row"), Column("column", "Column"), Column("reason", "Reason")), parent)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = self.record(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"{r.row:,}", LABELS.get(r.column, r.column), r.reason)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2:
            return r.reason
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        keys = (lambda r: r.row, lambda r: (r.column, r.row), lambda r: (r.reason, r.row))
        self.layoutAboutToBeChanged.emit()
        self._rows.sort(key=keys[column], reverse=order == Qt.SortOrder.DescendingOrder)
        self.layoutChanged.emit()


def rejections_view(model: RejectionsModel) -> QTableView:
    view = QTableView()
    view.setObjectName("rejections")
    view.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
    view.setAccessibleName("Rejected rows")
    view.setModel(model)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(28)
    header = view.horizontalHeader()
    header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
    view.setColumnWidth(0, 80)
    view.setColumnWidth(1, 230)
    return view
