"""My work (issue 25): a team member's reviews, actions, PCSPs due, rounds not yet logged and MDT flags, each with
the right counts; a colleague's items stay off her lists."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.models import my_work, workspace
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor, new_id
from desktop.models.identifiers import nhs_check_digit
from desktop.models.mdt import actions
from desktop.models.working_days import working_days_until

WEDNESDAY = dt.date(2026, 11, 18)  # its week runs Monday 16 to Sunday 22 November
ME = Actor("Test Matron", "dev-1", "2026-11-18T09:00:00+00:00", "community matron")


def nhs(serial: int) -> str:
    while True:
        first = f"9{serial:08d}"
        check = nhs_check_digit(first)
        if check is not None:
            return f"{first}{check}"
        serial += 1


@pytest.fixture
def cha(small_world):
    return workspace.locality_by_code(small_world, "CHA")


@pytest.fixture
def team(small_world, cha):
    staff = my_work.staff_of(small_world, cha["id"])
    return staff[0], staff[1]


def a_patient(db, locality_id, serial, case_manager_id, review_due, status="on caseload", name=("Ada", "Quill")):
    pid = new_id()
    db["patients"].insert(
        {
            "id": pid,
            "nhs_number": nhs(serial),
            "locality_id": locality_id,
            "given_name": name[0],
            "family_name": name[1],
            "date_of_birth": "1940-01-01",
            "practice_code": "C82001",
            "status": status,
            "case_manager_id": case_manager_id,
            "next_review_due": review_due,
            "created_at": ME.now(),
            "updated_at": ME.now(),
            "updated_by": ME.user,
            "device_id": ME.device_id,
        }
    )
    return pid


def an_action(db, locality_id, owner, due, **values):
    action_id, _ = actions.create(
        db,
        ME,
        locality_id,
        {"description": f"Due {due}", "owner_staff_id": owner, "due_date": due, **values},
        today=WEDNESDAY,
    )
    return action_id


def test_staff_are_matched_by_name_whatever_the_case_spacing_or_title(small_world, cha, team):
    me = team[0]
    shouted = "  " + me["name"].upper().replace(" ", "   ") + " "
    assert my_work.match_staff(small_world, cha["id"], shouted)["id"] == me["id"]
    assert my_work.match_staff(small_world, cha["id"], f"Dr {me['name']}")["id"] == me["id"]
    assert my_work.match_staff(small_world, cha["id"], "Nobody Of That Name") is None
    assert my_work.match_staff(small_world, cha["id"], "") is None


def test_reviews_overdue_and_due_in_14_days_are_mine_only(small_world, cha, team):
    me, colleague = team
    db, loc = small_world, cha["id"]
    overdue = a_patient(db, loc, 1, me["id"], "2026-11-10", name=("Olive", "Overdue"))
    soon = a_patient(db, loc, 2, me["id"], "2026-12-02")  # 14 days on: still listed
    a_patient(db, loc, 3, me["id"], "2026-12-03")  # 15 days on: not yet
    a_patient(db, loc, 4, colleague["id"], "2026-11-01")  # a colleague's patient
    a_patient(db, loc, 5, me["id"], "2026-11-01", status="discharged")  # no longer on the caseload

    listed = my_work.reviews(db, loc, me["id"], WEDNESDAY)

    assert [r["patient_id"] for r in listed] == [overdue, soon]
    assert listed[0]["patient"] == "OVERDUE, Olive" and listed[0]["overdue"] and listed[0]["days"] == -8
    assert not listed[1]["overdue"] and listed[1]["days"] == 14


def test_my_actions_overdue_this_week_and_later_by_staff_id_or_typed_name(small_world, cha, team):
    me, colleague = team
    db, loc = small_world, cha["id"]
    late = an_action(db, loc, me["id"], "2026-11-17")
    this_week = an_action(db, loc, me["id"], "2026-11-22")  # Sunday
    later = an_action(db, loc, me["id"], "2026-11-23")
    typed = an_action(db, loc, None, "2026-11-19", owner_name=me["name"].lower(), owner_organisation="community health")
    an_action(db, loc, colleague["id"], "2026-11-17")
    an_action(db, loc, None, "2026-11-17", owner_name="Someone Else", owner_organisation="community health")
    done = an_action(db, loc, me["id"], "2026-11-16")
    actions.set_status(db, ME, [done], "done", "2026-11-16")

    listed = my_work.my_actions(db, loc, me, WEDNESDAY)

    assert {a["id"]: a["when"] for a in listed} == {
        late: my_work.OVERDUE,
        this_week: my_work.THIS_WEEK,
        typed: my_work.THIS_WEEK,
        later: my_work.LATER,
    }
    assert listed[0]["id"] == late  # overdue first


def test_working_days_are_counted_as_the_pcsp_rule_counts_them():
    friday, monday = dt.date(2026, 11, 20), dt.date(2026, 11, 23)
    assert working_days_until(friday, monday) == 1
    assert working_days_until(monday, friday) == -1
    assert working_days_until(friday, friday) == 0
    # Christmas: the two bank holidays and the weekend skipped.
    assert working_days_until(dt.date(2026, 12, 24), dt.date(2026, 12, 29)) == 1


def test_a_resident_admitted_three_working_days_ago_has_four_working_days_left(small_world, cha, team):
    db, loc = small_world, cha["id"]
    home, other = list(db.query("SELECT id, name FROM care_homes WHERE locality_id = ? ORDER BY name", [loc]))[:2]
    db["care_homes"].update(other["id"], {"clinical_lead_id": team[0]["id"]})
    admitted = dt.date(2026, 11, 13)  # Friday; Monday, Tuesday and Wednesday are 3 working days on
    new, _ = residents.save(
        db, ME, home["id"], {"nhs_number": nhs(10), "family_name": "Newcomb", "admitted_on": admitted}, today=WEDNESDAY
    )
    planned, _ = residents.save(
        db,
        ME,
        home["id"],
        {"nhs_number": nhs(11), "family_name": "Planned", "admitted_on": admitted, "pcsp_on": "2026-11-17"},
        today=WEDNESDAY,
    )
    late, _ = residents.save(
        db,
        ME,
        other["id"],
        {"nhs_number": nhs(12), "family_name": "Longstay", "admitted_on": "2026-10-01"},
        today=WEDNESDAY,
    )

    listed = my_work.pcsps_due(db, loc, team[0]["id"], WEDNESDAY)

    assert planned not in {p["resident_id"] for p in listed}
    assert listed[0]["resident_id"] == late and listed[0]["mine"]  # the home I lead comes first
    assert listed[0]["overdue"] and listed[0]["working_days"] < 0
    mine = next(p for p in listed if p["resident_id"] == new)
    assert mine["working_days"] == 4 and not mine["overdue"] and mine["home"] == home["name"]
    assert mine["due"] == residents.pcsp_due({"admitted_on": admitted.isoformat()}).isoformat()


def test_homes_without_this_weeks_round_are_listed_until_one_is_logged(small_world, cha):
    db, loc = small_world, cha["id"]
    homes = [h["id"] for h in db.query("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY name", [loc])]
    visits.log_visit(db, ME, homes[0], "2026-11-16", "weekly home round", today=WEDNESDAY)
    visits.log_visit(db, ME, homes[1], "2026-11-17", "reactive visit", today=WEDNESDAY)  # not a round
    visits.log_visit(db, ME, homes[2], "2026-11-13", "weekly home round", today=WEDNESDAY)  # last week's

    listed = [r["care_home_id"] for r in my_work.rounds_not_logged(db, loc, None, WEDNESDAY)]

    assert homes[0] not in listed and set(homes[1:]) == set(listed)


def test_patients_waiting_for_the_mdt_with_every_reason(small_world, cha, team):
    db, loc = small_world, cha["id"]
    waiting = a_patient(db, loc, 20, None, None, status="contacted", name=("Wendy", "Waite"))
    on_agenda = a_patient(db, loc, 21, None, None, status="contacted")
    withdrawn = a_patient(db, loc, 22, None, None, status="contacted")
    stamp = {"created_at": ME.now(), "updated_at": ME.now(), "updated_by": ME.user, "device_id": ME.device_id}

    def flag(pid, reason, at, **more):
        row = {"id": new_id(), "patient_id": pid, "locality_id": loc, "reason": reason, "flagged_by": "Ann", **stamp}
        db["mdt_flags"].insert({**row, "flagged_at": at, **more})

    flag(waiting, "Two falls since the last review", "2026-11-16T10:00:00+00:00")
    flag(waiting, "Carer struggling", "2026-11-17T10:00:00+00:00")
    flag(withdrawn, "Resolved", "2026-11-16T10:00:00+00:00", cleared_at="2026-11-17T10:00:00+00:00")
    db.conn.execute("PRAGMA foreign_keys = OFF")  # an agenda item stands in: only its being set matters here
    flag(on_agenda, "Discussed", "2026-11-16T10:00:00+00:00", meeting_item_id="item-1")
    db.conn.execute("PRAGMA foreign_keys = ON")

    listed = my_work.flagged(db, loc)

    assert [f["patient_id"] for f in listed] == [waiting]
    assert listed[0]["patient"] == "WAITE, Wendy"
    assert listed[0]["reason"] == "Two falls since the last review; Carer struggling"
    assert listed[0]["since"] == "2026-11-16"


def test_the_counts_add_up_and_a_colleague_sees_only_the_teams_lists(small_world, cha, team):
    me, colleague = team
    db, loc = small_world, cha["id"]
    a_patient(db, loc, 30, me["id"], "2026-11-10")
    a_patient(db, loc, 31, me["id"], "2026-11-25")
    an_action(db, loc, me["id"], "2026-11-17")
    an_action(db, loc, me["id"], "2026-11-20")
    an_action(db, loc, me["id"], "2027-01-20")  # later: listed, not counted in the navigation
    homes = [h[0] for h in db.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY name", [loc])]
    db["care_homes"].update(homes[0], {"clinical_lead_id": me["id"]})

    mine = my_work.my_work(db, loc, me, WEDNESDAY)
    theirs = my_work.my_work(db, loc, colleague, WEDNESDAY)
    nobody = my_work.my_work(db, loc, None, WEDNESDAY)

    counts = mine.counts()
    assert (counts["reviews"], counts["reviews_overdue"]) == (2, 1)
    assert (counts["actions"], counts["actions_overdue"], counts["actions_this_week"]) == (3, 1, 1)
    assert (counts["rounds"], counts["rounds_mine"]) == (len(homes), 1) and mine.rounds[0]["care_home_id"] == homes[0]
    assert counts["pcsps"] == counts["flags"] == 0
    assert mine.to_do == 2 + 2 + 1  # the team's rounds are listed, only the one of the home she leads counted
    assert theirs.reviews == theirs.actions == [] and theirs.to_do == 0
    assert nobody.reviews == [] and nobody.rounds == [{**r, "mine": False} for r in mine.rounds]
