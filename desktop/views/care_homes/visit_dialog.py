"""Log a visit, fast on a laptop in the home: the home, date and type, the clinician, the residents reviewed
(tick, outcome, note) and a few follow-up actions, saved in one call to visits.log_visit. The same form, filled
in, corrects a logged visit (visits.update): its home stays, and the follow-ups raised before are listed (they
are edited in the action log) above the rows for new ones.

Space ticks a resident, Tab moves on to their outcome and note; Ctrl+Enter saves from anywhere. A refusal is
shown at the field it names and everything typed stays.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QWidget,
)

from ...models import clock
from ...models.care_homes import visits
from ...models.mdt import actions
from ...models.reference import ORGANISATIONS
from ..kit import formats
from ..kit.date_field import DateField
from ..kit.field_help import explain, help_label
from ..kit.form_dialog import FormDialog, combo, narrow_combos, text_box
from ..kit.style import fits

FOLLOW_UPS = 3
# A follow-up action's refusal names one of its fields; the form shows it under the actions block.
ACTION_FIELDS = ("description", "owner_name", "owner_staff_id", "owner_organisation", "due_date", "patient_id")


class ResidentRow:
    """One resident of the pick-list: a tick, an outcome (once ticked) and a note."""

    def __init__(self, resident: Mapping[str, Any]):
        self.resident_id = resident["id"]
        name = f"{str(resident['family_name']).upper()}, {resident['given_name']}"
        self.check = QCheckBox(name)
        self.check.setObjectName(f"resident_{resident['id']}")
        self.check.setToolTip(f"NHS {formats.nhs_number(resident['nhs_number'])}; PCSP {resident['pcsp_status']}")
        self.outcome = combo("outcome", [(o, o) for o in visits.OUTCOMES])
        self.outcome.setAccessibleName(f"Outcome for {name}")
        explain(self.outcome, visits.HELP["residents"])
        self.note = QLineEdit()
        self.note.setPlaceholderText("Note")
        self.note.setAccessibleName(f"Note for {name}")
        self.check.toggled.connect(self._toggled)
        self._toggled(False)

    def set_value(self, reviewed: Mapping[str, Any]) -> None:
        """Show the resident as the visit recorded them: ticked, with its outcome and note."""
        self.check.setChecked(True)
        self.outcome.setCurrentIndex(max(0, self.outcome.findData(reviewed["outcome"])))
        self.note.setText(str(reviewed.get("note") or ""))

    def _toggled(self, on: bool) -> None:
        self.outcome.setEnabled(on)
        self.note.setEnabled(on)

    def value(self) -> dict[str, Any] | None:
        if not self.check.isChecked():
            return None
        return {"resident_id": self.resident_id, "outcome": self.outcome.currentData(), "note": self.note.text()}


class FollowUpRow:
    def __init__(self, number: int, staff: Sequence[tuple[str, str]], residents: Sequence[Mapping[str, Any]]):
        self.description = QLineEdit()
        self.description.setObjectName(f"followup_description_{number}")
        self.description.setPlaceholderText("What is to be done")
        self.description.setAccessibleName(f"Follow-up action {number + 1}")
        self.owner = combo(f"followup_owner_{number}", [(name, sid) for sid, name in staff], "Owner")
        self.organisation = combo(
            f"followup_organisation_{number}", [("The owner's", "")] + [(o, o) for o in ORGANISATIONS]
        )
        self.due = DateField(f"followup_due_{number}")
        self.resident = combo(
            f"followup_resident_{number}",
            [("No resident", "")]
            + [(f"{str(r['family_name']).upper()}, {r['given_name']}", r["id"]) for r in residents],
        )
        for widget, name in (
            (self.description, "description"),
            (self.owner, "owner_name"),
            (self.organisation, "owner_organisation"),
            (self.due, "due_date"),
        ):
            explain(widget, actions.HELP[name])
        self.description.setMinimumWidth(240)
        self.due.line.setMinimumWidth(fits(self.due.line, "00/00/0000", 100))
        # Widths for 10 pt that grow with a larger font, or the choice shows a few letters ("The ow").
        for box, width, sample in (
            (self.owner, 170, "Dr Claire Kibworth"),
            (self.organisation, 130, "The owner's"),
            (self.resident, 170, "CALLOWAY, Joan"),
        ):
            box.setMaximumWidth(max(width, box.fontMetrics().horizontalAdvance(sample) + 48))
            # Six fields to a row: at a large font each gives way a little, down to its width at 10 pt.
            narrow_combos(box)
            box.setMinimumContentsLength(8)
            box.setMinimumWidth(width)

    def widgets(self) -> list[QWidget]:
        return [self.description, self.owner, self.organisation, self.due, self.resident]

    def value(self) -> dict[str, Any] | None:
        owner = self.owner.currentData() if self.owner.currentIndex() >= 0 else None
        if not (self.description.text().strip() or owner or self.due.value()):
            return None  # an untouched row is not an action
        values: dict[str, Any] = {
            "description": self.description.text(),
            "owner_staff_id": owner,
            "due_date": self.due.value(),
        }
        if self.organisation.currentData():
            values["owner_organisation"] = self.organisation.currentData()
        if self.resident.currentData():
            values["resident_id"] = self.resident.currentData()
        return values


class LogVisitDialog(FormDialog):
    rules = visits.HELP

    def __init__(
        self,
        homes: Sequence[tuple[str, str]],
        staff: Sequence[tuple[str, str]],
        residents_of: Callable[[str], list[dict[str, Any]]],
        save: Callable[[dict[str, Any]], Any],
        home_id: str,
        day: dt.date | None = None,
        kind: str = visits.TYPES[0],
        clinician_id: str | None = None,
        parent: QWidget | None = None,
        visit: Mapping[str, Any] | None = None,
    ):
        """*visit* (visits.get) given: the form corrects it, filled in as it was recorded."""
        if visit is not None:
            day, kind, clinician_id = visit["visited_on"], visit["type"], visit["clinician_id"]
            home_id = visit["care_home_id"]
        home_name = next((name for hid, name in homes if hid == home_id), "")
        super().__init__(
            "Edit visit" if visit else "Log a visit",
            f"Edit the {kind} at {home_name} on {formats.date(visit['visited_on'])}"
            if visit
            else "Log a care-home visit",
            "Change what was recorded; Edit → Undo puts the visit back as it was. Follow-up actions added "
            "here go into the locality's action log."
            if visit
            else "Tick each resident reviewed and give the outcome. Follow-up actions go straight into "
            "the locality's action log.",
            "Save changes" if visit else "Save the visit",
            save,
            parent,
            width=1080,
        )
        self.setObjectName("editVisitDialog" if visit else "logVisitDialog")
        self._staff = list(staff)
        self._residents_of = residents_of
        self.home = combo("care_home_id", [(name, hid) for hid, name in homes])
        self.home.setCurrentIndex(max(0, self.home.findData(home_id)))
        self.add_field(
            "care_home_id",
            "Home",
            self.home,
            "A visit stays at its home: one logged at the wrong home is logged again at the right one."
            if visit
            else "",
        )
        self.home.setEnabled(visit is None)
        self.date = DateField("visited_on", day or clock.today())
        self.add_field("visited_on", "Date", self.date)
        self.type = combo("type", [(formats.sentence_case(t), t) for t in visits.TYPES])
        self.type.setCurrentIndex(max(0, self.type.findData(kind)))
        self.add_field("type", "Type", self.type)
        self.clinician = combo("clinician_id", [("Not recorded", "")] + [(n, sid) for sid, n in staff])
        if visit and clinician_id and self.clinician.findData(clinician_id) < 0:
            # Someone from another team's staff list: kept, not quietly cleared, when the visit is corrected.
            self.clinician.addItem(visit["clinician_name"] or "Another team's clinician", clinician_id)
        self.clinician.setCurrentIndex(max(0, self.clinician.findData(clinician_id or "")))
        self.add_field("clinician_id", "Clinician", self.clinician)

        self.section("Residents reviewed")
        self.resident_area = QScrollArea()
        self.resident_area.setObjectName("formScroll")
        self.resident_area.setWidgetResizable(True)
        self.resident_area.setMinimumHeight(200)
        self.add_field("residents", "", self.resident_area)
        self.rows: list[ResidentRow] = []

        self.section("Follow-up actions")
        holder = QWidget()
        self.follow_grid = QGridLayout(holder)
        self.follow_grid.setContentsMargins(0, 0, 0, 0)
        self.follow_grid.setHorizontalSpacing(6)
        for column, heading in enumerate(("Action", "Owner", "Organisation", "Due", "Resident")):
            self.follow_grid.addWidget(help_label(heading), 0, column)
        self.follow_grid.setColumnStretch(0, 3)
        self.follow_ups: list[FollowUpRow] = []
        if visit and visit.get("actions"):
            raised = QLabel(
                "Raised at this visit (edit them in the action log):<br>"
                + "<br>".join(
                    f"{html.escape(a['reference'])} {html.escape(a['description'])} ({html.escape(a['owner_name'])}, "
                    f"due {formats.date(a['due_date'])}, {html.escape(a['status'])})"
                    for a in visit["actions"]
                )
            )
            raised.setObjectName("raisedActions")
            raised.setTextFormat(Qt.TextFormat.RichText)
            raised.setWordWrap(True)
            self.add_row("", raised)
        self.add_field("follow_ups", "", holder)
        self.notes = text_box("notes", 48)
        self.notes.setPlainText(str((visit or {}).get("notes") or ""))
        self.add_field("notes", "Notes", self.notes)

        self._fill_residents()
        for reviewed in (visit or {}).get("residents", []):
            row = next((r for r in self.rows if r.resident_id == reviewed["resident_id"]), None)
            if row is not None:  # the page lists everyone the visit reviewed (visits.pick_list)
                row.set_value(reviewed)
        self.home.currentIndexChanged.connect(self._fill_residents)
        save_shortcut = QShortcut(QKeySequence("Ctrl+Return"), self)
        save_shortcut.activated.connect(self.try_save)
        self.date.setFocus()

    def _fill_residents(self) -> None:
        """The chosen home's current residents to tick, and the follow-up rows that may name one."""
        listed = self._residents_of(self.home.currentData())
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setHorizontalSpacing(10)
        self.rows = [ResidentRow(r) for r in listed]
        for number, row in enumerate(self.rows):
            grid.addWidget(row.check, number, 0)
            grid.addWidget(row.outcome, number, 1)
            grid.addWidget(row.note, number, 2)
        grid.setColumnStretch(2, 1)
        if not self.rows:
            grid.addWidget(QLabel("No residents are recorded at this home."), 0, 0)
        grid.setRowStretch(len(self.rows) + 1, 1)
        self.resident_area.setWidget(box)
        for old in self.follow_ups:
            for widget in old.widgets():
                self.follow_grid.removeWidget(widget)
                widget.deleteLater()
        self.follow_ups = [FollowUpRow(n, self._staff, listed) for n in range(FOLLOW_UPS)]
        for number, follow in enumerate(self.follow_ups):
            for column, widget in enumerate(follow.widgets()):
                self.follow_grid.addWidget(widget, number + 1, column)

    def resident_row(self, resident_id: str) -> ResidentRow:
        return next(r for r in self.rows if r.resident_id == resident_id)

    def values(self) -> dict[str, Any]:
        return {
            "care_home_id": self.home.currentData(),
            "visited_on": self.date.value(),
            "type": self.type.currentData(),
            "clinician_id": self.clinician.currentData() or None,
            "residents": [v for r in self.rows if (v := r.value())],
            "follow_ups": [v for f in self.follow_ups if (v := f.value())],
            "notes": self.notes.toPlainText(),
        }

    def show_error(self, message: str, field: str | None) -> None:
        if field in ACTION_FIELDS:
            message, field = f"Follow-up action: {message}", "follow_ups"
        super().show_error(message, field)


