"""The My work screen (issue 25): a team member's week in one place. Her reviews due and overdue, her open actions,
the PCSPs due across the locality's care homes (the homes she leads first), this week's home rounds not yet
logged, and the patients waiting for the MDT with their reasons. Every item opens where its work is done
(open_item), Enter or a double-click; the navigation shows how many items are due (navigation_title).

Whose work: the name given at start-up matched to the locality's staff list (whose.resolve); when nobody matches
the screen says so and the "Show the work of…" picker, always there, chooses someone, remembered per workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from ...models import clock, my_work
from ...models.changes import Changes
from ...settings import Settings
from ..kit import formats
from ..kit.page import Page, title_block
from ..kit.session import Session
from ..kit.widgets import ScrollBody
from ..shell.screens import Screen
from . import open_item, whose
from .sections import (
    ACTION_COLUMNS,
    FLAG_COLUMNS,
    PCSP_COLUMNS,
    REVIEW_COLUMNS,
    ROUND_COLUMNS,
    Section,
    action_rows,
    flag_rows,
    pcsp_rows,
    review_rows,
    round_rows,
)

# The tables whose changes can add an item to the lists or take one off.
DEPENDS = (
    "patients",
    "interventions",
    "actions",
    "residents",
    "visits",
    "care_homes",
    "staff",
    "mdt_flags",
    "meeting_items",
)
NOBODY = "Choose someone…"
SHOWN_ROWS = 12  # a list longer than this scrolls rather than taking more of the height


def work_for(session: Session, settings: Settings, locality: Mapping[str, Any] | None) -> my_work.MyWork | None:
    """The lists for whoever's work the screen shows in *locality* (None without a locality)."""
    if locality is None or session.kind == "commissioner":
        return None
    me, _own = whose.resolve(session.db, settings, session.path, locality["id"], session.actor.user)
    return my_work.my_work(session.db, locality["id"], me, clock.today())


def navigation_title(title: str, work: my_work.MyWork | None) -> str:
    """The navigation's "My work (7)": the user's items due now (MyWork.to_do); the bare title when none are."""
    return f"{title} ({work.to_do:,})" if work is not None and work.to_do else title


