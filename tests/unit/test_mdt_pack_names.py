"""The MDT pack (issue 25, point 3): each patient named once, SURNAME, Given; each action carried forward with its
last progress note and how long it has been open."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs

from desktop.models.clock import Actor
from desktop.models.identifiers import patient_id
from desktop.models.mdt import actions, meetings

CHAIR = Actor(user="chair.gp", device_id="laptop-3", fixed_time="2026-09-29T10:00:00+00:00")
LATER = Actor(user="matron.kay", device_id="laptop-4", fixed_time="2026-10-12T16:00:00+00:00")
TODAY = dt.date(2026, 10, 20)


@pytest.fixture
def pack_text(small_world, six_in_cha, tmp_path):
    """A second meeting's pack, after an action for patient 1 written as the care-home rounds write them
    ('… (FAMILY1)') was opened at the first and had progress recorded."""
    from pypdf import PdfReader

    from desktop.reports import mdt_pack

    db = small_world
    loc = six_in_cha(CHAIR)
    first, second = (patient_id(int(synthetic_nhs(n))) for n in (1, 2))
    m1, _ = meetings.create(db, CHAIR, loc, "2026-09-29")
    values = {"owner_name": "Pat Owner", "owner_organisation": "community health", "due_date": "2026-10-10"}
    noted, _ = actions.create(
        db, CHAIR, loc, {**values, "description": "Review meds (FAMILY1)", "patient_id": first}, m1, TODAY
    )
    actions.create(db, CHAIR, loc, {**values, "description": "Ring the carer", "patient_id": second}, m1, TODAY)
    actions.set_status(db, LATER, [noted], "in progress", outcome_note="Pharmacist booked for 23 Oct", today=TODAY)
    m2, _ = meetings.create(db, CHAIR, loc, "2026-10-22")
    meetings.add_patients(db, CHAIR, m2, [first, second], "review overdue")
    out = mdt_pack.export(db, CHAIR, m2, tmp_path / "pack.pdf", today=TODAY)
    return " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())


def test_each_patient_is_named_once_in_the_nhs_style(pack_text):
    assert "FAMILY1" in pack_text and "(FAMILY1)" not in pack_text
    assert "Review meds FAMILY1, Given1" in pack_text
    assert "Ring the carer FAMILY2, Given2" in pack_text
    # Agenda, patient heading, carried-forward table and open-actions table: once in each.
    assert pack_text.count("FAMILY1, Given1") == 4
    assert "1. FAMILY1, Given1 Why discussed Caseload review overdue NHS number" in pack_text


def test_a_carried_action_shows_its_last_progress_note_and_how_long_it_has_been_open(pack_text):
    assert "Last progress, 12 Oct 2026: Pharmacist booked for 23 Oct" in pack_text
    assert "3 weeks since 29 Sep 2026" in pack_text
    assert "No progress recorded yet" in pack_text  # the other action
