"""A date typed as dd/mm/yyyy (or picked from a calendar), handed to the domain as ISO text.

Unlike a QDateEdit it can be empty, and a clinician can type "3/12/2026" without fighting a spin box.
Text that is not a date is passed on as typed, so the domain's ValidationError says what is wrong with it
and the form shows that message next to the field.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QCalendarWidget, QHBoxLayout, QLineEdit, QMenu, QToolButton, QWidget, QWidgetAction

from ...models import clock
from . import formats
from .style import fits


def parse(text: str) -> str | None:
    """'3/12/2026' or '2026-12-03' → '2026-12-03'; '' → None; anything else is returned as typed."""
    text = text.strip()
    if not text:
        return None
    parts = text.replace(".", "/").replace("-", "/").split("/")
    try:
        if len(parts) == 3 and len(parts[0]) == 4:
            return dt.date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
        if len(parts) == 3 and len(parts[2]) == 4:
            return dt.date(int(parts[2]), int(parts[1]), int(parts[0])).isoformat()
    except ValueError:
        pass
    return text


class DateField(QWidget):
    edited = Signal()

    def __init__(self, name: str, value: str | dt.date | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.line = QLineEdit()
        self.line.setObjectName(f"field_{name}")
        self.line.setPlaceholderText("dd/mm/yyyy")
        self.line.setAccessibleName(name.replace("_", " "))
        self.line.setMaximumWidth(fits(self.line, "00/00/00000", 130))
        self.line.textEdited.connect(self.edited)
        self.calendar = QCalendarWidget()
        self.calendar.setGridVisible(False)
        self.calendar.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        self.calendar.clicked.connect(self._picked)
        self.calendar.activated.connect(self._picked)
        # Not parented to the field: a pop-up child window cuts the field's line and button out of the dialog's
        # Tab chain (Qt 6), so Tab went round the two of them for ever. It goes when the field goes.
        menu = QMenu()
        self.destroyed.connect(menu.deleteLater)
        holder = QWidgetAction(menu)
        holder.setDefaultWidget(self.calendar)
        menu.addAction(holder)
        self.menu = menu
        self.button = QToolButton()
        self.button.setObjectName("calendarButton")
        self.button.setText("Calendar")
        self.button.setToolTip("Pick the date from a calendar")
        self.button.setAccessibleName(f"Pick the {name.replace('_', ' ')} from a calendar")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(menu)
        menu.aboutToShow.connect(self._show_current)
        row.addWidget(self.line)
        row.addWidget(self.button)
        row.addStretch(1)
        self.setFocusProxy(self.line)
        self.set_value(value)

    def value(self) -> str | None:
        return parse(self.line.text())

    def set_value(self, value: str | dt.date | None) -> None:
        self.line.setText(formats.date(value))

    def _show_current(self) -> None:
        iso = self.value()
        try:
            day = dt.date.fromisoformat(iso) if iso else clock.today()
        except ValueError:
            day = clock.today()
        self.calendar.setSelectedDate(QDate(day.year, day.month, day.day))

    def _picked(self, date: QDate) -> None:
        self.line.setText(formats.date(date.toPython()))
        self.menu.hide()
        self.line.setFocus()
        self.edited.emit()
