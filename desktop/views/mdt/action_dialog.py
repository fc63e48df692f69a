"""The action form (new or existing action, with its progress and escalation) and the bulk status dialog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from ...models import clock
from ...models.kpi.catalogue import catalogue
from ...models.mdt import actions
from ...models.reference import ORGANISATIONS
from ..kit import formats
from ..kit.date_field import DateField
from ..kit.form_dialog import FormDialog, Save, combo, text_box


class ActionDialog(FormDialog):
    """A new action (action None) or an existing one, with its status and escalation."""

    rules = actions.HELP

    def __init__(
        self,
        action: Mapping[str, Any] | None,
        staff: Sequence[Mapping[str, Any]],
        patients: Sequence[tuple[str, str]],
        save: Save,
        heading: str = "",
        parent: QWidget | None = None,
    ):
        editing = action is not None
        title = f"Action {action['reference']}" if editing else "New action"
        explanation = (
            "Who does what by when. Saving notes the change in the action's history."
            if editing
            else "Who does what by when. The action gets the next reference of the locality and starts open."
        )
        super().__init__(
            title,
            heading or (action["reference"] if editing else "New action"),
            explanation,
            "Save action" if editing else "Add action",
            save,
            parent,
        )
        self.staff = {s["id"]: s for s in staff}
        self.description = text_box("description")
        self.add_field("description", "Action", self.description)
        self.owner = QComboBox()
        self.owner.setObjectName("field_owner_name")
        self.owner.setAccessibleName("Owner")
        self.owner.setEditable(True)
        self.owner.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for s in staff:
            self.owner.addItem(s["name"], s["id"])
        self.owner.setCurrentIndex(-1)
        self.owner.lineEdit().setPlaceholderText("Choose a team member or type a name")
        self.owner.activated.connect(self._owner_chosen)
        self.add_field(
            "owner_name",
            "Owner",
            self.owner,
            "Someone outside the team? Type their name and choose their organisation.",
        )
        self.organisation = combo(
            "owner_organisation", [(formats.sentence_case(o), o) for o in ORGANISATIONS], "Choose…"
        )
        self.add_field("owner_organisation", "Organisation", self.organisation)
        self.due = DateField("due_date")
        self.add_field("due_date", "Due", self.due)
        self.patient = combo("patient_id", [("No patient", None), *[(label, pid) for pid, label in patients]])
        self.add_field("patient_id", "Patient", self.patient)
        self.kpi = combo("kpi", [("No KPI", None), *[(f"{k.code} {k.name}", k.code) for k in catalogue()]])
        self.add_field(
            "kpi",
            "Against KPI",
            self.kpi,
            "Raised to put a KPI right (a red in the return)? Choose it: "
            "the locality report lists the action under that KPI.",
        )
        self.action = dict(action) if action else {}
        if editing:
            self._progress_fields()
        self._fill(self.action)
        self.description.setFocus()

    def _progress_fields(self) -> None:
        self.section("Progress")
        self.status = combo("status", [(formats.sentence_case(s), s) for s in actions.STATUSES])
        self.status.currentIndexChanged.connect(self._status_changed)
        self.add_field("status", "Status", self.status)
        self.completed = DateField("completed_on")
        self.completed_row = self.add_field("completed_on", "Completed on", self.completed)
        self.note = text_box("outcome_note", 52)
        self.add_field("outcome_note", "Outcome note", self.note)
        self.section("Escalation")
        self.escalated_to = QLineEdit()
        self.escalated_to.setObjectName("field_escalated_to")
        self.escalated_to.setAccessibleName("Escalated to")
        when = self.action.get("escalated_on")
        self.add_field(
            "escalated_to",
            "Escalated to",
            self.escalated_to,
            f"Escalated on {formats.date(when)}." if when else "Leave empty unless the action is stuck.",
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("field_escalation_reason")
        self.reason.setAccessibleName("Why escalated")
        self.add_field("escalation_reason", "Why", self.reason)

    def _fill(self, a: Mapping[str, Any]) -> None:
        self.description.setPlainText(a.get("description") or "")
        found = self.owner.findData(a.get("owner_staff_id")) if a.get("owner_staff_id") else -1
        self.owner.setCurrentIndex(found)
        if found < 0:
            self.owner.setEditText(a.get("owner_name") or "")
        self.organisation.setCurrentIndex(self.organisation.findData(a.get("owner_organisation")))
        self.due.set_value(a.get("due_date"))
        if a.get("patient_id") and self.patient.findData(a["patient_id"]) < 0:
            self.patient.addItem(a.get("patient_label") or "The action's patient", a["patient_id"])
        self.patient.setCurrentIndex(max(self.patient.findData(a.get("patient_id")), 0))
        self.kpi.setCurrentIndex(max(self.kpi.findData(a.get("kpi")), 0))
        if self.action:
            self.status.setCurrentIndex(self.status.findData(a["status"]))
            self.completed.set_value(a.get("completed_on") or clock.today())
            self.note.setPlainText(a.get("outcome_note") or "")
            self.escalated_to.setText(a.get("escalated_to") or "")
            self.reason.setText(a.get("escalation_reason") or "")
            self._status_changed()

    def details(self) -> dict[str, Any]:
        name = self.owner.currentText().strip()
        index = self.owner.findText(name, Qt.MatchFlag.MatchFixedString)
        return {
            "description": self.description.toPlainText().strip(),
            "owner_name": name,
            "owner_staff_id": self.owner.itemData(index) if index >= 0 else None,
            "owner_organisation": self.organisation.currentData() or "",
            "due_date": self.due.value(),
            "patient_id": self.patient.currentData(),
            "kpi": self.kpi.currentData(),
        }

    def values(self) -> dict[str, Any]:
        if not self.action:
            return self.details()
        status = self.status.currentData()
        return {
            "details": self.details(),
            "status": status,
            "completed_on": self.completed.value() if status == "done" else None,
            "outcome_note": self.note.toPlainText().strip(),
            "escalated_to": self.escalated_to.text(),
            "escalation_reason": self.reason.text(),
        }

    def _owner_chosen(self, index: int) -> None:
        member = self.staff.get(self.owner.itemData(index))
        if member:
            self.organisation.setCurrentIndex(self.organisation.findData(member["organisation"]))

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.completed_row, self.status.currentData() == "done")


class StatusDialog(FormDialog):
    """One status for every selected action; the button names how many."""

    rules = actions.HELP

    def __init__(self, count: int, save: Save, parent: QWidget | None = None):
        what = formats.count(count, "action")
        super().__init__(
            "Set status",
            f"Set the status of {what}",
            f"Each of the {what} selected moves to the status you choose, all together or not at "
            "all, and each change is noted in that action's history.",
            f"Set status of {what}",
            save,
            parent,
        )
        self.status = combo("status", [(formats.sentence_case(s), s) for s in actions.STATUSES])
        self.status.setCurrentIndex(self.status.findData("done"))
        self.status.currentIndexChanged.connect(self._status_changed)
        self.add_field("status", "Status", self.status)
        self.completed = DateField("completed_on", clock.today())
        self.completed_row = self.add_field("completed_on", "Completed on", self.completed)
        self.note = text_box("outcome_note", 52)
        self.add_field("outcome_note", "Outcome note", self.note, "Leave empty to keep each action's own note.")
        self.status.setFocus()

    def values(self) -> dict[str, Any]:
        status = self.status.currentData()
        note = self.note.toPlainText().strip()
        return {
            "status": status,
            "completed_on": self.completed.value() if status == "done" else None,
            "outcome_note": note or None,
        }

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.completed_row, self.status.currentData() == "done")
