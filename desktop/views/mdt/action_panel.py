"""The panel under the action log: the chosen action whole (what the table elides) and its history from
the audit trail, oldest first; or what can be done to several chosen at once; or a hint."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from ..kit import formats
from ..kit.selection_panel import SelectionPanel, heading_label
from ..kit.style import colours
from ..kit.widgets import button_bar
from .actions_model import OVERDUE, patient_name


class ActionPanel(SelectionPanel):
    edit_requested = Signal()
    status_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "actionPanel",
            "Choose an action to see it whole, with everything that has happened to it. "
            "Move with the arrow keys; Enter edits the action. Ctrl+click or Shift+click chooses "
            "several to set their status at once.",
            (0, 12, 0, 0),
            parent,
        )
        self.setMinimumHeight(190)
        self.many_button = QPushButton()
        self.many_button.setProperty("primary", True)
        self.many_button.clicked.connect(self.status_requested)
        self.set_pages(
            self._single(),
            "Set the status of them all at once, for example to close the actions "
            "reported done at the meeting. You will see how many before anything changes.",
            [self.many_button],
        )

    def show_many(self, count: int) -> None:
        what = formats.count(count, "action")
        self.many_button.setText(f"Set status of {what}…")
        self.show_several(f"{what} chosen")

    def show_action(self, row: Mapping[str, Any], history: Sequence[Mapping[str, Any]], today: dt.date) -> None:
        self.reference.setText(row["reference"])
        self.badge.setVisible(bool(row.get("overdue")))
        self.description.setText(row["description"])
        facts = [
            ("Owner", f"{row['owner_name']} · {formats.sentence_case(row['owner_organisation'])}"),
            ("Due", self._due(row, today)),
            (
                "Status",
                formats.sentence_case(row["status"])
                + (f" on {formats.date(row['completed_on'])}" if row.get("completed_on") else ""),
            ),
        ]
        if row.get("family_name"):
            facts.append(("Patient", f"{patient_name(row)} · {formats.nhs_number(row.get('nhs_number'))}"))
        facts.append(("Meeting", formats.date(row.get("meeting_date")) or "Not from a meeting"))
        if row.get("escalated_to"):
            facts.append(
                (
                    "Escalated",
                    f"to {row['escalated_to']} on {formats.date(row.get('escalated_on'))}: "
                    f"{row.get('escalation_reason') or ''}",
                )
            )
        if row.get("outcome_note"):
            facts.append(("Outcome", row["outcome_note"]))
        self.facts.setText(
            "<table cellspacing='0' cellpadding='3'>"
            + "".join(
                f"<tr><td style='color:{colours().secondary}; padding-right:10px'>{html.escape(k)}</td>"
                f"<td>{html.escape(str(v))}</td></tr>"
                for k, v in facts
            )
            + "</table>"
        )
        self.history.setText(
            "".join(
                f"<p style='margin:0 0 8px 0'><span style='color:{colours().secondary}'>{formats.date(h['at'][:10])} "
                f"{h['at'][11:16]} · {html.escape(h['user'])}</span><br>{html.escape(h['summary'])}</p>"
                for h in history
            )
            or f"<span style='color:{colours().secondary}'>No history recorded.</span>"
        )
        self.show_one()

    @staticmethod
    def _due(row: Mapping[str, Any], today: dt.date) -> str:
        due = formats.date(row["due_date"])
        if row.get("overdue"):
            days = (today - dt.date.fromisoformat(row["due_date"])).days
            return f"{due} · {OVERDUE} by {formats.count(days, 'day')}"
        return due

    def _single(self) -> QWidget:
        """The action on the left (what, who, when, where from), its history on the right."""
        page = QWidget()
        columns = QHBoxLayout(page)
        columns.setContentsMargins(0, 0, 0, 0)
        columns.setSpacing(24)
        # The action scrolls when a large font makes it taller than the panel, rather than drawing over itself.
        left = QWidget()
        box = QVBoxLayout(left)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        what = QScrollArea()
        what.setObjectName("actionScroll")
        what.setWidgetResizable(True)
        what.setFrameShape(QScrollArea.Shape.NoFrame)
        what.setWidget(left)
        columns.addWidget(what, 3)
        top = button_bar()
        self.reference = heading_label()
        top.addWidget(self.reference)
        self.badge = QLabel(OVERDUE)
        self.badge.setObjectName("overdueBadge")
        top.addWidget(self.badge)
        top.addStretch(1)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setProperty("primary", True)
        self.edit_button.setToolTip("Change the action, its status or its escalation (Enter)")
        self.edit_button.clicked.connect(self.edit_requested)
        self.status_button = QPushButton("Set status…")
        self.status_button.clicked.connect(self.status_requested)
        top.addWidget(self.edit_button)
        top.addWidget(self.status_button)
        box.addLayout(top)
        self.description = QLabel()
        self.description.setObjectName("actionDescription")
        self.description.setWordWrap(True)
        box.addWidget(self.description)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.facts)
        box.addStretch(1)

        right = QVBoxLayout()
        right.setSpacing(4)
        columns.addLayout(right, 2)
        heading = QLabel("History")
        heading.setObjectName("sectionTitle")
        right.addWidget(heading)
        self.history = QLabel()
        self.history.setObjectName("actionHistory")
        self.history.setWordWrap(True)
        self.history.setTextFormat(Qt.TextFormat.RichText)
        self.history.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.history.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setObjectName("historyScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.history)
        right.addWidget(scroll, 1)
        return page
