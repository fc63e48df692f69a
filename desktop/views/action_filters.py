"""The action log's filter bar: a text box and a combo per facet, read as one actions.ActionFilter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..models import actions
from ..models.reference import ORGANISATIONS
from . import formats
from .widgets import FilterEdit

DEBOUNCE_MS = 150
STATUSES = [("Open or in progress", "open or in progress"),
            *[(formats.sentence_case(s), s) for s in actions.STATUSES]]


class ActionFilterBar(QWidget):
    """Emits `changed` at once for a combo and DEBOUNCE_MS after the last keystroke in the text box."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(8)
        rows.addLayout(top)
        self.top = top  # the page adds its buttons at the end of this row
        self.text = FilterEdit("Find a reference, action, owner, patient or NHS number  (Ctrl+F)")
        self.text.setMaximumWidth(480)
        self.text.setAccessibleName("Filter actions by reference, description, owner or patient")
        top.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self.text.textChanged.connect(self._timer.start)
        self.text.textChanged.connect(self._update_clear)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setToolTip("Clear the text and every filter (Esc in the table)")
        self.clear_button.clicked.connect(self.clear)
        top.addWidget(self.clear_button)
        top.addStretch(1)
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        self.count.setAccessibleName("Actions shown")
        top.addWidget(self.count)

        self.status = self._combo("Status", "Any status", STATUSES)
        self.due = self._combo("Due", "Any due date", [(formats.sentence_case(w), w) for w in actions.DUE_WINDOWS])
        self.owner = self._combo("Owner", "All owners", [])
        self.organisation = self._combo("Organisation", "All organisations",
                                        [(formats.sentence_case(o), o) for o in ORGANISATIONS])
        self.patient = self._combo("Patient", "Any patient", [])
        self.meeting = self._combo("Meeting", "Any meeting", [])
        self.combos = (self.status, self.due, self.owner, self.organisation, self.patient, self.meeting)
        line = QHBoxLayout()
        line.setSpacing(6)
        for combo in self.combos:
            line.addWidget(combo)
        line.addStretch(1)
        rows.addLayout(line)
        self._update_clear()

    # -- reading ---------------------------------------------------------------------------------------------
    def action_filter(self) -> actions.ActionFilter:
        return actions.ActionFilter(text=self.text.text(), owner=self.owner.currentData(),
                                    organisation=self.organisation.currentData(), status=self.status.currentData(),
                                    due=self.due.currentData(), patient_id=self.patient.currentData(),
                                    meeting_id=self.meeting.currentData())

    def describe(self) -> str:
        parts = [f"“{self.text.text().strip()}”"] if self.text.text().strip() else []
        return ", ".join(parts + [c.currentText() for c in self.combos if c.currentIndex() > 0])

    def is_clear(self) -> bool:
        return not self.text.text().strip() and all(c.currentIndex() == 0 for c in self.combos)

    # -- changing --------------------------------------------------------------------------------------------
    def choose(self, combo: QComboBox, value: Any) -> None:
        """Set one facet (a test, or a shortcut such as 'show the overdue')."""
        combo.setCurrentIndex(max(combo.findData(value), 0))

    def clear(self) -> None:
        self._timer.stop()
        for widget in (*self.combos, self.text):
            widget.blockSignals(True)
        for combo in self.combos:
            combo.setCurrentIndex(0)
        self.text.clear()
        for widget in (*self.combos, self.text):
            widget.blockSignals(False)
        self._update_clear()
        self.changed.emit()

    def flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def set_choices(self, owners: Sequence[str], patients: Sequence[tuple[str, str]],
                    meetings: Sequence[tuple[str, str]]) -> None:
        """The locality's owners, the patients its actions name, and its meetings (label, id)."""
        self._refill(self.owner, [(o, o) for o in owners])
        self._refill(self.patient, list(patients))
        self._refill(self.meeting, list(meetings))

    def _combo(self, name: str, anything: str, options: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"filter_{name.lower()}")
        combo.setAccessibleName(f"Filter by {name.lower()}")
        combo.setToolTip(f"Filter by {name.lower()}")
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMaximumWidth(260)
        combo.setProperty("filtering", False)
        combo.addItem(anything, None)
        for label, value in options:
            combo.addItem(label, value)
        combo.currentIndexChanged.connect(self._combo_changed)
        return combo

    def _refill(self, combo: QComboBox, options: list[tuple[str, Any]]) -> None:
        current = combo.currentData() if combo.currentIndex() > 0 else None
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for label, value in options:
            combo.addItem(label, value)
        found = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(found, 0))
        combo.blockSignals(False)
        if current is not None and found < 0:
            self._combo_changed()

    def _combo_changed(self) -> None:
        self._update_clear()
        self.changed.emit()

    def _update_clear(self) -> None:
        for combo in self.combos:
            on = combo.currentIndex() > 0
            if combo.property("filtering") != on:
                combo.setProperty("filtering", on)
                combo.style().unpolish(combo)
                combo.style().polish(combo)
        self.clear_button.setEnabled(not self.is_clear())
