"""What every screen in the main window's stack offers, and the title block and empty-state card they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

from ...models.changes import Changes
from ...settings import Settings
from ..shell.screens import Screen
from .session import Session


class Page(QWidget):
    """A screen. The main window tells it the current locality, shows it, and passes on every change.

    A page loads what it shows in `reload()`, and only when it must: `set_locality` and `on_changes` decide
    whether a change concerns the page and then call `mark_stale()`, which reloads at once when the page is on
    screen and otherwise when it is next shown, so a write costs nothing on the screens nobody is looking at
    (DESIGN §13)."""

    def __init__(
        self,
        screen: Screen,
        session: Session | None = None,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.screen = screen
        self.session = session  # None only for a planned screen, which shows no data
        self.settings = settings
        self.locality: Mapping[str, Any] | None = None  # set by the main window before the page is shown
        self.setObjectName(f"page_{screen.key}")
        self._stale = True  # nothing loaded yet

    @property
    def stale(self) -> bool:
        """What the page shows may be out of date: it is reloaded when next shown."""
        return self._stale

    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        """The locality chosen in the tool bar changed (a row of workspace.localities, or None)."""

    def on_changes(self, changes: Changes) -> None:
        """Something was written; call mark_stale() if it touches what this page shows."""

    def on_shown(self) -> None:
        """The page became the visible one."""
        self.reload_if_stale()

    def mark_stale(self) -> None:
        """What the page shows is out of date: reload now if the page is on screen, else when it is shown."""
        self._stale = True
        if self.isVisible():
            self.reload_if_stale()

    def reload_if_stale(self) -> None:
        # The flag drops first, so a change published while reloading asks for another reload.
        if self._stale:
            self._stale = False
            self.reload()

    def reload(self) -> None:
        """Load what the page shows from the workspace. Pages with data override it."""

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


class EmptyCard(QFrame):
    """The honest empty state of a screen or tab: what is missing and why, and optionally the button that
    fixes it (`button`, None without one)."""

    def __init__(self, heading: str = "", body: str = "", button: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("plannedCard")
        self.setMaximumWidth(760)
        inner = QVBoxLayout(self)
        inner.setContentsMargins(24, 20, 24, 22)
        inner.setSpacing(12)
        self.heading = QLabel(heading)
        self.heading.setObjectName("plannedHeading")
        inner.addWidget(self.heading)
        self.body = QLabel(body)
        self.body.setObjectName("plannedBody")
        self.body.setWordWrap(True)
        inner.addWidget(self.body)
        self.button: QPushButton | None = None
        if button:
            self.button = QPushButton(button)
            self.button.setProperty("primary", True)
            inner.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)


def stacked(main: QWidget, *below: QWidget) -> QWidget:
    """*main* taking the height there is, with *below* under it (a legend under a grid), edge to edge."""
    holder = QWidget()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(main, 1)
    for widget in below:
        box.addWidget(widget)
    return holder


def at_top(widget: QWidget) -> QFrame:
    """*widget* at the top of the space it is given, rather than stretched or centred in it."""
    holder = QFrame()
    box = QVBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(widget)
    box.addStretch(1)
    return holder
