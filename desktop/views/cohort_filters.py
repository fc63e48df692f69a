"""The cohort screen's filter bar: a text box and a combo per facet, read as one cohort.CohortFilter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..models import caseload, cohort_rules
from ..models.cohort import REVIEW_WINDOWS, CohortFilter
from . import formats
from .widgets import FilterEdit

# Long enough to let a quick typist finish a word, short enough to feel instant.
DEBOUNCE_MS = 150
MEMBERSHIP = (("In the cohort", "in cohort"), ("New this run", "new this run"), ("Left the cohort", "left"))


class FilterBar(QWidget):
    """Emits `changed` at once for a combo, and DEBOUNCE_MS after the last keystroke in the text box.

    Two rows: the text box with Clear and the count of patients shown, then one combo per facet.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(8)
        top = QHBoxLayout()
        top.setSpacing(8)
        rows.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(6)
        rows.addLayout(row)
        self.text = FilterEdit("Find by name, NHS number or practice…  (Ctrl+F)")
        self.text.setMaximumWidth(460)
        self.text.setAccessibleName("Filter patients by name, NHS number or practice")
        top.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self.text.textChanged.connect(self._timer.start)
        self.text.textChanged.connect(self._update_clear)

        self.criterion = self._combo("Criterion", "All criteria", self._criteria(5))
        self.efi_band = self._combo("eFI band", "All eFI bands",
                                    [(formats.sentence_case(b), i) for i, b in enumerate(cohort_rules.EFI_BANDS)])
        self.status = self._combo("Status", "All statuses", [(formats.sentence_case(s), s) for s in caseload.STATUSES])
        self.stream = self._combo("Stream", "All streams",
                                  [("No stream set", ""), *[(formats.sentence_case(s), s) for s in caseload.STREAMS]])
        self.case_manager = self._combo("Case manager", "All case managers", [("Nobody named", "")])
        self.review = self._combo("Review due", "Any review date",
                                  [(formats.sentence_case(w), w) for w in REVIEW_WINDOWS])
        self.membership = self._combo("Membership", "Everyone", list(MEMBERSHIP))
        self.combos = (self.criterion, self.efi_band, self.status, self.stream, self.case_manager, self.review,
                       self.membership)
        for combo in self.combos:
            row.addWidget(combo)
        row.addStretch(1)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setToolTip("Clear the text and every filter (Esc in the table)")
        self.clear_button.setAccessibleName("Clear every filter")
        self.clear_button.clicked.connect(self.clear)
        top.addWidget(self.clear_button)
        top.addStretch(1)
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        self.count.setAccessibleName("Patients shown")
        top.addWidget(self.count)
        self._update_clear()

    # -- reading ---------------------------------------------------------------------------------------------
    def cohort_filter(self) -> CohortFilter:
        return CohortFilter(text=self.text.text(), criterion=self.criterion.currentData(),
                            efi_band=self.efi_band.currentData(), stream=self.stream.currentData(),
                            status=self.status.currentData(), case_manager_id=self.case_manager.currentData(),
                            review=self.review.currentData(), membership=self.membership.currentData())

    def is_clear(self) -> bool:
        return not self.text.text().strip() and all(c.currentIndex() == 0 for c in self.combos)

    def describe(self) -> str:
        """What is filtered on, for an empty table's message: “Frailty, Overdue”."""
        parts = [f"“{self.text.text().strip()}”"] if self.text.text().strip() else []
        parts += [c.currentText() for c in self.combos if c.currentIndex() > 0]
        return ", ".join(parts)

    # -- changing --------------------------------------------------------------------------------------------
    def clear(self) -> None:
        self._timer.stop()
        for combo in self.combos:
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self.text.blockSignals(True)
        self.text.clear()
        self.text.blockSignals(False)
        self._update_clear()
        self.changed.emit()

    def flush(self) -> None:
        """Apply typed text now rather than after the pause (Enter, or a test)."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        """The locality's staff, as the case-manager choices; the current choice is kept when still there."""
        self._refill(self.case_manager, [("Nobody named", ""), *[(s["name"], s["id"]) for s in staff]])

    def set_ltc_min(self, ltc_min: int) -> None:
        self._refill(self.criterion, self._criteria(ltc_min))

    @staticmethod
    def _criteria(ltc_min: int) -> list[tuple[str, str]]:
        return [("Frailty", "F"), (f"LTC {ltc_min}+", "M"), ("High cost", "C")]

    def _combo(self, name: str, anything: str, options: list[tuple[str, Any]]) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"filter_{name.lower().replace(' ', '_')}")
        combo.setAccessibleName(f"Filter by {name.lower()}")
        combo.setToolTip(f"Filter by {name.lower()}")
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
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

    def _mark(self) -> None:
        # A combo that filters is drawn in blue, so a narrowed list never looks like the whole cohort.
        for combo in self.combos:
            on = combo.currentIndex() > 0
            if combo.property("filtering") != on:
                combo.setProperty("filtering", on)
                combo.style().unpolish(combo)
                combo.style().polish(combo)

    def _update_clear(self) -> None:
        self._mark()
        self.clear_button.setEnabled(not all(c.currentIndex() == 0 for c in self.combos)
                                     or bool(self.text.text()))
