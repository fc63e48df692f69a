"""One meeting: what, when, where and who chaired; its agenda, its attendees (editable) and the actions agreed
at it; and the buttons that work on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from ..kit import formats
from ..kit.widgets import button_bar
from .action_log import ActionTable
from .actions_model import ActionsModel
from .agenda_view import CarriedActions, PatientsAgenda
from .attendees_editor import AttendeesEditor

AGREED_COLUMNS = ("reference", "description", "patient", "owner_name", "due_date", "status")


def long_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day:%A} {day.day} {day:%B %Y}"


class MeetingDetail(QWidget):
    attendees_saved = Signal(list)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.meeting: Mapping[str, Any] | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.setSpacing(4)
        top = button_bar()
        self.heading = QLabel()
        self.heading.setObjectName("dialogHeading")
        top.addWidget(self.heading)
        self.state = QLabel()
        self.state.setObjectName("meetingState")
        top.addWidget(self.state)
        top.addStretch(1)
        self.add_patients_button = QPushButton("Add patients…")
        self.add_patients_button.setToolTip(
            "Choose patients to discuss: new this run, review overdue, flagged, or any cohort patient"
        )
        self.new_action_button = QPushButton("New action…")
        self.new_action_button.setToolTip(
            "Record an action agreed at this meeting (for the chosen patient, if one is chosen)"
        )
        self.edit_button = QPushButton("Edit meeting…")
        self.edit_button.setToolTip("Change the date, type, chair, place or attendees (Edit → Undo puts it back)")
        self.held_button = QPushButton("Mark as held")
        self.held_button.setToolTip("The meeting has taken place")
        self.export_button = QPushButton("Export MDT pack…")
        self.export_button.setProperty("primary", True)
        self.export_button.setToolTip("Save the meeting as a PDF pack to hand out (OFFICIAL-SENSITIVE)")
        for button in (
            self.add_patients_button,
            self.new_action_button,
            self.edit_button,
            self.held_button,
            self.export_button,
        ):
            top.addWidget(button)
        layout.addLayout(top)
        self.meta = QLabel()
        self.meta.setObjectName("pageSubtitle")
        self.meta.setWordWrap(True)
        layout.addWidget(self.meta)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("meetingTabs")
        self.patients = PatientsAgenda()
        self.carried = CarriedActions()
        self.tabs.addTab(self.patients, "Patients to discuss")
        self.tabs.addTab(self.carried, "Actions carried forward")
        self.tabs.addTab(self._attendees_tab(), "Attendees")
        self.agreed_model = ActionsModel(AGREED_COLUMNS, self)
        self.agreed = ActionTable(self.agreed_model, "agreedActions")
        self.agreed.setAccessibleName("Actions agreed at this meeting")
        self.tabs.addTab(self._agreed_tab(), "Actions agreed")
        layout.addWidget(self.tabs, 1)

    def show_meeting(
        self,
        meeting: Mapping[str, Any],
        people: Sequence[Mapping[str, Any]],
        items: Sequence[Mapping[str, Any]],
        agreed: Sequence[Mapping[str, Any]],
        today: dt.date,
    ) -> None:
        self.meeting = meeting
        self.heading.setText(f"{formats.sentence_case(meeting['type'])} · {long_date(meeting['held_on'])}")
        held = meeting["status"] == "held"
        self.state.setText("Held" if held else "Planned")
        self.state.setProperty("held", held)
        self.state.style().unpolish(self.state)
        self.state.style().polish(self.state)
        self.held_button.setEnabled(not held)
        present = sum(1 for p in people if p["present"])
        apologies = len(people) - present
        parts = [
            meeting["location"] or "Place not set",
            f"Chair: {meeting['chair'] or 'not decided yet'}",
            f"{present} present" + (f", {formats.count(apologies, 'apology', 'apologies')}" if apologies else ""),
        ]
        self.meta.setText("  ·  ".join(parts))
        self.meta.setToolTip(
            "\n".join(
                f"{p['name']} ({p['role'] or p['organisation']})" + ("" if p["present"] else ": apologies")
                for p in people
            )
        )
        self.attendees.set_people(people)
        self.save_attendees_button.setEnabled(False)
        patients = [i for i in items if i["kind"] == "patient"]
        carried = [i for i in items if i["kind"] == "action"]
        self.patients.set_items(patients)
        self.carried.set_items(carried, today)
        for number, (title, n) in enumerate(
            (
                ("Patients to discuss", len(patients)),
                ("Actions carried forward", len(carried)),
                ("Attendees", len(people)),
                ("Actions agreed", len(agreed)),
            )
        ):
            self.tabs.setTabText(number, f"{title}  {n}")
        self.agreed_model.set_rows(agreed)
        self.no_agreed.setVisible(not agreed)
        self.agreed.setVisible(bool(agreed))

    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        self.attendees.set_staff(staff)

    def _attendees_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 10, 0, 0)
        self.attendees = AttendeesEditor()
        self.attendees.changed.connect(lambda: self.save_attendees_button.setEnabled(True))
        box.addWidget(self.attendees, 1)
        row = QHBoxLayout()
        note = QLabel("Changes here are kept only when you save them.")
        note.setObjectName("fieldHelp")
        row.addWidget(note)
        row.addStretch(1)
        self.save_attendees_button = QPushButton("Save attendees")
        self.save_attendees_button.setProperty("primary", True)
        self.save_attendees_button.setEnabled(False)
        self.save_attendees_button.clicked.connect(lambda: self.attendees_saved.emit(self.attendees.people()))
        row.addWidget(self.save_attendees_button)
        box.addLayout(row)
        # It scrolls when a large font makes the list and its rows of buttons taller than the tab.
        scroll = QScrollArea()
        scroll.setObjectName("attendeesScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _agreed_tab(self) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 10, 0, 0)
        self.no_agreed = QLabel(
            "No actions agreed at this meeting yet. New action… records one; choose a patient "
            "on the agenda first to tie it to them."
        )
        self.no_agreed.setObjectName("emptyState")
        self.no_agreed.setWordWrap(True)
        self.no_agreed.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        box.addWidget(self.no_agreed)
        box.addWidget(self.agreed, 1)
        return page
