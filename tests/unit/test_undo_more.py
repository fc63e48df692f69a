"""Undo and redo of a corrected visit, an intervention recorded and a meeting's edits (desktop/models/undo.py).

Each test compares whole tables before and after, so a row an op wrote and undo forgot cannot slip through.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from extract_helpers import synthetic_nhs
from undo_helpers import pid
from undo_helpers import snapshot as tables_as_they_are

from desktop.models import audit
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.errors import ValidationError
from desktop.models.mdt import flags, meetings
from desktop.models.mdt import forms as mdt_forms
from desktop.models.undo import UndoStack

ACTOR = Actor(user="matron.a", device_id="laptop-7", fixed_time="2026-10-20T09:00:00+00:00")
UNDOER = Actor(user="gp.b", device_id="laptop-2", fixed_time="2026-10-20T10:30:00+00:00")
TODAY = dt.date(2026, 10, 20)
TABLES = (
    "patients",
    "actions",
    "visits",
    "visit_residents",
    "interventions",
    "meetings",
    "meeting_attendees",
    "meeting_items",
    "mdt_flags",
)


def snapshot(db) -> dict[str, dict[str, dict]]:
    return tables_as_they_are(db, TABLES)


@pytest.fixture
def world(undo_world):
    return undo_world


def admit(db, home_id: str, n: int, family: str) -> str:
    values = {
        "nhs_number": synthetic_nhs(n),
        "given_name": "Res",
        "family_name": family,
        "date_of_birth": "1930-05-01",
        "admitted_on": "2026-09-01",
    }
    return residents.save(db, ACTOR, home_id, values, today=TODAY)[0]


@pytest.fixture
def visit(world):
    """A round at the home on 14/10/2026 that reviewed two of its three residents; returns (visit id, residents)."""
    db, _, staff, home = world
    people = [admit(db, home[0], 40 + n, family) for n, family in enumerate(("Ashby", "Birstall", "Coalville"))]
    visit_id = visits.log_visit(
        db,
        ACTOR,
        home[0],
        "2026-10-14",
        "weekly home round",
        staff[0],
        residents=[
            {"resident_id": people[0], "outcome": "managed in the home", "note": "Chest clear"},
            {"resident_id": people[1], "outcome": "referred on", "note": "Falls clinic"},
        ],
        notes="Quiet round",
        today=TODAY,
    )[0]
    return visit_id, people


def correct(db, visit_id, people, stack):
    """The round was on the 13th and a reactive visit: Ashby now went to hospital, Birstall was not seen after
    all, Coalville was, and a follow-up is added."""
    return visits.update(
        db,
        ACTOR,
        visit_id,
        {
            "visited_on": "13/10/2026",
            "type": "reactive visit",
            "notes": "Called in for Ashby",
            "residents": [
                {"resident_id": people[0], "outcome": "transferred to hospital", "note": "Fall, hip pain"},
                {"resident_id": people[2], "outcome": "managed in the home", "note": ""},
            ],
            "follow_ups": [
                {
                    "description": "Ask the home for a falls review",
                    "owner_name": "Home manager",
                    "owner_organisation": "care home",
                    "due_date": "2026-10-28",
                }
            ],
        },
        today=TODAY,
        undo=stack,
    )


def test_a_corrected_visit_is_one_step_that_puts_the_visit_and_its_residents_back_exactly(world, visit):
    db, _, _, home = world
    visit_id, people = visit
    stack = UndoStack()
    before = snapshot(db)
    correct(db, visit_id, people, stack)
    after = snapshot(db)
    shown = visits.get(db, visit_id)
    assert (shown["visited_on"], shown["type"]) == ("2026-10-13", "reactive visit")
    assert shown["notes"] == "Called in for Ashby"
    assert {r["resident_id"]: r["outcome"] for r in shown["residents"]} == {
        people[0]: "transferred to hospital",
        people[2]: "managed in the home",
    }
    assert [a["description"] for a in shown["actions"]] == ["Ask the home for a falls review"]
    # Ashby kept their outcome row (its history stays one row); Birstall's went, Coalville's is new.
    kept = {r["resident_id"]: r["id"] for r in before["visit_residents"].values()}
    assert next(r["id"] for r in shown["residents"] if r["resident_id"] == people[0]) == kept[people[0]]
    assert stack.undo_status().undo == f"Edit visit to {home[1]} on 14/10/2026"

    name, changes = stack.undo(db, UNDOER)
    assert name == f"Edit visit to {home[1]} on 14/10/2026" and changes.touches("visits", "visit_residents")
    assert snapshot(db) == before  # the date, type, notes, both outcomes and no action: as logged
    assert visits.get(db, visit_id)["updated_by"] == "gp.b"
    stack.redo(db, UNDOER)
    assert snapshot(db) == after


def test_a_correction_is_audited_with_what_changed_and_so_is_its_undo(world, visit):
    db, _, _, home = world
    visit_id, people = visit
    stack = UndoStack()
    correct(db, visit_id, people, stack)
    entry = audit.entries(db, "visits", visit_id)[0]
    assert entry["action"] == "update" and entry["user"] == "matron.a"
    assert entry["summary"] == (
        f"Edited the weekly home round at {home[1]} of 2026-10-14: visited on, type, notes, residents reviewed, "
        "1 actions added"
    )
    detail = json.loads(entry["detail"])
    assert detail["changes"]["visited_on"] == {"before": "2026-10-14", "after": "2026-10-13"}
    # Birstall's outcome, removed, is kept in the trail
    assert detail["residents"]["removed"] == [
        {"resident_id": people[1], "outcome": "referred on", "note": "Falls clinic"}
    ]
    stack.undo(db, UNDOER)
    undone = audit.entries(db, "visits", visit_id)[0]
    assert (undone["action"], undone["summary"], undone["user"]) == (
        "undo",
        f"Undone: Edit visit to {home[1]} on 14/10/2026",
        "gp.b",
    )


def test_undo_of_a_correction_is_refused_when_the_visit_changed_since(world, visit):
    db, _, _, _ = world
    visit_id, people = visit
    stack = UndoStack()
    correct(db, visit_id, people, stack)
    visits.update(db, ACTOR, visit_id, {"notes": "Ashby admitted to the LRI"}, today=TODAY)  # outside the stack
    held = snapshot(db)
    with pytest.raises(ValidationError, match="The visit of 2026-10-13 was changed since .* nothing was undone"):
        stack.undo(db, UNDOER)
    assert snapshot(db) == held
    assert stack.undo_status().undo is None  # dropped, never retried over the later note


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"visited_on": "2026-10-21"}, "visited_on"),
        ({"type": "social call"}, "type"),
        ({"residents": [{"resident_id": "no-such-resident", "outcome": "referred on"}]}, "residents"),
        ({"care_home_id": "another-home"}, "care_home_id"),
    ],
)
def test_a_correction_is_checked_like_logging_and_a_refusal_writes_nothing(world, visit, values, field):
    db, _, _, _ = world
    stack = UndoStack()
    held = snapshot(db)
    with pytest.raises(ValidationError) as refused:
        visits.update(db, ACTOR, visit[0], values, today=TODAY, undo=stack)
    assert refused.value.field == field
    assert snapshot(db) == held and stack.undo_status().undo is None


def test_a_correction_that_changes_nothing_leaves_no_step(world, visit):
    db, _, _, _ = world
    stack = UndoStack()
    visits.update(db, ACTOR, visit[0], {"notes": "Quiet round", "type": "weekly home round"}, today=TODAY, undo=stack)
    assert stack.undo_status().undo is None


def test_the_form_offers_a_resident_reviewed_who_has_left_since(world, visit):
    db, _, _, home = world
    visit_id, people = visit
    record = residents.get(db, people[1])
    residents.save(db, ACTOR, home[0], {**record, "left_on": "2026-10-18"}, people[1], today=TODAY)
    offered = {r["id"] for r in visits.pick_list(db, visit_id, TODAY)}
    assert people[1] in offered  # Birstall left but was reviewed: unticking them is the user's choice
    assert {r["id"] for r in residents.listing(db, home[0], today=TODAY)} <= offered


def on_caseload(db, staff, n: int) -> str:
    caseload.update_patients(
        db,
        ACTOR,
        [pid(n)],
        {"status": "on caseload", "care_plan_date": "2026-04-01", "review_interval_months": 6},
        today=TODAY,
    )
    return pid(n)


def test_undoing_a_care_plan_review_takes_it_away_and_puts_the_next_review_date_back(world):
    db, _, staff, _ = world
    patient = on_caseload(db, staff, 1)
    assert caseload.get_patient(db, patient)["next_review_due"] == "2026-10-01"
    stack = UndoStack()
    before = snapshot(db)
    row_id, _ = caseload.add_intervention(
        db, ACTOR, patient, "care-plan review", "2026-10-15", staff[0], "Reviewed at home", today=TODAY, undo=stack
    )
    assert caseload.get_patient(db, patient)["next_review_due"] == "2027-04-15"
    after = snapshot(db)
    assert stack.undo_status().undo == "Record care-plan review of 15/10/2026"

    stack.undo(db, UNDOER)
    assert snapshot(db) == before
    assert caseload.interventions(db, patient) == []
    assert caseload.get_patient(db, patient)["next_review_due"] == "2026-10-01"
    assert audit.entries(db, "interventions", row_id)[0]["summary"] == "Undone: Record care-plan review of 15/10/2026"
    stack.redo(db, UNDOER)
    assert snapshot(db) == after


def test_undoing_the_first_intervention_for_a_patient_new_to_the_team_takes_their_record_away(world):
    db, _, _, _ = world
    stack = UndoStack()
    before = snapshot(db)
    caseload.add_intervention(db, ACTOR, pid(2), "falls assessment", "2026-10-19", today=TODAY, undo=stack)
    assert db.execute("SELECT 1 FROM patients WHERE id = ?", [pid(2)]).fetchone()
    stack.undo(db, UNDOER)
    assert snapshot(db) == before


def test_a_review_overtaken_by_a_caseload_edit_is_not_undone(world):
    db, _, staff, _ = world
    patient = on_caseload(db, staff, 1)
    stack = UndoStack()
    caseload.add_intervention(db, ACTOR, patient, "care-plan review", "2026-10-15", today=TODAY, undo=stack)
    caseload.update_patients(db, ACTOR, [patient], {"review_interval_months": 3}, today=TODAY)
    held = snapshot(db)
    with pytest.raises(ValidationError, match="was changed since “Record care-plan review of 15/10/2026”"):
        stack.undo(db, UNDOER)
    assert snapshot(db) == held


def people(staff: list[str], *names: str) -> list[dict]:
    return [
        {"name": name, "organisation": "primary care", "staff_id": staff[n], "present": True}
        for n, name in enumerate(names)
    ]


def test_a_meeting_edit_with_its_attendees_is_undone_and_redone(world):
    db, loc, staff, _ = world
    meeting_id, _ = meetings.create(
        db, ACTOR, loc, "2026-10-27", attendees=people(staff, "Dr Ash", "Nurse Bell"), location="Room 2", today=TODAY
    )
    stack = UndoStack()
    before = snapshot(db)
    meetings.update(
        db,
        ACTOR,
        meeting_id,
        {
            "held_on": "2026-10-28",
            "location": "Teams",
            "chair_id": staff[1],
            "attendees": people(staff, "Dr Ash", "Pharmacist Cole", "Nurse Dunn"),
        },
        undo=stack,
    )
    after = snapshot(db)
    assert [a["name"] for a in meetings.attendees(db, meeting_id)] == ["Dr Ash", "Nurse Dunn", "Pharmacist Cole"]
    assert stack.undo_status().undo == "Edit the meeting of 27/10/2026"

    stack.undo(db, UNDOER)
    assert snapshot(db) == before  # the old attendee rows, ids and all, are back; the new ones are gone
    assert [a["name"] for a in meetings.attendees(db, meeting_id)] == ["Dr Ash", "Nurse Bell"]
    assert meetings.get(db, meeting_id)["location"] == "Room 2"
    stack.redo(db, UNDOER)
    assert snapshot(db) == after


def test_marking_a_meeting_held_and_changing_its_attendees_name_their_steps(world):
    db, loc, staff, _ = world
    meeting_id, _ = meetings.create(db, ACTOR, loc, "2026-10-19", today=TODAY)
    stack = UndoStack()
    meetings.update(db, ACTOR, meeting_id, {"status": "held"}, undo=stack)
    assert stack.undo_status().undo == "Mark the meeting of 19/10/2026 as held"
    meetings.update(db, ACTOR, meeting_id, {"attendees": people(staff, "Dr Ash")}, undo=stack)
    assert stack.undo_status().undo == "Change the attendees of the meeting of 19/10/2026"
    stack.undo(db, UNDOER)
    stack.undo(db, UNDOER)
    assert meetings.get(db, meeting_id)["status"] == "planned" and meetings.attendees(db, meeting_id) == []


def test_an_outcome_recorded_and_an_item_removed_are_undone(world):
    db, loc, _, _ = world
    meeting_id, _ = meetings.create(db, ACTOR, loc, "2026-10-27", today=TODAY)
    meetings.flag_for_mdt(db, ACTOR, pid(3), "Two falls this month")
    meetings.add_patients(db, ACTOR, meeting_id, [pid(3)])
    item = next(i for i in meetings.agenda(db, meeting_id) if i["kind"] == "patient")
    name = f"{item['family_name'].upper()}, {item['given_name']}"
    stack = UndoStack()
    before = snapshot(db)
    meetings.record_outcome(db, ACTOR, item["id"], "Refer to falls clinic", undo=stack)
    assert stack.undo_status().undo == f"Record the outcome for {name}"
    stack.undo(db, UNDOER)
    assert snapshot(db) == before

    meetings.remove_item(db, ACTOR, item["id"], undo=stack)
    assert flags.waiting(db, [pid(3)])  # the flag waits for the next agenda again
    assert stack.undo_status().undo == f"Remove {name} from the agenda"
    stack.undo(db, UNDOER)
    assert snapshot(db) == before  # the item is back, its flag attached to it again and no longer waiting
    assert [f["reason"] for f in meetings.agenda(db, meeting_id)[0]["flags"]] == ["Two falls this month"]


def test_patients_picked_for_the_agenda_are_one_step_that_takes_them_and_their_flags_back(world):
    db, loc, _, _ = world
    meeting_id, _ = meetings.create(db, ACTOR, loc, "2026-10-27", today=TODAY)
    meetings.flag_for_mdt(db, ACTOR, pid(4), "Carer struggling")
    stack = UndoStack()
    before = snapshot(db)
    added, _ = mdt_forms.add_agenda_picks(
        db, ACTOR, meeting_id, {"flagged": [pid(4)], "added": [pid(4), pid(5)]}, undo=stack
    )
    assert added == 2 and not flags.waiting(db, [pid(4)])
    after = snapshot(db)
    assert stack.undo_status().undo == "Add 2 patients to the agenda"
    stack.undo(db, UNDOER)
    assert snapshot(db) == before  # off the agenda, patient 5's new record gone, patient 4's flag waiting again
    assert [f["reason"] for f in flags.waiting(db, [pid(4)])[pid(4)]] == ["Carer struggling"]
    stack.redo(db, UNDOER)
    assert snapshot(db) == after