def visit_summary(visit: Mapping[str, Any], home_name: str) -> str:
    """A visit as rich text for the read-only visit box: who was seen, with what outcome, and its actions."""

    def esc(value: Any) -> str:
        return html.escape(str(value or ""))

    lines = [
        f"<b>{esc(formats.sentence_case(visit['type']))}</b> at {esc(home_name)} on "
        f"{formats.date(visit['visited_on'])}"
        + (f" by {esc(visit['clinician_name'])}" if visit.get("clinician_name") else "")
    ]
    if visit.get("notes"):
        lines.append(esc(visit["notes"]))
    seen = visit.get("residents") or []
    lines.append(f"<br><b>{formats.count(len(seen), 'resident')} reviewed</b>")
    lines += [
        f"{esc(str(r['family_name']).upper())}, {esc(r['given_name'])}: {esc(r['outcome'])}"
        + (f" — {esc(r['note'])}" if r.get("note") else "")
        for r in seen
    ]
    follow = visit.get("actions") or []
    if follow:
        lines.append(f"<br><b>{formats.count(len(follow), 'follow-up action')}</b>")
        lines += [
            f"{esc(a['reference'])} {esc(a['description'])} ({esc(a['owner_name'])}, due "
            f"{formats.date(a['due_date'])}, {esc(a['status'])})"
            for a in follow
        ]
    return "<br>".join(lines)
