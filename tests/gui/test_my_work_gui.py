"""My work (issue 25) from the keyboard: a matron's Monday (open an overdue review, update it, log a round, see the
counts drop), the first screen by role, and choosing whose work to show when the name is not on the staff list."""

from __future__ import annotations

import datetime as dt

import pytest
from cohort_helpers import choose_locality, wait_loaded
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from worlds import copy_world

from desktop.models import clock, my_work, workspace
from desktop.models.care_homes import visits
from desktop.models.cohort import caseload
from desktop.views.kit.session import Session
from desktop.views.shell import who_dialog

Key = Qt.Key
MONDAY = dt.datetime(2026, 11, 23, 9, 0)  # the Monday after the demo's history ends: no round logged yet this week


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(key: Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused(), key, modifier)


def tab_to(target: QWidget) -> None:
    for _ in range(150):
        if focused() is target:
            return
        press(Key.Key_Tab)
    raise AssertionError(f"{target!r} is not reachable with Tab")


def nav_text(window, key: str) -> str:
    rows = [window.nav.item(r) for r in range(window.nav.count())]
    return next(i.text() for i in rows if i.data(Qt.ItemDataRole.UserRole) == key)


def back_in(window, qtbot) -> None:
    """The offscreen platform has no window manager to make the main window active again after a dialog."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)


@pytest.fixture
def matron_window(make_window, settings, history_world_template, tmp_path, qtbot):
    """Charnwood's community matron with the most overdue reviews opens the demo world on a Monday morning."""
    clock.pin(MONDAY)
    path = copy_world(history_world_template, tmp_path / "monday.sqlite")
    session = Session.open(path, settings)
    staff_id, name = session.db.execute(
        "SELECT s.id, s.name FROM staff s JOIN localities l ON l.id = s.locality_id WHERE l.code = 'CHA' "
        "AND s.role = 'community matron' ORDER BY (SELECT COUNT(*) FROM patients p WHERE p.case_manager_id = s.id "
        "AND p.status = 'on caseload' AND p.next_review_due < ?) DESC LIMIT 1",
        [MONDAY.date().isoformat()],
    ).fetchone()
    # She is the named clinical lead of one home, whose round is hers to see logged.
    session.db.execute(
        "UPDATE care_homes SET clinical_lead_id = ? WHERE id = (SELECT h.id FROM care_homes h JOIN localities l "
        "ON l.id = h.locality_id WHERE l.code = 'CHA' ORDER BY h.name DESC LIMIT 1)",
        [staff_id],
    )
    who_dialog.remember(settings, path, name, "community matron")
    settings.set("last_locality", "CHA")
    window = make_window(session)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    return window


