"""The Meetings tab on the demo world: planning carries the open actions, the agenda picker, outcomes,
attendees, actions agreed at a meeting, and the OFFICIAL-SENSITIVE pack (after a warning, audited)."""

from __future__ import annotations

from cohort_helpers import choose_locality, locality_id
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from mdt_fixtures import listed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.mdt import meetings
from desktop.views.kit import messages, pdf_export
from desktop.views.mdt import meeting_handlers as meeting_actions
from desktop.views.mdt.agenda_picker import AgendaPicker
from desktop.views.mdt.page import MdtPage


def plan(qtbot, page, day="15/12/2026", visitor=True):
    """Plan a meeting through the dialog; returns the dialog (closed once planned)."""
    tab = page.meetings
    qtbot.mouseClick(tab.plan_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert dialog.isVisible()
    dialog.held_on.line.setText(day)
    dialog.chair.setCurrentIndex(1)
    dialog.location.setText("Loughborough Health Centre")
    if visitor:
        dialog.attendees.visitor_name.setText("Jo Carer")
        dialog.attendees.visitor_role.setText("care home manager")
        dialog.attendees.visitor_org.setCurrentIndex(dialog.attendees.visitor_org.findData("care home"))
        qtbot.mouseClick(dialog.attendees.add_visitor_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    return dialog


def test_the_list_shows_the_meetings_newest_first_and_the_latest_is_chosen(mdt_page, mdt_session):
    tab = mdt_page.meetings
    listing = meetings.listing(mdt_session.db, locality_id(mdt_session.db))
    assert tab.model.rowCount() == len(listing) >= 20
    assert [tab.model.row_id(r) for r in range(tab.model.rowCount())] == [m["id"] for m in listing]
    assert tab.current_id() == listing[0]["id"]
    detail = tab.detail
    assert detail.patients.model.rowCount() == listing[0]["patients"]
    assert detail.agreed_model.rowCount() == listing[0]["actions"]
    assert detail.state.text() == "Held" and not detail.held_button.isEnabled()


def test_planning_a_meeting_carries_every_open_action_onto_its_agenda(qtbot, mdt_page, mdt_session):
    open_now = {r["id"] for r in listed(mdt_session, status="open or in progress")}
    assert open_now
    dialog = plan(qtbot, mdt_page)
    assert not dialog.isVisible()
    tab = mdt_page.meetings
    newest = meetings.listing(mdt_session.db, locality_id(mdt_session.db))[0]
    assert newest["held_on"] == "2026-12-15" and newest["status"] == "planned"
    assert tab.current_id() == newest["id"]
    carried = {i["action_id"] for i in meetings.agenda(mdt_session.db, newest["id"]) if i["kind"] == "action"}
    assert carried == open_now
    assert tab.detail.carried.model.rowCount() == len(open_now)
    assert tab.detail.state.text() == "Planned" and tab.detail.held_button.isEnabled()
    assert f"{len(open_now)} open actions carried onto its agenda" in mdt_page.window().statusBar().currentMessage()
    people = meetings.attendees(mdt_session.db, newest["id"])
    assert "Jo Carer" in {p["name"] for p in people}

    qtbot.mouseClick(tab.detail.held_button, Qt.MouseButton.LeftButton)
    assert meetings.get(mdt_session.db, newest["id"])["status"] == "held"


def test_a_bad_meeting_date_is_shown_at_the_field(qtbot, mdt_page, mdt_session):
    before = len(meetings.listing(mdt_session.db, locality_id(mdt_session.db)))
    dialog = plan(qtbot, mdt_page, day="next Tuesday", visitor=False)
    assert dialog.isVisible() and dialog.errors["held_on"].isVisible()
    assert "next Tuesday" in dialog.errors["held_on"].text()
    assert len(meetings.listing(mdt_session.db, locality_id(mdt_session.db))) == before


def test_adding_patients_from_the_suggestions_and_recording_an_outcome(qtbot, mdt_page, mdt_session):
    plan(qtbot, mdt_page)
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    qtbot.mouseClick(tab.detail.add_patients_button, Qt.MouseButton.LeftButton)
    picker = tab.dialog
    assert isinstance(picker, AgendaPicker) and picker.isVisible()
    suggested = meetings.suggest_agenda(mdt_session.db, locality_id(mdt_session.db))
    new, overdue = picker.models["new this run"], picker.models["review overdue"]
    assert new.rowCount() == len(suggested["new this run"]) > 0
    assert overdue.rowCount() == len(suggested["review overdue"]) > 0
    new.tick(0)
    new.tick(1)
    overdue.tick(0)
    picker.tabs.setCurrentIndex(picker.tabs.count() - 1)
    searched = picker.models["added"]
    family = str(suggested["review overdue"][1]["family_name"])
    qtbot.keyClicks(picker.find, family)
    assert searched.rowCount() >= 1 and family in picker.found.text() or searched.rowCount() >= 1
    row = next(r for r in range(searched.rowCount()) if searched.patient_id(r) == suggested["review overdue"][1]["id"])
    searched.tick(row)
    assert picker.add_button.text() == "Add 4 patients to the agenda"
    qtbot.mouseClick(picker.add_button, Qt.MouseButton.LeftButton)
    assert not picker.isVisible()

    items = [i for i in meetings.agenda(mdt_session.db, meeting_id) if i["kind"] == "patient"]
    assert [(i["patient_id"], i["source"]) for i in items] == [
        (suggested["new this run"][0]["id"], "new this run"),
        (suggested["new this run"][1]["id"], "new this run"),
        (suggested["review overdue"][0]["id"], "review overdue"),
        (suggested["review overdue"][1]["id"], "added"),
    ]
    assert "Added 4 patients to the agenda" in mdt_page.window().statusBar().currentMessage()

    agenda = tab.detail.patients
    assert agenda.model.rowCount() == 4
    agenda.select(items[0]["id"])
    agenda.outcome.setPlainText("Refer to the falls service; matron to visit within two weeks.")
    qtbot.mouseClick(agenda.save_button, Qt.MouseButton.LeftButton)
    saved = next(i for i in meetings.agenda(mdt_session.db, meeting_id) if i["id"] == items[0]["id"])
    assert saved["outcome"] == "Refer to the falls service; matron to visit within two weeks."
    assert agenda.current_item()["id"] == items[0]["id"]  # still chosen after the reload

    # Already on the agenda: shown, but cannot be ticked again.
    qtbot.mouseClick(tab.detail.add_patients_button, Qt.MouseButton.LeftButton)
    again = tab.dialog.models["new this run"]
    assert not again.flags(again.index(0, 0)) & Qt.ItemFlag.ItemIsEnabled
    assert again.index(0, 5).data() == "Already on the agenda"
    tab.dialog.reject()


def test_an_action_for_the_chosen_patient_is_tied_to_the_meeting(qtbot, mdt_page, mdt_session):
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    agenda = tab.detail.patients
    item = agenda.items[agenda.model.row_id(2)]
    agenda.select(item["id"])
    qtbot.mouseClick(agenda.action_button, Qt.MouseButton.LeftButton)
    dialog = tab.dialog
    assert dialog.patient.currentData() == item["patient_id"]
    dialog.description.setPlainText("Book a joint visit with the heart failure nurse")
    dialog.owner.setCurrentIndex(0)
    dialog.owner.activated.emit(0)
    assert dialog.organisation.currentIndex() >= 0  # filled from the staff member chosen
    dialog.due.line.setText("08/01/2027")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    agreed = listed(mdt_session, meeting_id=meeting_id)
    made = next(r for r in agreed if r["description"].startswith("Book a joint visit"))
    assert made["patient_id"] == item["patient_id"] and made["due_date"] == "2027-01-08"
    assert tab.detail.agreed_model.row_of(made["id"]) is not None


def test_removing_an_agenda_item_asks_first(qtbot, mdt_page, mdt_session, monkeypatch):
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    agenda = tab.detail.patients
    item_id = agenda.model.row_id(0)
    agenda.select(item_id)
    answers = []
    monkeypatch.setattr(messages, "confirm", lambda *a: answers.append(a[2]) or False)
    qtbot.keyClick(agenda.table, Qt.Key.Key_Delete)
    assert answers and "off this meeting's agenda" in answers[0]
    assert item_id in {i["id"] for i in meetings.agenda(mdt_session.db, meeting_id)}
    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    qtbot.keyClick(agenda.table, Qt.Key.Key_Delete)
    assert item_id not in {i["id"] for i in meetings.agenda(mdt_session.db, meeting_id)}
    assert audit.entries(mdt_session.db, "meeting_items", item_id)[0]["action"] == "delete"


def test_an_action_deleted_meanwhile_is_reported_and_the_list_refreshed(mdt_page, warnings):
    tab = mdt_page.meetings
    meeting_actions.edit_action(tab, "deleted-in-another-window")
    assert warnings == [("Cannot open the action", "That action no longer exists.")]
    assert mdt_page.window().statusBar().currentMessage() == "The list has been refreshed."
    assert tab.current_id() is not None


def test_attendees_are_edited_and_saved(qtbot, mdt_page, mdt_session):
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    editor = tab.detail.attendees
    before = meetings.attendees(mdt_session.db, meeting_id)
    first = editor.model.people[0]["name"]
    editor.table.setCurrentIndex(editor.model.index(0, 0))
    qtbot.mouseClick(editor.toggle_button, Qt.MouseButton.LeftButton)
    assert tab.detail.save_attendees_button.isEnabled()
    qtbot.mouseClick(tab.detail.save_attendees_button, Qt.MouseButton.LeftButton)
    after = {p["name"]: p["present"] for p in meetings.attendees(mdt_session.db, meeting_id)}
    was = next(p["present"] for p in before if p["name"] == first)
    assert after[first] == int(not was) and len(after) == len(before)


def test_exporting_the_pack_warns_then_writes_the_pdf_and_audits_it(
    qtbot, mdt_page, mdt_session, tmp_path, monkeypatch
):
    tab = mdt_page.meetings
    meeting_id = tab.current_id()
    warned, offered, opened = [], [], []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text, action: warned.append(text) or True)
    out = tmp_path / "pack"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF document (*.pdf)"))
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: offered.append(options) or options[0])
    monkeypatch.setattr(pdf_export.QDesktopServices, "openUrl", lambda url: opened.append(url))
    qtbot.mouseClick(tab.detail.export_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)

    assert "OFFICIAL-SENSITIVE" in warned[0] and "audit trail" in warned[0]
    pdf = tmp_path / "pack.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    entry = audit.entries(mdt_session.db, "meetings", meeting_id)[0]
    assert entry["action"] == "export" and "pack.pdf" in entry["summary"]
    assert offered == [[meeting_actions.OPEN_PACK, meeting_actions.CLOSE]]
    assert opened[0].toLocalFile() == str(pdf)


