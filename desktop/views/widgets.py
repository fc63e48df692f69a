"""Small widgets the screens share."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QLineEdit, QToolButton, QWidget


class FilterEdit(QLineEdit):
    """A filter box: Esc empties it; on an empty one Esc goes on to the window as usual."""

    def __init__(self, placeholder: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("filter")
        self.setPlaceholderText(placeholder)
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
