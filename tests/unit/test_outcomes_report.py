"""The locality report's Outcomes page (issue 27): for a world with outcome data it prints the estimate, its interval,
the naive before/after figure beside it, the counts matched and unmatched, the per-intervention estimates, the balance
table and the caveats; for a world where nothing can be evaluated it says why in one plain sentence, never a blank.

The figures come from simulated worlds with a known effect (models/outcomes/simulate.py), laid into the report of
the demo world with history; the export itself is checked on that world's own extracts, joiners a year before."""

from __future__ import annotations

import pytest
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from worlds import copy_world

from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.kpi.locality_figures import gather
from desktop.models.outcomes import simulate
from desktop.models.outcomes.evaluation import CAVEATS, evaluate
from desktop.models.outcomes.from_store import evaluate_locality
from desktop.reports import locality_report, outcomes_page

QUARTER = quarters.parse("2026-27-Q2")
ACTOR = Actor("tester", "device-test")
HEADING = "Outcomes: did the team's work change hospital use?"


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    db = open_workspace(copy_world(history_world_template, tmp_path_factory.mktemp("outcomes") / "w.sqlite"))
    yield db
    db.close()


@pytest.fixture(scope="module")
def figures(world):
    return gather(world, "CHA", QUARTER, DEMO_TODAY)


@pytest.fixture(scope="module")
def sim():
    """A world where joining cuts admissions by 0.4 a year, and its evaluation of one quarter's joiners."""
    w = simulate.simulate(3, effect_per_year=-0.4)
    return w, evaluate(w.subjects, w.joining[2])


def _outcomes_text(path) -> str:
    """The Outcomes pages' text, whitespace folded: from the page with the heading to the charts' heading."""
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(path).pages]
    first = next(n for n, text in enumerate(pages) if HEADING in text)
    text = " ".join(pages[first:])
    return text[text.index(HEADING) : text.index("Statistical process control charts")]


def _signed(value: float, places: int = 2) -> str:
    """As a board paper prints a change: a true minus, a plus for a rise."""
    text = f"{abs(value):,.{places}f}"
    return text if not text.strip("0.") else ("\u2212" if value < 0 else "+") + text


def _plain(value: float, places: int = 2) -> str:
    return ("\u2212" if value < 0 else "") + f"{abs(value):,.{places}f}"


def test_the_outcomes_page_prints_the_estimate_its_interval_and_the_naive_figure(figures, sim, tmp_path):
    w, e = sim
    out = tmp_path / "with.pdf"
    locality_report.build_report(figures, out, outcomes=e)
    text = _outcomes_text(out)
    admissions = e.outcome("emergency_admissions").overall
    assert admissions.estimate is not None and admissions.naive_estimate is not None
    assert (
        f"{_signed(admissions.estimate)} (95% CI {_plain(admissions.ci_low)} to {_plain(admissions.ci_high)})" in text
    )
    naive = f"{_signed(admissions.naive_estimate)} (95% CI {_plain(admissions.naive_ci_low)} to "
    assert naive in text
    # The bias the comparison removes is on the page: before/after alone is far below the estimate.
    assert admissions.naive_estimate < admissions.ci_low
    # The interval the page prints covers the simulated world's true effect.
    assert admissions.ci_low <= w.true_effect(e.period) <= admissions.ci_high
    assert f"Joiners matched / unmatched {admissions.matched} / {admissions.unmatched}" in text
    assert "Patients who joined the caseload in 2024/25 Q1, followed up for 4 quarters to 2025/26 Q1" in text
    for caveat in CAVEATS:
        assert " ".join(caveat.split()) in text
    for name in ("Emergency admissions", "A&E attendances", "Emergency bed days", "Cost of hospital use"):
        assert name in text
    cost = e.outcome("cost").overall
    assert f"\u2212£{abs(cost.estimate):,.0f}" in text


