"""Flags for MDT keep their reasons (issue 25, point 2): every colleague's reason, who gave it and when, goes
onto the agenda item with the patient and into the MDT pack; taking the item off puts the flags back to wait."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.identifiers import patient_id
from desktop.models.mdt import flags, forms, meetings

SAM = Actor(user="Sam Patel", device_id="laptop-1", fixed_time="2026-10-14T10:00:00+00:00")
JO = Actor(user="Jo Ng", device_id="laptop-2", fixed_time="2026-10-16T15:30:00+00:00")
TODAY = dt.date(2026, 10, 20)


@pytest.fixture
def world(small_world, six_in_cha):
    loc = six_in_cha(SAM)
    return small_world, loc, patient_id(int(synthetic_nhs(1)))


def waiting_ids(db) -> set[str]:
    """Who waits for an agenda, read as the My work screen reads the table."""
    return {
        r[0]
        for r in db.execute("SELECT patient_id FROM mdt_flags WHERE meeting_item_id IS NULL AND cleared_at IS NULL")
    }


def reasons(rows) -> list[tuple[str, str, str]]:
    return [(f["reason"], f["flagged_by"], f["flagged_on"]) for f in rows]


def patient_item(db, meeting_id, pid) -> dict:
    return next(i for i in meetings.agenda(db, meeting_id) if i.get("patient_id") == pid)


def test_two_colleagues_reasons_are_kept_and_go_onto_the_agenda_whatever_the_source(world):
    db, loc, pid = world
    meetings.flag_for_mdt(db, SAM, pid, "  Carer struggling at home ")
    meetings.flag_for_mdt(db, JO, pid, "Two falls this month")
    expected = [
        ("Carer struggling at home", "Sam Patel", "2026-10-14"),
        ("Two falls this month", "Jo Ng", "2026-10-16"),
    ]
    suggested = meetings.suggest_agenda(db, loc, TODAY)
    [flagged] = suggested["flagged"]
    assert flagged["id"] == pid and reasons(flagged["flags"]) == expected
    # The same patient is new this run: that list shows the flags too.
    assert reasons(next(r for r in suggested["new this run"] if r["id"] == pid)["flags"]) == expected
    assert audit.entries(db, "patients", pid)[0]["summary"] == "Flagged for MDT: Two falls this month"

    m, _ = meetings.create(db, SAM, loc, "2026-10-22")
    # Ticked under both New this run and Flagged: the item records the first, and keeps the flags' reasons.
    forms.add_agenda_picks(db, JO, m, {"new this run": [pid], "flagged": [pid]})
    item = patient_item(db, m, pid)
    assert item["source"] == "new this run" and reasons(item["flags"]) == expected
    assert pid not in waiting_ids(db) and meetings.suggest_agenda(db, loc, TODAY)["flagged"] == []
    cached = db.execute("SELECT flagged_for_mdt, flag_note FROM patients WHERE id = ?", [pid]).fetchone()
    assert cached == (0, "")


def test_removing_the_item_puts_its_flags_back_to_wait_for_the_next_agenda(world):
    db, loc, pid = world
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    meetings.flag_for_mdt(db, SAM, pid, "Carer struggling at home")
    m, _ = meetings.create(db, SAM, loc, "2026-10-22")
    meetings.add_patients(db, SAM, m, [pid], "flagged")
    meetings.remove_item(db, JO, patient_item(db, m, pid)["id"])
    assert pid in waiting_ids(db)
    [again] = meetings.suggest_agenda(db, loc, TODAY)["flagged"]
    assert reasons(again["flags"]) == [("Carer struggling at home", "Sam Patel", "2026-10-14")]
    assert db.execute("SELECT flagged_for_mdt FROM patients WHERE id = ?", [pid]).fetchone()[0] == 1
    assert "their flags for MDT wait for the next" in audit.entries(db, "meeting_items")[0]["summary"]
    # And the next meeting gets them.
    later, _ = meetings.create(db, SAM, loc, "2026-11-05")
    meetings.add_patients(db, SAM, later, [pid], "added")
    assert reasons(patient_item(db, later, pid)["flags"])[0][0] == "Carer struggling at home"


def test_clearing_withdraws_only_the_waiting_flags_and_is_audited(world):
    db, loc, pid = world
    meetings.flag_for_mdt(db, SAM, pid, "Carer struggling at home")
    m, _ = meetings.create(db, SAM, loc, "2026-10-22")
    meetings.add_patients(db, SAM, m, [pid], "flagged")
    meetings.flag_for_mdt(db, JO, pid, "")  # no reason given: a flag all the same
    assert reasons(flags.waiting(db, [pid])[pid]) == [("", "Jo Ng", "2026-10-16")]
    meetings.flag_for_mdt(db, JO, pid, "", flagged=False)
    assert pid not in waiting_ids(db)
    assert db.execute("SELECT COUNT(*) FROM mdt_flags WHERE cleared_at IS NOT NULL").fetchone()[0] == 1
    # The flag already on the agenda stays there.
    assert reasons(patient_item(db, m, pid)["flags"]) == [("Carer struggling at home", "Sam Patel", "2026-10-14")]
    entry = audit.entries(db, "patients", pid)[0]
    assert (entry["action"], entry["summary"]) == ("unflag", "MDT flag cleared")
    # Nothing left to clear: no write, no audit line.
    assert not meetings.flag_for_mdt(db, JO, pid, "", flagged=False).tables
    assert audit.entries(db, "patients", pid)[0]["seq"] == entry["seq"]


def test_the_reasons_with_who_and_when_are_printed_in_the_pack(world, tmp_path):
    from pypdf import PdfReader

    from desktop.reports import mdt_pack

    db, loc, pid = world
    other = patient_id(int(synthetic_nhs(2)))
    meetings.flag_for_mdt(db, SAM, pid, "Carer struggling at home")
    meetings.flag_for_mdt(db, JO, pid, "Two falls this month")
    m, _ = meetings.create(db, SAM, loc, "2026-10-22")
    forms.add_agenda_picks(db, SAM, m, {"new this run": [pid, other]})
    out = mdt_pack.export(db, SAM, m, tmp_path / "pack.pdf", today=TODAY)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    assert (
        "New to the cohort in the latest risk run · flagged for MDT by Sam Patel on 14 Oct 2026: Carer struggling "
        "at home; Jo Ng on 16 Oct 2026: Two falls this month" in text
    )
    # The patient without a flag is there for the one reason.
    assert "2. FAMILY2, Given2 Why discussed New to the cohort in the latest risk run NHS number" in text
