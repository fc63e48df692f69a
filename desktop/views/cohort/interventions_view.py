"""The patient panel's Interventions tab: what was delivered to the patient, and recording another (undoable with
Edit → Undo, which the tab follows like any other change)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...models.changes import Changes
from ...models.cohort import caseload
from ..kit import formats
from ..kit.session import Session
from ..kit.tables import records_table
from . import operations
from .caseload_dialogs import InterventionDialog


class InterventionsTab(QWidget):
    counted = Signal(int)  # how many are listed, after each refresh
    recorded = Signal()

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.patient_id: str | None = None
        self.patient_name = ""
        self.staff: Sequence[Mapping[str, Any]] = []
        self.dialog: InterventionDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.table = records_table("interventions", "Interventions delivered", ["Date", "Type", "By", "Note"])
        layout.addWidget(self.table, 1)
        self.empty = QLabel("No interventions recorded yet.")
        self.empty.setObjectName("fieldHelp")
        layout.addWidget(self.empty)
        row = QHBoxLayout()
        row.addStretch(1)
        self.record_button = QPushButton("Record intervention…")
        self.record_button.clicked.connect(self.record)
        row.addWidget(self.record_button)
        layout.addLayout(row)
        # An undo or redo may touch interventions alone, which the cohort page does not reload for.
        session.changed.connect(self._on_changes)

    def _on_changes(self, changes: Changes) -> None:
        if self.patient_id is not None and changes.touches("interventions"):
            self.refresh()

    def set_patient(self, patient_id: str | None, name: str, staff: Sequence[Mapping[str, Any]]) -> None:
        self.patient_id, self.patient_name, self.staff = patient_id, name, staff
        self.refresh()

    def refresh(self) -> None:
        rows = caseload.interventions(self.session.db, self.patient_id) if self.patient_id else []
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (
                formats.date(row["delivered_on"]),
                formats.sentence_case(row["type"]),
                row["delivered_by"] or "",
                row["note"] or "",
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text if c == 3 and text else None)
                self.table.setItem(r, c, item)
        self.empty.setVisible(not rows)
        self.counted.emit(len(rows))

    def record(self) -> None:
        if self.patient_id is None:
            return
        patient_id = self.patient_id

        def save(v: dict[str, Any]) -> None:
            operations.add_intervention(
                self.session, patient_id, v["kind"], v["delivered_on"], v["delivered_by_id"], v["note"]
            )

        self.dialog = InterventionDialog(self.patient_name, self.staff, save, self)
        self.dialog.accepted.connect(self._recorded)
        self.dialog.open()

    def _recorded(self) -> None:
        self.refresh()
        self.recorded.emit()
