"""MDT meetings and the action log: lifecycle, overdue, carry-forward, agenda building and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.errors import NotFound, ValidationError
from desktop.models.identifiers import patient_id
from desktop.models.mdt import actions, meetings

ACTOR = Actor(user="chair.gp", device_id="laptop-3")
TODAY = dt.date(2026, 10, 20)


@pytest.fixture
def cha_world(small_world, six_in_cha):
    loc = six_in_cha(ACTOR)
    staff = {
        r["role"]: r["id"]
        for r in small_world.query("SELECT role, id FROM staff WHERE locality_id = ? ORDER BY name DESC", [loc])
    }
    return small_world, loc, staff


def new_action(db, loc, **over):
    values = {
        "description": "Arrange falls assessment",
        "owner_name": "Pat Owner",
        "owner_organisation": "community health",
        "due_date": "2026-10-10",
        **over,
    }
    return actions.create(db, ACTOR, loc, values, today=TODAY)[0]


def test_references_run_per_locality_and_year(cha_world):
    db, loc, _ = cha_world
    first, second = new_action(db, loc), new_action(db, loc)
    assert [actions.get(db, a)["reference"] for a in (first, second)] == ["CHA-2026-0001", "CHA-2026-0002"]
    later = actions.create(
        db,
        ACTOR,
        loc,
        {"description": "x", "owner_name": "Y", "owner_organisation": "care home", "due_date": "2027-02-01"},
        today=dt.date(2027, 1, 5),
    )[0]
    assert actions.get(db, later)["reference"] == "CHA-2027-0001"


def test_lifecycle_overdue_and_history(cha_world):
    db, loc, _ = cha_world
    aid = new_action(db, loc)
    row = actions.get(db, aid)
    assert row["status"] == "open" and actions.is_overdue(row, TODAY)
    assert not actions.is_overdue(row, dt.date(2026, 10, 10))  # due today is not yet overdue
    actions.set_status(db, ACTOR, [aid], "in progress", today=TODAY)
    assert actions.is_overdue(actions.get(db, aid), TODAY)  # in progress past due is still overdue
    actions.set_status(db, ACTOR, [aid], "done", completed_on="2026-10-18", outcome_note="Seen by OT", today=TODAY)
    done = actions.get(db, aid)
    assert (done["status"], done["completed_on"], done["outcome_note"]) == ("done", "2026-10-18", "Seen by OT")
    assert not actions.is_overdue(done, TODAY)
    steps = [h["summary"] for h in actions.history(db, aid)]
    assert steps[0].startswith("Opened CHA-2026-0001")
    assert "open → in progress" in steps[1] and "in progress → done on 2026-10-18" in steps[2]
    actions.set_status(db, ACTOR, [aid], "open", today=TODAY)
    assert actions.get(db, aid)["completed_on"] is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"description": " "}, "description"),
        ({"owner_name": ""}, "owner_name"),
        ({"owner_organisation": "NASA"}, "owner_organisation"),
        ({"due_date": "next week"}, "due_date"),
        ({"due_date": ""}, "due_date"),
    ],
)
def test_bad_actions_are_refused(cha_world, values, field):
    db, loc, _ = cha_world
    with pytest.raises(ValidationError) as caught:
        new_action(db, loc, **values)
    assert caught.value.field == field
    assert db.execute("SELECT COUNT(*) FROM actions").fetchone()[0] == 0


def test_done_cannot_be_in_the_future_and_bulk_is_all_or_nothing(cha_world):
    db, loc, _ = cha_world
    a, b = new_action(db, loc), new_action(db, loc)
    with pytest.raises(ValidationError, match="future"):
        actions.set_status(db, ACTOR, [a, b], "done", completed_on="2026-12-01", today=TODAY)
    with pytest.raises(NotFound):
        actions.set_status(db, ACTOR, [a, "missing"], "cancelled", today=TODAY)
    assert {actions.get(db, x)["status"] for x in (a, b)} == {"open"}
    actions.set_status(db, ACTOR, [a, b], "cancelled", today=TODAY)
    assert {actions.get(db, x)["status"] for x in (a, b)} == {"cancelled"}


def test_owner_from_staff_fills_name_and_organisation(cha_world):
    db, loc, staff = cha_world
    aid = new_action(db, loc, owner_name="", owner_organisation="", owner_staff_id=staff["social worker"])
    row = actions.get(db, aid)
    assert row["owner_organisation"] == "social care" and row["owner_name"]


def test_escalation_is_recorded_and_audited(cha_world):
    db, loc, _ = cha_world
    aid = new_action(db, loc)
    with pytest.raises(ValidationError):
        actions.escalate(db, ACTOR, aid, "", "no reply", today=TODAY)
    actions.escalate(db, ACTOR, aid, "Head of community nursing", "No response after two reminders", today=TODAY)
    row = actions.get(db, aid)
    assert (row["escalated_to"], row["escalated_on"]) == ("Head of community nursing", "2026-10-20")
    assert "escalated to Head of community nursing" in actions.history(db, aid)[-1]["summary"]


def test_filters(cha_world):
    db, loc, staff = cha_world
    pid = patient_id(int(synthetic_nhs(1)))
    a = new_action(db, loc, patient_id=pid)
    b = new_action(db, loc, owner_name="Sam Other", owner_organisation="social care", due_date="2026-10-25")
    c = new_action(db, loc, due_date="2026-12-25")
    actions.set_status(db, ACTOR, [c], "done", today=TODAY)

    def ids(**f):
        return {r["id"] for r in actions.listing(db, loc, actions.ActionFilter(**f), today=TODAY)}

    assert ids() == {a, b, c}
    assert ids(due="overdue") == {a}
    assert ids(due="due in 7 days") == {b}
    assert ids(owner="Sam Other") == {b} and ids(organisation="social care") == {b}
    assert ids(status="open or in progress") == {a, b} and ids(due="no longer open") == {c}
    assert ids(patient_id=pid) == {a}
    assert ids(text="CHA-2026-0002") == {b}
    first = actions.listing(db, loc, today=TODAY)[0]
    assert first["id"] == a and first["overdue"] == 1  # overdue first


def test_a_new_meeting_carries_every_open_action(cha_world):
    db, loc, staff = cha_world
    m1, _ = meetings.create(
        db,
        ACTOR,
        loc,
        "2026-09-10",
        chair_id=staff["GP"],
        attendees=[{"name": "Dr A", "role": "GP", "organisation": "primary care"}],
    )
    open_one = actions.create(
        db,
        ACTOR,
        loc,
        {
            "description": "Review meds",
            "owner_name": "Pharm",
            "owner_organisation": "primary care",
            "due_date": "2026-09-30",
        },
        meeting_id=m1,
        today=TODAY,
    )[0]
    done_one = actions.create(
        db,
        ACTOR,
        loc,
        {
            "description": "Call family",
            "owner_name": "SW",
            "owner_organisation": "social care",
            "due_date": "2026-09-20",
        },
        meeting_id=m1,
        today=TODAY,
    )[0]
    actions.set_status(db, ACTOR, [done_one], "done", today=TODAY)
    m2, _ = meetings.create(db, ACTOR, loc, "2026-10-08")
    carried = [i["action_id"] for i in meetings.agenda(db, m2) if i["kind"] == "action"]
    assert carried == [open_one]
    assert meetings.carry_open_actions(db, ACTOR, m2) == 0  # not twice
    assert "1 open actions carried" in audit.entries(db, "meetings", m2)[0]["summary"]


def test_agenda_from_worklists_and_flags_and_outcomes(cha_world):
    db, loc, _ = cha_world
    m, _ = meetings.create(db, ACTOR, loc, "2026-10-22")
    suggested = meetings.suggest_agenda(db, loc, TODAY)
    assert len(suggested["new this run"]) == 6 and suggested["flagged"] == []
    flagged = patient_id(int(synthetic_nhs(3)))
    meetings.flag_for_mdt(db, ACTOR, flagged, "Carer struggling")
    assert [p["id"] for p in meetings.suggest_agenda(db, loc, TODAY)["flagged"]] == [flagged]
    new_ids = [p["id"] for p in suggested["new this run"][:2]]
    meetings.add_patients(db, ACTOR, m, new_ids, "new this run")
    meetings.add_patients(db, ACTOR, m, [flagged, new_ids[0]], "flagged")  # no duplicates
    items = [i for i in meetings.agenda(db, m) if i["kind"] == "patient"]
    assert [i["patient_id"] for i in items] == [*new_ids, flagged]
    assert meetings.suggest_agenda(db, loc, TODAY)["flagged"] == []  # the flag is spent
    meetings.record_outcome(db, ACTOR, items[0]["id"], "Refer to falls clinic; matron to visit")
    assert meetings.agenda(db, m)[0]["outcome"] == "Refer to falls clinic; matron to visit"
    assert meetings.listing(db, loc)[0]["patients"] == 3


def test_meeting_validation(cha_world):
    db, loc, staff = cha_world
    with pytest.raises(ValidationError, match="type"):
        meetings.create(db, ACTOR, loc, "2026-10-22", kind="party")
    with pytest.raises(ValidationError, match="organisation"):
        meetings.create(db, ACTOR, loc, "2026-10-22", attendees=[{"name": "X", "organisation": "circus"}])
    other = db.execute("SELECT id FROM staff WHERE locality_id != ? LIMIT 1", [loc]).fetchone()[0]
    with pytest.raises(ValidationError, match="chair"):
        meetings.create(db, ACTOR, loc, "2026-10-22", chair_id=other)
    assert db.execute("SELECT COUNT(*) FROM meetings").fetchone()[0] == 0


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_mdt_pack_holds_the_patients_and_the_marking_and_is_audited(cha_world, tmp_path):
    from desktop.reports import mdt_pack

    db, loc, staff = cha_world
    m, _ = meetings.create(
        db,
        ACTOR,
        loc,
        "2026-10-22",
        chair_id=staff["GP"],
        attendees=[{"name": "Dr Ava Quenby", "role": "GP", "organisation": "primary care"}],
    )
    pids = [patient_id(int(synthetic_nhs(n))) for n in (1, 2)]
    meetings.add_patients(db, ACTOR, m, pids, "new this run")
    actions.create(
        db,
        ACTOR,
        loc,
        {
            "description": "Book a home visit & review O'Brien's <meds>",
            "owner_name": "Pat",
            "owner_organisation": "community health",
            "due_date": "2026-11-01",
            "patient_id": pids[0],
        },
        meeting_id=m,
        today=TODAY,
    )
    out = mdt_pack.export(
        db, ACTOR, mdt_pack.resolve_meeting(db, "CHA", "latest")["id"], tmp_path / "pack.pdf", today=TODAY
    )
    text = pdf_text(out)
    assert "OFFICIAL-SENSITIVE" in text
    from pypdf import PdfReader

    pages = PdfReader(out).pages
    assert all("OFFICIAL-SENSITIVE" in page.extract_text() for page in pages)
    for n in (1, 2):
        assert f"FAMILY{n}, Given{n}" in text
        number = synthetic_nhs(n)
        assert f"{number[:3]} {number[3:6]} {number[6:]}" in text
    assert "Dr Ava Quenby" in text and "O'Brien's <meds>" in text
    assert f"Page 1 of {len(pages)}" in text
    entry = audit.entries(db, "meetings", m)[0]
    assert entry["action"] == "export" and "pack.pdf" in entry["summary"]


def test_report_mdt_cli_and_no_meeting_message(cha_world, tmp_path, capsys):
    from desktop.cli import main

    db, loc, _ = cha_world
    path = db.execute("PRAGMA database_list").fetchone()[2]
    assert main(["report", "mdt", "--db", path, "--locality", "CHA", "--out", str(tmp_path / "x.pdf")]) == 1
    assert "no MDT meetings yet" in capsys.readouterr().err
    meetings.create(db, ACTOR, loc, "2026-10-22")
    assert (
        main(
            [
                "report",
                "mdt",
                "--db",
                path,
                "--locality",
                "CHA",
                "--meeting",
                "latest",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 0
    )
    assert "OFFICIAL-SENSITIVE" in pdf_text(tmp_path / "x.pdf")
