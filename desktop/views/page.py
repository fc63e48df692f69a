"""What every screen in the main window's stack offers, and the title block they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..models.changes import Changes
from .screens import Screen


class Page(QWidget):
    """A screen. The main window tells it the current locality, shows it, and passes on every change."""

    def __init__(self, screen: Screen, parent: QWidget | None = None):
        super().__init__(parent)
        self.screen = screen
        self.setObjectName(f"page_{screen.key}")

    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        """The locality chosen in the tool bar changed (a row of workspace.localities, or None)."""

    def on_changes(self, changes: Changes) -> None:
        """Something was written; reload if it touches what this page shows."""

    def on_shown(self) -> None:
        """The page became the visible one."""

    def focus_filter(self) -> bool:
        """Put the cursor in this page's filter box; False when it has none."""
        return False


def title_block(layout: QVBoxLayout, title: str, subtitle: str) -> None:
    heading = QLabel(title)
    heading.setObjectName("pageTitle")
    layout.addWidget(heading)
    sub = QLabel(subtitle)
    sub.setObjectName("pageSubtitle")
    sub.setWordWrap(True)
    layout.addWidget(sub)
    layout.addSpacing(12)
