"""The 11 teams by place and by former CCG area (issue 24): the Rutland rule (MSR is the Rutland place and out
of the county subtotal), subtotals pooled from numerators and denominators, the funnel position of a team, and
the Board's requests drafted from the exceptions, parsed back from the editor and checked for identifiers."""

from __future__ import annotations

import pytest

from desktop.models import quarters
from desktop.models.errors import ValidationError
from desktop.models.kpi import consolidated, places, system_board
from desktop.models.kpi.catalogue import by_code
from desktop.models.workspace import create_workspace


@pytest.fixture(scope="module")
def teams(tmp_path_factory):
    db = create_workspace(tmp_path_factory.mktemp("places") / "icb.sqlite", "commissioner")
    yield consolidated.localities(db)
    db.close()


def test_every_team_has_one_place_and_rutland_is_msr_alone(teams):
    groups = {g.name: g for g in places.by_place(teams)}
    assert list(groups) == [places.CITY, places.COUNTY, places.RUTLAND]
    assert groups[places.CITY].codes == ("CTE", "CTN", "CTS", "CTW")
    assert groups[places.RUTLAND].codes == ("MSR",) and "Melton and Syston" in groups[places.RUTLAND].note
    assert groups[places.COUNTY].codes == ("BAL", "CHA", "HAB", "MHA", "NWL", "OAW")  # MSR left out
    everyone = places.order(list(groups.values()))
    assert sorted(everyone) == sorted(t["code"] for t in teams) and len(everyone) == len(set(everyone)) == 11
    assert "MSR is shown as the Rutland place" in places.RUTLAND_RULE


def test_former_ccg_areas_follow_the_localities_table(teams):
    areas = {g.name: g.codes for g in places.by_ccg(teams)}
    assert list(areas) == list(places.CCGS)
    assert areas["Leicester City"] == ("CTE", "CTN", "CTS", "CTW")
    assert areas["West Leicestershire"] == ("CHA", "HAB", "NWL")
    assert areas["East Leicestershire & Rutland"] == ("BAL", "MHA", "MSR", "OAW")


def test_subtotals_pool_numerators_and_denominators():
    pct, count = by_code()["COH-02"], by_code()["MDT-01"]
    rows = [
        {"numerator": 10.0, "denominator": 100.0},
        {"numerator": 70.0, "denominator": 100.0},
        {"numerator": 30.0, "denominator": 0.0},  # no denominator: left out of a rate
        None,  # no return
        {"numerator": None, "denominator": None},
    ]
    pooled = consolidated.pooled(pct, rows)
    assert (pooled["numerator"], pooled["denominator"], pooled["value"], pooled["teams"]) == (80, 200, 40.0, 2)
    assert pooled["rag"] == pct.rag(40.0) == "R"  # judged like a team
    total = consolidated.pooled(count, [{"numerator": 3.0, "denominator": None}, {"numerator": 2.0}, None])
    assert (total["value"], total["teams"], total["rag"]) == (5.0, 2, None)  # a count's target is each team's
    assert consolidated.pooled(pct, [None, {"numerator": None, "denominator": None}]) is None


def _funnel(kpi_code: str, centre: float, points: list[tuple[str, float, float]]) -> consolidated.Funnel:
    import numpy as np

    kpi = by_code()[kpi_code]
    rows = [{"locality": c, "name": c, "numerator": n, "denominator": d, "value": 0.0} for c, n, d in points]
    return consolidated.Funnel(kpi, quarters.parse("2026-27-Q2"), rows, centre, np.array([1.0]), {})


def test_funnel_positions_including_per_100000_and_a_funnel_at_100_percent():
    rate = _funnel("BCF-01", 150.0, [])  # per 100,000: LLR 150 per 100,000
    assert consolidated.position(rate, 20_000, 152.0) == (consolidated.WITHIN, True)
    band, above = consolidated.position(rate, 20_000, 260.0)
    assert band == consolidated.BEYOND_998 and above
    assert consolidated.position(rate, 20_000, 90.0)[0] == consolidated.BEYOND_95  # 18 of 20,000 against 30
    full = _funnel("COH-07", 100.0, [])  # every team at 100 %: nobody is an outlier from a line they sit on
    assert consolidated.position(full, 3_000, 100.0) == (consolidated.WITHIN, False)
    assert "per_100000" in consolidated.FUNNEL_UNITS


def _board(**kw) -> system_board.Board:
    teams = [{"code": c, "name": f"Team {c}"} for c in ("BAL", "CHA", "HAB")]
    board = system_board.Board(quarters.parse("2026-27-Q2"), quarters.parse("2026-27-Q1"), teams, 2, ["HAB"], [])
    for key, value in kw.items():
        setattr(board, key, value)
    return board


def test_the_draft_names_the_exceptions_whatever_they_are():
    out = by_code()["OUT-01"]  # lower is better
    outliers = [
        system_board.Outlier(out, "CHA", "Charnwood", 95.0, 70.0, above=True),  # worse
        system_board.Outlier(out, "BAL", "Blaby", 40.0, 70.0, above=False),  # better
    ]
    asks = system_board.draft_asks(_board(outliers=outliers, targets_met=20, targets_judged=30))
    assert asks[0].startswith("note the position of the integrated locality teams in 2026/27 Q2: 20 of 30")
    assert any("CHA on OUT-01 (above LLR)" in a and a.startswith("ask the team beyond") for a in asks)
    assert any("significantly better than LLR (BAL on OUT-01 (below LLR))" in a for a in asks)
    assert "ask HAB to send their outstanding 2026/27 Q2 returns" in asks
    many = [system_board.Outlier(out, f"T{i}", f"T{i}", 95.0, 70.0, above=True) for i in range(12)]
    crowded = system_board.draft_asks(_board(outliers=many))
    assert any("12 cases across 1 KPIs, named under Outliers above" in a for a in crowded)  # a sentence still


def test_requests_are_parsed_from_the_editor_and_checked_for_identifiers(tmp_path):
    text = system_board.asks_text(["note the report", "ask for a plan"]) + "\n\n  3. agree 12 actions\n- review"
    assert system_board.parse_asks(text) == ["note the report", "ask for a plan", "agree 12 actions", "review"]
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    try:
        system_board.check_asks(db, ["note the 12 teams' returns for LE1"])  # a district alone is no postcode
        with pytest.raises(ValidationError, match="Board request 2 holds what looks like a postcode"):
            system_board.check_asks(db, ["note the report", "visit LE11 3QF"])
    finally:
        db.close()
