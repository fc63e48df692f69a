"""Small widgets the screens share."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QButtonGroup, QCheckBox, QDateEdit, QHBoxLayout, QLineEdit, QToolButton, QWidget

from ...models import clock
from .flow_layout import FlowLayout

STRETCH = None  # in button_bar: the room left on a row goes here


def button_bar(
    *items: QWidget | None, spacing: int = 8, alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft
) -> FlowLayout:
    """A bar of buttons (and the controls that go with them) that wraps onto a second row rather than cut its
    buttons off at a large font or in a narrow window. STRETCH (None) among *items* takes the room left on its
    row; *alignment* places a row with no stretch. Tab goes through the items in the order given."""
    bar = FlowLayout(spacing=spacing, alignment=alignment)
    for item in items:
        if item is STRETCH:
            bar.addStretch(1)
        else:
            bar.addWidget(item)
    return bar


class ScrollBody(QWidget):
    """What a screen's QScrollArea holds, to scroll only once the screen's least height no longer fits (a large
    font). A scroll area makes a widget whose layout has a height for its width (a wrapping button bar) as tall as
    that layout would like, so a screen would scroll at any font; this asks for the least it needs instead."""

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.totalMinimumHeightForWidth(width) if layout is not None else super().heightForWidth(width)


class FilterEdit(QLineEdit):
    """A filter box: Esc empties it; on an empty one Esc goes on to the window as usual."""

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("filter")
        self.setPlaceholderText(placeholder)
        # A screen reader does not read the placeholder: the same words, less the shortcut, name the box.
        self.setAccessibleName(placeholder.split("…")[0].strip())
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(280)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class SegmentedChoice(QWidget):
    """Two or more adjoining toggle buttons, exactly one of them on."""

    chosen = Signal(int)

    def __init__(self, labels: Sequence[str], current: int = 0, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self._group = QButtonGroup(self)
        self.buttons: list[QToolButton] = []
        for number, label in enumerate(labels):
            button = QToolButton()
            button.setObjectName("segment")
            button.setText(label)
            button.setCheckable(True)
            button.setChecked(number == current)
            self._group.addButton(button, number)
            layout.addWidget(button)
            self.buttons.append(button)
        self._group.idToggled.connect(lambda number, on: on and self.chosen.emit(number))


class OptionalDate(QWidget):
    """A date that may be unset: a tick box says whether there is one, and the date edit holds it.

    A QDateEdit cannot be empty, and a special "not set" value turns into 1900 at the first arrow key,
    so "none" is a separate, keyboard-reachable choice. Dates after *latest* cannot be picked.
    """

    changed = Signal()

    def __init__(self, label: str, latest: QDate | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.check = QCheckBox(label)
        self.edit = QDateEdit(QDate(clock.today()))
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("dd/MM/yyyy")
        self.edit.setMinimumWidth(120)
        if latest is not None:
            self.edit.setMaximumDate(latest)
        self.edit.setEnabled(False)
        self.check.toggled.connect(self._toggled)
        self.edit.dateChanged.connect(self.changed)
        row.addWidget(self.check)
        row.addWidget(self.edit)
        row.addStretch(1)
        self.setFocusProxy(self.check)

    def value(self) -> str | None:
        return self.edit.date().toString("yyyy-MM-dd") if self.check.isChecked() else None

    def set_value(self, iso: str | None) -> None:
        for widget in (self, self.check, self.edit):
            widget.blockSignals(True)
        self.check.setChecked(bool(iso))
        self.edit.setDate(QDate.fromString(iso, "yyyy-MM-dd") if iso else QDate(clock.today()))
        self.edit.setEnabled(bool(iso))
        for widget in (self, self.check, self.edit):
            widget.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        self.edit.setEnabled(on)
        if on:
            self.edit.setFocus()
        self.changed.emit()
