"""Hospital use in the 12 months before the extract (issue 27 point 1): recognised under the names ACG and the
practice systems give it, checked like every other column, stored with each run's cohort (null where not known,
and for runs stored before the columns existed) and summed for the whole population."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest
from extract_helpers import HEADER, USE_HEADER, patient, write_csv

from desktop.models.clock import Actor
from desktop.models.cohort import store as risk_store
from desktop.models.cohort.extract_layout import suggest_mapping
from desktop.models.cohort.risk_import import check_extract, import_extract

ACTOR = Actor(user="gp.lead", device_id="laptop-1")
DAY = dt.date(2026, 10, 1)


@pytest.mark.parametrize(
    ("heading", "column"),
    [
        ("Unplanned Inpatient Hospitalization Count", "emergency_admissions_12m"),  # ACG
        ("Emergency Admissions (last 12 months)", "emergency_admissions_12m"),  # EMIS Web search
        ("Non-elective admissions", "emergency_admissions_12m"),
        ("Emergency Visit Count", "ae_attendances_12m"),  # ACG
        ("A&E attendances 12m", "ae_attendances_12m"),
        ("A and E attendances (last 12 months)", "ae_attendances_12m"),  # SystmOne
        ("Unplanned Inpatient Hospitalization Days", "emergency_bed_days_12m"),
        ("Emergency bed days", "emergency_bed_days_12m"),
        ("Total Cost", "cost_12m"),  # ACG: the observed year's cost, beside its predicted cost
        ("Cost (last 12 months)", "cost_12m"),
    ],
)
def test_use_columns_are_recognised_under_the_tools_names(heading, column):
    headings = ["NHS Number", "Rescaled Predicted Total Cost", "Expected Total Cost", heading]
    mapping = suggest_mapping(headings)
    assert mapping[heading] == column
    # The predicted and expected costs keep their own columns beside it.
    assert mapping["Rescaled Predicted Total Cost"] == "predicted_cost"
    assert mapping["Expected Total Cost"] == "expected_cost"


def test_acg_all_admissions_count_is_not_taken_for_emergency_admissions():
    mapping = suggest_mapping(["NHS Number", "Inpatient Hospitalization Count", "Inpatient Hospitalization Days"])
    assert "emergency_admissions_12m" not in mapping.values()
    assert "emergency_bed_days_12m" not in mapping.values()


def _rows(mine: list[str]) -> list[dict[str, str]]:
    return [
        patient(1, mine[0], emergency_admissions_12m="2", ae_attendances_12m="3", emergency_bed_days_12m="11.5",
                cost_12m="£1,234.50"),
        patient(2, mine[0], emergency_admissions_12m="", ae_attendances_12m="0", emergency_bed_days_12m="",
                cost_12m=""),
        # Not in the cohort (eFI 0.05, two conditions, cost below 3 × expected): counted in the population only.
        patient(3, mine[0], efi_score="0.05", emergency_admissions_12m="1", ae_attendances_12m="1",
                emergency_bed_days_12m="4", cost_12m="2500"),
    ]  # fmt: skip


def test_use_is_stored_with_the_cohort_and_summed_for_the_population(small_world, cha, tmp_path):
    _, mine, _ = cha
    path = write_csv(tmp_path / "use.csv", _rows(mine), header=[*HEADER, *USE_HEADER])
    result = import_extract(small_world, ACTOR, "CHA", path, DAY)
    assert result.rejected == 0 and result.cohort["total"] == 2
    table = risk_store.run_cohort(small_world, result.run_id).sort_by("nhs_number")
    assert table["emergency_admissions_12m"].to_pylist() == [2.0, None]  # blank is not known, not none
    assert table["ae_attendances_12m"].to_pylist() == [3.0, 0.0]
    assert table["emergency_bed_days_12m"].to_pylist() == [11.5, None]
    assert table["cost_12m"].to_pylist() == [1234.5, None]
    summary = json.loads(
        small_world.execute("SELECT summary FROM risk_runs WHERE id = ?", [result.run_id]).fetchone()[0]
    )
    assert summary["use_12m"] == {
        "emergency_admissions_12m": {"sum": 3.0, "known": 2},
        "ae_attendances_12m": {"sum": 4.0, "known": 3},
        "emergency_bed_days_12m": {"sum": 15.5, "known": 2},
        "cost_12m": {"sum": 3734.5, "known": 2},
    }


def test_an_extract_without_use_columns_stores_nulls_and_no_population_use(small_world, cha, tmp_path):
    _, mine, _ = cha
    result = import_extract(small_world, ACTOR, "CHA", write_csv(tmp_path / "plain.csv", _rows(mine)[:2]), DAY)
    table = risk_store.run_cohort(small_world, result.run_id)
    for column in USE_HEADER:
        assert table[column].null_count == table.num_rows == 2
    summary = json.loads(
        small_world.execute("SELECT summary FROM risk_runs WHERE id = ?", [result.run_id]).fetchone()[0]
    )
    assert "use_12m" not in summary


def test_a_run_stored_before_the_use_columns_reads_them_as_nulls(small_world, cha, tmp_path):
    _, mine, _ = cha
    path = write_csv(tmp_path / "use.csv", _rows(mine), header=[*HEADER, *USE_HEADER])
    run_id = import_extract(small_world, ACTOR, "CHA", path, DAY).run_id
    # Stored the way runs were before issue 27: the same table without the four columns.
    old = risk_store.run_cohort(small_world, run_id).drop_columns(USE_HEADER)
    small_world.execute("UPDATE risk_run_cohorts SET data = ? WHERE run_id = ?", [risk_store.encode(old), run_id])
    table = risk_store.run_cohort(small_world, run_id)
    assert table.schema == risk_store.COHORT_SCHEMA
    assert all(table[c].null_count == 2 for c in USE_HEADER)
    picked = risk_store.run_columns(small_world, run_id, ["patient_id", "cost_12m", "sex"])
    assert picked.column_names == ["patient_id", "cost_12m", "sex"]
    assert picked["cost_12m"].to_pylist() == [None, None] and picked["sex"].to_pylist() == ["F", "F"]
    assert risk_store.run_columns(small_world, run_id, ["cost_12m"])["cost_12m"].type == pa.float64()
    # A later import compares with it and stores its own use as usual.
    later = write_csv(tmp_path / "later.csv", _rows(mine), header=[*HEADER, *USE_HEADER])
    again = import_extract(small_world, ACTOR, "CHA", later, DAY + dt.timedelta(days=30))
    assert risk_store.run_cohort(small_world, again.run_id)["cost_12m"].null_count == 1


def test_a_thousands_comma_and_pound_sign_read_in_the_cost(small_world, cha, tmp_path):
    _, mine, _ = cha
    rows = [patient(1, mine[0], cost_12m="£12,345.67"), patient(2, mine[0], cost_12m=" 980 ")]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "c.csv", rows, header=[*HEADER, "cost_12m"]), DAY)
    assert checked.rejections == []
    assert checked.values["cost_12m"].tolist() == [12345.67, 980.0]
