"""`locality-desk outcomes`: the quarter's joiners against matched cohort patients, as text or JSON (DESIGN §12)."""

from __future__ import annotations

import json

import pytest
from worlds import copy_world

from desktop.cli import main

PERIOD = "2024-25-Q4"  # the small history world's joiners with four quarters of follow-up behind them
FIELDS = {"outcome", "estimate", "ci_low", "ci_high", "naive_estimate", "matched", "unmatched", "by_intervention"}


@pytest.fixture
def world(history_world_template, tmp_path):
    return copy_world(history_world_template, tmp_path / "history.sqlite")


def test_json_gives_each_outcome_s_estimate_interval_and_the_naive_figure(world, capsys):
    assert main(["outcomes", "--db", str(world), "--locality", "HAB", "--quarter", PERIOD, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["locality"] == "HAB" and out["period"] == PERIOD and out["follow_up_quarters"] == 4
    measured = {o["outcome"]: o for o in out["outcomes"]}
    assert set(measured) == {"emergency_admissions", "ae_attendances", "emergency_bed_days", "cost"}
    for o in measured.values():
        assert set(o) >= FIELDS
        if o["status"] == "estimated":
            assert o["ci_low"] <= o["estimate"] <= o["ci_high"]
            assert o["matched"] >= 10
    # Joiners picked at a peak fall back anyway: before/after alone claims more than the matched comparison.
    admissions = measured["emergency_admissions"]
    assert admissions["naive_estimate"] < admissions["estimate"]


def test_text_names_the_quarter_the_outcomes_and_the_caveats(world, capsys):
    assert main(["outcomes", "--db", str(world), "--locality", "HAB", "--quarter", PERIOD, "--follow-up", "2"]) == 0
    text = capsys.readouterr().out
    assert "joined the caseload in 2024/25 Q4, 2 quarters on" in text
    assert "Emergency admissions:" in text and "A&E attendances:" in text
    assert "observational comparison, not a trial" in text


def test_a_quarter_not_yet_followed_up_says_so(world, capsys):
    assert main(["outcomes", "--db", str(world), "--locality", "HAB", "--quarter", "2030-31-Q1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {o["status"] for o in out["outcomes"]} <= {"no joiners", "awaiting follow-up"}
    assert all(o["estimate"] is None for o in out["outcomes"])


def test_an_unknown_locality_is_refused_with_the_codes_known(world, capsys):
    assert main(["outcomes", "--db", str(world), "--locality", "XXX", "--quarter", PERIOD]) == 1
    assert "Known: BAL, CHA" in capsys.readouterr().err
