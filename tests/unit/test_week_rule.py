"""Issue 24.6: a week that straddles two quarters was counted in both (CH-02's home-weeks: 38 homes × 14).

The rule, stated once in Quarter.weeks and in CH-02's definition: a week runs Monday to Sunday and belongs to
the quarter holding its Sunday (the NHS "week ending" convention), so every week of a quarter has ended by the
quarter's last day. The round grid, the visit report and CH-02 all count Quarter.weeks."""

from __future__ import annotations

import datetime as dt

from desktop.models import quarters
from desktop.models.care_homes import visits
from desktop.models.clock import Actor
from desktop.models.kpi import compute as kpi_compute

ACTOR = Actor(user="matron.b", device_id="laptop-9")
WEEK = dt.timedelta(days=7)
QUARTERS = [quarters.Quarter(year, q) for year in range(2024, 2029) for q in (1, 2, 3, 4)]  # 2024/25 to 2028/29


def test_consecutive_quarters_share_no_week_and_leave_none_out():
    for q in QUARTERS:
        weeks, following = q.weeks(), q.next().weeks()
        assert not set(weeks) & set(following), q.code
        assert following[0] == weeks[-1] + WEEK, q.code  # no week falls between them
        assert all(b - a == WEEK for a, b in zip(weeks, weeks[1:], strict=False)), q.code
        assert all(w.weekday() == 0 and q.start <= w + dt.timedelta(days=6) <= q.end for w in weeks), q.code
        assert 12 <= len(weeks) <= 14, q.code
    every = [w for q in QUARTERS for w in q.weeks()]
    assert len(every) == len(set(every)) == (every[-1] - every[0]).days // 7 + 1
    assert sum(len(q.weeks()) == 13 for q in QUARTERS) >= 16  # 13 as a rule, 12 or 14 now and then


def test_a_round_in_the_week_straddling_two_quarters_counts_in_one_grid_and_one_ch02(small_world):
    db = small_world
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    home = db.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY name LIMIT 1", [loc]).fetchone()[0]
    homes = db.execute("SELECT COUNT(*) FROM care_homes WHERE locality_id = ?", [loc]).fetchone()[0]
    q3, q4 = quarters.parse("2025-26-Q3"), quarters.parse("2025-26-Q4")
    today = dt.date(2026, 4, 20)  # both quarters over
    straddling = dt.date(2025, 12, 29)  # Monday 29 December 2025 to Sunday 4 January 2026: Q4's
    assert straddling not in q3.weeks() and q4.weeks()[0] == straddling

    def ch02(q: quarters.Quarter) -> tuple[float | None, float | None]:
        figure = next(f for f in kpi_compute.compute(db, loc, q, today) if f.kpi == "CH-02")
        return figure.numerator, figure.denominator

    def cell(q: quarters.Quarter) -> list[list[str]]:
        return next(h for h in visits.round_grid(db, loc, q, today)["homes"] if h["id"] == home)["cells"]

    (q3_held, q3_weeks), (q4_held, q4_weeks) = ch02(q3), ch02(q4)
    assert (q3_weeks, q4_weeks) == (homes * len(q3.weeks()), homes * len(q4.weeks()))  # 13 weeks each, not 14
    assert not cell(q4)[0]
    q3_cells = cell(q3)
    visits.log_visit(db, ACTOR, home, "2025-12-30", "weekly home round", today=today)  # a December day of Q4's week
    assert ch02(q3) == (q3_held, q3_weeks)
    assert ch02(q4) == (q4_held + 1, q4_weeks)
    assert cell(q3) == q3_cells  # the Q3 grid shows nothing new
    assert len(cell(q4)[0]) == 1
