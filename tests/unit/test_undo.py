"""Undo and redo of caseload edits, action status and details, and logged visits (desktop/models/undo.py).

Each test compares whole tables before and after, so a row an op wrote and undo forgot cannot slip through.
"""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs
from undo_helpers import pid
from undo_helpers import snapshot as tables_as_they_are

from desktop.models import audit
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.errors import StorageError, ValidationError
from desktop.models.mdt import actions, meetings
from desktop.models.mdt import forms as mdt_forms
from desktop.models.progress import Cancelled
from desktop.models.undo import CAP, UndoStack

ACTOR = Actor(user="matron.a", device_id="laptop-7", fixed_time="2026-10-20T09:00:00+00:00")
UNDOER = Actor(user="gp.b", device_id="laptop-2", fixed_time="2026-10-20T10:30:00+00:00")
TODAY = dt.date(2026, 10, 20)
TABLES = ("patients", "actions", "visits", "visit_residents", "interventions", "meeting_items")


def snapshot(db) -> dict[str, dict[str, dict]]:
    return tables_as_they_are(db, TABLES)


@pytest.fixture
def world(undo_world):
    return undo_world


def new_action(db, loc, n=1, **over):
    values = {
        "description": f"Arrange falls assessment {n}",
        "owner_name": "Pat Owner",
        "owner_organisation": "community health",
        "due_date": "2026-10-30",
        **over,
    }
    return actions.create(db, ACTOR, loc, values, today=TODAY)[0]


def audit_count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def test_a_bulk_caseload_edit_is_one_step_that_comes_back_exactly(world):
    db, _, staff, _ = world
    caseload.update_patients(
        db, ACTOR, [pid(1), pid(2)], {"status": "on caseload", "case_manager_id": staff[0]}, today=TODAY
    )
    stack = UndoStack()
    before = snapshot(db)
    # Patient 3 has no record yet: the edit creates one, and undoing it must take that away too.
    caseload.update_patients(
        db, ACTOR, [pid(1), pid(2), pid(3)], {"case_manager_id": staff[1]}, today=TODAY, undo=stack
    )
    after = snapshot(db)
    assert stack.undo_status().undo == "Change case manager of 3 patients"

    name, changes = stack.undo(db, UNDOER)
    assert name == "Change case manager of 3 patients" and changes.touches("patients")
    assert snapshot(db) == before
    assert db.execute("SELECT COUNT(*) FROM patients WHERE id = ?", [pid(3)]).fetchone()[0] == 0
    restored = caseload.get_patient(db, pid(1))
    assert (restored["case_manager_id"], restored["updated_by"], restored["device_id"]) == (
        staff[0],
        "gp.b",
        "laptop-2",
    )
    assert stack.undo_status().undo is None and stack.undo_status().redo == "Change case manager of 3 patients"

    stack.redo(db, UNDOER)
    assert snapshot(db) == after
    assert stack.undo_status().undo == "Change case manager of 3 patients" and stack.undo_status().redo is None


def test_a_status_change_names_the_step_is_undone_and_redone_and_audited(world):
    db, loc, _, _ = world
    ids = [new_action(db, loc, n) for n in range(3)]
    actions.set_status(db, ACTOR, [ids[0]], "in progress", today=TODAY)
    stack = UndoStack()
    before = snapshot(db)
    actions.set_status(db, ACTOR, ids, "done", completed_on="2026-10-19", outcome_note="Seen", today=TODAY, undo=stack)
    after = snapshot(db)
    assert stack.undo_status().undo == "Set status of 3 actions to Done"

    stack.undo(db, UNDOER)
    assert snapshot(db) == before
    assert [actions.get(db, a)["status"] for a in ids] == ["in progress", "open", "open"]
    for action_id in ids:  # each action's own history says it was undone, by whom
        last = actions.history(db, action_id)[-1]
        assert (last["action"], last["summary"], last["user"]) == (
            "undo",
            "Undone: Set status of 3 actions to Done",
            "gp.b",
        )
    stack.redo(db, UNDOER)
    assert snapshot(db) == after
    assert actions.history(db, ids[0])[-1]["summary"] == "Redone: Set status of 3 actions to Done"


