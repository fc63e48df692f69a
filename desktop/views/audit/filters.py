"""The audit log's filter bar: free text, action, user and a date range, read as one audit.AuditFilter."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QDateEdit, QLabel, QWidget

from ...models import audit
from ..kit.filter_bar import FilterBar

NO_DATE = QDate(2000, 1, 1)  # the lowest date a box accepts stands for “any”: no bound on that side


class AuditFilterBar(FilterBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "Find a summary, record, user or detail  (Ctrl+F)",
            "Filter the audit log by summary, record, user or detail",
            420,
            "Entries shown",
            parent,
        )
        self.action = self.combo("Action", "Any action", [])
        self.user = self.combo("User", "Anyone", [])
        self.set_combos(self.action, self.user)
        self.since = self._date_box("From", "On or after this day (UTC); “any”: from the first entry")
        self.until = self._date_box("To", "On or before this day (UTC); “any”: up to the latest entry")
        stretch = self._facets.count() - 1  # the dates sit with the combos, before the stretch
        for offset, widget in enumerate((QLabel("From"), self.since, QLabel("to"), self.until)):
            self._facets.insertWidget(stretch + offset, widget)

    def audit_filter(self) -> audit.AuditFilter:
        return audit.AuditFilter(
            text=self.text.text().strip() or None,
            action=self.action.currentData(),
            user=self.user.currentData(),
            since=self._day(self.since),
            until=self._day(self.until),
        )

    def set_choices(self, actions: Sequence[str], users: Sequence[str]) -> None:
        self.refill(self.action, [(a, a) for a in actions])
        self.refill(self.user, [(u, u) for u in users])

    def set_dates(self, since: QDate | None, until: QDate | None) -> None:
        """Set the range (None: any); a test, or a shortcut."""
        for box, day in ((self.since, since), (self.until, until)):
            box.blockSignals(True)
            box.setDate(day or NO_DATE)
            box.blockSignals(False)
        self._update_clear()
        self.changed.emit()

    # -- FilterBar ----------------------------------------------------------------------------------------
    def is_clear(self) -> bool:
        return super().is_clear() and self._day(self.since) is None and self._day(self.until) is None

    def describe(self) -> str:
        days = [
            f"{label} {box.date().toString('d MMM yyyy')}"
            for label, box in (("from", self.since), ("to", self.until))
            if self._day(box)
        ]
        return ", ".join(p for p in (super().describe(), *days) if p)

    def clear(self) -> None:
        for box in (self.since, self.until):
            box.blockSignals(True)
            box.setDate(NO_DATE)
            box.blockSignals(False)
        super().clear()

    def _update_clear(self) -> None:
        super()._update_clear()
        if hasattr(self, "until"):
            dated = self._day(self.since) is not None or self._day(self.until) is not None
            self.clear_button.setEnabled(self.clear_button.isEnabled() or dated)

    # -- internals ----------------------------------------------------------------------------------------
    def _date_box(self, name: str, tip: str) -> QDateEdit:
        box = QDateEdit()
        box.setObjectName(f"filter_{name.lower()}")
        box.setAccessibleName(f"Entries {name.lower()} this day")
        box.setToolTip(tip)
        box.setCalendarPopup(True)
        box.setDisplayFormat("d MMM yyyy")
        box.setMinimumDate(NO_DATE)
        box.setSpecialValueText("any")
        box.setDate(NO_DATE)
        box.dateChanged.connect(self._combo_changed)
        return box

    @staticmethod
    def _day(box: QDateEdit):
        return None if box.date() == NO_DATE else box.date().toPython()
