"""The action log's filter bar: a text box and a combo per facet, read as one actions.ActionFilter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QWidget

from ...models.mdt import actions
from ...models.reference import ORGANISATIONS
from ..kit import formats
from ..kit.filter_bar import FilterBar

STATUSES = [("Open or in progress", "open or in progress"), *[(formats.sentence_case(s), s) for s in actions.STATUSES]]


class ActionFilterBar(FilterBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "Find a reference, action, owner, patient or NHS number  (Ctrl+F)",
            "Filter actions by reference, description, owner or patient",
            480,
            "Actions shown",
            parent,
        )
        self.status = self.combo("Status", "Any status", STATUSES)
        self.due = self.combo("Due", "Any due date", [(formats.sentence_case(w), w) for w in actions.DUE_WINDOWS])
        self.owner = self.combo("Owner", "All owners", [])
        self.organisation = self.combo(
            "Organisation", "All organisations", [(formats.sentence_case(o), o) for o in ORGANISATIONS]
        )
        self.patient = self.combo("Patient", "Any patient", [])
        self.meeting = self.combo("Meeting", "Any meeting", [])
        self.set_combos(self.status, self.due, self.owner, self.organisation, self.patient, self.meeting)

    def action_filter(self) -> actions.ActionFilter:
        return actions.ActionFilter(
            text=self.text.text(),
            owner=self.owner.currentData(),
            organisation=self.organisation.currentData(),
            status=self.status.currentData(),
            due=self.due.currentData(),
            patient_id=self.patient.currentData(),
            meeting_id=self.meeting.currentData(),
        )

    def set_choices(
        self, owners: Sequence[str], patients: Sequence[tuple[str, str]], meetings: Sequence[tuple[str, str]]
    ) -> None:
        """The locality's owners, the patients its actions name, and its meetings (label, id)."""
        self.refill(self.owner, [(o, o) for o in owners])
        self.refill(self.patient, list(patients))
        self.refill(self.meeting, list(meetings))
