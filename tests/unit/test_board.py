"""The board paper on the front of the locality report (models/kpi/board.py, issue 24 point 4): the year's rules
on constructed figures (flows sum, ratios pool, stocks take the latest; forecast at the run rate against the
annual plan; direction of travel by the KPI's direction), and the recommendations drafted from a red, from an
assurance fail and from a quarter with nothing to flag. No world is built: the figures are made here."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.models.errors import ValidationError
from desktop.models.kpi import board
from desktop.models.kpi.board import Figure
from desktop.models.kpi.catalogue import by_code
from desktop.models.kpi.locality_figures import KpiRow, LocalityFigures
from desktop.models.quarters import parse

K = by_code()
Q2 = parse("2026-27-Q2")


def test_each_kpi_has_one_rule():
    assert board.rule(K["MDT-01"]) == board.rule(K["COH-06"]) == board.rule(K["OUT-04"]) == "flow"
    assert board.rule(K["COH-01"]) == board.rule(K["MDT-04"]) == board.rule(K["CH-01"]) == "stock"
    assert board.rule(K["COH-02"]) == board.rule(K["OUT-01"]) == board.rule(K["BCF-01"]) == "ratio"


def test_a_flow_sums_and_forecasts_at_its_run_rate_against_four_quarterly_targets():
    kpi = K["MDT-01"]  # meetings held, target 3 a quarter
    ytd, held = board.year_to_date(kpi, [Figure(2, None, 2.0), Figure(3, None, 3.0)])
    assert (ytd, held) == (5.0, 2)
    assert board.forecast(kpi, ytd, held) == 10.0  # 5 × 4 / 2
    assert board.annual_plan(kpi) == 12
    assert board.outturn_rag(kpi, 10.0) == "A"  # 2 short, within 4 × the tolerance of 1
    assert board.outturn_rag(kpi, 7.0) == "R" and board.outturn_rag(kpi, 12.0) == "G"
    # A quarter with no return is left out of the run rate, not counted as nought.
    assert board.year_to_date(kpi, [None, Figure(3, None, 3.0), Figure(4, None, 4.0)]) == (7.0, 2)
    assert board.forecast(kpi, 7.0, 2) == 14.0


def test_a_ratio_pools_numerators_and_denominators():
    kpi = K["COH-02"]  # a percentage
    ytd, held = board.year_to_date(kpi, [Figure(10, 100, 10.0), Figure(90, 100, 90.0), Figure(1, 2, 50.0)])
    assert held == 3 and ytd == round(100 * 101 / 202, 1)  # 50.0, not the mean of 10, 90 and 50
    assert board.forecast(kpi, ytd, held) == ytd
    assert board.annual_plan(kpi) == kpi.target
    rate = K["OUT-01"]  # per 1,000
    assert board.year_to_date(rate, [Figure(5, 1000, 5.0), Figure(15, 1000, 15.0)]) == (10.0, 2)


def test_a_stock_takes_the_latest_quarter():
    for code in ("COH-01", "MDT-04", "CH-01"):
        kpi = K[code]
        ytd, held = board.year_to_date(kpi, [Figure(30, 40, 75.0), Figure(20, 40, 50.0), None])
        assert (ytd, held) == (50.0, 2), code
        assert board.forecast(kpi, ytd, held) == 50.0


def test_nothing_held_gives_no_year():
    assert board.year_to_date(K["MDT-01"], [None, Figure(None, None, None)]) == (None, 0)
    assert board.forecast(K["MDT-01"], None, 0) is None


def test_direction_of_travel_is_judged_by_the_direction_of_good():
    assert board.travel(K["COH-02"], 70.0, 60.0) == "better"  # higher is good
    assert board.travel(K["MDT-04"], 10.0, 5.0) == "worse"  # lower is good
    assert board.travel(K["COH-01"], 10.0, 5.0) == "higher"  # no direction of good
    assert board.travel(K["COH-02"], 60.04, 60.0) == "same"
    assert board.travel(K["COH-02"], 60.0, None) is None


def _row(code: str, value: float | None, rag: str | None, previous: float | None = None, **kw) -> KpiRow:
    better = None if previous is None or value == previous else (value > previous) == (K[code].direction == "high")
    return KpiRow(K[code], None, None, value, rag, kw.pop("comment", ""), None, previous, None, better, **kw)


def _figures(*rows: KpiRow) -> LocalityFigures:
    return LocalityFigures(
        {"code": "CHA", "name": "Charnwood"}, Q2, dt.date(2026, 10, 20), None, list(rows), None, {}, {}
    )


def test_a_red_without_an_action_asks_for_one_and_with_actions_notes_them():
    action = {"reference": "CHA-2026-0001", "status": "open"}
    figures = _figures(
        _row("COH-04", 60.0, "R", 70.0, comment="Two practices joined late. Cover agreed."),
        _row("MDT-04", 40.0, "R", 30.0, actions=[action], assurance="fail"),
        _row("COH-02", 70.0, "G", 60.0),
    )
    asks = board.draft_asks(figures)
    assert asks[0].startswith("note Charnwood's performance in 2026/27 Q2")
    [coh04] = [a for a in asks if "COH-04" in a]
    assert coh04.startswith("ask the locality team for an action") and "no action has been raised" in coh04
    [mdt04] = [a for a in asks if "MDT-04" in a]
    assert mdt04.startswith("note that MDT-04") and "CHA-2026-0001" in mdt04 and "1 open" in mdt04
    assert "will not meet its target" in mdt04
    assert any(a.startswith("note the improvement in") and "COH-02" in a for a in asks)
    headline = board.headline(figures)
    assert headline.startswith("Charnwood met 1 of 3 targets in 2026/27 Q2")
    assert "reviews in date and overdue actions are red" in headline
    better, worse = board.changes(figures)
    assert [c.row.kpi.code for c in better] == ["COH-02"]
    assert {c.row.kpi.code for c in worse} == {"COH-04", "MDT-04"}
    assert next(c for c in worse if c.row.kpi.code == "COH-04").why == "Two practices joined late."


def test_an_assurance_fail_that_is_not_red_is_noted():
    asks = board.draft_asks(_figures(_row("CH-02", 88.0, "A", assurance="fail")))
    assert asks[1] == "note that CH-02 (care-home rounds) will not meet its target without a change to the process"


def test_a_quarter_with_nothing_to_flag_asks_only_to_note_it():
    figures = _figures(_row("COH-02", 70.0, "G", 70.0), _row("COH-06a", 12.0, None, 3.0))
    assert board.draft_asks(figures) == ["note Charnwood's performance in 2026/27 Q2"]
    assert board.headline(figures).startswith("Charnwood met 1 of 1 targets in 2026/27 Q2; none is red.")


def test_typed_asks_are_read_one_a_line():
    text = "The Board is asked to: note the report\n\n(b) agree the plan\n- ask for a date  \n  "
    assert board.parse_asks(text) == ["note the report", "agree the plan", "ask for a date"]


def test_a_recommendation_with_an_nhs_number_is_refused_without_echoing_it(small_world):
    with pytest.raises(ValidationError, match="recommendation \\(b\\) to the board holds what looks like an NHS"):
        board.check_asks(small_world, ["note the report", "follow up 943 476 5919"])
    board.check_asks(small_world, ["note the report", "agree the plan by 30/11/2026"])