def test_declining_the_warning_writes_nothing(qtbot, mdt_page, mdt_session, monkeypatch):
    monkeypatch.setattr(messages, "confirm", lambda *a: False)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or ("", ""))
    entries = len(audit.entries(mdt_session.db))
    qtbot.mouseClick(mdt_page.meetings.detail.export_button, Qt.MouseButton.LeftButton)
    assert asked == [] and len(audit.entries(mdt_session.db)) == entries


def test_a_world_without_meetings_offers_to_plan_the_first(window):
    """The small world built without history: no meetings, no actions, and an honest empty state."""
    choose_locality(window, "CHA")
    window.show_screen("mdt")
    page = window.current_page()
    assert isinstance(page, MdtPage)
    assert page.meetings.stack.currentWidget() is page.meetings.empty
    assert "No meetings yet — plan the first one" in [
        w.text() for w in page.meetings.empty.findChildren(type(page.meetings.count))
    ]
    log = page.show_action_log()
    assert log.table_stack.currentWidget() is log.empty and log.empty.text().startswith("No actions yet")


def test_an_outcome_typed_is_saved_on_moving_to_the_next_patient_or_meeting(qtbot, mdt_page, mdt_session):
    tab = mdt_page.meetings
    agenda = tab.detail.patients
    first, second = agenda.model.row_id(0), agenda.model.row_id(1)
    agenda.table.setFocus()
    agenda.select(first)
    agenda.outcome.setPlainText("Matron to visit on Friday")
    qtbot.keyClick(agenda.table, Qt.Key.Key_Down)
    assert agenda.current_item()["id"] == second
    stored = {i["id"]: i["outcome"] for i in meetings.agenda(mdt_session.db, tab.current_id())}
    assert stored[first] == "Matron to visit on Friday"
    assert agenda.outcome.toPlainText() == (stored[second] or "")

    agenda.outcome.setPlainText("Discuss again next month")
    meeting_id = tab.current_id()
    tab.select(tab.model.row_id(1))
    stored = {i["id"]: i["outcome"] for i in meetings.agenda(mdt_session.db, meeting_id)}
    assert stored[second] == "Discuss again next month"
    assert tab.current_id() == tab.model.row_id(1)
