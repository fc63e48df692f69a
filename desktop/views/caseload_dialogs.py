"""Small caseload dialogs: recording an intervention, and changing many patients at once.

Each gathers values and hands them to a save function (an operations.* call); a refusal is shown in the
dialog, which stays open with everything typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..models import caseload
from ..models.errors import DeskError, ValidationError
from . import formats

Save = Callable[[dict[str, Any]], Any]


class _Dialog(QDialog):
    """Heading, explanation, a form, a banner for refusals, and Save/Cancel."""

    def __init__(self, title: str, heading: str, explanation: str, save_label: str, save: Save,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        self._save = save
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        head = QLabel(heading)
        head.setObjectName("dialogHeading")
        head.setWordWrap(True)
        layout.addWidget(head)
        sub = QLabel(explanation)
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
        layout.addSpacing(8)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.setVerticalSpacing(10)
        layout.addLayout(self.form)
        layout.addStretch(1)
        layout.addSpacing(12)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(save_label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setProperty("primary", True)
        self.save_button.setDefault(True)
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def try_save(self) -> None:
        self.banner.hide()
        try:
            self._save(self.values())
        except ValidationError as exc:
            self.banner.setText(f"⚠ {exc}")
            self.banner.show()
            return
        except DeskError as exc:
            self.banner.setText(str(exc))
            self.banner.show()
            return
        self.accept()


def _combo(name: str, options: Sequence[tuple[str, Any]], placeholder: str = "") -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(f"field_{name}")
    combo.setAccessibleName(name.replace("_", " "))
    if placeholder:
        combo.setPlaceholderText(placeholder)
    for text, value in options:
        combo.addItem(text, value)
    combo.setCurrentIndex(-1 if placeholder else 0)
    return combo


class InterventionDialog(_Dialog):
    def __init__(self, patient_name: str, staff: Sequence[Mapping[str, Any]], save: Save,
                 parent: QWidget | None = None):
        super().__init__("Record intervention", f"Record an intervention for {patient_name}",
                         "What was delivered, when and by whom. It counts towards the quarter's interventions "
                         "(KPI COH-06); a care-plan review also moves the next review date on.",
                         "Record intervention", save, parent)
        self.kind = _combo("type", [(formats.sentence_case(t), t) for t in caseload.INTERVENTION_TYPES], "Choose…")
        self.kind.setAccessibleName("Intervention type")
        self.form.addRow("Type", self.kind)
        self.date = QDateEdit(QDate.currentDate())
        self.date.setObjectName("field_delivered_on")
        self.date.setAccessibleName("Date delivered")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dd/MM/yyyy")
        self.date.setMaximumDate(QDate.currentDate())
        self.form.addRow("Delivered on", self.date)
        self.by = _combo("delivered_by", [("Not recorded", None),
                                          *[(f"{s['name']} ({s['role']})", s["id"]) for s in staff]])
        self.by.setAccessibleName("Delivered by")
        self.form.addRow("By", self.by)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(90)
        self.form.addRow("Note", self.note)
        self.kind.setFocus()

    def values(self) -> dict[str, Any]:
        return {"kind": self.kind.currentData() or "", "delivered_on": self.date.date().toPython(),
                "delivered_by_id": self.by.currentData(), "note": self.note.toPlainText().strip()}


class BulkDialog(_Dialog):
    """One change to every selected patient: a case manager, or a status. The button names how many."""

    def __init__(self, what: str, count: int, staff: Sequence[Mapping[str, Any]], save: Save,
                 parent: QWidget | None = None):
        patients = formats.count(count, "patient")
        if what == "case_manager":
            title, heading, label = "Assign case manager", f"Assign a case manager to {patients}", \
                f"Assign to {patients}"
        else:
            title, heading, label = "Set status", f"Set the status of {patients}", f"Set status of {patients}"
        super().__init__(title, heading, f"This changes the caseload record of each of the {patients} selected, "
                         "all together or not at all. Each change is noted in the audit trail.", label, save, parent)
        self.what = what
        self.reason: QComboBox | None = None
        if what == "case_manager":
            self.choice = _combo("case_manager", [*[(f"{s['name']} ({s['role']})", s["id"]) for s in staff],
                                                  ("Nobody: remove the case manager", "")], "Choose…")
            self.choice.setAccessibleName("Case manager")
            self.form.addRow("Case manager", self.choice)
        else:
            self.choice = _combo("status", [(formats.sentence_case(s), s) for s in caseload.STATUSES], "Choose…")
            self.choice.setAccessibleName("Status")
            self.form.addRow("Status", self.choice)
            self.reason = _combo("discharge_reason",
                                 [(formats.sentence_case(r), r) for r in caseload.DISCHARGE_REASONS], "Choose why…")
            self.reason.setAccessibleName("Discharged because")
            self.form.addRow("Discharged because", self.reason)
            self.choice.currentIndexChanged.connect(self._status_changed)
            self._status_changed()
        self.choice.setFocus()

    def values(self) -> dict[str, Any]:
        if self.choice.currentIndex() < 0:
            raise ValidationError(f"Choose a {'case manager' if self.what == 'case_manager' else 'status'} first.")
        if self.what == "case_manager":
            return {"case_manager_id": self.choice.currentData() or None}
        changes = {"status": self.choice.currentData()}
        if changes["status"] == "discharged":
            changes["discharge_reason"] = self.reason.currentData()
        return changes

    def try_save(self) -> None:
        try:
            self.values()
        except ValidationError as exc:
            self.banner.setText(f"⚠ {exc}")
            self.banner.show()
            return
        super().try_save()

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.reason, self.choice.currentData() == "discharged")
