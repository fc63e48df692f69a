"""The locality's meetings, newest first, with the chosen one below: its agenda, attendees and agreed actions.

What the buttons do (ask, confirm, then call one operation) is in desktop.views.mdt.meeting_handlers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import clock, reference
from ...models.mdt import actions, meetings
from ...settings import Settings
from ..kit import formats, messages
from ..kit.page import EmptyCard, at_top
from ..kit.session import Session
from ..kit.table_model import Column, RecordsModel
from ..kit.tables import list_table
from . import meeting_handlers as meeting_actions
from .meeting_detail import MeetingDetail

LIST_COLUMNS = (
    Column("date", "Date"),
    Column("type", "Type"),
    Column("chair", "Chair"),
    Column("state", "Status"),
    Column("attendees", "Present"),
    Column("patients", "Patients"),
    Column("actions", "Actions"),
    Column("location", "Where"),
)


def list_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": m["id"],
            "date": formats.date(m["held_on"]),
            "type": formats.sentence_case(m["type"]),
            "chair": m["chair"] or "—",
            "state": "Held" if m["status"] == "held" else "Planned",
            "attendees": m["attendees"],
            "patients": m["patients"],
            "actions": m["actions"],
            "location": m["location"] or "",
        }
        for m in rows
    ]


class MeetingsTab(QWidget):
    def __init__(self, session: Session, settings: Settings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.settings = session, settings
        self.locality: Mapping[str, Any] | None = None
        self.staff: list[dict[str, Any]] = []
        self.rows: list[dict[str, Any]] = []
        self.dialog: QWidget | None = None  # the open dialog (tests reach it here)
        self.today = clock.today
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        # The count and the Plan button sit at the right of the page's tab bar (MdtPage puts them there).
        self.corner = QWidget()
        top = QHBoxLayout(self.corner)
        top.setContentsMargins(0, 0, 0, 0)  # no taller than the tab bar, at any font size
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        top.addWidget(self.count, 0, Qt.AlignmentFlag.AlignVCenter)
        self.plan_button = QPushButton("Plan meeting…")
        self.plan_button.setProperty("primary", True)
        self.plan_button.setToolTip("Plan the next meeting; every open action is carried onto its agenda")
        self.plan_button.clicked.connect(self.plan_meeting)
        top.addWidget(self.plan_button)

        self.model = RecordsModel(LIST_COLUMNS, self)
        self.table = list_table(self.model, "meetingList", (100, 140, 220, 90, 80, 80, 80))
        self.table.setAccessibleName("Meetings, newest first")
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_current())
        self.table.activated.connect(lambda _index: self.detail.patients.table.setFocus())

        self.detail = MeetingDetail()
        meeting_actions.connect(self)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([170, 600])
        card = EmptyCard(
            "No meetings yet — plan the first one",
            "Plan the locality's MDT meeting: the date, the chair and who is coming. Then add the "
            "patients to discuss (new to the cohort, overdue for review, or flagged by a colleague), "
            "record the outcome for each and the actions agreed, and hand out the MDT pack.",
            "Plan meeting…",
        )
        card.button.clicked.connect(self.plan_meeting)
        self.empty = at_top(card)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)

    # -- data -------------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality

    def reload(self) -> None:
        """The list of meetings and the chosen one's detail, keeping the choice."""
        chosen = self.current_id()
        if self.locality is None:
            self.rows = []
            self.model.set_rows([])
            return
        db, loc = self.session.db, self.locality["id"]
        self.staff = reference.list_rows(db, "staff", loc)
        self.detail.set_staff(self.staff)
        self.rows = meetings.listing(db, loc)
        self.model.set_rows(list_rows(self.rows))
        planned = sum(1 for m in self.rows if m["status"] == "planned")
        self.count.setText(formats.count(len(self.rows), "meeting") + (f" · {planned} planned" if planned else ""))
        self.stack.setCurrentWidget(self.splitter if self.rows else self.empty)
        if not self.select(chosen) and self.rows:
            self.select(self.rows[0]["id"])

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.row_id(index.row()) if index.isValid() else None

    def current_meeting(self) -> dict[str, Any] | None:
        meeting_id = self.current_id()
        return next((m for m in self.rows if m["id"] == meeting_id), None)

    def select(self, meeting_id: str | None) -> bool:
        row = self.model.row_of(meeting_id) if meeting_id else None
        if row is None:
            return False
        index = self.model.index(row, 0)
        if index == self.table.currentIndex():
            self.show_current()
        else:
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        self.table.scrollTo(index)
        return True

    def show_current(self) -> None:
        meeting = self.current_meeting()
        if meeting is None:
            return
        shown = self.detail.meeting
        # Leaving a meeting saves an outcome typed and not yet saved, once the new meeting is shown.
        pending = self.detail.patients.take_unsaved() if shown and shown["id"] != meeting["id"] else None
        db = self.session.db
        agreed = actions.listing(
            db, meeting["locality_id"], actions.ActionFilter(meeting_id=meeting["id"]), self.today()
        )
        self.detail.show_meeting(
            meeting, meetings.attendees(db, meeting["id"]), meetings.agenda(db, meeting["id"]), agreed, self.today()
        )
        if pending:
            meeting_actions.record_outcome(self, *pending)

    def status_message(self, text: str) -> None:
        messages.show_status(self, text, 12_000)

    def plan_meeting(self) -> None:
        meeting_actions.plan_meeting(self)
