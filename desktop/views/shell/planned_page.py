"""The honest empty state of a screen that a later issue will build: what it will do, and no fake data."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..kit.page import Page, title_block
from .screens import Screen


class PlannedPage(Page):
    def __init__(self, screen: Screen, workspace_kind: str, parent: QWidget | None = None):
        super().__init__(screen, parent=parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(32, 24, 32, 24)
        title_block(outer, screen.title, screen.summary)

        card = QFrame()
        card.setObjectName("plannedCard")
        card.setMaximumWidth(760)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(24, 20, 24, 22)
        inner.setSpacing(10)

        status_row = QHBoxLayout()
        status = QLabel("Not built yet")
        status.setObjectName("plannedStatus")
        status_row.addWidget(status)
        status_row.addStretch(1)
        inner.addLayout(status_row)

        heading = QLabel("What this screen will do")
        heading.setObjectName("plannedHeading")
        inner.addWidget(heading)
        items = "".join(f"<li style='margin-bottom:6px'>{html.escape(text)}</li>" for text in screen.will_do)
        body = QLabel(f"<ul style='margin-left:-20px'>{items}</ul>")
        body.setObjectName("plannedBody")
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        inner.addWidget(body)

        note = QLabel(self._note(screen, workspace_kind))
        note.setObjectName("plannedNote")
        note.setWordWrap(True)
        inner.addWidget(note)

        outer.addWidget(card)
        outer.addStretch(1)
        self.note = note

    @staticmethod
    def _note(screen: Screen, workspace_kind: str) -> str:
        if screen.patient_level and workspace_kind == "commissioner":
            return (
                "This is a commissioner workspace, which never holds patient-identifiable data, so this "
                "screen will stay empty here. Open a locality workspace to use it."
            )
        return (
            "It comes in a later release. Until then this screen shows nothing rather than made-up "
            "figures. The reference data (localities, PCNs, practices, care homes and staff) can already "
            "be viewed and edited under Reference data."
        )
