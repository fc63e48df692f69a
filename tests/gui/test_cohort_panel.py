"""The patient panel: caseload edits through the form, refusals beside the field, unsaved edits, bulk changes,
interventions, risk history and the flag for MDT."""

from __future__ import annotations

import threading

from cohort_helpers import locality_id, select_first_rows, wait_loaded
from PySide6.QtCore import Qt
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.changes import Changes
from desktop.models.cohort import caseload
from desktop.models.cohort import frame as cohort
from desktop.models.errors import StorageError
from desktop.models.mdt import meetings
from desktop.views.kit import messages, tasks
from desktop.views.kit.selection_panel import ONE


def staff_of(page, role=None):
    return [s for s in page.staff if role is None or s["role"] == role]


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def select_first(page):
    page.table.select_row(0)
    patient_id = page.model.patient_id(0)
    assert page.panel.patient["id"] == patient_id
    return patient_id


def test_the_panel_shows_the_selected_patient(loaded):
    patient_id = select_first(loaded)
    panel = loaded.panel
    row = loaded.frame.row(loaded.model.frame_row(0))
    assert panel.name.text() == f"{row['given_name']} {row['family_name']}"
    assert row["practice"] in panel.practice.text()
    assert panel.chips.texts() == [c.text for c in loaded.model.chips(loaded.model.frame_row(0))]
    assert panel.form.status.currentData() == caseload.get_patient(loaded.session.db, patient_id)["status"]


def test_status_and_case_manager_saved_from_the_panel_land_in_the_store_and_the_audit(qtbot, loaded, session):
    patient_id = select_first(loaded)
    form = loaded.panel.form
    matron = staff_of(loaded, "community matron")[0]
    choose(form.status, "contacted")
    choose(form.case_manager, matron["id"])
    form.notes.setPlainText("Prefers a morning call.")
    assert loaded.panel.save_button.isEnabled()
    qtbot.mouseClick(loaded.panel.save_button, Qt.MouseButton.LeftButton)

    saved = caseload.get_patient(session.db, patient_id)
    assert (saved["status"], saved["case_manager_id"], saved["notes"]) == (
        "contacted",
        matron["id"],
        "Prefers a morning call.",
    )
    entry = audit.entries(session.db, "patients", patient_id)[0]
    assert entry["action"] == "update" and "status" in entry["summary"] and "case manager" in entry["summary"]
    assert not form.is_dirty()
    wait_loaded(qtbot, loaded)
    # The table was reloaded from the store and still shows this patient, with the new values.
    row = loaded.model.view_rows_of([patient_id])[0]
    assert loaded.model.index(row, 4).data() == "Contacted"
    assert loaded.table.current_id() == patient_id


def test_discharging_without_a_reason_keeps_the_form_open_with_the_message(qtbot, loaded, session):
    patient_id = select_first(loaded)
    form = loaded.panel.form
    assert not form.discharge_reason.isVisibleTo(form)
    choose(form.status, "discharged")
    assert form.discharge_reason.isVisibleTo(form)
    before = len(audit.entries(session.db))
    qtbot.mouseClick(loaded.panel.save_button, Qt.MouseButton.LeftButton)

    error = form.errors["discharge_reason"]
    assert error.isVisibleTo(form) and "Say why the patient is discharged" in error.text()
    assert form.discharge_reason.property("invalid") is True
    assert form.status.currentData() == "discharged" and form.is_dirty()  # nothing typed is lost
    assert caseload.get_patient(session.db, patient_id)["status"] != "discharged"
    assert len(audit.entries(session.db)) == before

    choose(form.discharge_reason, "stable")
    assert not error.isVisibleTo(form)
    qtbot.mouseClick(loaded.panel.save_button, Qt.MouseButton.LeftButton)
    saved = caseload.get_patient(session.db, patient_id)
    assert (saved["status"], saved["discharge_reason"]) == ("discharged", "stable")


def test_moving_away_from_unsaved_edits_asks_first(loaded, monkeypatch, session):
    first = select_first(loaded)
    answers = []
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: answers.pop(0))
    loaded.panel.form.notes.setPlainText("Half-typed note")

    answers.append("Keep editing")
    loaded.table.select_row(1)
    assert loaded.table.current_id() == first and loaded.panel.patient["id"] == first
    assert loaded.panel.form.notes.toPlainText() == "Half-typed note"

    answers.append("Save changes")
    loaded.table.select_row(1)
    assert loaded.panel.patient["id"] == loaded.model.patient_id(loaded.table.selected_rows()[0]) != first
    assert caseload.get_patient(session.db, first)["notes"] == "Half-typed note"