def test_a_matrons_monday_from_my_work(matron_window, qtbot):
    window = matron_window
    assert window.current_screen().key == "my_work"  # a team member's first screen
    page = window.current_page()
    start = page.work.to_do
    overdue = page.work.counts()["reviews_overdue"]
    assert overdue and page.work.rounds and nav_text(window, "my_work") == f"My work ({start})"

    # An overdue review: Go → My work puts the keyboard on the reviews; Enter opens the patient.
    QTest.keyClick(window, Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert focused() is page.reviews.table and page.reviews.table.currentIndex().row() == 0  # the most overdue
    review = page.reviews.model.record(page.reviews.table.currentIndex().row())
    assert review["overdue"] and review["when"].startswith("OVERDUE")
    press(Key.Key_Return)
    cohort = window.current_page()
    wait_loaded(qtbot, cohort)  # the screen is shown at once, the patient chosen once its frame is read
    assert cohort.screen.key == "cohort" and cohort.panel.patient["id"] == review["patient_id"]
    assert cohort.panel.isAncestorOf(focused())

    # A care-plan review recorded today, through the record's Interventions tab and its form.
    tab_to(cohort.panel.tabs.tabBar())
    while cohort.panel.tabs.currentWidget() is not cohort.panel.interventions_tab:
        press(Key.Key_Right)
    tab_to(cohort.panel.record_button)
    press(Key.Key_Space)
    dialog = cohort.panel.dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.isAncestorOf(QApplication.focusWidget()), timeout=2000)
    assert focused() is dialog.kind
    press(Key.Key_Down)
    assert dialog.kind.currentData() == "care-plan review"
    press(Key.Key_Return)  # the default button: Record intervention
    assert not dialog.isVisible()
    back_in(window, qtbot)
    saved = caseload.get_patient(window.session.db, review["patient_id"])
    assert saved["next_review_due"] > "2026-11-23"

    # Back on My work: the review has gone, and the count with it.
    QTest.keyClick(focused(), Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() is page
    assert page.work.counts()["reviews_overdue"] == overdue - 1
    assert review["patient_id"] not in {r["patient_id"] for r in page.work.reviews}
    assert nav_text(window, "my_work") == f"My work ({start - 1})"

    # A round not yet logged: Alt+O to the list, Enter opens the visit form as a home round today.
    press(Key.Key_O, Qt.KeyboardModifier.AltModifier)
    assert focused() is page.rounds.table and page.rounds.table.currentIndex().row() == 0
    home = page.rounds.model.record(page.rounds.table.currentIndex().row())
    assert home["mine"] and home["home"].startswith("★")  # the home she leads comes first
    press(Key.Key_Return)
    homes_page = window.pages["care_homes"]
    dialog = homes_page.dialog
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.isAncestorOf(QApplication.focusWidget()), timeout=2000)
    assert dialog.home.currentData() == home["care_home_id"] and dialog.type.currentData() == "weekly home round"
    assert dialog.date.value() == "2026-11-23"
    press(Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Enter saves from anywhere
    assert not dialog.isVisible()
    held = visits.listing(window.session.db, home["care_home_id"], start=MONDAY.date())
    assert [(v["type"], v["visited_on"]) for v in held] == [("weekly home round", "2026-11-23")]
    assert nav_text(window, "my_work") == f"My work ({start - 2})"  # counted again on the change, off screen too

    back_in(window, qtbot)
    QTest.keyClick(focused(), Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert home["care_home_id"] not in {r["care_home_id"] for r in page.work.rounds}


def test_a_federation_manager_opens_on_the_quarters_return(make_window, session, settings):
    who_dialog.remember(settings, session.path, "Vijay Walcote", "federation manager")
    window = make_window(session)
    assert window.current_screen().key == "returns"


def test_a_name_not_on_the_staff_list_is_said_plainly_and_the_choice_is_remembered(
    make_window, session, settings, small_world_path, qtbot
):
    who_dialog.remember(settings, session.path, "Pat Unlisted", "care coordinator")
    window = make_window(session)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    choose_locality(window, "CHA")
    page = window.current_page()
    assert page.screen.key == "my_work" and page.me is None
    assert page.unknown.isVisible() and "Nobody called “Pat Unlisted”" in page.unknown.text()
    assert not page.reviews.table.isVisible() and "Choose whose work" in page.reviews.empty.text()
    wanted = my_work.staff_of(session.db, workspace.locality_by_code(session.db, "CHA")["id"])[0]

    QTest.keyClick(window, Key.Key_1, Qt.KeyboardModifier.ControlModifier)  # Go → My work
    assert page.isAncestorOf(focused())
    press(Key.Key_W, Qt.KeyboardModifier.AltModifier)  # Show the &work of
    assert focused() is page.picker and page.picker.currentData() is None
    press(Key.Key_Down)  # the first name on the staff list

    assert page.me["id"] == wanted["id"] and not page.unknown.isVisible()
    assert f"The work of {wanted['name']}" in page.who.text()
    window.close()
    again = make_window(Session.open(small_world_path, settings))
    assert again.current_page().screen.key == "my_work" and again.current_page().me["id"] == wanted["id"]


def test_an_action_and_a_pcsp_open_in_their_own_forms(matron_window, qtbot):
    from desktop.models.mdt import actions
    from desktop.views.mdt import operations as mdt_operations

    window = matron_window
    page = window.current_page()
    me = page.me
    mdt_operations.create_action(
        window.session,
        window.current_locality()["id"],
        {
            "description": "Ring the district nurses about the dressing",
            "owner_staff_id": me["id"],
            "due_date": "2026-11-20",
        },
    )
    assert [a["when"] for a in page.work.actions] == ["overdue"]  # the screen in view reloads on the change
    action = page.work.actions[0]

    QTest.keyClick(window, Key.Key_C, Qt.KeyboardModifier.AltModifier)  # My a&ctions
    assert focused() is page.actions.table
    press(Key.Key_Return)
    log = window.pages["mdt"].actions
    assert window.current_screen().key == "mdt" and log.table.current_id() == action["id"]
    assert (
        log.dialog.isVisible() and actions.get(window.session.db, action["id"])["reference"] in log.dialog.windowTitle()
    )
    log.dialog.reject()
    back_in(window, qtbot)

    QTest.keyClick(focused(), Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(focused(), Key.Key_P, Qt.KeyboardModifier.AltModifier)  # &PCSPs due
    assert focused() is page.pcsps.table
    pcsp = page.pcsps.model.record(0)
    press(Key.Key_Return)
    homes = window.pages["care_homes"]
    assert window.current_screen().key == "care_homes" and homes.detail.current_home_id() == pcsp["care_home_id"]
    assert homes.detail.current_resident_id() == pcsp["resident_id"]
    assert homes.dialog.isVisible() and homes.dialog.lines["nhs_number"].text().replace(" ", "") == pcsp["nhs_number"]
    homes.dialog.reject()
