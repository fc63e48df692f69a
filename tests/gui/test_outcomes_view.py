"""The Outcomes section of the Reports screen (issue 27) on the demo world with history: for the chosen locality and
quarter it shows what the locality report's Outcomes page prints (the estimate with its interval beside the naive
figure, the counts, a chart, the per-intervention table, the balance table), or the sentence saying why nothing can
be evaluated; it follows the locality and the quarter, the per-intervention table sorts by number, and the outcome
list is reachable from the keyboard."""

from __future__ import annotations

import math

import pytest
from a11y_helpers import alt_letters, reachable, unnamed
from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from pinned import TODAY as DEMO_TODAY
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from desktop.models.outcomes import simulate
from desktop.models.outcomes.evaluation import CAVEATS, evaluate
from desktop.reports import outcomes_page
from desktop.views.reports import page as reports_page
from desktop.views.reports.outcomes_view import INTERVENTION_COLUMNS
from desktop.views.reports.page import OUTCOMES_TAB

LOAD_MS = 30_000
ESTIMATE = INTERVENTION_COLUMNS.index("Estimate")


def _loaded(page, qtbot) -> None:
    view = page.outcomes
    qtbot.waitUntil(lambda: not page.is_loading and view.key in view.cache and not page.stale, timeout=LOAD_MS)


@pytest.fixture
def page(mdt_window, monkeypatch, qtbot):
    """The Reports screen of Charnwood, shown, its outcomes loaded; the screen's today is the demo's."""
    monkeypatch.setattr(reports_page.ReportsPage, "today", staticmethod(lambda: DEMO_TODAY))
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    shown = mdt_window.current_page()
    qtbot.waitUntil(lambda: not shown.is_loading, timeout=LOAD_MS)
    assert not shown.outcomes.isVisible() and shown.outcomes.key is None  # not worked out until asked for
    qtbot.keyClick(mdt_window, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)  # the &Outcomes tab
    assert shown.tabs.currentIndex() == OUTCOMES_TAB and shown.outcomes.isVisible()
    _loaded(shown, qtbot)
    return shown


def _evaluations(db, page) -> dict:
    """(locality code, report quarter) -> the evaluation the report prints, for every locality and two quarters."""
    found = {}
    for code, locality in db.execute("SELECT code, id FROM localities ORDER BY code"):
        for quarter in (page.quarter, page.quarter.previous()):
            found[(code, quarter)] = outcomes_page.for_report(db, locality, quarter)
    return found


def _signed(value: float) -> str:
    """As the section prints a change: a true minus, a plus for a rise, neither for what rounds to zero."""
    text = f"{abs(value):.2f}"
    return text if text == "0.00" else ("\u2212" if value < 0 else "+") + text


def _go(window, page, qtbot, code: str, quarter) -> None:
    choose_locality(window, code)
    if page.quarter != quarter:
        page.set_quarter(quarter)
    _loaded(page, qtbot)


def _chosen(found: dict) -> tuple[tuple, tuple]:
    """A (locality, quarter) whose joiners have an estimate, and one where nothing can be evaluated."""
    estimated = [k for k, e in found.items() if outcomes_page.why_not(e) is None]
    not_evaluated = [k for k, e in found.items() if outcomes_page.why_not(e)]
    assert estimated and not_evaluated, "the demo world should have joiners to evaluate and quarters with too few"
    return estimated[0], not_evaluated[0]