def test_the_outcomes_page_has_the_per_intervention_estimates_and_the_balance_table(figures, sim, tmp_path):
    _, e = sim
    out = tmp_path / "with.pdf"
    locality_report.build_report(figures, out, outcomes=e)
    text = _outcomes_text(out)
    admissions = e.outcome("emergency_admissions")
    groups = {g.intervention: g.result for g in admissions.by_intervention}
    few = [t for t, r in groups.items() if r.too_few]
    estimated = [t for t, r in groups.items() if not r.too_few]
    assert few and estimated  # the world has both kinds, so the page shows both
    for t in estimated:
        r = groups[t]
        assert f"{t} {r.treated} {r.matched} {_signed(r.estimate)} {_plain(r.ci_low)} to {_plain(r.ci_high)}" in text
    for t in few:
        assert f"{t} {groups[t].treated} {groups[t].matched} too few" in text
    prior = next(b for b in admissions.balance if b.level is None)
    assert prior.smd_before > 1  # joiners are picked at a peak of use ...
    assert f"prior-year use mean (admissions a year) {prior.treated:.1f} {prior.controls:.1f}" in text
    assert f"{prior.smd_before:.2f} {prior.smd_after:.2f}" in text  # ... and matching brings them together
    assert "SMD before SMD after" in text


def test_a_world_without_outcome_columns_gets_one_plain_sentence(figures, sim, tmp_path):
    w, _ = sim
    bare = evaluate(simulate.simulate(3, outcomes=()).subjects, w.joining[2])
    out = tmp_path / "without.pdf"
    locality_report.build_report(figures, out, outcomes=bare)
    text = _outcomes_text(out)
    assert "The outcomes cannot be evaluated: no risk extract of the locality recorded the outcome columns" in text
    assert "95% CI" not in text and "Caveats" not in text


def test_a_workspace_with_no_risk_extract_exports_the_sentence_not_a_crash(small_world_template, tmp_path):
    db = open_workspace(copy_world(small_world_template, tmp_path / "bare.sqlite"))
    out = tmp_path / "bare.pdf"
    locality_report.export(db, ACTOR, "CHA", QUARTER, out, today=DEMO_TODAY)
    db.close()
    text = _outcomes_text(out)
    assert "Patients who joined the caseload in 2025/26 Q2" in text
    assert "The outcomes cannot be evaluated: no risk extract of the locality recorded the outcome columns" in text


def test_joiners_whose_follow_up_is_not_complete_are_said_to_be_waiting(figures, tmp_path):
    # Eight runs: the joiners at the seventh have no run four quarters on.
    w = simulate.simulate(5, runs=8, joining=(2, 6))
    waiting = evaluate(w.subjects, w.joining[1])
    out = tmp_path / "waiting.pdf"
    locality_report.build_report(figures, out, outcomes=waiting)
    text = _outcomes_text(out)
    assert "The outcomes cannot be evaluated yet: the follow-up of the 60 patients who joined in 2024/25 Q3" in text
    assert "is not complete, because it needs the risk extract of 2025/26 Q3" in text


def test_too_few_joiners_are_said_to_be_too_few(figures, tmp_path):
    w = simulate.simulate(5, joiners_per_quarter=6)
    few = evaluate(w.subjects, w.joining[0])
    out = tmp_path / "few.pdf"
    locality_report.build_report(figures, out, outcomes=few)
    text = _outcomes_text(out)
    assert "The outcomes cannot be evaluated: of the 6 patients who joined the caseload in 2023/24 Q3, only" in text
    assert "an estimate needs at least 10" in text


def test_the_export_evaluates_the_joiners_whose_follow_up_ends_with_the_quarter(world, tmp_path):
    out = tmp_path / "cha.pdf"
    locality_report.export(world, ACTOR, "CHA", QUARTER, out, today=DEMO_TODAY)
    text = _outcomes_text(out)
    assert "Patients who joined the caseload in 2025/26 Q2, followed up for 4 quarters to 2026/27 Q2" in text
    cha = world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    expected = evaluate_locality(world, cha, quarters.parse("2025-26-Q2"))
    reason = outcomes_page.why_not(expected)
    if reason:
        assert " ".join(reason.split()) in text
    else:
        o = expected.outcomes[0].overall
        assert f"{_signed(o.estimate)} (95% CI" in text


def test_numbers_read_as_a_board_paper_prints_them():
    assert outcomes_page.number("emergency_admissions", -0.004) == "0.00"  # no minus before a rounded zero
    assert outcomes_page.number("emergency_admissions", 0.5, signed=True) == "+0.50"
    assert outcomes_page.number("emergency_bed_days", -5.04) == "\u22125.0"
    assert outcomes_page.number("cost", -4185.2) == "\u2212£4,185"
    assert outcomes_page.number("cost", None) == "—"
    assert outcomes_page.smd(-4e-17) == "0.00"
    assert outcomes_page.smd(None) == "∞"
