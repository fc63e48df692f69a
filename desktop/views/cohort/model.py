"""The cohort table's Qt model: a cohort.CohortFrame and the frame rows it shows, in display order.

Nothing is copied per row: data() formats a cell from the frame's arrays when the view asks for it, so
60,000 patients cost what the twenty rows on screen cost. Filtering happens in desktop.models.cohort.frame and
arrives here as a new array of row indices (STYLE practice 5; DESIGN §13).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from ...models import clock
from ...models.cohort import changed_risk
from ...models.cohort import frame as cohort
from ...models.cohort import rules as cohort_rules
from ...models.cohort.frame import CohortFrame
from ..kit import formats
from ..kit.style import colours
from ..kit.table_model import ID_ROLE
from .chips import CHIPS_ROLE, chips_for

Index = QModelIndex | QPersistentModelIndex
OVERDUE = "⚠ "


@dataclass(frozen=True)
class CohortColumn:
    key: str
    heading: str
    sort_key: str  # a cohort.SORT_KEYS entry
    width: int  # starting width in pixels; the user may drag it
    numeric: bool = False
    inverted: bool = False  # ascending on screen is descending by sort_key (age: youngest first)


# Ordered by what a matron scans for first; the rest scroll in from the right, and any column can be
# dragged, resized or hidden (right-click the headings).
COLUMNS = (
    CohortColumn("name", "Name", "name", 180),
    CohortColumn("age", "Age", "date_of_birth", 56, numeric=True, inverted=True),
    CohortColumn("criteria", "Why in the cohort", "criteria", 160),
    CohortColumn("efi", "eFI", "efi_deficits", 104),
    CohortColumn("status", "Status", "status", 100),
    CohortColumn("next_review_due", "Next review", "next_review_due", 112),
    CohortColumn("case_manager", "Case manager", "case_manager", 140),
    CohortColumn("nhs_number", "NHS number", "nhs_number", 112),
    CohortColumn("practice", "Practice", "practice", 170),
    CohortColumn("ltc_count", "LTCs", "ltc_count", 60, numeric=True),
    CohortColumn("cost_ratio", "Cost ratio", "cost_ratio", 88, numeric=True),
    CohortColumn("stream", "Stream", "stream", 100),
    CohortColumn("care_plan_date", "Care plan", "care_plan_date", 96),
)
KEYS = [c.key for c in COLUMNS]
# The Changed risk worklist's columns (issue 22): who, what changed in one cell, then before → now of each measure,
# each sortable by how far it moved (most gained first when sorted descending), then who is working with them.
CHANGE_COLUMNS = (
    CohortColumn("name", "Name", "name", 170),
    CohortColumn("nhs_number", "NHS number", "nhs_number", 104),
    CohortColumn("practice", "Practice", "practice", 150),
    CohortColumn("what_changed", "What changed", "what_changed", 270),
    CohortColumn("criteria_change", "Criteria before → now", "criteria_change", 220),
    CohortColumn("efi_change", "eFI band before → now", "efi_band_change", 170),
    CohortColumn("ltc_change", "LTCs", "ltc_change", 80, numeric=True),
    CohortColumn("cost_ratio_change", "Cost ratio", "cost_ratio_change", 124, numeric=True),
    CohortColumn("status", "Status", "status", 100),
    CohortColumn("case_manager", "Case manager", "case_manager", 140),
)
CHANGE_KEYS = [c.key for c in CHANGE_COLUMNS]
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
assert all(c.sort_key in cohort.SORT_KEYS for c in COLUMNS + CHANGE_COLUMNS)


class CohortModel(QAbstractTableModel):
    """Not a kit RowsModel, on purpose: its rows are an array of indices into the frame's numpy columns, not a
    list of records, and a cell is formatted from those columns only when the view paints it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frame: CohortFrame | None = None
        self.columns: tuple[CohortColumn, ...] = COLUMNS
        self.rows = np.zeros(0, dtype=np.int64)
        self.today = clock.today()
        self._ltc_min = cohort_rules.CohortRules().multimorbidity_min_ltc
        self._sort: tuple[int, bool] | None = None  # (column, descending)
        self._frame_index: dict[str, int] | None = None
        self._view_index: np.ndarray | None = None

    # -- contents -------------------------------------------------------------------------------------------
    def set_frame(self, frame: CohortFrame | None, rows: np.ndarray | None = None) -> None:
        """A freshly loaded frame; *rows* (frame order) defaults to every patient in it."""
        self.frame = frame
        self._frame_index = None
        self._ltc_min = run_ltc_min(frame)
        self.today = clock.today()
        self.set_rows(np.arange(len(frame)) if rows is None and frame is not None else rows)

    def set_columns(self, columns: tuple[CohortColumn, ...]) -> None:
        """Show *columns* (COLUMNS, or CHANGE_COLUMNS for the Changed risk list), unsorted: in frame (name) order."""
        if columns is self.columns:
            return
        self.beginResetModel()
        self.columns = columns
        self._sort = None
        if self.frame is not None and len(self.rows):
            self.rows = np.sort(self.rows)
            self._view_index = None
        self.endResetModel()

    def key_index(self, key: str) -> int:
        """The section showing column *key* in the current column set (-1 when it has none)."""
        return next((n for n, c in enumerate(self.columns) if c.key == key), -1)

    def set_rows(self, rows: np.ndarray | None) -> None:
        """Show these frame rows (the result of a filter), in the current sort order."""
        self.beginResetModel()
        self._view_index = None
        self.rows = np.zeros(0, dtype=np.int64) if rows is None or self.frame is None else np.asarray(rows)
        if self._sort is not None and len(self.rows):
            column, descending = self._sort
            self.rows = cohort.sort(
                self.frame, self.rows, self.columns[column].sort_key, descending != self.columns[column].inverted
            )
        self.endResetModel()

    def frame_row(self, view_row: int) -> int:
        return int(self.rows[view_row])

    def patient_id(self, view_row: int) -> str:
        return str(self.frame.ids[self.rows[view_row]])

    def view_rows_of(self, patient_ids: list[str]) -> list[int]:
        """Where these patients are shown now, in view order (those filtered out are left out)."""
        if self.frame is None or not patient_ids or not len(self.rows):
            return []
        if self._frame_index is None:  # id -> frame row, built once per frame
            self._frame_index = {str(pid): i for i, pid in enumerate(self.frame.ids)}
        if self._view_index is None:  # frame row -> view row (-1: not shown), once per filter or sort
            self._view_index = np.full(len(self.frame), -1, dtype=np.int64)
            self._view_index[self.rows] = np.arange(len(self.rows))
        index = self._frame_index
        wanted = np.fromiter((index[p] for p in patient_ids if p in index), dtype=np.int64)
        found = self._view_index[wanted]
        return np.sort(found[found >= 0]).tolist()

    @property
    def ltc_min(self) -> int:
        return self._ltc_min

    # -- QAbstractTableModel --------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].heading
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(self.columns[section].numeric)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.frame is None or index.row() >= len(self.rows):
            return None
        column = self.columns[index.column()]
        i = int(self.rows[index.row()])
        c = self.frame.columns
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(column.key, c, i)
        if role == CHIPS_ROLE:
            return self.chips(i) if column.key == "criteria" else None
        if role == ID_ROLE:
            return str(c["id"][i])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(column.numeric)
        if column.key == "next_review_due" and self.overdue(i):
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(colours().error)
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"Review overdue: it was due on {formats.date(c['next_review_due'][i])}."
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(column.key, c, i)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        # Called for every cell when many rows are selected: a constant, not three enum ORs each time.
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self.frame is None or not 0 <= column < len(self.columns):
            return
        self._sort = (column, order == Qt.SortOrder.DescendingOrder)
        # A layout change, not a reset, so the selection and the current row follow their patients.
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        held = [int(self.rows[ix.row()]) for ix in before]
        self.rows = cohort.sort(
            self.frame, self.rows, self.columns[column].sort_key, self._sort[1] != self.columns[column].inverted
        )
        self._view_index = None
        if before:
            position = np.empty(len(self.frame), dtype=np.int64)
            position[self.rows] = np.arange(len(self.rows))
            self.changePersistentIndexList(
                before, [self.index(int(position[f]), ix.column()) for ix, f in zip(before, held, strict=True)]
            )
        self.layoutChanged.emit()

    # -- cells -----------------------------------------------------------------------------------------------
    def chips(self, i: int) -> list:
        c = self.frame.columns
        return chips_for(
            str(c["criteria"][i]), self._ltc_min, bool(c["in_cohort"][i]), self.is_new(i), c["change"][i] == "changed"
        )

    def is_new(self, i: int) -> bool:
        run = self.frame.run
        return (
            bool(self.frame.columns["in_cohort"][i])
            and run is not None
            and self.frame.columns["joined_run_id"][i] == run["id"]
        )

    def overdue(self, i: int) -> bool:
        # The same test as the "Review due: overdue" filter (cohort.apply), so the marks and the filter agree.
        due = self.frame.columns["next_review_due"][i]
        return bool(due) and str(due) < self.today.isoformat()

    def _text(self, key: str, c: dict[str, np.ndarray], i: int) -> str:
        in_cohort = bool(c["in_cohort"][i])
        if key == "nhs_number":
            return formats.nhs_number(c["nhs_number"][i])
        if key == "age":
            years = formats.age(c["date_of_birth"][i], self.today)
            return "" if years is None else str(years)
        if key == "criteria":
            return ", ".join(chip.text for chip in self.chips(i))
        if key == "efi":
            band = cohort_rules.EFI_BANDS[int(c["efi_band"][i])]
            return f"{formats.sentence_case(band)} ({int(c['efi_deficits'][i])})" if in_cohort else "—"
        if key == "ltc_count":
            return str(int(c["ltc_count"][i])) if in_cohort else "—"
        if key == "cost_ratio":
            return formats.ratio(float(c["cost_ratio"][i])) if in_cohort else "—"
        if key in ("status", "stream"):
            return formats.sentence_case(c[key][i])
        if key == "care_plan_date":
            return formats.date(c["care_plan_date"][i])
        if key == "next_review_due":
            text = formats.date(c["next_review_due"][i])
            return OVERDUE + text if self.overdue(i) else text
        if key in CHANGE_TEXT:
            return CHANGE_TEXT[key](c, i) if int(c["was_efi_band"][i]) >= 0 else ""
        value = c[key][i]
        return "" if value is None else str(value)

    def _tooltip(self, key: str, c: dict[str, np.ndarray], i: int) -> str | None:
        if key in CHANGE_TEXT and int(c["was_efi_band"][i]) >= 0:
            return _change_tooltip(key, c, i)
        if key == "criteria":
            lines = [chip.text for chip in self.chips(i)]
            if c["change_detail"][i]:
                lines.append(f"Since the last run: {c['change_detail'][i]}")
            if not c["in_cohort"][i] and c["left_reason"][i]:
                lines.append(f"Left the cohort: {c['left_reason'][i]}")
            return "\n".join(lines) or None
        if key == "age":
            return f"Born {formats.date(c['date_of_birth'][i])}"
        if key == "efi" and c["in_cohort"][i]:
            return f"{int(c['efi_deficits'][i])} of 36 eFI deficits (score {int(c['efi_deficits'][i]) / 36:.2f})"
        if key == "cost_ratio" and c["in_cohort"][i]:
            return "Predicted acute cost for the next 12 months divided by the expected cost"
        if key in ("name", "practice", "case_manager"):
            text = str(c[key][i] or "")
            return text if len(text) > 22 else None
        if not c["in_cohort"][i] and key in ("efi", "ltc_count", "cost_ratio"):
            return "Not in the latest extract's cohort, so no current risk figures"
        return None


