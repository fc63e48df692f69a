"""The KPI catalogue and the computed KPIs on a small workspace built by hand, with known answers."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from extract_helpers import patient, synthetic_nhs, write_csv

from desktop.models import quarters
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import ValidationError
from desktop.models.identifiers import patient_id
from desktop.models.kpi import catalogue as kpi_catalogue
from desktop.models.kpi import compute as kpi_compute
from desktop.models.mdt import actions, meetings

ACTOR = Actor(user="fed.manager", device_id="laptop-5")
Q = quarters.parse("2025-26-Q4")  # January to March 2026
TODAY = dt.date(2026, 4, 10)


def test_the_catalogue_holds_every_kpi_of_design_9_and_each_computed_one_has_code():
    codes = [k.code for k in kpi_catalogue.catalogue()]
    by_type = [f"COH-06{t}" for t in "abcdefg"]  # COH-06 "by type" (DESIGN §9), one KPI per intervention
    assert codes == [f"COH-0{i}" for i in range(1, 7)] + by_type + ["COH-07", "COH-08"] + [
        f"MDT-0{i}" for i in range(1, 5)
    ] + [f"CH-0{i}" for i in range(1, 7)] + [f"OUT-0{i}" for i in range(1, 5)] + [f"BCF-0{i}" for i in range(1, 5)]
    computed = {k.code for k in kpi_catalogue.catalogue() if k.source == "computed" and k.intervention is None}
    assert computed == set(kpi_compute.COMPUTE)
    types = {k.intervention for k in kpi_catalogue.catalogue() if k.part_of == "COH-06"}
    assert len(types) == 7 and all(
        k.source == "entered" and not k.required for k in kpi_catalogue.catalogue() if k.code.startswith("BCF")
    )


def test_rag_follows_direction_target_and_tolerance():
    kpis = kpi_catalogue.by_code()
    assert [kpis["COH-02"].rag(v) for v in (60, 55, 50, 49.9, None)] == ["G", "A", "A", "R", None]
    assert [kpis["MDT-04"].rag(v) for v in (0, 5, 6)] == ["G", "A", "R"]
    assert kpis["COH-01"].rag(1000) is None  # no target
    assert kpis["CH-04"].value(31, 200) == 15.5 and kpis["COH-02"].value(0, 0) is None


def test_a_bad_catalogue_is_refused_with_the_entry_named(tmp_path):
    good = json.loads(kpi_catalogue.CATALOGUE.read_text(encoding="utf-8"))
    for change, message in (
        ({"unit": "furlongs"}, "unit 'furlongs'"),
        ({"denominator": None}, "without a denominator"),
        ({"direction": "sideways"}, "direction 'sideways'"),
        ({"about_people": "yes"}, "about_people that is not true or false"),
        ({"cadence": "weekly"}, "cadence 'weekly'"),
    ):
        broken = json.loads(json.dumps(good))
        broken["kpis"][1].update(change)
        path = tmp_path / "kpis.json"
        path.write_text(json.dumps(broken), encoding="utf-8")
        with pytest.raises(ValidationError, match=f"COH-02 has .*{message}"):
            kpi_catalogue.load(path)


def test_publication_protects_counts_of_people_and_a_new_entry_is_protected_by_default(tmp_path):
    kpis = kpi_catalogue.by_code()
    assert kpis["COH-02"].about_people and kpis["CH-06"].about_people and kpis["OUT-01"].about_people
    assert not kpis["MDT-01"].about_people and not kpis["CH-04"].about_people  # meetings, visits
    catalogue = json.loads(kpi_catalogue.CATALOGUE.read_text(encoding="utf-8"))
    del catalogue["kpis"][0]["about_people"]
    path = tmp_path / "kpis.json"
    path.write_text(json.dumps(catalogue), encoding="utf-8")
    assert kpi_catalogue.load(path)[0].about_people is True


@pytest.fixture
def world(small_world, cha, tmp_path):
    """CHA: a cohort of 4 (from an extract dated in the quarter), 3 on the caseload."""
    db = small_world
    code, mine, _ = cha
    loc = db.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    rows = [patient(n, mine[0]) for n in range(1, 5)] + [patient(9, mine[0], efi_score="0.01")]
    import_extract(db, ACTOR, code, write_csv(tmp_path / "q4.csv", rows), dt.date(2026, 2, 1))
    staff = db.execute("SELECT id FROM staff WHERE locality_id = ? AND role = 'community matron'", [loc]).fetchone()[0]
    ids = [patient_id(int(synthetic_nhs(n))) for n in (1, 2, 3)]
    # Taken on in February: a quarter counts who was on the caseload at its end (caseload_history).
    caseload.update_patients(db, ACTOR, ids, {"status": "on caseload"}, today=dt.date(2026, 2, 10))
    caseload.update_patients(
        db, ACTOR, ids[:2], {"case_manager_id": staff, "care_plan_date": "2026-01-10"}, today=TODAY
    )
    caseload.add_intervention(db, ACTOR, ids[2], "falls assessment", "2026-03-01", today=TODAY)
    caseload.add_intervention(db, ACTOR, ids[2], "carer assessment", "2025-12-01", today=TODAY)  # last quarter
    return db, loc, ids


def figures(db, loc):
    return {f.kpi: f for f in kpi_compute.compute(db, loc, Q, TODAY)}


def test_cohort_kpis(world):
    db, loc, _ = world
    f = figures(db, loc)
    assert (f["COH-01"].numerator, f["COH-01"].value) == (4, 4.0)
    assert (f["COH-02"].numerator, f["COH-02"].denominator, f["COH-02"].value, f["COH-02"].rag) == (3, 4, 75.0, "G")
    assert (f["COH-03"].numerator, f["COH-03"].denominator) == (2, 3)  # care plans in the 12 months to 31 March
    assert (f["COH-04"].numerator, f["COH-04"].denominator) == (2, 3)  # reviews due July 2026; one never planned
    assert (f["COH-05"].numerator, f["COH-05"].denominator, f["COH-05"].rag) == (2, 3, "R")
    assert f["COH-06"].numerator == 1  # the December intervention is last quarter's


def test_coh_04_of_a_past_quarter_is_judged_by_what_was_known_at_its_end(world):
    db, loc, ids = world
    # Care plans of 10 January 2026, six-monthly: reviews due 10 July 2026, in 2026-27 Q2.
    q2 = quarters.parse("2026-27-Q2")
    later = dt.date(2026, 11, 20)
    before = {f.kpi: f for f in kpi_compute.compute(db, loc, q2, later)}["COH-04"]
    assert (before.numerator, before.denominator) == (0, 3)  # both reviews were overdue on 30 September
    # One of them is reviewed in October, after the quarter: today's next review date moves on to April 2027...
    caseload.add_intervention(db, ACTOR, ids[0], "care-plan review", "2026-10-05", today=later)
    assert db.execute("SELECT next_review_due FROM patients WHERE id = ?", [ids[0]]).fetchone()[0] == "2027-04-05"
    # ...but Q2's figure still says what was true at its end, and Q3's counts the review.
    again = {f.kpi: f for f in kpi_compute.compute(db, loc, q2, later)}["COH-04"]
    assert (again.numerator, again.denominator) == (0, 3)
    q3 = {f.kpi: f for f in kpi_compute.compute(db, loc, quarters.parse("2026-27-Q3"), later)}["COH-04"]
    assert (q3.numerator, q3.denominator) == (1, 3)


def test_mdt_kpis(world):
    db, loc, ids = world
    meeting, _ = meetings.create(db, ACTOR, loc, "2026-02-11", today=TODAY)
    meetings.add_patients(db, ACTOR, meeting, ids[:2])
    base = {"owner_name": "Pat", "owner_organisation": "community health"}
    at_meeting = Actor(user="chair", device_id="laptop-5", fixed_time="2026-02-11T15:00:00+00:00")
    on_time = actions.create(
        db, at_meeting, loc, {**base, "description": "a", "due_date": "2026-02-20"}, today=dt.date(2026, 2, 11)
    )[0]
    late = actions.create(
        db, at_meeting, loc, {**base, "description": "b", "due_date": "2026-03-01"}, today=dt.date(2026, 2, 11)
    )[0]
    open_one = actions.create(
        db, at_meeting, loc, {**base, "description": "c", "due_date": "2026-03-10"}, today=dt.date(2026, 2, 11)
    )[0]
    cancelled = actions.create(
        db, at_meeting, loc, {**base, "description": "d", "due_date": "2026-03-10"}, today=dt.date(2026, 2, 11)
    )[0]
    actions.set_status(db, ACTOR, [on_time], "done", completed_on="2026-02-19", today=TODAY)
    actions.set_status(db, ACTOR, [late], "done", completed_on="2026-04-02", today=TODAY)
    actions.set_status(db, ACTOR, [cancelled], "cancelled", today=TODAY)
    f = figures(db, loc)
    assert f["MDT-01"].numerator == 1 and f["MDT-01"].rag == "R"  # target 3, tolerance 1
    assert f["MDT-02"].numerator == 2
    assert (f["MDT-03"].numerator, f["MDT-03"].denominator) == (1, 3)
    assert f["MDT-04"].numerator == 2  # the late one (done only in April) and the open one
    assert open_one


def test_care_home_kpis(world):
    db, loc, _ = world
    homes = [r[0] for r in db.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY name", [loc])]
    gp = db.execute("SELECT id FROM staff WHERE locality_id = ? AND role = 'GP'", [loc]).fetchone()[0]
    home = homes[0]
    on_time = residents.save(
        db,
        ACTOR,
        home,
        {
            "nhs_number": synthetic_nhs(20),
            "family_name": "A",
            "admitted_on": "2026-01-05",
            "pcsp_on": "2026-01-12",
            "end_of_life": 1,
            "eol_plan_on": "2026-01-20",
        },
        today=TODAY,
    )[0]
    residents.save(
        db,
        ACTOR,
        home,
        {"nhs_number": synthetic_nhs(21), "family_name": "B", "admitted_on": "2026-02-02", "end_of_life": 1},
        today=TODAY,
    )
    held = 0
    for week in range(0, 14, 2):  # every other week of the quarter
        day = Q.weeks()[week] + dt.timedelta(days=2)
        if Q.start <= day <= Q.end:
            visits.log_visit(db, ACTOR, home, day, "weekly home round", gp, today=TODAY)
            held += 1
    visits.log_visit(
        db,
        ACTOR,
        home,
        "2026-03-03",
        "reactive visit",
        gp,
        residents=[{"resident_id": on_time, "outcome": "transferred to hospital"}],
        today=TODAY,
    )
    f = figures(db, loc)
    grid = visits.round_grid(db, loc, Q, TODAY)
    assert (f["CH-02"].numerator, f["CH-02"].denominator) == (
        sum(h["covered"] for h in grid["homes"]),
        sum(h["due"] for h in grid["homes"]),
    )
    assert f["CH-02"].numerator == held == 6
    assert (f["CH-03"].numerator, f["CH-03"].denominator) == (1, 2)
    beds = db.execute("SELECT SUM(beds) FROM care_homes WHERE locality_id = ?", [loc]).fetchone()[0]
    assert (f["CH-04"].numerator, f["CH-04"].denominator) == (held + 1, beds)
    assert (f["CH-05"].numerator, f["CH-05"].denominator, f["CH-05"].value) == (1, 1, 100.0)
    assert (f["CH-06"].numerator, f["CH-06"].denominator) == (1, 2)
    leads = db.execute(
        "SELECT COUNT(*), SUM(clinical_lead_id IS NOT NULL) FROM care_homes WHERE locality_id = ?", [loc]
    ).fetchone()
    assert (f["CH-01"].numerator, f["CH-01"].denominator) == (leads[1], leads[0])


def test_kpi_cli_json_shape(world, capsys):
    from desktop.cli import main

    db, _, _ = world
    path = db.execute("PRAGMA database_list").fetchone()[2]
    assert main(["kpi", "--db", path, "--locality", "CHA", "--quarter", "2025-26-Q4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    computed = [k for k in kpi_catalogue.catalogue() if k.source == "computed"]
    assert [r["kpi"] for r in out] == [k.code for k in kpi_catalogue.catalogue()]
    keys = {"kpi", "numerator", "denominator", "value", "target", "rag", "variation", "assurance", "interval"}
    assert all(keys <= set(r) for r in out) and len(computed) == 25
    assert main(["kpi", "--db", path, "--locality", "CHA", "--quarter", "2025-26-Q9"]) == 1
