"""The action form (new or existing action) and the bulk status dialog.

Neither decides what is valid: each hands its values to a save function (a desktop.views.mdt_operations
call) and, on a ValidationError, shows the message next to the field it names and stays open with
everything typed kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..models import actions
from ..models.errors import DeskError, ValidationError
from ..models.reference import ORGANISATIONS
from . import formats
from .date_field import DateField

Save = Callable[[dict[str, Any]], Any]
# Fields a domain error may name that are edited elsewhere on the form.
ALIASES = {"owner_staff_id": "owner_name", "escalated_on": "escalated_to", "meeting_id": None}


class FormDialog(QDialog):
    """Heading, explanation, a banner for refusals that name no field, a form, and Save/Cancel."""

    def __init__(self, title: str, heading: str, explanation: str, save_label: str, save: Save,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(600)
        self._save = save
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
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
        layout.addSpacing(6)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setVerticalSpacing(8)
        self.form.setHorizontalSpacing(14)
        layout.addLayout(self.form)
        layout.addStretch(1)
        layout.addSpacing(8)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(save_label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setProperty("primary", True)
        self.save_button.setDefault(True)
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def add_field(self, name: str, label: str, editor: QWidget, hint: str = "") -> QWidget:
        block = QWidget()
        box = QVBoxLayout(block)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(3)
        box.addWidget(editor)
        if hint:
            help_label = QLabel(hint)
            help_label.setObjectName("fieldHelp")
            help_label.setWordWrap(True)
            box.addWidget(help_label)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        box.addWidget(error)
        self.editors[name], self.errors[name] = editor, error
        caption = QLabel(label)
        caption.setContentsMargins(0, 5, 0, 0)
        self.form.addRow(caption, block)
        return block

    def section(self, title: str) -> None:
        heading = QLabel(title)
        heading.setObjectName("sectionTitle")
        heading.setContentsMargins(0, 8, 0, 0)
        self.form.addRow(heading)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def try_save(self) -> None:
        self.clear_errors()
        try:
            self._save(self.values())
        except ValidationError as exc:
            self.show_error(str(exc), ALIASES.get(exc.field, exc.field) if exc.field else None)
            return
        except DeskError as exc:  # e.g. deleted meanwhile: say so, keep the form open
            self.show_error(str(exc), None)
            return
        self.accept()

    def show_error(self, message: str, field: str | None) -> None:
        if field in self.errors and self.errors[field].parentWidget().isVisibleTo(self):
            self.errors[field].setText(f"⚠ {message}")
            self.errors[field].show()
            editor = self.editors[field]
            target = editor.line if isinstance(editor, DateField) else editor
            target.setProperty("invalid", True)
            target.style().unpolish(target)
            target.style().polish(target)
            target.setFocus()
        else:
            self.banner.setText(f"⚠ {message}")
            self.banner.show()

    def clear_errors(self) -> None:
        self.banner.hide()
        for name, label in self.errors.items():
            label.hide()
            editor = self.editors[name]
            target = editor.line if isinstance(editor, DateField) else editor
            if target.property("invalid"):
                target.setProperty("invalid", False)
                target.style().unpolish(target)
                target.style().polish(target)


def _text_box(name: str, height: int = 64) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(f"field_{name}")
    box.setAccessibleName(name.replace("_", " "))
    box.setTabChangesFocus(True)
    box.setFixedHeight(height)
    return box


def _combo(name: str, options: Sequence[tuple[str, Any]]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(f"field_{name}")
    combo.setAccessibleName(name.replace("_", " "))
    for text, value in options:
        combo.addItem(text, value)
    return combo


class ActionDialog(FormDialog):
    """A new action (action None) or an existing one, with its status and escalation."""

    def __init__(self, action: Mapping[str, Any] | None, staff: Sequence[Mapping[str, Any]],
                 patients: Sequence[tuple[str, str]], save: Save, heading: str = "", parent: QWidget | None = None):
        editing = action is not None
        title = f"Action {action['reference']}" if editing else "New action"
        explanation = ("Who does what by when. Saving notes the change in the action's history."
                       if editing else "Who does what by when. The action gets the next reference of the "
                       "locality and starts open.")
        super().__init__(title, heading or (action["reference"] if editing else "New action"), explanation,
                         "Save action" if editing else "Add action", save, parent)
        self.staff = {s["id"]: s for s in staff}
        self.description = _text_box("description")
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
        self.add_field("owner_name", "Owner", self.owner, "Someone outside the team? Type their name and choose "
                       "their organisation.")
        self.organisation = _combo("owner_organisation", [(formats.sentence_case(o), o) for o in ORGANISATIONS])
        self.organisation.setCurrentIndex(-1)
        self.organisation.setPlaceholderText("Choose…")
        self.add_field("owner_organisation", "Organisation", self.organisation)
        self.due = DateField("due_date")
        self.add_field("due_date", "Due", self.due)
        self.patient = _combo("patient_id", [("No patient", None), *[(label, pid) for pid, label in patients]])
        self.add_field("patient_id", "Patient", self.patient)
        self.action = dict(action) if action else {}
        if editing:
            self._progress_fields()
        self._fill(self.action)
        self.description.setFocus()

    def _progress_fields(self) -> None:
        self.section("Progress")
        self.status = _combo("status", [(formats.sentence_case(s), s) for s in actions.STATUSES])
        self.status.currentIndexChanged.connect(self._status_changed)
        self.add_field("status", "Status", self.status)
        self.completed = DateField("completed_on")
        self.completed_row = self.add_field("completed_on", "Completed on", self.completed)
        self.note = _text_box("outcome_note", 52)
        self.add_field("outcome_note", "Outcome note", self.note)
        self.section("Escalation")
        self.escalated_to = QLineEdit()
        self.escalated_to.setObjectName("field_escalated_to")
        self.escalated_to.setAccessibleName("Escalated to")
        when = self.action.get("escalated_on")
        self.add_field("escalated_to", "Escalated to", self.escalated_to,
                       f"Escalated on {formats.date(when)}." if when else "Leave empty unless the action is stuck.")
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
        if self.action:
            self.status.setCurrentIndex(self.status.findData(a["status"]))
            self.completed.set_value(a.get("completed_on") or dt.date.today())
            self.note.setPlainText(a.get("outcome_note") or "")
            self.escalated_to.setText(a.get("escalated_to") or "")
            self.reason.setText(a.get("escalation_reason") or "")
            self._status_changed()

    def details(self) -> dict[str, Any]:
        name = self.owner.currentText().strip()
        index = self.owner.findText(name, Qt.MatchFlag.MatchFixedString)
        return {"description": self.description.toPlainText().strip(), "owner_name": name,
                "owner_staff_id": self.owner.itemData(index) if index >= 0 else None,
                "owner_organisation": self.organisation.currentData() or "",
                "due_date": self.due.value(), "patient_id": self.patient.currentData()}

    def values(self) -> dict[str, Any]:
        if not self.action:
            return self.details()
        status = self.status.currentData()
        return {"details": self.details(), "status": status,
                "completed_on": self.completed.value() if status == "done" else None,
                "outcome_note": self.note.toPlainText().strip(), "escalated_to": self.escalated_to.text(),
                "escalation_reason": self.reason.text()}

    def _owner_chosen(self, index: int) -> None:
        member = self.staff.get(self.owner.itemData(index))
        if member:
            self.organisation.setCurrentIndex(self.organisation.findData(member["organisation"]))

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.completed_row, self.status.currentData() == "done")


class StatusDialog(FormDialog):
    """One status for every selected action; the button names how many."""

    def __init__(self, count: int, save: Save, parent: QWidget | None = None):
        what = formats.count(count, "action")
        super().__init__("Set status", f"Set the status of {what}",
                         f"Each of the {what} selected moves to the status you choose, all together or not at "
                         "all, and each change is noted in that action's history.", f"Set status of {what}",
                         save, parent)
        self.status = _combo("status", [(formats.sentence_case(s), s) for s in actions.STATUSES])
        self.status.setCurrentIndex(self.status.findData("done"))
        self.status.currentIndexChanged.connect(self._status_changed)
        self.add_field("status", "Status", self.status)
        self.completed = DateField("completed_on", dt.date.today())
        self.completed_row = self.add_field("completed_on", "Completed on", self.completed)
        self.note = _text_box("outcome_note", 52)
        self.add_field("outcome_note", "Outcome note", self.note, "Leave empty to keep each action's own note.")
        self.status.setFocus()

    def values(self) -> dict[str, Any]:
        status = self.status.currentData()
        note = self.note.toPlainText().strip()
        return {"status": status, "completed_on": self.completed.value() if status == "done" else None,
                "outcome_note": note or None}

    def _status_changed(self) -> None:
        self.form.setRowVisible(self.completed_row, self.status.currentData() == "done")