def _capital(text: str) -> str:
    """ "gained high cost" -> "Gained high cost"; "eFI …" stays as the index spells it."""
    return text if text.startswith("eFI") else formats.sentence_case(text)


def _criteria_change(c: dict[str, np.ndarray], i: int) -> str:
    before, now = changed_risk.criteria_names(c["was_criteria"][i]), changed_risk.criteria_names(c["criteria"][i])
    return f"{formats.sentence_case(before)} → {now}"


def _efi_change(c: dict[str, np.ndarray], i: int) -> str:
    return formats.sentence_case(changed_risk.band_move(int(c["was_efi_band"][i]), int(c["now_efi_band"][i])))


def _ltc_change(c: dict[str, np.ndarray], i: int) -> str:
    return f"{int(c['was_ltc_count'][i])} → {int(c['ltc_count'][i])}{changed_risk.arrow(int(c['ltc_change'][i]))}"


def _cost_ratio_change(c: dict[str, np.ndarray], i: int) -> str:
    then, now = float(c["was_cost_ratio"][i]), float(c["cost_ratio"][i])
    return f"{formats.ratio(then)} → {formats.ratio(now)}{changed_risk.arrow(round(now, 1) - round(then, 1))}"


# The Changed risk cells, for patients the latest run compared with the one before (was_efi_band set).
CHANGE_TEXT = {
    "what_changed": lambda c, i: _capital(str(c["what_changed"][i])),
    "criteria_change": _criteria_change,
    "efi_change": _efi_change,
    "ltc_change": _ltc_change,
    "cost_ratio_change": _cost_ratio_change,
}


def _change_tooltip(key: str, c: dict[str, np.ndarray], i: int) -> str | None:
    if key == "efi_change":
        return f"eFI deficits {int(c['was_efi_deficits'][i])} → {int(c['efi_deficits'][i])} of 36"
    if key == "cost_ratio_change":
        return "Predicted acute cost for the next 12 months divided by the expected cost, in the previous extract → now"
    if key == "what_changed":
        return str(c["what_changed"][i]).replace("; ", "\n") or None
    return None


def run_ltc_min(frame: CohortFrame | None) -> int:
    """The multimorbidity threshold the shown run was stratified with (a run keeps its own rules)."""
    if frame is not None and frame.run and frame.run.get("rules"):
        try:
            return int(json.loads(frame.run["rules"])["multimorbidity_min_ltc"])
        except (ValueError, KeyError, TypeError):
            pass
    return cohort_rules.CohortRules().multimorbidity_min_ltc


def _alignment(numeric: bool) -> Qt.AlignmentFlag:
    horizontal = Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter
