"""The Changed risk worklist (issue 22): who changed between the locality's last two runs, and how, before and
now; and its export, marked and audited like the other worklists."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from extract_helpers import patient, synthetic_nhs, write_csv
from openpyxl import load_workbook

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.cohort import frame as cohort
from desktop.models.cohort import worklists
from desktop.models.cohort.risk_import import import_extract
from desktop.models.outputs import OutputRefused

ACTOR = Actor(user="matron.a", device_id="laptop-7")
Q2, Q3 = dt.date(2026, 7, 1), dt.date(2026, 10, 1)
TODAY = dt.date(2026, 10, 20)
MODERATE, SEVERE = "0.3056", "0.3889"  # 11 and 14 eFI deficits of 36


@pytest.fixture
def two_runs(small_world, cha, tmp_path):
    """Q2 then Q3 for Charnwood. Between them: 2 severer, 3 gains high cost, 4 loses multimorbidity, 8 less frail
    with more LTCs; 1 unchanged, 5 only a little costlier (no criterion moves), 6 new, 7 gone."""
    code, mine, _ = cha
    q2 = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score="0.2778"),
        patient(3, mine[1], ltc_count="6", efi_score="0.05"),
        patient(4, mine[1], ltc_count="5"),
        patient(5, mine[0]),
        patient(7, mine[1]),
        patient(8, mine[0], efi_score=SEVERE),
    ]
    import_extract(small_world, ACTOR, code, write_csv(tmp_path / "q2.csv", q2), Q2)
    q3 = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score=SEVERE),
        patient(3, mine[1], ltc_count="6", efi_score="0.05", predicted_cost="3600"),
        patient(4, mine[1], ltc_count="3"),
        patient(5, mine[0], predicted_cost="1800"),
        patient(6, mine[0]),
        patient(8, mine[0], efi_score=MODERATE, ltc_count="4"),
    ]
    second = import_extract(small_world, ACTOR, code, write_csv(tmp_path / "q3.csv", q3), Q3)
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    return second, cohort.load(small_world, loc)


def listed(frame) -> dict[str, dict[str, str]]:
    """NHS number -> the exported row of each patient on the Changed risk list, by heading."""
    headings = [h for _, h in worklists.CHANGED_EXPORT_COLUMNS]
    rows = worklists.table(frame, worklists.rows(frame, "changed_risk"), "changed_risk")
    return {row[0]: dict(zip(headings, row, strict=True)) for row in rows}


def test_the_list_is_exactly_the_patients_the_run_counted_as_changed(small_world, two_runs):
    second, frame = two_runs
    shown = listed(frame)
    assert set(shown) == {synthetic_nhs(n) for n in (2, 3, 4, 8)}
    stored = small_world.execute(
        "SELECT COUNT(*) FROM cohort_changes WHERE run_id = ? AND change = 'changed'", [second.run_id]
    ).fetchone()[0]
    assert len(shown) == second.changed == stored == frame.run["changed"]


def test_each_patient_shows_what_changed_with_before_and_now(two_runs):
    _, frame = two_runs
    shown = listed(frame)
    severer, costlier, fewer, less_frail = (shown[synthetic_nhs(n)] for n in (2, 3, 4, 8))

    assert severer["What changed"] == "eFI moderate → severe ↑"
    assert (severer["eFI band before"], severer["eFI band now"], severer["eFI band direction"]) == (
        "moderate",
        "severe",
        "up",
    )
    assert severer["Criteria before"] == severer["Criteria now"] == "frailty"

    assert costlier["What changed"] == "gained high cost (cost ratio 1.25 → 3.00)"
    assert (costlier["Criteria before"], costlier["Criteria now"]) == ("multimorbidity", "multimorbidity, high cost")
    assert (costlier["Cost ratio before"], costlier["Cost ratio now"]) == ("1.25", "3.00")
    assert costlier["eFI band direction"] == "same"

    assert fewer["What changed"] == "lost multimorbidity; LTCs 5 → 3"
    assert (fewer["Criteria before"], fewer["Criteria now"]) == ("frailty, multimorbidity", "frailty")
    assert (fewer["LTCs before"], fewer["LTCs now"]) == ("5", "3")

    assert less_frail["What changed"] == "eFI severe → moderate ↓; LTCs 2 → 4"
    assert less_frail["eFI band direction"] == "down"


def test_the_cohort_filter_agrees_with_the_worklist(two_runs):
    _, frame = two_runs
    by_filter = cohort.apply(frame, cohort.CohortFilter(membership="changed risk"))
    assert list(by_filter) == list(worklists.rows(frame, "changed_risk"))
    assert worklists.counts(frame, TODAY)["changed_risk"] == 4


def test_sorting_by_how_far_the_efi_band_moved(two_runs):
    _, frame = two_runs
    rows = cohort.sort(frame, worklists.rows(frame, "changed_risk"), "efi_band_change", descending=True)
    nhs = [frame.columns["nhs_number"][i] for i in rows]
    assert nhs[0] == synthetic_nhs(2) and nhs[-1] == synthetic_nhs(8)


def test_with_one_run_nobody_is_on_the_list(small_world, cha, tmp_path):
    code, mine, _ = cha
    import_extract(small_world, ACTOR, code, write_csv(tmp_path / "q2.csv", [patient(1, mine[0])]), Q2)
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    frame = cohort.load(small_world, loc)
    assert frame.previous is None and len(worklists.rows(frame, "changed_risk")) == 0
    assert "needs two imports" in worklists.NEEDS_TWO_RUNS


def test_the_export_writes_the_marked_file_and_an_audit_row(small_world, two_runs, tmp_path):
    _, frame = two_runs
    out = worklists.marked(tmp_path / "cha-changed-risk.csv")
    assert out.name == "cha-changed-risk.OFFICIAL-SENSITIVE.csv"
    assert worklists.export(small_world, ACTOR, frame, "changed_risk", out, "Charnwood", TODAY) == 4
    with open(out, encoding="utf-8-sig") as fh:
        table = list(csv.reader(fh))
    assert table[0][:6] == ["NHS number", "Family name", "Given name", "Date of birth", "Practice", "What changed"]
    assert {row[0] for row in table[1:]} == {synthetic_nhs(n) for n in (2, 3, 4, 8)}
    [entry] = [e for e in audit.entries(small_world, "worklist") if e["action"] == "export"]
    assert entry["entity_id"] == "changed_risk" and out.name in entry["summary"] and "4 patients" in entry["summary"]

    xlsx = tmp_path / "changed.xlsx"
    worklists.export(small_world, ACTOR, frame, "changed_risk", xlsx, "Charnwood", TODAY)
    sheet = load_workbook(xlsx).active
    assert "Changed risk" in sheet["A1"].value and "OFFICIAL-SENSITIVE" in sheet["C1"].value
    assert sheet["F2"].value == "What changed"


def test_an_export_onto_the_workspace_is_refused_and_not_audited(small_world, small_world_path, two_runs, tmp_path):
    _, frame = two_runs
    link = tmp_path / "changed.csv"
    link.symlink_to(small_world_path)  # another name for the workspace itself
    before = small_world_path.stat().st_size
    with pytest.raises(OutputRefused, match="destroy the workspace"):
        worklists.export(small_world, ACTOR, frame, "changed_risk", link, "Charnwood", TODAY)
    assert small_world_path.stat().st_size == before and link.resolve() == small_world_path.resolve()
    assert [e for e in audit.entries(small_world, "worklist") if e["action"] == "export"] == []


def test_bands_are_read_by_the_criteria_the_run_was_stratified_with(small_world, two_runs):
    """Criteria edited after the import apply from the next one: the list still says what the import compared."""
    from dataclasses import replace

    from desktop.models.cohort import rules as cohort_rules

    edited = replace(cohort_rules.load(small_world), severe_frailty_min_deficits=20)
    cohort_rules.save(small_world, ACTOR, edited)
    frame = cohort.load(small_world, frame_locality(small_world))
    severer = listed(frame)[synthetic_nhs(2)]
    assert (severer["eFI band before"], severer["eFI band now"]) == ("moderate", "severe")
    assert severer["What changed"] == "eFI moderate → severe ↑"


def frame_locality(db) -> str:
    return db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