class MyWorkPage(Page):
    def __init__(self, screen: Screen, session: Session, settings: Settings, parent: QWidget | None = None):
        super().__init__(screen, session, settings, parent)
        self.work: my_work.MyWork | None = None
        self.me: dict[str, Any] | None = None
        # The screen scrolls when a large font leaves the lists less than a few rows each, rather than squeezing
        # them to their headers.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = ScrollBody()
        body.setObjectName("myWorkBody")
        scroll = QScrollArea()
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the Go shortcut and Tab go to the lists, not the scroller
        scroll.setWidget(body)
        outer.addWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)
        below_title = layout.count()

        # The lists come first in the Tab order, so the Go shortcut puts the keyboard on the reviews.
        self.reviews = Section(
            "reviews",
            "&Reviews due",
            REVIEW_COLUMNS,
            "when",
            "No reviews due in the next 14 days.",
            lambda r: self._open(open_item.patient, r["patient_id"]),
        )
        self.actions = Section(
            "actions",
            "My a&ctions",
            ACTION_COLUMNS,
            "when",
            "No open actions.",
            lambda r: self._open(open_item.action, r["id"]),
            stretch_column=1,
        )
        self.pcsps = Section(
            "pcsps",
            "&PCSPs due — all homes",
            PCSP_COLUMNS,
            "when",
            "Every current resident has a personalised care and support plan.",
            lambda r: self._open(open_item.resident, r["care_home_id"], r["resident_id"]),
            stretch_column=1,
        )
        self.rounds = Section(
            "rounds",
            "Home r&ounds not yet logged this week",
            ROUND_COLUMNS,
            "week",
            "Every home's round is logged for this week.",
            lambda r: self._open(open_item.home_round, r["care_home_id"]),
        )
        self.flags = Section(
            "flags",
            "Flagged for the &MDT",
            FLAG_COLUMNS,
            "since",
            "Nobody is waiting for the MDT agenda.",
            lambda r: self._open(open_item.patient, r["patient_id"]),
            stretch_column=1,
        )

        # Two columns: the user's own work on the left, the team's care homes and MDT on the right.
        columns = QHBoxLayout()
        columns.setSpacing(28)
        self.columns: list[QVBoxLayout] = []
        for sections in ((self.reviews, self.actions), (self.pcsps, self.rounds, self.flags)):
            column = QVBoxLayout()
            column.setSpacing(14)
            for section in sections:
                column.addWidget(section)
            column.addStretch(0)
            columns.addLayout(column, 1)
            self.columns.append(column)
        layout.addLayout(columns, 1)
        self.sections = (self.reviews, self.actions, self.pcsps, self.rounds, self.flags)

        # Above the lists but made after them, so it comes after them in the Tab order.
        who = QWidget()
        row = QHBoxLayout(who)
        row.setContentsMargins(0, 0, 0, 0)
        self.who = QLabel()
        self.who.setObjectName("pageSubtitle")
        self.who.setWordWrap(True)
        row.addWidget(self.who, 1)
        picker_label = QLabel("Show the &work of")
        self.picker = QComboBox()
        self.picker.setObjectName("myWorkStaff")
        self.picker.setAccessibleName("Show the work of")
        self.picker.setToolTip("Whose reviews and actions the lists show; remembered for this workspace")
        self.picker.setMinimumContentsLength(22)
        picker_label.setBuddy(self.picker)
        self.picker.activated.connect(self._picked)
        row.addWidget(picker_label)
        row.addWidget(self.picker)
        self.unknown = QLabel()
        self.unknown.setObjectName("inlineNotice")
        self.unknown.setWordWrap(True)
        layout.insertWidget(below_title, who)
        layout.insertWidget(below_title + 1, self.unknown)
        layout.insertSpacing(below_title + 2, 6)

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches(*DEPENDS):
            self.mark_stale()

    def on_shown(self) -> None:
        # A day may have passed, or the user changed (File → Who is using this…), since the lists were made.
        self.mark_stale()
        super().on_shown()

    def focus_filter(self) -> bool:
        self.picker.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True

    # -- data ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        if self.locality is None:
            self.work, self.me = None, None
            self.who.setText("Choose a locality in the Locality box to see the work of its team.")
            self.unknown.hide()
            for section in self.sections:
                section.set_rows([], "")
            return
        db, user = self.session.db, self.session.actor.user
        self.me, own = whose.resolve(db, self.settings, self.session.path, self.locality["id"], user)
        self.work = my_work.my_work(db, self.locality["id"], self.me, clock.today())
        self._fill_picker()
        self._show_who(own, user)
        self._fill_lists()

    def _fill_picker(self) -> None:
        self.picker.blockSignals(True)
        self.picker.clear()
        if self.me is None:
            self.picker.addItem(NOBODY, None)
        for s in my_work.staff_of(self.session.db, self.locality["id"]):
            self.picker.addItem(f"{s['name']} ({s['role']})", s["id"])
        self.picker.setCurrentIndex(max(0, self.picker.findData(self.me["id"])) if self.me else 0)
        self.picker.blockSignals(False)

    def _show_who(self, own: bool, user: str) -> None:
        monday, _sunday = my_work.week_of(clock.today())
        week = f"week of Monday {formats.date(monday)}"
        place = self.locality["name"]
        if self.me is None:
            self.who.setText(f"{place} · {week}")
            self.unknown.setText(
                f"Nobody called “{user}” is on {place}'s staff list, so your reviews and actions cannot be "
                "found. Choose yourself in “Show the work of…” (it is remembered), or correct your name in "
                "File → Who is using this…. The team's lists below are shown meanwhile."
            )
            self.unknown.show()
            return
        self.unknown.hide()
        whose_work = "Your work" if own else f"The work of {self.me['name']}"
        self.who.setText(f"{whose_work} ({self.me['role']}), {place} · {week}")

    def _fill_lists(self) -> None:
        work, c = self.work, self.work.counts()
        named = self.me is not None
        self.reviews.set_rows(
            review_rows(work.reviews),
            _parts((c["reviews_overdue"], "overdue"), (c["reviews"] - c["reviews_overdue"], "due in the next 14 days")),
            None if named else "Choose whose work to show to see their reviews.",
        )
        self.actions.set_rows(
            action_rows(work.actions),
            _parts(
                (c["actions"], "open"), (c["actions_overdue"], "overdue"), (c["actions_this_week"], "due this week")
            ),
            None if named else "Choose whose work to show to see their actions.",
        )
        self.pcsps.set_rows(
            pcsp_rows(work.pcsps),
            _parts(
                (c["pcsps_overdue"], "overdue"),
                (c["pcsps"] - c["pcsps_overdue"], "still within the 7 working days"),
                (c["pcsps_mine"], "★ in the homes you lead"),
            ),
        )
        self.rounds.set_rows(
            round_rows(work.rounds),
            _parts((c["rounds"], "homes with no round logged yet"), (c["rounds_mine"], "★ you lead"))
            + ("; Enter logs one for today" if work.rounds else ""),
        )
        self.flags.set_rows(
            flag_rows(work.flags),
            f"{formats.count(c['flags'], 'patient')} waiting for the next agenda" if work.flags else "",
        )
        self._share_height()

    def _share_height(self) -> None:
        """A long list gets more of the height, an empty one only its sentence; what is left stays below."""
        for column in self.columns:
            sections = [column.itemAt(i).widget() for i in range(column.count() - 1)]
            for number, section in enumerate(sections):
                column.setStretch(number, min(section.count(), SHOWN_ROWS))
            column.setStretch(len(sections), 0 if any(s.count() for s in sections) else 1)

    # -- choosing and opening ---------------------------------------------------------------------------------
    def _picked(self, index: int) -> None:
        staff_id = self.picker.itemData(index)
        if staff_id is None or self.locality is None:
            return
        whose.remember(self.settings, self.session.path, self.locality["id"], self.session.actor.user, staff_id)
        self.reload()
        window = self.window()
        if hasattr(window, "refresh_work_count"):
            window.refresh_work_count()

    def _open(self, how, *ids: str) -> None:
        how(self.window(), *ids)


def _parts(*counts: tuple[int, str]) -> str:
    """The counts as "13 overdue · 4 due in the next 14 days", leaving out what there is none of."""
    return " · ".join(f"{n:,} {what}" for n, what in counts if n)
