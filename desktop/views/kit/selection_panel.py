"""The panel beside or below a table of records: a hint while nothing is chosen, the one record chosen, or what
can be done to several chosen at once. desktop.views.cohort.patient_panel and action_panel fill in the pages."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

HINT, ONE, MANY = 0, 1, 2


class SelectionPanel(QWidget):
    def __init__(self, name: str, hint: str, margins: tuple[int, int, int, int], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*margins)
        layout.addWidget(self.stack)
        self.hint = QLabel(hint)
        self.hint.setObjectName("emptyState")
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.stack.addWidget(self.hint)

    def set_pages(self, one: QWidget, many_note: str, many_buttons: Sequence[QPushButton]) -> None:
        """The page for one record, and the note and buttons for several: once, from the subclass."""
        self.stack.addWidget(one)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 0, 0, 0)
        self.many_label = heading_label()
        box.addWidget(self.many_label)
        note = QLabel(many_note)
        note.setObjectName("pageSubtitle")
        note.setWordWrap(True)
        box.addWidget(note)
        box.addSpacing(8)
        for button in many_buttons:
            box.addWidget(button, 0, Qt.AlignmentFlag.AlignLeft)
        box.addStretch(1)
        self.stack.addWidget(page)

    def showing(self) -> int:
        """HINT, ONE or MANY."""
        return self.stack.currentIndex()

    def show_nothing(self) -> None:
        self.stack.setCurrentIndex(HINT)

    def show_one(self) -> None:
        self.stack.setCurrentIndex(ONE)

    def show_several(self, heading: str) -> None:
        self.many_label.setText(heading)
        self.stack.setCurrentIndex(MANY)


def heading_label() -> QLabel:
    """The panel's heading: a patient's name, an action's reference, or how many are chosen."""
    label = QLabel()
    label.setObjectName("patientName")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)  # a long name in a narrow panel (a large font) goes onto a second line, not cut off
    return label
