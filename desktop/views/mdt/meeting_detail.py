"""One meeting: what, when, where and who chaired; its agenda, its attendees (editable) and the actions agreed
at it; and the buttons that work on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from ..kit import formats
from ..kit.deferred import BuiltLater
from ..kit.widgets import button_bar
from .action_log import ActionTable
from .actions_model import ActionsModel
from .agenda_view import CarriedActions, PatientsAgenda
from .attendees_editor import AttendeesEditor

AGREED_COLUMNS = ("reference", "description", "patient", "owner_name", "due_date", "status")


def long_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day:%A} {day.day} {day:%B %Y}"


def follow_in_tab_order(previous: QWidget, content: QWidget) -> QWidget:
    """Move *content* and everything in it to just after *previous* in the window's Tab order; returns the last
    of them. A widget built after its window comes last in that order otherwise: a tab's contents built after the
    screen's first paint would be reached only after every other control of the screen."""
    widgets, widget = [content], content.nextInFocusChain()
    while content.isAncestorOf(widget):
        widgets.append(widget)
        widget = widget.nextInFocusChain()
    widgets = [w for w in widgets if w.focusPolicy() & Qt.FocusPolicy.TabFocus]  # Qt orders only these
    for widget in widgets:
        QWidget.setTabOrder(previous, widget)
        previous = widget
    return previous


TAB_TITLES = ("Patients to discuss", "Actions carried forward", "Attendees", "Actions agreed")


class MeetingDetail(BuiltLater, QWidget):
    attendees_saved = Signal(list)
    open_action_requested = Signal(str)  # action id, from the actions carried forward
    remove_requested = Signal(str)  # agenda item id, from either agenda tab

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.meeting: Mapping[str, Any] | None = None
        self.built = False
        self._staff: Sequence[Mapping[str, Any]] = []
        self._shown: tuple | None = None  # what the tabs behind the first show, for build_rest when unbuilt
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
        self.patients.remove_requested.connect(self.remove_requested)
        self.tabs.addTab(self.patients, TAB_TITLES[0])
        # The other tabs' contents are built by build_rest, into these holders.
        self.holders = []
        for title in TAB_TITLES[1:]:
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self.holders.append(holder)
            self.tabs.addTab(holder, title)
        self.tabs.currentChanged.connect(lambda number: number and self.build_rest())
        layout.addWidget(self.tabs, 1)

    def build_rest(self) -> None:
        """The tabs behind the first (actions carried forward, attendees, actions agreed). The MDT screen opens
        on the patients to discuss, so these are built after its first paint, or when first needed if sooner
        (issue 26)."""
        if self.built:
            return
        self.built = True
        self.carried = CarriedActions()
        self.carried.open_action_requested.connect(self.open_action_requested)
        self.carried.remove_requested.connect(self.remove_requested)
        self.agreed_model = ActionsModel(AGREED_COLUMNS, self)
        self.agreed = ActionTable(self.agreed_model, "agreedActions")
        self.agreed.setAccessibleName("Actions agreed at this meeting")
        previous: QWidget = self.tabs.tabBar()
        for holder, content in zip(
            self.holders, (self.carried, self._attendees_tab(), self._agreed_tab()), strict=True
        ):
            holder.layout().addWidget(content)
            content.show()  # built into a holder already shown, it would stay hidden until the next event loop turn
            previous = follow_in_tab_order(previous, content)
        self.attendees.set_staff(self._staff)
        if self.meeting is not None and self._shown is not None:
            self._show_rest(*self._shown)

    build_later = build_rest  # what BuiltLater builds when a part is asked for early

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
        patients = [i for i in items if i["kind"] == "patient"]
        carried = [i for i in items if i["kind"] == "action"]
        self.patients.set_items(patients)
        for number, (title, n) in enumerate(
            zip(TAB_TITLES, (len(patients), len(carried), len(people), len(agreed)), strict=True)
        ):
            self.tabs.setTabText(number, f"{title}  {n}")
        self._shown = (people, carried, agreed, today)
        if self.built:
            self._show_rest(*self._shown)

    def _show_rest(
        self,
        people: Sequence[Mapping[str, Any]],
        carried: Sequence[Mapping[str, Any]],
        agreed: Sequence[Mapping[str, Any]],
        today: dt.date,
    ) -> None:
        self.attendees.set_people(people)
        self.save_attendees_button.setEnabled(False)
        self.carried.set_items(carried, today)
        self.agreed_model.set_rows(agreed)
        self.no_agreed.setVisible(not agreed)
        self.agreed.setVisible(bool(agreed))

    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        self._staff = staff
        if self.built:
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