def test_the_section_shows_the_estimate_and_follows_the_locality_and_quarter(page, mdt_window, mdt_session, qtbot):
    view = page.outcomes
    found = _evaluations(mdt_session.db, page)
    (code, quarter), (other, other_quarter) = _chosen(found)

    _go(mdt_window, page, qtbot, code, quarter)
    evaluation = found[(code, quarter)]
    shown = next(r for r in evaluation.outcomes if not r.overall.too_few)
    view.choice.setCurrentIndex(view.choice.findData(shown.outcome))
    o = shown.overall
    assert view.body.isVisible() and not view.state.isVisible()
    text = view.headline.text()
    assert f"{_signed(o.estimate)} (95% CI" in text
    assert f"{_signed(o.naive_estimate)} (95% CI" in text
    assert f"{o.matched:,} of {o.treated:,} joiners with data matched ({o.unmatched:,} unmatched" in view.counts.text()
    assert f"joined the caseload in {evaluation.period.label}" in view.who.text()
    assert view.groups.model().rowCount() == len(shown.by_intervention)
    assert view.balance.model().rowCount() == len(shown.balance)
    assert view.chart.isVisible() and "caseload" in view.chart.accessibleName()
    xs, ys = view.caseload_line.getData()
    expected = [p.treated for p in shown.series]
    assert [None if math.isnan(y) else pytest.approx(y) for y in ys] == expected
    assert list(xs) == [p.quarter for p in shown.series]
    assert view.caveats.text() == " ".join(CAVEATS)
    assert {view.choice, view.groups, view.balance, view.chart} <= set(reachable(view))
    assert unnamed(view) == []  # every control of the section has a name a screen reader says

    # Another locality and quarter: the sentence that says why nothing can be evaluated, and nothing else.
    _go(mdt_window, page, qtbot, other, other_quarter)
    reason = outcomes_page.why_not(found[(other, other_quarter)])
    assert view.state.isVisible() and not view.body.isVisible()
    assert reason in view.state.text()
    assert found[(other, other_quarter)].period.label in view.state.text()

    # And back: the estimate again, from the cache.
    _go(mdt_window, page, qtbot, code, quarter)
    assert view.body.isVisible() and f"{_signed(o.estimate)} (95% CI" in view.headline.text()


def test_the_per_intervention_table_sorts_by_number_with_too_few_last(page, mdt_window, monkeypatch, qtbot):
    # A simulated world's joiners: intervention types both estimated and too few, whatever the demo's hold.
    w = simulate.simulate(3, effect_per_year=-0.4)
    evaluation = evaluate(w.subjects, w.joining[2])
    monkeypatch.setattr(outcomes_page, "for_report", lambda _db, _locality, _quarter: evaluation)
    _go(mdt_window, page, qtbot, "BAL", page.quarter)
    view = page.outcomes
    view.choice.setCurrentIndex(view.choice.findData("emergency_admissions"))
    table = view.groups
    header = table.horizontalHeader()
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(header.sectionViewportPosition(ESTIMATE) + 8, 8)
    )
    model = table.model()
    cells = [model.index(row, ESTIMATE).data() for row in range(model.rowCount())]
    numbers = [float(c.replace("\u2212", "-")) for c in cells if c != "too few"]
    groups = evaluation.outcome("emergency_admissions").by_intervention
    assert len(numbers) == sum(not g.result.too_few for g in groups) >= 2
    assert numbers == sorted(numbers)
    assert cells[len(numbers) :] == ["too few"] * sum(g.result.too_few for g in groups)  # after every estimate
    order = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert order != [g.intervention for g in groups]  # the click re-ordered the rows given alphabetically
    # The order chosen holds when another outcome is shown.
    view.choice.setCurrentIndex(view.choice.findData("ae_attendances"))
    cells = [model.index(row, ESTIMATE).data() for row in range(model.rowCount())]
    again = [float(c.replace("\u2212", "-")) for c in cells if c != "too few"]
    assert again == sorted(again) and len(again) >= 2


def test_the_outcome_is_chosen_from_the_keyboard(page, mdt_window, mdt_session, qtbot):
    found = _evaluations(mdt_session.db, page)
    (code, quarter), _ = _chosen(found)
    _go(mdt_window, page, qtbot, code, quarter)
    view = page.outcomes
    assert view.choice.count() == len(found[(code, quarter)].outcomes) > 1
    view.choice.setCurrentIndex(0)
    letters = alt_letters(mdt_window)
    assert letters["T"] == letters["O"] == 1  # Ou&tcome's and the &Outcomes tab's are no other control's or menu's
    assert max(letters.values()) == 1
    qtbot.keyClick(mdt_window, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert QApplication.focusWidget() is view.choice
    qtbot.keyClick(view.choice, Qt.Key.Key_Down)
    assert view.choice.currentIndex() == 1
    second = found[(code, quarter)].outcomes[1]
    if second.overall.too_few:
        assert view.headline.text() == f"{outcomes_page.LABELS[second.outcome]}: too few to estimate"
        assert view.note.text() == outcomes_page.not_estimated(second) and not view.groups.isVisible()
    else:
        assert f"{_signed(second.overall.estimate)} (95% CI" in view.headline.text()
    assert view.choice.accessibleName()