def test_bulk_assignment_changes_every_selected_patient_after_naming_how_many(qtbot, loaded, session):
    ids = select_first_rows(loaded, 4)
    assert len(ids) == 4
    assert loaded.panel.many_label.text() == "4 patients selected"

    qtbot.mouseClick(loaded.panel.assign_button, Qt.MouseButton.LeftButton)
    dialog = loaded.dialog
    assert dialog.isVisible() and dialog.save_button.text() == "Assign to 4 patients"
    nurse = staff_of(loaded, "district nurse")[0]
    choose(dialog.choice, nurse["id"])
    before = len(audit.entries(session.db, "patients"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert not dialog.isVisible()
    assert {caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids} == {nurse["id"]}
    assert len(audit.entries(session.db, "patients")) == before + 4
    assert sorted(loaded.table.selected_ids()) == sorted(ids)  # the selection survives the reload


def test_a_cancelled_bulk_change_keeps_the_dialog_open_and_changes_nothing(qtbot, loaded, session, monkeypatch):
    ids = select_first_rows(loaded, 4)
    before = {pid: caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids}
    steps = session.undo.undo_status()
    real, held = caseload.update_patients, threading.Event()

    def waits_for_the_cancel(*args, **kwargs):
        held.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(caseload, "update_patients", waits_for_the_cancel)
    qtbot.mouseClick(loaded.panel.assign_button, Qt.MouseButton.LeftButton)
    dialog = loaded.dialog
    choose(dialog.choice, staff_of(loaded, "district nurse")[0]["id"])
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.save_button.isEnabled()  # one press, one change
    [task] = tasks.running()
    task.cancel()  # what the progress dialog's Cancel button does
    held.set()
    finish_tasks(qtbot)
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert "Cancelled; nothing was changed." in dialog.banner.text()
    assert {pid: caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids} == before
    assert session.undo.undo_status() == steps
    dialog.reject()


def test_bulk_status_needs_a_reason_to_discharge(qtbot, loaded, session):
    loaded.table.selectAll()
    count = len(loaded.table.selected_ids())
    loaded.bulk_change("status")
    dialog = loaded.dialog
    assert dialog.save_button.text() == f"Set status of {count:,} patients"
    choose(dialog.choice, "discharged")
    dialog.try_save()
    finish_tasks(qtbot)
    assert dialog.isVisible() and "Say why the patient is discharged" in dialog.banner.text()
    assert dialog.save_button.isEnabled()  # a refusal gives the button back for another try
    assert session.db.execute("SELECT COUNT(*) FROM patients WHERE status = 'discharged'").fetchone()[0] == 0
    dialog.reject()


def test_recording_an_intervention_lists_it(qtbot, loaded, session):
    patient_id = select_first(loaded)
    panel = loaded.panel
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    dialog.try_save()
    assert dialog.isVisible() and "Intervention type must be one of" in dialog.banner.text()
    choose(dialog.kind, "falls assessment")
    choose(dialog.by, staff_of(loaded)[0]["id"])
    dialog.note.setPlainText("No falls since spring.")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert [i["type"] for i in caseload.interventions(session.db, patient_id)] == ["falls assessment"]
    assert panel.interventions.rowCount() == 1
    assert panel.interventions.item(0, 1).text() == "Falls assessment"
    assert panel.tabs.tabText(2) == "Interventions (1)"


def test_the_risk_history_lists_every_run_of_the_patient(qtbot, loaded, session):
    patient_id = select_first(loaded)
    expected = cohort.history(session.db, patient_id)
    qtbot.waitUntil(lambda: loaded.panel.history.table.rowCount() == len(expected) > 0, timeout=2000)
    newest = expected[-1]
    assert loaded.panel.history.table.item(0, 1).text() == str(newest["efi_deficits"])


def flagged_notes(session) -> dict[str, str]:
    """Who the MDT agenda picker lists under Flagged, with their notes."""
    return {p["id"]: p["flag_note"] for p in meetings.suggest_agenda(session.db, locality_id(session.db))["flagged"]}


def test_flagging_for_mdt_from_the_panel_lists_the_patient_for_the_agenda_and_audits_it(qtbot, loaded, session):
    patient_id = select_first(loaded)
    flag = loaded.panel.flag
    assert not flag.notice.isVisible() and not flag.clear_button.isVisible()
    assert patient_id not in flagged_notes(session)

    qtbot.mouseClick(flag.flag_button, Qt.MouseButton.LeftButton)
    dialog = flag.dialog
    assert dialog.isVisible()
    dialog.note.setPlainText("Carer struggling at home")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    assert flagged_notes(session)[patient_id] == "Carer struggling at home"
    entry = audit.entries(session.db, "patients", patient_id)[0]
    assert entry["action"] == "flag" and entry["summary"] == "Flagged for MDT: Carer struggling at home"
    assert loaded.panel.patient["id"] == patient_id
    assert flag.notice.isVisible() and flag.label.full_text() == "MDT: Carer struggling at home"
    # The tooltip says who gave the reason, and another reason can be added beside it.
    assert flag.label.toolTip().startswith(f"Carer struggling at home — {session.actor.user}, ")
    assert flag.flag_button.text() == "Add a reason…"

    qtbot.mouseClick(flag.clear_button, Qt.MouseButton.LeftButton)
    assert patient_id not in flagged_notes(session)
    assert audit.entries(session.db, "patients", patient_id)[0]["action"] == "unflag"
    assert not flag.notice.isVisible() and flag.flag_button.text() == "Flag for MDT…"


def test_flagging_keeps_unsaved_caseload_edits(qtbot, loaded, session):
    patient_id = select_first(loaded)
    panel = loaded.panel
    panel.form.notes.setPlainText("Half-typed note")
    qtbot.mouseClick(panel.flag.flag_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.flag.dialog.save_button, Qt.MouseButton.LeftButton)
    assert patient_id in flagged_notes(session)
    assert panel.patient["id"] == patient_id and panel.form.notes.toPlainText() == "Half-typed note"
    assert panel.flag.notice.isVisible() and panel.flag.label.full_text() == "Flagged for the next MDT"


# -- opening a record is audited (issue 20, point 4) ----------------------------------------------------------------
def views_of(session, patient_id) -> list[dict]:
    return [e for e in audit.entries(session.db, "patients", patient_id) if e["action"] == "view"]


def test_showing_a_patient_audits_one_view_and_a_reload_of_the_same_patient_does_not(loaded, session):
    patient_id = select_first(loaded)
    [view] = views_of(session, patient_id)
    patient = caseload.get_patient(session.db, patient_id)
    initials = f"{patient['given_name'][0]}.{patient['family_name'][0]}."
    assert view["summary"] == f"Viewed the record of {initials}"
    assert patient["family_name"] not in view["summary"]  # the log is read more widely than the record
    assert (view["user"], view["os_account"]) == (session.actor.user, session.actor.os_account)
    assert view["os_account"]  # the computer account, whatever name was typed

    loaded.reload()  # as after any change elsewhere: the same patient stays shown
    session.publish(Changes.of("patients"))
    loaded.apply_filters()
    assert loaded.panel.patient["id"] == patient_id and len(views_of(session, patient_id)) == 1

    loaded.table.select_row(1)
    other = loaded.panel.patient["id"]
    assert other != patient_id and len(views_of(session, other)) == 1
    loaded.table.select_row(0)  # chosen again: a new look
    assert len(views_of(session, patient_id)) == 2
    assert audit.verify(session.db).intact


def test_choosing_several_patients_opens_no_record_and_audits_no_view(loaded, session):
    before = audit.count(session.db, action="view")
    ids = select_first_rows(loaded, 4)
    assert loaded.panel.patient is None
    assert audit.count(session.db, action="view") == before + 1  # the first row, shown alone before the others
    assert all(not views_of(session, pid) for pid in ids[1:])


def test_a_record_whose_view_cannot_be_logged_is_not_shown(loaded, session, monkeypatch):
    def refused(*_args):
        raise StorageError("The workspace is busy in another window.")

    monkeypatch.setattr(audit, "record_view", refused)
    loaded.table.select_row(0)
    assert loaded.panel.patient is None and loaded.panel.showing() != ONE
