"""Monthly KPI series for SPC charts, and the spc command that runs the engine on any series."""

from __future__ import annotations

import datetime as dt
import json

from pinned import TODAY as DEMO_TODAY
from worlds import copy_world

from desktop.cli import main
from desktop.models import quarters
from desktop.models.db import open_workspace
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi import series as kpi_series
from desktop.models.quarters import Month


def test_months_have_the_interface_kpis_use():
    november = Month(2026, 11)
    assert (november.code, november.label, november.start, november.end) == (
        "2026-11",
        "Nov 2026",
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
    )
    assert november.next() == Month(2026, 12) and Month(2027, 1).previous() == Month(2026, 12)
    assert [m.code for m in quarters.months(dt.date(2025, 11, 15), dt.date(2026, 2, 1))] == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    ]
    # Each week belongs to the month its Sunday falls in ("week ending"), so weekly rounds are not counted twice:
    # Sunday 1 November 2026 ends the week of Monday 26 October, November's first.
    assert november.weeks()[0] == dt.date(2026, 10, 26) and november.weeks()[-1] == dt.date(2026, 11, 23)
    assert all(w.weekday() == 0 for w in november.weeks())


def test_three_months_of_interventions_add_up_to_the_quarter(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    q = quarters.parse("2025-26-Q3")
    series = kpi_series.monthly(db, loc, q.start, q.end, DEMO_TODAY)
    quarter = {f.kpi: f for f in kpi_compute.compute(db, loc, q, DEMO_TODAY)}
    assert series["COH-06"].periods == ["Oct 2025", "Nov 2025", "Dec 2025"]
    assert sum(series["COH-06"].values) == quarter["COH-06"].value
    # Caseload patients with a case manager at December's end, as at the quarter's end.
    assert series["COH-05"].values[-1] == quarter["COH-05"].value
    # The cohort follows the quarterly extract: charted quarter by quarter, never month by month.
    assert "COH-01" not in series and "COH-02" not in series
    signed = kpi_series.quarterly(db, loc, "OUT-01", [q.previous(), q])
    assert len(signed.values) == 2 and all(v is not None for v in signed.values)


def test_a_series_starts_with_the_first_full_month_of_the_teams_records(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    first_extract = db.execute("SELECT MIN(extract_date) FROM risk_runs WHERE locality_id = ?", [loc]).fetchone()[0]
    series = kpi_series.monthly(db, loc, dt.date(2024, 1, 1), dt.date(2025, 3, 31), DEMO_TODAY)
    first = Month(int(first_extract[:4]), int(first_extract[5:7])).next()
    assert series["COH-06"].periods[0] == first.label


def test_a_month_not_yet_over_is_left_out(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    series = kpi_series.monthly(db, loc, dt.date(2026, 9, 1), dt.date(2026, 11, 30), DEMO_TODAY)
    assert series["MDT-03"].periods == ["Sep 2026", "Oct 2026"]


def test_the_spc_command_prints_the_engine_result(capsys):
    values = [5, 6, 5, 7, 6, 5, 6, 7, 5, 6, 5, 6, 12]
    assert (
        main(["spc", "--values", ",".join(map(str, values)), "--improvement", "increase", "--target", "6", "--json"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"mean", "upl", "lpl", "points", "variation_icon", "assurance_icon", "segments"}
    assert [p["value"] for p in out["points"]] == values
    assert out["points"][-1]["special_cause"] and out["points"][-1]["rules"] == ["astro"]
    assert out["variation_icon"] == "improvement_high"
    assert main(["spc", "--values", "1,two,3"]) == 1
    assert "numbers separated by commas" in capsys.readouterr().err
