"""Edit → Undo in the real window for a corrected visit, an intervention and a meeting's outcome: each is made
through its form, named in the Edit menu, and Ctrl+Z puts the records and the screen back."""

from __future__ import annotations

from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.models import clock
from desktop.models.care_homes import visits
from desktop.models.cohort import caseload
from desktop.models.mdt import meetings
from desktop.models.undo import STAMP
from desktop.views.care_homes import page as care_homes_page
from desktop.views.care_homes.visit_dialog import LogVisitDialog


def unstamped(visit: dict) -> dict:
    """A visit as visits.get gives it, without the stamps an undo rewrites."""
    return {
        k: [{c: x for c, x in r.items() if c not in STAMP} for r in v] if isinstance(v, list) else v
        for k, v in visit.items()
        if k not in STAMP
    }


def ctrl_z(qtbot, widget) -> None:
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    qtbot.keyClick(widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def home_with_a_reviewing_visit(page) -> tuple[int, str]:
    """Choose a home on the detail tab with a recent visit that reviewed residents and raised actions; (row, id)."""
    page.tabs.setCurrentIndex(care_homes_page.DETAIL)
    box, model = page.detail.home_box, page.detail.visits_model
    for number in range(box.count()):
        box.setCurrentIndex(number)
        row = next(
            (r for r in range(model.rowCount()) if model.record(r)["reviewed"] >= 2 and model.record(r)["actions"]),
            None,
        )
        if row is not None:
            return row, model.row_id(row)
    raise AssertionError("the demo has visits that reviewed residents and raised actions")


def test_a_visit_corrected_through_its_form_is_put_back_by_ctrl_z(qtbot, mdt_window, mdt_session):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("care_homes")
    page = mdt_window.current_page()
    row, visit_id = home_with_a_reviewing_visit(page)
    db = mdt_session.db
    before = visits.get(db, visit_id)
    table = page.detail.visits
    table.setCurrentIndex(page.detail.visits_model.index(row, 0))
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Return)  # Enter on a visit opens it for correction

    dialog = page.dialog
    assert isinstance(dialog, LogVisitDialog) and dialog.objectName() == "editVisitDialog"
    assert dialog.date.value() == before["visited_on"] and not dialog.home.isEnabled()
    ticked = {r.resident_id: r.value() for r in dialog.rows if r.check.isChecked()}
    assert {rid: v["outcome"] for rid, v in ticked.items()} == {
        r["resident_id"]: r["outcome"] for r in before["residents"]
    }
    raised = dialog.findChild(QLabel, "raisedActions").text()  # follow-ups raised before are listed
    assert before["actions"] and all(a["reference"] in raised for a in before["actions"])
    dropped, changed = before["residents"][0]["resident_id"], before["residents"][1]["resident_id"]
    dialog.resident_row(dropped).check.setChecked(False)
    outcome = dialog.resident_row(changed).outcome
    outcome.setCurrentIndex(outcome.findData("transferred to hospital"))
    dialog.notes.setPlainText("Corrected: one resident was seen on another day.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.banner.text()

    after = visits.get(db, visit_id)
    assert dropped not in {r["resident_id"] for r in after["residents"]}
    assert after["notes"] == "Corrected: one resident was seen on another day."
    model = page.detail.visits_model
    assert model.record(model.row_of(visit_id))["reviewed"] == len(before["residents"]) - 1
    day = clock.today().fromisoformat(before["visited_on"]).strftime("%d/%m/%Y")
    name = f"Edit visit to {page.detail.home_box.currentText().removeprefix('⚠ ')} on {day}"
    assert mdt_window.edit_menu.undo_action.text() == f"&Undo {name.replace('&', '&&')}"

    ctrl_z(qtbot, table)
    assert unstamped(visits.get(db, visit_id)) == unstamped(before)
    assert model.record(model.row_of(visit_id))["reviewed"] == len(before["residents"])
    assert mdt_window.statusBar().currentMessage() == f"Undone: {name}"


def test_a_visit_shown_from_its_context_menu_offers_to_correct_it(qtbot, mdt_window, mdt_session):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("care_homes")
    page = mdt_window.current_page()
    row, visit_id = home_with_a_reviewing_visit(page)
    page.detail.visits.setCurrentIndex(page.detail.visits_model.index(row, 0))
    menu = {a.text(): a for a in page.detail.visits.actions()}
    assert list(menu) == ["Edit visit…", "Show visit"]
    menu["Show visit"].trigger()
    summary = page.dialog
    qtbot.mouseClick(summary.findChild(type(page.log_button), "editVisitButton"), Qt.MouseButton.LeftButton)
    assert not summary.isVisible() and page.dialog.objectName() == "editVisitDialog"
    assert page.dialog.notes.toPlainText() == visits.get(mdt_session.db, visit_id)["notes"]
    page.dialog.reject()


def test_an_intervention_recorded_through_its_form_is_taken_back_by_ctrl_z(qtbot, loaded, session):
    loaded.table.select_row(0)
    patient_id = loaded.model.patient_id(0)
    panel = loaded.panel
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    dialog.kind.setCurrentIndex(dialog.kind.findData("falls assessment"))
    dialog.note.setPlainText("No falls since spring.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and panel.interventions.rowCount() == 1
    undo = loaded.window().edit_menu.undo_action
    assert undo.text() == f"&Undo Record falls assessment of {clock.today():%d/%m/%Y}"

    ctrl_z(qtbot, panel.interventions)
    assert caseload.interventions(session.db, patient_id) == []
    assert panel.interventions.rowCount() == 0 and panel.tabs.tabText(2) == "Interventions (0)"
    assert loaded.window().statusBar().currentMessage() == (
        f"Undone: Record falls assessment of {clock.today():%d/%m/%Y}"
    )


def test_an_outcome_recorded_at_a_meeting_is_taken_back_by_ctrl_z(qtbot, mdt_page, mdt_session):
    tab = mdt_page.meetings
    agenda = tab.detail.patients
    tab.detail.tabs.setCurrentWidget(agenda)
    item = next(iter(agenda.items.values()))
    agenda.select(item["id"])
    agenda.outcome.setPlainText("Matron to visit on Friday")
    qtbot.mouseClick(agenda.save_button, Qt.MouseButton.LeftButton)
    stored = {i["id"]: i["outcome"] for i in meetings.agenda(mdt_session.db, tab.current_id())}
    assert stored[item["id"]] == "Matron to visit on Friday"
    name = f"Record the outcome for {str(item['family_name']).upper()}, {item['given_name']}"
    assert mdt_page.window().edit_menu.undo_action.text() == f"&Undo {name}"

    mdt_page.window().edit_menu.undo_action.trigger()
    stored = {i["id"]: i["outcome"] for i in meetings.agenda(mdt_session.db, tab.current_id())}
    assert stored[item["id"]] == item["outcome"]
    assert agenda.outcome.toPlainText() == (item["outcome"] or "")  # the agenda shows it as it was


def test_a_meeting_changed_through_its_form_is_put_back_by_ctrl_z(qtbot, mdt_page, mdt_session):
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    db = mdt_session.db
    before = (meetings.get(db, meeting_id), meetings.attendees(db, meeting_id))
    qtbot.mouseClick(tab.detail.edit_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert dialog.objectName() == "editMeetingDialog"
    assert dialog.held_on.value() == before[0]["held_on"] and dialog.location.text() == before[0]["location"]
    assert [p["name"] for p in dialog.attendees.people()] == [p["name"] for p in before[1]]
    dialog.location.setText("Teams")
    editor = dialog.attendees
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    qtbot.mouseClick(editor.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible(), dialog.banner.text()
    assert meetings.get(db, meeting_id)["location"] == "Teams"
    assert len(meetings.attendees(db, meeting_id)) == len(before[1]) - 1
    name = f"Edit the meeting of {clock.today().fromisoformat(before[0]['held_on']):%d/%m/%Y}"
    assert mdt_page.window().edit_menu.undo_action.text() == f"&Undo {name}"

    ctrl_z(qtbot, tab.table)
    assert meetings.get(db, meeting_id)["location"] == before[0]["location"]
    # The very attendee rows come back, not copies of them.
    assert [p["id"] for p in meetings.attendees(db, meeting_id)] == [p["id"] for p in before[1]]
    assert tab.detail.meta.text().startswith(before[0]["location"] or "Place not set")
