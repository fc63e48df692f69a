"""Re-import: new, left and changed, with the team's own work kept; caseload edits; the screen's filters."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import patient, synthetic_nhs, write_csv

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.cohort import frame as cohort
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import NotFound, ValidationError
from desktop.models.identifiers import patient_id

ACTOR = Actor(user="matron.a", device_id="laptop-7")
Q2, Q3 = dt.date(2026, 7, 1), dt.date(2026, 10, 1)
TODAY = dt.date(2026, 10, 20)


def pid(db, n):
    return patient_id(int(synthetic_nhs(n)))


def staff(db, locality_code, role):
    return next(
        iter(
            db.query(
                "SELECT s.id FROM staff s JOIN localities l ON l.id = s.locality_id "
                "WHERE l.code = ? AND s.role = ? ORDER BY s.name",
                [locality_code, role],
            )
        )
    )["id"]


@pytest.fixture
def two_runs(small_world, cha, tmp_path):
    """Q2: patients 1-4 in the cohort. Q3: 1 unchanged, 2 more frail, 3 no longer meets criteria, 4 gone,
    5 new. Between the two, the team worked on 1, 2 and 3."""
    code, mine, _ = cha
    q2 = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score="0.2778"),
        patient(3, mine[1], ltc_count="5", efi_score="0.05"),
        patient(4, mine[1]),
        patient(9, mine[1], efi_score="0.02"),
    ]
    first = import_extract(small_world, ACTOR, code, write_csv(tmp_path / "q2.csv", q2), Q2)
    matron = staff(small_world, code, "community matron")
    caseload.update_patients(
        small_world,
        ACTOR,
        [pid(small_world, n) for n in (1, 2, 3)],
        {
            "status": "on caseload",
            "case_manager_id": matron,
            "care_plan_date": "2026-08-01",
            "notes": "Lives alone; daughter visits Sundays.",
        },
        today=TODAY,
    )
    q3 = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score="0.3889"),
        patient(3, mine[1], ltc_count="4", efi_score="0.05"),
        patient(5, mine[0], ltc_count="7"),
        patient(9, mine[1], efi_score="0.02"),
    ]
    second = import_extract(small_world, ACTOR, code, write_csv(tmp_path / "q3.csv", q3), Q3)
    return first, second, matron


def test_reimport_reports_new_left_and_changed(two_runs):
    first, second, _ = two_runs
    assert (first.new, first.left, first.changed, first.cohort["total"]) == (4, 0, 0, 4)
    assert (second.new, second.left, second.changed, second.cohort["total"]) == (1, 2, 1, 3)


def test_the_teams_work_survives_reimport(small_world, two_runs):
    _, _, matron = two_runs
    for n in (1, 2):
        p = caseload.get_patient(small_world, pid(small_world, n))
        assert (p["status"], p["case_manager_id"], p["care_plan_date"]) == ("on caseload", matron, "2026-08-01")
        assert p["notes"] == "Lives alone; daughter visits Sundays."
        assert p["in_cohort"] == 1
    left = caseload.get_patient(small_world, pid(small_world, 3))
    assert left["in_cohort"] == 0 and left["status"] == "on caseload" and left["case_manager_id"] == matron
    assert left["left_reason"] == "no longer meets the criteria"
    # Patient 4 was never worked on: no record of their own, but the run notes why they left.
    assert not list(small_world.query("SELECT 1 FROM patients WHERE id = ?", [pid(small_world, 4)]))
    gone = small_world.execute(
        "SELECT detail FROM cohort_changes WHERE patient_id = ? AND change = 'left'", [pid(small_world, 4)]
    ).fetchone()
    assert gone == ("not in this extract (moved or died)",)


def test_changed_and_history_say_what_moved(small_world, cha, two_runs):
    hist = cohort.history(small_world, pid(small_world, 2))
    assert [h["extract_date"] for h in hist] == ["2026-07-01", "2026-10-01"]
    assert (hist[0]["efi_deficits"], hist[1]["efi_deficits"]) == (10, 14)
    assert hist[1]["change"] == "changed" and "moderate → severe" in hist[1]["detail"]
    left_hist = cohort.history(small_world, pid(small_world, 3))
    assert left_hist[-1]["in_cohort"] is False and left_hist[-1]["change"] == "left"


def test_cohort_frame_and_filters(small_world, cha, two_runs):
    _, _, matron = two_runs
    loc = next(iter(small_world.query("SELECT id FROM localities WHERE code = 'CHA'")))["id"]
    frame = cohort.load(small_world, loc)
    shown = {frame.columns["nhs_number"][i] for i in range(len(frame))}
    # cohort 1, 2, 5 plus 3, who left but is still on the caseload
    assert shown == {synthetic_nhs(n) for n in (1, 2, 3, 5)}
    every = cohort.apply(frame, cohort.CohortFilter())
    assert len(every) == 4

    def nhs_of(f):
        return {frame.columns["nhs_number"][i] for i in cohort.apply(frame, f, today=TODAY)}

    assert nhs_of(cohort.CohortFilter(text="family5")) == {synthetic_nhs(5)}
    assert nhs_of(cohort.CohortFilter(text=synthetic_nhs(2)[:6])) >= {synthetic_nhs(2)}
    assert nhs_of(cohort.CohortFilter(criterion="M")) == {synthetic_nhs(5)}
    assert nhs_of(cohort.CohortFilter(efi_band=3)) == {synthetic_nhs(2)}
    assert nhs_of(cohort.CohortFilter(case_manager_id=matron)) == {synthetic_nhs(n) for n in (1, 2, 3)}
    assert nhs_of(cohort.CohortFilter(case_manager_id="")) == {synthetic_nhs(5)}
    assert nhs_of(cohort.CohortFilter(membership="new this run")) == {synthetic_nhs(5)}
    assert nhs_of(cohort.CohortFilter(membership="left")) == {synthetic_nhs(3)}
    assert nhs_of(cohort.CohortFilter(status="identified")) == {synthetic_nhs(5)}


def test_review_due_follows_care_plan_and_interval(small_world, two_runs):
    p1 = caseload.get_patient(small_world, pid(small_world, 1))
    assert p1["review_interval_months"] == 6 and p1["next_review_due"] == "2027-02-01"
    # patient 2 was moderate at the time of the edit; a severe patient put on caseload now gets 3 months
    p5 = pid(small_world, 5)
    caseload.update_patients(
        small_world, ACTOR, [p5], {"status": "on caseload", "care_plan_date": "2026-10-02"}, today=TODAY
    )
    assert caseload.get_patient(small_world, p5)["next_review_due"] == "2027-04-02"
    p2 = pid(small_world, 2)
    caseload.update_patients(small_world, ACTOR, [p2], {"review_interval_months": None}, today=TODAY)
    caseload.update_patients(small_world, ACTOR, [p2], {"status": "contacted"}, today=TODAY)
    caseload.update_patients(small_world, ACTOR, [p2], {"status": "on caseload"}, today=TODAY)
    assert caseload.get_patient(small_world, p2)["review_interval_months"] == 3
    caseload.add_intervention(small_world, ACTOR, p2, "care-plan review", "2026-10-15", today=TODAY)
    assert caseload.get_patient(small_world, p2)["next_review_due"] == "2027-01-15"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "asleep"}, "status"),
        ({"status": "discharged"}, "discharge_reason"),
        ({"stream": "urgent"}, "stream"),
        ({"care_plan_date": "2027-01-01"}, "care_plan_date"),
        ({"care_plan_date": "01/13/2026"}, "care_plan_date"),
        ({"review_interval_months": 0}, "review_interval_months"),
        ({"case_manager_id": "nobody"}, "case_manager_id"),
    ],
)
def test_bad_caseload_edits_change_nothing(small_world, two_runs, changes, field):
    p = pid(small_world, 1)
    before = caseload.get_patient(small_world, p)
    audit_before = len(audit.entries(small_world))
    with pytest.raises(ValidationError) as caught:
        caseload.update_patients(small_world, ACTOR, [p], changes, today=TODAY)
    assert caught.value.field == field
    assert caseload.get_patient(small_world, p) == before
    assert len(audit.entries(small_world)) == audit_before


def test_case_manager_from_another_locality_is_refused(small_world, two_runs):
    other = staff(small_world, "CTN", "community matron")
    with pytest.raises(ValidationError, match="another locality"):
        caseload.update_patients(small_world, ACTOR, [pid(small_world, 1)], {"case_manager_id": other}, today=TODAY)


def test_bulk_assignment_is_all_or_nothing_and_audited(small_world, two_runs):
    nurse = staff(small_world, "CHA", "district nurse")
    ids = [pid(small_world, n) for n in (1, 2, 5)]
    caseload.update_patients(small_world, ACTOR, ids, {"case_manager_id": nurse}, today=TODAY)
    assert {caseload.get_patient(small_world, i)["case_manager_id"] for i in ids} == {nurse}
    for i in ids:
        entry = audit.entries(small_world, "patients", i)[0]
        assert "case manager" in entry["summary"] and entry["user"] == "matron.a"
    with pytest.raises(NotFound):
        caseload.update_patients(small_world, ACTOR, [*ids, "missing-id"], {"stream": "complex"}, today=TODAY)
    assert {caseload.get_patient(small_world, i)["stream"] for i in ids} == {""}


def test_discharge_needs_a_reason_and_interventions_are_checked(small_world, two_runs):
    p = pid(small_world, 1)
    caseload.update_patients(
        small_world, ACTOR, [p], {"status": "discharged", "discharge_reason": "stable"}, today=TODAY
    )
    assert caseload.get_patient(small_world, p)["discharge_reason"] == "stable"
    with pytest.raises(ValidationError, match="type"):
        caseload.add_intervention(small_world, ACTOR, p, "massage", "2026-10-01", today=TODAY)
    with pytest.raises(ValidationError, match="future"):
        caseload.add_intervention(small_world, ACTOR, p, "falls assessment", "2026-12-01", today=TODAY)
    caseload.add_intervention(
        small_world, ACTOR, p, "falls assessment", "2026-10-01", note="Timed up and go 14 s", today=TODAY
    )
    assert [i["type"] for i in caseload.interventions(small_world, p)] == ["falls assessment"]


def test_worklists_and_their_export(small_world, cha, two_runs, tmp_path):
    import csv

    from openpyxl import load_workbook

    from desktop.models.cohort import worklists

    loc = next(iter(small_world.query("SELECT id FROM localities WHERE code = 'CHA'")))["id"]
    p5 = pid(small_world, 5)
    caseload.update_patients(small_world, ACTOR, [p5], {"status": "contacted"}, today=TODAY)
    caseload.update_patients(small_world, ACTOR, [pid(small_world, 1)], {"care_plan_date": None}, today=TODAY)
    frame = cohort.load(small_world, loc)

    def listed(key, today=TODAY):
        return {frame.columns["nhs_number"][i] for i in worklists.rows(frame, key, today)}

    assert listed("new") == {synthetic_nhs(5)}
    assert listed("no_care_plan") == {synthetic_nhs(1)}
    assert listed("no_case_manager") == {synthetic_nhs(5)}
    assert listed("left_on_caseload") == {synthetic_nhs(3)}
    assert listed("review_overdue") == set()
    assert listed("review_overdue", today=dt.date(2027, 3, 1)) == {synthetic_nhs(2), synthetic_nhs(3)}

    out = tmp_path / "left.csv"
    assert worklists.export(small_world, ACTOR, frame, "left_on_caseload", out, "Charnwood", TODAY) == 1
    with open(out, encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    assert table[0][0] == "NHS number" and table[1][0] == synthetic_nhs(3)
    xlsx = tmp_path / "new.xlsx"
    worklists.export(small_world, ACTOR, frame, "new", xlsx, "Charnwood", TODAY)
    sheet = load_workbook(xlsx).active
    assert sheet["A3"].value == synthetic_nhs(5) and "OFFICIAL-SENSITIVE" in sheet["C1"].value
    exports = [e for e in audit.entries(small_world) if e["action"] == "export"]
    assert len(exports) == 2 and "1 patients" in exports[0]["summary"]


def test_exported_cells_never_run_as_formulas(small_world, cha, tmp_path):
    from desktop.models.cohort import worklists

    code, mine, _ = cha
    path = write_csv(tmp_path / "inj.csv", [patient(1, mine[0], family_name='=HYPERLINK("http://x","y")')])
    import_extract(small_world, ACTOR, code, path, Q3)
    loc = next(iter(small_world.query("SELECT id FROM localities WHERE code = 'CHA'")))["id"]
    frame = cohort.load(small_world, loc)
    out = tmp_path / "new.csv"
    worklists.export(small_world, ACTOR, frame, "new", out, "Charnwood", TODAY)
    assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")


def test_worklists_on_a_locality_with_no_run_are_empty_not_an_error(small_world):
    from desktop.models.cohort import worklists

    loc = small_world.execute("SELECT id FROM localities WHERE code = 'OAW'").fetchone()[0]
    frame = cohort.load(small_world, loc)
    assert len(frame) == 0
    assert worklists.counts(frame, TODAY) == {w.key: 0 for w in worklists.WORKLISTS}


def test_review_overdue_counts_only_the_caseload(small_world, two_runs):
    from desktop.models.cohort import worklists

    p1 = pid(small_world, 1)
    caseload.update_patients(
        small_world, ACTOR, [p1], {"status": "discharged", "discharge_reason": "stable"}, today=TODAY
    )
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    frame = cohort.load(small_world, loc)
    later = dt.date(2027, 3, 1)
    by_filter = {frame.columns["id"][i] for i in cohort.apply(frame, cohort.CohortFilter(review="overdue"), later)}
    by_list = {frame.columns["id"][i] for i in worklists.rows(frame, "review_overdue", later)}
    assert by_filter == by_list and p1 not in by_filter and len(by_filter) == 2


def test_an_extract_older_than_the_latest_run_is_refused(small_world, cha, two_runs, tmp_path):
    code, mine, _ = cha
    before = small_world.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0]
    with pytest.raises(ValidationError, match="before Charnwood's latest run"):
        import_extract(
            small_world, ACTOR, code, write_csv(tmp_path / "old.csv", [patient(1, mine[0])]), dt.date(2026, 8, 1)
        )
    assert small_world.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0] == before
