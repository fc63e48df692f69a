"""Planning a meeting: date, type, chair, place and who is coming. Saving (meetings.create) carries every open
action of the locality onto the new agenda. The same form, filled in, changes a planned or held meeting
(meetings.update, one undo step)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QComboBox, QLineEdit, QWidget

from ...models import clock
from ...models.mdt import meetings
from ..kit import formats
from ..kit.date_field import DateField
from ..kit.form_dialog import FormDialog, Save
from .attendees_editor import AttendeesEditor


class PlanMeetingDialog(FormDialog):
    rules = meetings.HELP

    def __init__(
        self,
        locality_name: str,
        staff: Sequence[Mapping[str, Any]],
        open_actions: int,
        last_attendees: Sequence[Mapping[str, Any]],
        save: Save,
        parent: QWidget | None = None,
        meeting: Mapping[str, Any] | None = None,
    ):
        """*meeting* (meetings.get) given: the form changes it, with *last_attendees* its own attendees."""
        carried = (
            f"The {formats.count(open_actions, 'open action')} of the locality will be carried onto its "
            "agenda, so nothing agreed before is forgotten."
            if open_actions
            else "There are no open actions to carry onto its agenda."
        )
        if meeting is None:
            super().__init__(
                "Plan meeting",
                f"Plan an MDT meeting for {locality_name}",
                f"{carried} Patients are added to the agenda once the meeting is planned.",
                "Plan meeting",
                save,
                parent,
            )
        else:
            super().__init__(
                "Edit meeting",
                f"Edit the {meeting['type']} of {formats.date(meeting['held_on'])}",
                "Change when and where it is, who chairs it and who comes; Edit → Undo puts it back as it was.",
                "Save changes",
                save,
                parent,
            )
            self.setObjectName("editMeetingDialog")
        # The attendees' four columns need the room at a large font too, or every name and role is cut short.
        self.setMinimumWidth(max(800, self.fontMetrics().averageCharWidth() * 90))
        self.held_on = DateField("held_on", meeting["held_on"] if meeting else clock.today())
        self.add_field("held_on", "Date", self.held_on)
        self.kind = QComboBox()
        self.kind.setObjectName("field_type")
        self.kind.setAccessibleName("Meeting type")
        for kind in meetings.TYPES:
            self.kind.addItem(formats.sentence_case(kind), kind)
        if meeting:
            self.kind.setCurrentIndex(max(0, self.kind.findData(meeting["type"])))
        self.add_field("type", "Type", self.kind)
        self.chair = QComboBox()
        self.chair.setObjectName("field_chair_id")
        self.chair.setAccessibleName("Chair")
        self.chair.addItem("Not decided yet", None)
        gps_first = sorted(staff, key=lambda s: (s["role"] != "GP", s["name"]))
        for s in gps_first:
            self.chair.addItem(f"{s['name']} · {formats.sentence_case(s['role'])}", s["id"])
        if meeting:
            self.chair.setCurrentIndex(max(0, self.chair.findData(meeting["chair_id"])))
        self.add_field("chair_id", "Chair", self.chair)
        self.location = QLineEdit()
        self.location.setObjectName("field_location")
        self.location.setAccessibleName("Location")
        self.location.setPlaceholderText("e.g. Health centre meeting room, or Teams")
        self.location.setText(str((meeting or {}).get("location") or ""))
        self.add_field("location", "Where", self.location)
        self.attendees = AttendeesEditor()
        self.attendees.set_staff(staff)
        if meeting:
            self.attendees.set_people(last_attendees)  # as recorded, visitors and apologies too
        else:
            self.attendees.set_people([dict(p, present=True) for p in last_attendees if p.get("staff_id")])
        self.attendees.table.setMinimumHeight(300)
        self.add_field(
            "attendees",
            "Attendees",
            self.attendees,
            ("" if meeting else "Those of the last meeting, to start with. ")
            + "Add team members from the list or type a visitor; Enter on a name switches present and apologies.",
        )
        self.held_on.setFocus()

    def values(self) -> dict[str, Any]:
        return {
            "held_on": self.held_on.value(),
            "type": self.kind.currentData(),
            "chair_id": self.chair.currentData(),
            "location": self.location.text().strip(),
            "attendees": self.attendees.people(),
        }
