"""The forest plot of the teams' outcome estimates on the Commissioner screen (issue 27): one interval per team whose
return estimated the chosen outcome, around a zero line, top to bottom as the model sorts them; the others listed
beneath; an outcome chooser worked from the keyboard; every control named; and an empty state when no return of the
quarter carries outcomes. On a commissioner workspace of eleven imported files, and on the demo world."""

from __future__ import annotations

import copy
import functools

import pytest
from a11y_helpers import unnamed
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from PySide6.QtCore import Qt
from return_files import return_doc, trust_teams, write

from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.kpi import return_outcomes, returns
from desktop.models.kpi.return_import import import_returns
from desktop.models.outcomes import evaluation, simulate
from desktop.models.outcomes.periods import joining_quarter
from desktop.models.workspace import create_workspace
from desktop.views.kit.session import Session

TEAMS = ("BAL", "CHA", "CTE", "CTN", "CTS", "CTW", "HAB", "MHA", "MSR", "NWL", "OAW")
PERIOD = quarters.parse("2025-26-Q3")


def _with_outcomes(code: str, seed: int) -> dict:
    doc = return_doc(code, PERIOD.code)
    doc["version"] = returns.OUTCOMES_VERSION
    doc["outcomes"] = copy.deepcopy(_simulated_section(seed))
    return doc


@functools.cache  # a simulated world and its evaluation cost ~0.3 s: once per seed for the whole run
def _simulated_section(seed: int) -> list[dict]:
    world = simulate.simulate(seed, effect_per_year=-0.3)
    return return_outcomes.section(evaluation.evaluate(world.subjects, joining_quarter(PERIOD)).as_json())


def _commissioner(make_window, settings, tmp_path, docs):
    path = tmp_path / "icb.sqlite"
    db = create_workspace(path, "commissioner")
    trust_teams(db)
    files = [write(tmp_path / f"r{n}.json", doc) for n, doc in enumerate(docs)]
    assert {o.status for o in import_returns(db, Actor(user="icb", device_id="icb"), files)[0]} == {"imported"}
    db.close()
    window = make_window(Session.open(path, settings))
    window.show_screen("commissioner")
    return window


def _forest(window, qtbot):
    page = window.current_page()
    page.side.setCurrentWidget(page.forest)
    qtbot.waitUntil(lambda: not page.forest._stale)
    return page.forest


def _drawn(forest) -> dict[str, tuple[list[float], list[float]]]:
    """Locality code -> (x, y) of its interval as drawn."""
    return {code: tuple(list(a) for a in line.getData()) for code, line in forest.intervals.items() if line.isVisible()}


@pytest.fixture
def eleven(make_window, settings, tmp_path):
    return _commissioner(make_window, settings, tmp_path, [_with_outcomes(c, n) for n, c in enumerate(TEAMS)])


def test_eleven_estimates_give_eleven_intervals_sorted_around_a_zero_line(eleven, qtbot):
    forest = _forest(eleven, qtbot)
    model = return_outcomes.forest(eleven.session.db, PERIOD, "emergency_admissions")
    assert forest.chooser.currentData() == "emergency_admissions" and forest.chart.isVisible()
    drawn = _drawn(forest)
    assert len(drawn) == len(model.rows) == 11
    for n, row in enumerate(model.rows):
        xs, ys = drawn[row.code]
        assert xs == pytest.approx([row.ci_low, row.ci_high])
        assert ys == [10 - n, 10 - n]  # the model's first row (the largest fall) at the top
    assert list(forest.points.data["x"]) == pytest.approx([r.estimate for r in model.rows])
    assert forest.zero_line.value() == 0 and forest.zero_line.angle == 90
    ticks = dict(forest.chart.getAxis("left")._tickLevels[0])
    assert [ticks[10 - n] for n in range(11)] == [r.code for r in model.rows]
    assert forest.chart.accessibleName().endswith("11 teams estimated")
    assert all(code in forest.chart.accessibleDescription() for code in TEAMS)
    assert not forest.others.isVisible()  # every team drawn: nobody to list beneath
    assert unnamed(eleven) == []


def test_the_outcome_is_chosen_from_the_keyboard_and_the_plot_follows(eleven, qtbot):
    forest = _forest(eleven, qtbot)
    assert [forest.chooser.itemData(i) for i in range(forest.chooser.count())] == [
        "emergency_admissions",
        "ae_attendances",
        "emergency_bed_days",
        "cost",
    ]
    assert forest.chooser.focusPolicy() & Qt.FocusPolicy.TabFocus
    assert forest.chart.focusPolicy() & Qt.FocusPolicy.TabFocus
    forest.chooser.setFocus()
    qtbot.keyClick(forest.chooser, Qt.Key.Key_End)
    assert forest.chooser.currentData() == "cost"
    cost = return_outcomes.forest(eleven.session.db, PERIOD, "cost")
    assert [c for c in forest.estimated_codes()] == [r.code for r in cost.rows]
    assert _drawn(forest)[cost.rows[0].code][0] == pytest.approx([cost.rows[0].ci_low, cost.rows[0].ci_high])
    assert "£" in forest.chart.accessibleDescription() and "Cost of care" in forest.heading.text()


def test_teams_without_an_estimate_are_listed_beneath_not_drawn(make_window, settings, tmp_path, qtbot):
    docs = [_with_outcomes(c, n) for n, c in enumerate(TEAMS[:9])]
    few = next(e for e in docs[1]["outcomes"] if e["outcome"] == "emergency_admissions")  # CHA
    few.update(status="too few", estimate=None, ci_low=None, ci_high=None, matched=4, by_intervention=[])
    docs.append(return_doc("NWL", PERIOD.code))  # a version 1 return: nothing measured
    forest = _forest(_commissioner(make_window, settings, tmp_path, docs), qtbot)
    assert sorted(_drawn(forest)) == sorted(set(TEAMS[:9]) - {"CHA"})
    text = forest.others.text()
    assert forest.others.isVisible()
    assert "Too few joiners to estimate: Charnwood (CHA, 4 matched)" in text
    assert "Not measured: North West Leicestershire (NWL)" in text and "No return held: Oadby & Wigston (OAW)" in text


def test_no_return_with_outcomes_shows_the_empty_state(make_window, settings, tmp_path, qtbot):
    window = _commissioner(make_window, settings, tmp_path, [return_doc(c, PERIOD.code) for c in TEAMS])
    forest = _forest(window, qtbot)
    assert not forest.chooser.isEnabled() and forest.chooser.count() == 0
    assert forest.chart is None or not forest.chart.isVisible()
    assert "No return held for 2025/26 Q3 carries outcome estimates" in forest.note.text()
    assert not forest.others.isVisible()


def test_on_the_demo_world_the_plot_draws_the_teams_whose_sign_off_estimated_it(mdt_window, qtbot):
    mdt_window.show_screen("commissioner")
    page = mdt_window.current_page()
    quarter = quarters.parse("2025-26-Q4")
    page.set_quarter(quarter)
    forest = _forest(mdt_window, qtbot)
    model = return_outcomes.forest(mdt_window.session.db, quarter, "emergency_admissions")
    assert len(model.rows) >= 5  # the demo world's teams signed off estimates for the joiners of 2024/25 Q4
    assert sorted(_drawn(forest)) == sorted(r.code for r in model.rows)
    listed = forest.others.text()
    assert all(f"({code}, " in listed for code, _, _ in model.too_few)
    assert "Patients who joined a caseload in 2024/25 Q4" in forest.note.text()
