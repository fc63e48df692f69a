"""The MDT screen's first paint shows the meetings and the latest meeting's agenda; the tabs behind them (the
meeting's carried actions, attendees and agreed actions, and the action log) are built after it (issue 26) and
show the same data as if they had been there from the start, whether they are built idle or chosen first."""

from __future__ import annotations

from cohort_helpers import choose_locality, locality_id
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from mdt_fixtures import listed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.models.mdt import meetings
from desktop.views.mdt.page import ACTIONS


def latest(session) -> tuple[dict, list[dict], list[dict]]:
    """Charnwood's newest meeting, its attendees and its agenda, as the domain gives them."""
    meeting = meetings.listing(session.db, locality_id(session.db))[0]
    return meeting, meetings.attendees(session.db, meeting["id"]), meetings.agenda(session.db, meeting["id"])


def test_the_first_paint_shows_the_meetings_and_the_latest_meetings_agenda(mdt_page, mdt_session):
    mdt_page.window().repaint()
    tab = mdt_page.meetings
    meeting, people, agenda = latest(mdt_session)
    listing = meetings.listing(mdt_session.db, locality_id(mdt_session.db))
    assert tab.table.isVisible() and tab.model.rowCount() == len(listing)
    assert tab.current_id() == meeting["id"]
    assert tab.detail.patients.isVisible()
    assert tab.detail.patients.model.rowCount() == meeting["patients"] > 0
    carried = [i for i in agenda if i["kind"] == "action"]
    assert [tab.detail.tabs.tabText(n) for n in range(4)] == [
        f"Patients to discuss  {meeting['patients']}",
        f"Actions carried forward  {len(carried)}",
        f"Attendees  {len(people)}",
        f"Actions agreed  {meeting['actions']}",
    ]


def test_the_tabs_built_after_the_first_paint_show_the_chosen_meeting_and_every_action(qtbot, mdt_page, mdt_session):
    detail, log = mdt_page.meetings.detail, mdt_page.actions
    qtbot.waitUntil(lambda: detail.built and log.built)  # idle, once the screen has painted
    meeting, people, agenda = latest(mdt_session)
    assert {p["name"] for p in detail.attendees.people()} == {p["name"] for p in people}
    assert detail.attendees.staff  # the staff to add from
    assert detail.carried.model.rowCount() == sum(1 for i in agenda if i["kind"] == "action")
    assert detail.agreed_model.rowCount() == meeting["actions"]

    mdt_page.tabs.setCurrentIndex(ACTIONS)
    everything = listed(mdt_session)
    assert log.filters.isVisible() and log.table.isVisible()
    assert log.model.rowCount() == len(everything) > 0
    assert log.count.text().startswith(f"{len(everything):,} action")


def test_a_tab_chosen_before_it_was_built_shows_its_contents_at_once(mdt_window, mdt_session):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("mdt")  # here, not in a fixture: pytest-qt handles the queued events after each fixture
    mdt_page = mdt_window.current_page()
    detail = mdt_page.meetings.detail
    assert not detail.built and not mdt_page.actions.built
    _meeting, people, _agenda = latest(mdt_session)
    detail.tabs.setCurrentIndex(2)
    assert detail.attendees.isVisible()
    assert len(detail.attendees.people()) == len(people) > 0

    assert mdt_page.focus_filter()  # Ctrl+F: the action log's filter
    log = mdt_page.actions
    assert log.filters.text.isVisible() and log.table.isVisible()
    assert log.model.rowCount() == len(listed(mdt_session))


def test_tab_from_a_meetings_tab_goes_into_its_contents_before_the_plan_button(qtbot, mdt_page):
    """Built after the window, the tabs' contents would otherwise come last in its Tab order."""
    window = mdt_page.window()
    window.activateWindow()
    qtbot.waitActive(window)
    detail = mdt_page.meetings.detail
    qtbot.waitUntil(lambda: detail.built)
    for number in (1, 2):  # the actions carried forward, the attendees
        detail.tabs.setCurrentIndex(number)
        detail.tabs.tabBar().setFocus()
        qtbot.keyClick(detail.tabs.tabBar(), Qt.Key.Key_Tab)
        assert detail.tabs.widget(number).isAncestorOf(QApplication.focusWidget()), QApplication.focusWidget()
