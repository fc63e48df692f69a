"""The demo world is anchored to the day it is built: built on any date, it looks like a live team that day.

Before this, its history stopped on a fixed day, so as the calendar moved on every home showed rounds nobody
missed and the current quarter's draft collapsed (issue 17). Built here on 15 June 2027 — a day the history
was never written for, mid-quarter, in a week under way — it must hold as it would on the day it was made.
"""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.models import clock, quarters
from desktop.models.care_homes import visits
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.demo.extract import patients_frame
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi import returns
from desktop.models.kpi.catalogue import by_code
from desktop.models.mdt import actions
from desktop.models.workspace import data_ends, data_ends_note

BUILT_ON = dt.date(2027, 6, 15)  # a Tuesday, ten weeks into 2027-28 Q1


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    db = open_workspace(tmp_path_factory.mktemp("calendar") / "demo.sqlite")
    with clock.pinned(dt.datetime.combine(BUILT_ON, dt.time(10, 0))):
        build_demo(db, small=True)
    yield db
    db.close()


def localities(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM localities ORDER BY code")]


def test_the_workspace_says_where_its_data_ends(world):
    assert data_ends(world) == BUILT_ON
    assert data_ends_note(world, BUILT_ON) == ""
    later = data_ends_note(world, BUILT_ON + dt.timedelta(days=30))
    assert "ends on 15/06/2027" in later and "New workspace" in later


def test_its_history_runs_up_to_the_day_it_was_built_and_not_beyond(world):
    last = {
        sql: world.execute(sql).fetchone()[0]
        for sql in (
            "SELECT MAX(visited_on) FROM visits",
            "SELECT MAX(held_on) FROM meetings",
            "SELECT MAX(delivered_on) FROM interventions",
            "SELECT MAX(completed_on) FROM actions",
            "SELECT MAX(COALESCE(readmitted_on, admitted_on)) FROM residents",
        )
    }
    assert all(day <= BUILT_ON.isoformat() for day in last.values()), last
    assert last["SELECT MAX(visited_on) FROM visits"] >= (BUILT_ON - dt.timedelta(days=7)).isoformat()
    # Meetings are on the second Wednesday: 9 June 2027 is this month's.
    assert last["SELECT MAX(held_on) FROM meetings"] == "2027-06-09"
    # The last quarter finished is signed off; the one under way is not.
    periods = {r[0] for r in world.execute("SELECT period FROM returns WHERE status = 'signed_off'")}
    assert quarters.of(BUILT_ON).previous().code in periods and quarters.of(BUILT_ON).code not in periods


def test_its_quarterly_extracts_are_the_latest_before_the_day(world):
    runs = [r[0] for r in world.execute("SELECT DISTINCT extract_date FROM risk_runs ORDER BY 1")]
    # Extracts are run on the 15th of each quarter's middle month; demo-extract writes the latest (15 May 2027)
    # and the world holds the eight before it.
    assert runs[-1] == "2027-02-15" and runs[0] == "2025-05-15" and len(runs) == 8
    frame = patients_frame("OAW", 50, today=BUILT_ON)
    assert len(frame) == 50


def test_no_home_misses_rounds_its_history_did_not_plan_in_the_last_four_weeks(world):
    q = quarters.of(BUILT_ON)
    missed_recently = home_weeks_recently = 0
    for loc in localities(world):
        grid = visits.round_grid(world, loc, q, BUILT_ON)
        _, finished = visits.week_progress(grid["weeks"], BUILT_ON)
        for home in grid["homes"]:
            recent = home["cells"][finished - 4 : finished]
            missed_recently += sum(1 for cell in recent if not cell)
            home_weeks_recently += len(recent)
    held, due = 0, 0
    for loc in localities(world):  # the four quarters before, as the homes' own record of misses
        for back in quarters_back(q, 4):
            grid = visits.round_grid(world, loc, back, BUILT_ON)
            held += sum(h["covered"] for h in grid["homes"])
            due += sum(h["due"] for h in grid["homes"])
    usual_miss = 1 - held / due
    recent_miss = missed_recently / home_weeks_recently
    assert home_weeks_recently > 100
    assert recent_miss < usual_miss + 0.08, (recent_miss, usual_miss)


def quarters_back(q: quarters.Quarter, n: int) -> list[quarters.Quarter]:
    out = [q.previous()]
    while len(out) < n:
        out.append(out[-1].previous())
    return out


@pytest.mark.parametrize("kpi", ["COH-02", "COH-03", "COH-04", "COH-05", "MDT-03", "CH-02", "CH-03", "CH-06"])
def test_the_current_quarters_draft_is_in_the_range_of_the_signed_off_quarters_before_it(world, kpi):
    """LLR-wide (all localities' numerators over all denominators: the small world's teams are tiny), the draft
    of the quarter under way is within the KPI's own tolerance of the last four signed-off returns."""

    def rate(rows) -> float:
        num, den = sum(r[0] or 0 for r in rows), sum(r[1] or 0 for r in rows)
        return 100 * num / den

    now = []
    shared: dict = {}
    for loc in localities(world):
        figure = next(
            f for f in kpi_compute.compute(world, loc, quarters.of(BUILT_ON), BUILT_ON, shared) if f.kpi == kpi
        )
        now.append((figure.numerator, figure.denominator))
    before = []
    for q in quarters_back(quarters.of(BUILT_ON), 4):
        rows = []
        for (return_id,) in world.execute(
            "SELECT id FROM returns WHERE period = ? AND status = 'signed_off'", [q.code]
        ):
            value = returns.values(world, return_id)[kpi]
            rows.append((value["numerator"], value["denominator"]))
        before.append(rate(rows))
    tolerance = by_code()[kpi].tolerance or 5
    assert min(before) - tolerance <= rate(now) <= max(before) + tolerance, (rate(now), before)


def test_mdt_04_in_a_quarter_under_way_is_what_the_action_log_shows_overdue_today(world):
    shared: dict = {}
    q = quarters.of(BUILT_ON)
    for loc in localities(world):
        figure = next(f for f in kpi_compute.compute(world, loc, q, BUILT_ON, shared) if f.kpi == "MDT-04")
        log = actions.listing(world, loc, actions.ActionFilter(), BUILT_ON)
        assert figure.value == sum(1 for a in log if a["overdue"])
