"""The MDT screens' several-step saves: each lands whole or not at all."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs

from desktop.models import audit
from desktop.models.changes import Changes
from desktop.models.clock import Actor
from desktop.models.errors import ValidationError
from desktop.models.identifiers import patient_id
from desktop.models.mdt import actions, meetings
from desktop.models.mdt import forms as mdt_forms

ACTOR = Actor(user="matron", device_id="laptop-7")
TODAY = dt.date(2026, 10, 20)


@pytest.fixture
def world(small_world, six_in_cha):
    loc = six_in_cha(ACTOR)
    aid = actions.create(
        small_world,
        ACTOR,
        loc,
        {
            "description": "Falls assessment",
            "owner_name": "Pat Owner",
            "owner_organisation": "community health",
            "due_date": "2026-10-30",
        },
        today=TODAY,
    )[0]
    return small_world, loc, aid


def audit_count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def test_the_form_saves_details_status_and_escalation_together(world):
    db, _, aid = world
    changes = mdt_forms.save_action(
        db,
        ACTOR,
        aid,
        {"due_date": "2026-11-06"},
        "done",
        "2026-10-19",
        "Seen at home",
        "Clinical lead",
        "Family asked",
        today=TODAY,
    )
    row = actions.get(db, aid)
    assert (row["due_date"], row["status"], row["completed_on"], row["outcome_note"]) == (
        "2026-11-06",
        "done",
        "2026-10-19",
        "Seen at home",
    )
    assert (row["escalated_to"], row["escalation_reason"], row["escalated_on"]) == (
        "Clinical lead",
        "Family asked",
        "2026-10-20",
    )
    assert changes.touches("actions")
    assert [h["action"] for h in actions.history(db, aid)] == ["create", "update", "status", "escalate"]


def test_nothing_changed_writes_nothing(world):
    db, _, aid = world
    before = audit_count(db)
    assert (
        mdt_forms.save_action(db, ACTOR, aid, {"description": "Falls assessment"}, "open", None, "", today=TODAY)
        == Changes()
    )
    assert audit_count(db) == before


@pytest.mark.parametrize(
    ("details", "status", "completed", "escalation", "field"),
    [
        ({"due_date": "31/13/2026"}, "done", "2026-10-19", ("", ""), "due_date"),
        ({"due_date": "2026-11-06"}, "done", "2026-12-01", ("", ""), "completed_on"),
        ({"due_date": "2026-11-06"}, "done", "2026-10-19", ("Clinical lead", ""), "escalation_reason"),
    ],
)
def test_a_refusal_at_any_step_leaves_the_action_as_it_was(world, details, status, completed, escalation, field):
    db, _, aid = world
    before, entries = actions.get(db, aid), audit_count(db)
    with pytest.raises(ValidationError) as caught:
        mdt_forms.save_action(db, ACTOR, aid, details, status, completed, "note", *escalation, today=TODAY)
    assert caught.value.field == field
    assert actions.get(db, aid) == before
    assert audit_count(db) == entries


def test_agenda_picks_from_several_sources_land_once_each(world):
    db, loc, _ = world
    m, _ = meetings.create(db, ACTOR, loc, "2026-10-22")
    a, b, c = (patient_id(int(synthetic_nhs(n))) for n in (1, 2, 3))
    added, changes = mdt_forms.add_agenda_picks(db, ACTOR, m, {"new this run": [a, b], "added": [b, c]})
    assert added == 3 and changes.touches("meeting_items")
    items = [(i["patient_id"], i["source"]) for i in meetings.agenda(db, m) if i["kind"] == "patient"]
    assert items == [(a, "new this run"), (b, "new this run"), (c, "added")]
    assert mdt_forms.add_agenda_picks(db, ACTOR, m, {"added": [a]}) == (0, Changes())


def test_agenda_picks_are_all_or_nothing(world):
    db, loc, _ = world
    m, _ = meetings.create(db, ACTOR, loc, "2026-10-22")
    entries = audit_count(db)
    with pytest.raises(ValidationError):
        mdt_forms.add_agenda_picks(
            db,
            ACTOR,
            m,
            {"new this run": [patient_id(int(synthetic_nhs(1)))], "gossip": [patient_id(int(synthetic_nhs(2)))]},
        )
    assert [i for i in meetings.agenda(db, m) if i["kind"] == "patient"] == []
    assert audit_count(db) == entries
    assert audit.entries(db, "meetings", m)[0]["action"] == "create"
