"""The MDT & actions screen: the locality's meetings (plan, agenda, outcomes, attendees, the MDT pack) and its
action log, as two tabs. A commissioner workspace holds no patients, so it shows why the screen is empty."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ...models.changes import Changes
from ...settings import Settings
from ..kit.page import EmptyCard, Page, at_top, title_block
from ..kit.session import Session
from ..shell.screens import Screen
from .action_log import ActionLog
from .meetings_tab import MeetingsTab

MEETINGS, ACTIONS = 0, 1
# What each tab shows, by the tables whose changes mean it must reload.
DEPENDS = {
    MEETINGS: ("meetings", "meeting_items", "actions", "staff", "patients"),
    ACTIONS: ("actions", "meetings", "staff", "patients"),
}


class MdtPage(Page):
    def __init__(
        self, screen: Screen, session: Session, settings: Settings | None = None, parent: QWidget | None = None
    ):
        super().__init__(screen, session, settings, parent)
        # The tabs out of date: only the one in view is reloaded, the other when it is chosen (DESIGN §13).
        self.stale_tabs = {MEETINGS, ACTIONS}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)
        self.meetings = MeetingsTab(session, settings)
        self.actions = ActionLog(session)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mdtTabs")
        self.tabs.addTab(self.meetings, "&Meetings")
        self.tabs.addTab(self.actions, "&Action log")
        self.tabs.setCornerWidget(self.meetings.corner, Qt.Corner.TopRightCorner)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        self.empty = at_top(
            EmptyCard(
                "No meetings or actions in a commissioner workspace",
                "MDT meetings and their actions name patients, and a commissioner workspace never holds "
                "patient-identifiable data. Open a locality workspace (File → Open workspace) to run a team's MDT.",
            )
        )
        layout.addWidget(self.empty, 1)
        commissioner = session.kind == "commissioner"
        self.tabs.setVisible(not commissioner)
        self.empty.setVisible(commissioner)

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        for tab in (self.meetings, self.actions):
            tab.set_locality(locality)
        self.stale_tabs = {MEETINGS, ACTIONS}
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        touched = {number for number, tables in DEPENDS.items() if changes.touches(*tables)}
        if touched:
            self.stale_tabs |= touched
            self.mark_stale()

    def on_shown(self) -> None:
        super().on_shown()
        if self.session.kind != "commissioner":
            # After the first paint: the tabs not in view are ready when chosen, and the screen did not wait.
            QTimer.singleShot(0, self.meetings.detail, self.meetings.detail.build_rest)
            QTimer.singleShot(0, self.actions, self.actions.build)

    def reload(self) -> None:
        """The tab in view, if it is out of date."""
        number = self.tabs.currentIndex()
        if self.session.kind == "commissioner" or number not in self.stale_tabs:
            return
        self.stale_tabs.discard(number)
        self.tabs.widget(number).reload()

    def focus_filter(self) -> bool:
        if not self.tabs.isVisible():
            return False
        self.tabs.setCurrentIndex(ACTIONS)
        self.actions.filters.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.actions.filters.text.selectAll()
        return True

    def show_action_log(self) -> ActionLog:
        self.tabs.setCurrentIndex(ACTIONS)
        return self.actions

    def show_meetings(self) -> MeetingsTab:
        self.tabs.setCurrentIndex(MEETINGS)
        return self.meetings

    # -- internals ------------------------------------------------------------------------------------------
    def _tab_changed(self, number: int) -> None:
        self.meetings.corner.setVisible(number == MEETINGS)
        if number in self.stale_tabs:
            self.mark_stale()
