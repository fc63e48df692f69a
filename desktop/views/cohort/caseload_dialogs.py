"""Small caseload dialogs: recording an intervention, and changing many patients at once.

Each gathers values and hands them to a save function (an operations.* call); a refusal is shown in the
dialog's banner, and the dialog stays open with everything typed kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QComboBox, QDateEdit, QWidget

from ...models import clock
from ...models.cohort import caseload
from ...models.errors import DeskError, ValidationError
from ..kit import formats, messages
from ..kit.form_dialog import FormDialog, Save, combo, text_box

WIDTH = 520


class InterventionDialog(FormDialog):
    ask_before_discarding = False
    rules = caseload.INTERVENTION_HELP

    def __init__(
        self, patient_name: str, staff: Sequence[Mapping[str, Any]], save: Save, parent: QWidget | None = None
    ):
        super().__init__(
            "Record intervention",
            f"Record an intervention for {patient_name}",
            "What was delivered, when and by whom. It counts towards the quarter's interventions "
            "(KPI COH-06); a care-plan review also moves the next review date on.",
            "Record intervention",
            save,
            parent,
            WIDTH,
        )
        self.kind = combo("type", [(formats.sentence_case(t), t) for t in caseload.INTERVENTION_TYPES], "Choose…")
        self.kind.setAccessibleName("Intervention type")
        self.add_row("Type", self.kind, "type")
        self.date = QDateEdit(QDate(clock.today()))
        self.date.setObjectName("field_delivered_on")
        self.date.setAccessibleName("Date delivered")
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("dd/MM/yyyy")
        self.date.setMaximumDate(QDate(clock.today()))
        self.add_row("Delivered on", self.date, "delivered_on")
        self.by = combo(
            "delivered_by", [("Not recorded", None), *[(f"{s['name']} ({s['role']})", s["id"]) for s in staff]]
        )
        self.by.setAccessibleName("Delivered by")
        self.add_row("By", self.by, "delivered_by_id")
        self.note = text_box("note", 90)
        self.note.setAccessibleName("Note")
        self.add_row("Note", self.note, "note")
        self.kind.setFocus()

    def values(self) -> dict[str, Any]:
        return {
            "kind": self.kind.currentData() or "",
            "delivered_on": self.date.date().toPython(),
            "delivered_by_id": self.by.currentData(),
            "note": self.note.toPlainText().strip(),
        }


class BulkDialog(FormDialog):
    """One change to every selected patient: a case manager, or a status. The button names how many.

    Its *save(values, done, failed, cancelled)* starts the change off the GUI thread (operations.update_patients)
    and reports back through one of the three."""

    ask_before_discarding = False
    rules = caseload.HELP

    def __init__(
        self,
        what: str,
        count: int,
        staff: Sequence[Mapping[str, Any]],
        save: Callable[..., Any],
        parent: QWidget | None = None,
    ):
        patients = formats.count(count, "patient")
        if what == "case_manager":
            title, heading, label = (
                "Assign case manager",
                f"Assign a case manager to {patients}",
                f"Assign to {patients}",
            )
        else:
            title, heading, label = "Set status", f"Set the status of {patients}", f"Set status of {patients}"
        super().__init__(
            title,
            heading,
            f"This changes the caseload record of each of the {patients} selected, "
            "all together or not at all. Each change is noted in the audit trail.",
            label,
            save,
            parent,
            WIDTH,
        )
        self.what = what
        self.reason: QComboBox | None = None
        if what == "case_manager":
            self.choice = combo(
                "case_manager",
                [*[(f"{s['name']} ({s['role']})", s["id"]) for s in staff], ("Nobody: remove the case manager", "")],
                "Choose…",
            )
            self.choice.setAccessibleName("Case manager")
            self.add_row("Case manager", self.choice, "case_manager_id")
        else:
            self.choice = combo("status", [(formats.sentence_case(s), s) for s in caseload.STATUSES], "Choose…")
            self.choice.setAccessibleName("Status")
            self.add_row("Status", self.choice, "status")
            self.reason = combo(
                "discharge_reason", [(formats.sentence_case(r), r) for r in caseload.DISCHARGE_REASONS], "Choose why…"
            )
            self.reason.setAccessibleName("Discharged because")
            self.add_row("Discharged because", self.reason, "discharge_reason")
            self.choice.currentIndexChanged.connect(self._status_changed)
            self._status_changed()
        self.choice.setFocus()

    def values(self) -> dict[str, Any]:
        # Refused here rather than by the domain: with nothing chosen there is no change to send.
        if self.choice.currentIndex() < 0:
            raise ValidationError(f"Choose a {'case manager' if self.what == 'case_manager' else 'status'} first.")
        if self.what == "case_manager":
            return {"case_manager_id": self.choice.currentData() or None}
        changes = {"status": self.choice.currentData()}
        if changes["status"] == "discharged":
            changes["discharge_reason"] = self.reason.currentData()
        return changes

    def try_save(self) -> None:
        """Close only when the change is done, so a refusal or a Cancel is still shown here with the choice kept."""
        self.clear_errors()
        try:
            values = self.values()
        except ValidationError as exc:
            self.show_error(str(exc), None)
            return
        self.save_button.setEnabled(False)  # until the change reports back: one press, one change
        self._save(values, self._saved, self._refused, self._cancelled)

    def _saved(self) -> None:
        self.save_button.setEnabled(True)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        if isinstance(exc, DeskError):
            self.show_error(str(exc), None)
        else:
            messages.show_error(self, "Not changed", exc)

    def _cancelled(self) -> None:
        self.save_button.setEnabled(True)
        self.show_error("Cancelled; nothing was changed.", None)

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.reason, self.choice.currentData() == "discharged")