def test_one_action_is_named_by_its_reference(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    actions.set_status(db, ACTOR, [action_id], "cancelled", today=TODAY, undo=stack)
    assert stack.undo_status().undo == "Set status of CHA-2026-0001 to Cancelled"


def test_editing_an_action_to_name_a_new_patient_is_undone_with_the_patient_record_it_made(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    before = snapshot(db)
    actions.update(db, ACTOR, action_id, {"due_date": "2026-11-15", "patient_id": pid(4)}, undo=stack)
    assert db.execute("SELECT 1 FROM patients WHERE id = ?", [pid(4)]).fetchone()
    after = snapshot(db)
    assert stack.undo_status().undo == "Edit action CHA-2026-0001"

    stack.undo(db, UNDOER)
    assert snapshot(db) == before
    stack.redo(db, UNDOER)
    assert snapshot(db) == after


def test_the_action_form_is_one_step_whatever_it_changed(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    before = snapshot(db)
    mdt_forms.save_action(
        db,
        ACTOR,
        action_id,
        {"description": "Falls clinic referral"},
        "done",
        "2026-10-18",
        "Referred",
        "Clinical lead",
        "No capacity this month",
        today=TODAY,
        undo=stack,
    )
    row = actions.get(db, action_id)
    assert (row["description"], row["status"], row["escalated_to"]) == (
        "Falls clinic referral",
        "done",
        "Clinical lead",
    )
    assert stack.undo_status().undo == "Edit action CHA-2026-0001"
    stack.undo(db, UNDOER)
    assert snapshot(db) == before and stack.undo_status().undo is None


def visit_with_follow_up(db, home_id, stack):
    resident = residents.save(
        db,
        ACTOR,
        home_id,
        {
            "nhs_number": synthetic_nhs(40),
            "given_name": "Res",
            "family_name": "Ident",
            "date_of_birth": "1930-05-01",
            "admitted_on": "2026-09-01",
        },
        today=TODAY,
    )[0]
    gp = db.execute("SELECT id FROM staff WHERE role = 'GP' LIMIT 1").fetchone()[0]
    return visits.log_visit(
        db,
        ACTOR,
        home_id,
        "2026-10-14",
        "weekly home round",
        gp,
        residents=[{"resident_id": resident, "outcome": "transferred to hospital", "note": "Fall"}],
        follow_ups=[
            {
                "description": "Review falls risk",
                "owner_name": "Home manager",
                "owner_organisation": "care home",
                "due_date": "2026-10-28",
                "resident_id": resident,
            },
            {
                "description": "Medication review",
                "owner_name": "Pat Owner",
                "owner_organisation": "community health",
                "due_date": "2026-10-30",
                "patient_id": pid(5),
            },
        ],
        today=TODAY,
        undo=stack,
    )[0]


def test_undoing_a_visit_removes_it_its_outcomes_and_its_follow_up_actions(world):
    db, _, _, home = world
    stack = UndoStack()
    before = snapshot(db)
    visit_id = visit_with_follow_up(db, home[0], stack)
    after = snapshot(db)
    assert len(after["visit_residents"]) == len(before["visit_residents"]) + 1
    assert len(after["actions"]) == len(before["actions"]) + 2
    assert stack.undo_status().undo == f"Log weekly home round at {home[1]}"

    stack.undo(db, UNDOER)
    assert snapshot(db) == before  # the visit, its outcome, both actions and patient 5's new record are gone
    assert visits.listing(db, home[0]) == []
    stack.redo(db, UNDOER)
    assert snapshot(db) == after  # the same ids and references come back
    assert visits.get(db, visit_id)["actions"][0]["reference"] == "CHA-2026-0001"


def test_a_row_changed_since_refuses_the_undo_and_writes_nothing(world):
    db, loc, _, _ = world
    ids = [new_action(db, loc, n) for n in range(3)]
    stack = UndoStack()
    actions.set_status(db, ACTOR, ids[:1], "in progress", today=TODAY, undo=stack)
    actions.set_status(db, ACTOR, ids, "done", today=TODAY, undo=stack)
    # Someone else's later work on one of them: another op outside the stack (a sync or the CLI does the same).
    actions.update(db, ACTOR, ids[1], {"description": "Falls assessment booked for Friday"})
    held, entries = snapshot(db), audit_count(db)

    with pytest.raises(ValidationError) as refused:
        stack.undo(db, UNDOER)
    assert "Action CHA-2026-0002 was changed since “Set status of 3 actions to Done”" in str(refused.value)
    assert "nothing was undone" in str(refused.value)
    assert snapshot(db) == held and audit_count(db) == entries
    # That step is dropped, never retried over the later work; the older one is still offered.
    assert stack.undo_status().undo == "Set status of CHA-2026-0001 to In progress"


def test_undoing_a_visit_whose_action_is_now_on_an_mdt_agenda_is_refused(world):
    db, loc, _, home = world
    stack = UndoStack()
    visit_with_follow_up(db, home[0], stack)
    meetings.create(db, ACTOR, loc, "2026-10-27", today=TODAY)  # carries the visit's open actions onto its agenda
    held = snapshot(db)
    with pytest.raises(ValidationError, match="is now used by an MDT agenda item, so nothing was undone"):
        stack.undo(db, UNDOER)
    assert snapshot(db) == held


def test_redo_is_refused_when_the_row_changed_after_the_undo(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    actions.set_status(db, ACTOR, [action_id], "done", today=TODAY, undo=stack)
    stack.undo(db, UNDOER)
    actions.set_status(db, ACTOR, [action_id], "cancelled", today=TODAY)
    with pytest.raises(ValidationError, match="was changed since .* nothing was redone"):
        stack.redo(db, UNDOER)
    assert actions.get(db, action_id)["status"] == "cancelled"
    assert stack.undo_status().redo is None


def test_a_new_step_clears_redo(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    actions.set_status(db, ACTOR, [action_id], "in progress", today=TODAY, undo=stack)
    stack.undo(db, UNDOER)
    assert stack.undo_status().redo == "Set status of CHA-2026-0001 to In progress"
    actions.set_status(db, ACTOR, [action_id], "cancelled", today=TODAY, undo=stack)
    assert stack.undo_status().redo is None
    with pytest.raises(ValidationError, match="nothing to redo"):
        stack.redo(db, UNDOER)


def test_the_stack_keeps_the_newest_thirty_steps(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    notes = [f"Call {n}" for n in range(CAP + 5)]
    for note in notes:
        actions.set_status(db, ACTOR, [action_id], "in progress", outcome_note=note, today=TODAY, undo=stack)
    for _ in range(CAP):
        stack.undo(db, UNDOER)
    assert actions.get(db, action_id)["outcome_note"] == notes[4]  # the five oldest steps are gone
    with pytest.raises(ValidationError, match="nothing to undo"):
        stack.undo(db, UNDOER)


def test_an_edit_that_changes_nothing_or_is_refused_leaves_no_step(world):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    actions.update(db, ACTOR, action_id, {"owner_name": "Pat Owner"}, undo=stack)
    with pytest.raises(ValidationError):
        actions.set_status(db, ACTOR, [action_id], "done", completed_on="2027-01-01", today=TODAY, undo=stack)
    with pytest.raises(ValidationError):
        caseload.update_patients(db, ACTOR, [pid(1)], {"case_manager_id": "nobody"}, today=TODAY, undo=stack)
    assert stack.undo_status().undo is None


def test_a_change_cancelled_inside_the_outer_recording_leaves_no_step(world):
    """How the GUI runs a bulk edit off the GUI thread: the cancel check sits inside the step's transaction."""
    db, _, staff, _ = world
    stack = UndoStack()
    before = snapshot(db)
    with pytest.raises(Cancelled), stack.recording(db):
        caseload.update_patients(db, ACTOR, [pid(1), pid(2)], {"case_manager_id": staff[0]}, today=TODAY, undo=stack)
        raise Cancelled()
    assert snapshot(db) == before and stack.undo_status().undo is None
    with stack.recording(db):
        caseload.update_patients(db, ACTOR, [pid(1), pid(2)], {"status": "contacted"}, today=TODAY, undo=stack)
    assert stack.undo_status().undo == "Set status of 2 patients to Contacted"


def test_redo_is_refused_when_a_new_record_took_the_reference_it_would_put_back(world):
    db, loc, _, home = world
    stack = UndoStack()
    visit_with_follow_up(db, home[0], stack)
    stack.undo(db, UNDOER)
    newer = new_action(db, loc)  # takes CHA-2026-0001, which the undone follow-up had
    held, entries = snapshot(db), audit_count(db)
    with pytest.raises(ValidationError, match="takes the place of one it would put back .* nothing was redone"):
        stack.redo(db, UNDOER)
    assert snapshot(db) == held and audit_count(db) == entries
    assert actions.get(db, newer)["reference"] == "CHA-2026-0001"


def test_a_step_that_failed_for_want_of_storage_stays_on_offer(world, monkeypatch):
    db, loc, _, _ = world
    action_id = new_action(db, loc)
    stack = UndoStack()
    actions.set_status(db, ACTOR, [action_id], "done", today=TODAY, undo=stack)

    def busy(*_args, **_kwargs):
        raise StorageError("The workspace is busy in another window.")

    monkeypatch.setattr(audit, "record", busy)  # fails mid-undo, as a locked disk would
    with pytest.raises(StorageError):
        stack.undo(db, UNDOER)
    assert actions.get(db, action_id)["status"] == "done"
    monkeypatch.undo()
    assert stack.undo_status().undo == "Set status of CHA-2026-0001 to Done"
    stack.undo(db, UNDOER)
    assert actions.get(db, action_id)["status"] == "open"
