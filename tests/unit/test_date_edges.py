"""Calendar and clock edges: where a date rule is most likely to be off by one day, one week or one hour.

Guards the business rules at their boundaries: the financial-year rollover on 31 March / 1 April, the last day
of a quarter (its return cannot be signed off until it is over), 29 February, England's bank holidays in the
7-working-day PCSP rule, a week that straddles two quarters (counted in one quarter's round grid only), the UK
clock changes (the business date is the UK date; UTC stamps order edits across the repeated autumn hour) and the
pinned clock itself.

Expected answers come from the calendar, not from the code: dates are walked day by day here, against England's
bank holidays as gov.uk publishes them, typed in below.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from extract_helpers import patient, synthetic_nhs, write_csv

from desktop.models import clock, quarters
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.dates import add_months
from desktop.models.errors import ValidationError
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi import returns
from desktop.models.mdt import actions
from desktop.models.working_days import add_working_days, is_working_day

ACTOR = Actor(user="fed.manager", device_id="laptop-5", role="federation manager")
DAY = dt.timedelta(days=1)
Q4_2026 = quarters.Quarter(2026, 4)  # January to March 2027
Q1_2027 = quarters.Quarter(2027, 1)  # April to June 2027

# England and Wales bank holidays as gov.uk lists them, typed in so the expectations do not come from the
# `holidays` package the code uses. 2027: Christmas Day and Boxing Day fall on Saturday and Sunday, so the
# substitute days are Monday 27 and Tuesday 28 December. 2028: New Year's Day is a Saturday (substitute Monday
# 3 January); Easter Sunday is 16 April.
ENGLAND_BANK_HOLIDAYS = {
    2027: {
        dt.date(2027, 1, 1),
        dt.date(2027, 3, 26),
        dt.date(2027, 3, 29),
        dt.date(2027, 5, 3),
        dt.date(2027, 5, 31),
        dt.date(2027, 8, 30),
        dt.date(2027, 12, 27),
        dt.date(2027, 12, 28),
    },
    2028: {
        dt.date(2028, 1, 3),
        dt.date(2028, 4, 14),
        dt.date(2028, 4, 17),
        dt.date(2028, 5, 1),
        dt.date(2028, 5, 29),
        dt.date(2028, 8, 28),
        dt.date(2028, 12, 25),
        dt.date(2028, 12, 26),
    },
}
BANK_HOLIDAYS = set().union(*ENGLAND_BANK_HOLIDAYS.values())

# What test_returns.py types in for the four KPIs taken from secondary-care data.
ENTERED = {"OUT-01": (41, 900), "OUT-02": (120, 900), "OUT-03": (12, 1000), "OUT-04": (30, None)}


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from *first* to *last*, both included."""
    return [first + n * DAY for n in range((last - first).days + 1)]


def walk_working_days(start: dt.date, count: int) -> dt.date:
    """*count* working days after *start*, walked day by day against the typed-in list above."""
    day = start
    while count:
        day += DAY
        if day.weekday() < 5 and day not in BANK_HOLIDAYS:
            count -= 1
    return day


@pytest.fixture
def london():
    """The machine's clock set to UK time, as on the users' laptops, undone after the test."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Europe/London")
        time.tzset()
        yield
    time.tzset()  # back to the machine's zone, now that TZ is restored


@pytest.fixture
def charnwood(small_world, cha, tmp_path):
    """Charnwood in the small world, with an extract of five patients: (db, locality id, a care home, a GP)."""
    code, mine, _ = cha
    rows = [patient(n, mine[0]) for n in range(1, 6)]
    with clock.pinned(dt.date(2027, 1, 4)):
        import_extract(small_world, ACTOR, code, write_csv(tmp_path / "x.csv", rows), dt.date(2027, 1, 4))
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    home = small_world.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY name", [loc]).fetchone()[0]
    gp = small_world.execute(
        "SELECT id FROM staff WHERE locality_id = ? AND role = 'GP' ORDER BY name", [loc]
    ).fetchone()[0]
    return small_world, loc, home, gp


def return_blocked_only_by_its_date(db, loc: str, quarter: quarters.Quarter) -> str:
    """A draft return of *quarter* with its entered KPIs typed in and every red or failed rule commented, so
    that only the date can still block its sign-off."""
    after = quarter.end + DAY
    with clock.pinned(after):
        return_id, _ = returns.draft(db, ACTOR, loc, quarter)
        for kpi, (numerator, denominator) in ENTERED.items():
            returns.enter(db, ACTOR, return_id, kpi, numerator, denominator)
        for issue in returns.check(db, return_id):
            if issue["kind"] in ("red", "rule", "implausible"):
                returns.comment(db, ACTOR, return_id, issue["kpi"], "New team; recovery plan agreed with the ICB.")
        assert not [i for i in returns.check(db, return_id) if i["blocking"]]
    return return_id


# 1. Quarters and the financial year --------------------------------------------------------------------------


def test_the_financial_year_turns_over_between_31_march_and_1_april():
    assert quarters.of(dt.date(2027, 3, 31)) == Q4_2026
    assert quarters.of(dt.date(2027, 4, 1)) == Q1_2027
    assert (Q4_2026.code, Q1_2027.code) == ("2026-27-Q4", "2027-28-Q1")
    assert (Q4_2026.label, Q1_2027.label) == ("2026/27 Q4", "2027/28 Q1")
    assert Q4_2026.next() == Q1_2027 and Q1_2027.previous() == Q4_2026
    # New Year's Eve to New Year's Day stays inside one financial year: Q3 to Q4 of 2026/27.
    assert quarters.of(dt.date(2026, 12, 31)) == quarters.Quarter(2026, 3)
    assert quarters.of(dt.date(2027, 1, 1)) == Q4_2026


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2099])
def test_a_years_quarters_tile_it_with_no_gap_or_overlap(year):
    q1, q2, q3, q4 = (quarters.Quarter(year, q) for q in (1, 2, 3, 4))
    assert q1.start == dt.date(year, 4, 1) and q4.end == dt.date(year + 1, 3, 31)
    for q in (q1, q2, q3):
        assert q.next().start == q.end + DAY
    assert q4.next().start == quarters.Quarter(year + 1, 1).start == q4.end + DAY
    # Every day of the year is in exactly one quarter, the one quarters.of names; first and last days included.
    for day in days(q1.start, q4.end):
        holding = [q for q in (q1, q2, q3, q4) if q.start <= day <= q.end]
        assert holding == [quarters.of(day)], day
    assert sum((q.end - q.start).days + 1 for q in (q1, q2, q3, q4)) == (q4.end - q1.start).days + 1


def test_next_and_previous_walk_back_and_forth_across_year_ends():
    q = quarters.Quarter(2024, 1)
    for _ in range(4 * 8):
        assert q.next().previous() == q and q.previous().next() == q
        assert q.next().start > q.end  # always forwards in time
        q = q.next()
    assert q == quarters.Quarter(2032, 1)


@pytest.mark.parametrize("code", ["2026-27-Q4", "2027-28-Q1", "2099-00-Q4", "2100-01-Q1"])
def test_a_quarters_code_and_label_read_back_as_the_same_quarter(code):
    q = quarters.parse(code)
    assert q.code == code
    assert quarters.parse(q.label) == q
    assert quarters.parse(q.next().code) == q.next() and quarters.parse(q.previous().code) == q.previous()


def test_a_code_naming_two_years_that_do_not_follow_is_refused():
    # 2026/28 is no financial year: a typo here would file a return under the wrong year.
    with pytest.raises(ValidationError):
        quarters.parse("2026-28-Q4")
    with pytest.raises(ValidationError):
        quarters.parse("2027-27-Q1")


# 2. The last day of a quarter and its return ------------------------------------------------------------------


def test_a_return_cannot_be_signed_off_on_the_quarters_last_day_but_can_the_day_after(charnwood):
    db, loc, _, _ = charnwood
    return_id = return_blocked_only_by_its_date(db, loc, Q4_2026)
    with clock.pinned(dt.date(2027, 3, 31)):
        blocking = [i for i in returns.check(db, return_id) if i["blocking"]]
        assert [i["kind"] for i in blocking] == ["open quarter"]
        assert "from 01/04/2027" in blocking[0]["message"]
        with pytest.raises(ValidationError, match="runs until 31/03/2027"):
            returns.sign_off(db, ACTOR, return_id)
    assert returns.get(db, return_id)["status"] == "draft"
    with clock.pinned(dt.date(2027, 4, 1)):
        returns.sign_off(db, ACTOR, return_id)
    assert returns.get(db, return_id)["status"] == "signed_off"


def test_a_quarter_is_under_way_until_late_on_its_last_evening(charnwood):
    db, loc, _, _ = charnwood
    return_id = return_blocked_only_by_its_date(db, loc, Q4_2026)
    # 23:59 on 31 March is still Q4: an evening session must not sign off a quarter that has a minute to run.
    with clock.pinned(dt.datetime(2027, 3, 31, 23, 59)):
        assert [i["kind"] for i in returns.check(db, return_id) if i["blocking"]] == ["open quarter"]


def test_a_return_that_can_be_signed_off_has_all_its_weeks_of_home_rounds_finished(charnwood):
    db, loc, _, _ = charnwood
    return_id = return_blocked_only_by_its_date(db, loc, Q4_2026)
    with clock.pinned(Q4_2026.end + DAY):
        still_open = any(i["kind"] == "open quarter" for i in returns.check(db, return_id))
        _, finished = visits.week_progress(Q4_2026.weeks(), clock.today())
        assert still_open or finished == len(Q4_2026.weeks())


# 3. 29 February -----------------------------------------------------------------------------------------------


def test_29_february_2028_is_in_the_last_quarter_of_2027_28():
    leap_day = dt.date(2028, 2, 29)
    q = quarters.of(leap_day)
    assert q == quarters.Quarter(2027, 4) and q.start <= leap_day <= q.end
    # January to March holds 91 days in a leap year, 90 otherwise.
    assert (q.end - q.start).days + 1 == 91
    assert (quarters.Quarter(2026, 4).end - quarters.Quarter(2026, 4).start).days + 1 == 90
    assert quarters.Month(2028, 2).end == leap_day and quarters.Month(2027, 2).end == dt.date(2027, 2, 28)


def test_months_added_to_29_february_or_31_january_stop_at_the_months_end():
    # A review interval of 12 months from 29 Feb 2028 is due on 28 Feb 2029, not 1 March and not an error.
    assert add_months(dt.date(2028, 2, 29), 12) == dt.date(2029, 2, 28)
    assert add_months(dt.date(2028, 2, 29), 1) == dt.date(2028, 3, 29)
    assert add_months(dt.date(2028, 2, 29), 48) == dt.date(2032, 2, 29)  # the next leap year keeps the 29th
    assert add_months(dt.date(2028, 2, 29), -12) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 12, 31), 2) == dt.date(2028, 2, 29)  # across the calendar year


def test_the_pinned_clock_lives_on_29_february_and_runs_into_it_at_midnight():
    with clock.pinned(dt.date(2028, 2, 29)):
        assert clock.today() == dt.date(2028, 2, 29)
    with clock.pinned(dt.datetime(2028, 2, 28, 23, 59, 59, 500_000)):
        assert clock.today() == dt.date(2028, 2, 28)
        time.sleep(0.6)
        assert clock.today() == dt.date(2028, 2, 29)


def test_29_february_is_an_ordinary_working_day():
    leap_day = dt.date(2028, 2, 29)
    assert leap_day.weekday() == 1 and is_working_day(leap_day)  # a Tuesday
    # Friday 25 February + 7 working days: 28, 29 Feb, 1, 2, 3, 6, 7 March.
    assert (
        add_working_days(dt.date(2028, 2, 25), 7) == dt.date(2028, 3, 7) == walk_working_days(dt.date(2028, 2, 25), 7)
    )


# 4. Working days and the PCSP ---------------------------------------------------------------------------------


@pytest.mark.parametrize("year", sorted(ENGLAND_BANK_HOLIDAYS))
def test_working_days_are_weekdays_other_than_englands_bank_holidays(year):
    for day in days(dt.date(year, 1, 1), dt.date(year, 12, 31)):
        assert is_working_day(day) == (day.weekday() < 5 and day not in BANK_HOLIDAYS), day


def test_the_named_holidays_of_2027_fall_where_the_calendar_says():
    # Guards the typed-in list itself: Easter Sunday 2027 is 28 March; Christmas 2027 is a Saturday.
    easter_sunday = dt.date(2027, 3, 28)
    assert easter_sunday.weekday() == 6
    assert {easter_sunday - 2 * DAY, easter_sunday + DAY} <= ENGLAND_BANK_HOLIDAYS[2027]
    assert dt.date(2027, 12, 25).weekday() == 5
    assert not {dt.date(2027, 12, 25), dt.date(2027, 12, 26)} & ENGLAND_BANK_HOLIDAYS[2027]  # weekend anyway
    assert {dt.date(2027, 12, 27), dt.date(2027, 12, 28)} <= ENGLAND_BANK_HOLIDAYS[2027]


@pytest.mark.parametrize(
    ("admitted", "due"),
    [
        # Thursday 23 Dec 2027: Fri 24, then Mon 27 and Tue 28 (substitute Christmas and Boxing Day) skipped,
        # 29, 30, 31 Dec, Mon 3 Jan 2028 skipped (New Year's Day substitute), 4, 5, 6 Jan.
        (dt.date(2027, 12, 23), dt.date(2028, 1, 6)),
        # Wednesday 24 March 2027: Thu 25, Good Friday 26 and Easter Monday 29 skipped, 30, 31 Mar, 1, 2, 5, 6 Apr.
        (dt.date(2027, 3, 24), dt.date(2027, 4, 6)),
        # Admitted on Good Friday itself: the clock starts from a day that is not a working day.
        (dt.date(2027, 3, 26), dt.date(2027, 4, 7)),
        # Saturday 25 December 2027: 29, 30, 31 Dec, 4, 5, 6, 7 Jan 2028.
        (dt.date(2027, 12, 25), dt.date(2028, 1, 7)),
    ],
)
def test_a_pcsp_is_due_seven_working_days_after_admission(admitted, due):
    assert walk_working_days(admitted, 7) == due  # the hand count above agrees with the calendar walk
    assert residents.pcsp_due({"admitted_on": admitted.isoformat()}) == due
    # A re-admission starts the count again from its own date.
    readmitted = {"admitted_on": "2026-06-01", "readmitted_on": admitted.isoformat()}
    assert residents.pcsp_due(readmitted) == due


def test_a_pcsp_due_after_christmas_2027_is_not_overdue_until_the_day_after(charnwood):
    db, _, home, _ = charnwood
    values = {
        "nhs_number": synthetic_nhs(40),
        "given_name": "Ada",
        "family_name": "Yule",
        "date_of_birth": "1931-02-03",
        "admitted_on": "2027-12-23",
    }
    with clock.pinned(dt.date(2027, 12, 31)):
        resident_id, _ = residents.save(db, ACTOR, home, values)
    resident = residents.get(db, resident_id)
    # Due on Thursday 6 January 2028 (see above): still 'due' that day, 'overdue' from the Friday.
    with clock.pinned(dt.date(2028, 1, 6)):
        listed = next(r for r in residents.listing(db, home) if r["id"] == resident_id)
        assert (listed["pcsp_due"], listed["pcsp_status"]) == ("2028-01-06", "due")
    with clock.pinned(dt.date(2028, 1, 7)):
        assert residents.pcsp_status(resident) == "overdue"
    assert residents.pcsp_status({**resident, "pcsp_on": "2028-01-06"}) == "on time"
    assert residents.pcsp_status({**resident, "pcsp_on": "2028-01-07"}) == "late"


def test_an_admission_counts_in_ch03_of_the_quarter_its_pcsp_falls_due_in_only(charnwood):
    db, loc, home, _ = charnwood
    admitted = dt.date(2027, 3, 25)  # Thursday before Easter: due Wednesday 7 April, in the next quarter
    assert walk_working_days(admitted, 7) == dt.date(2027, 4, 7) > Q4_2026.end

    def ch03(quarter: quarters.Quarter) -> tuple[float | None, float | None]:
        figure = next(f for f in kpi_compute.compute(db, loc, quarter) if f.kpi == "CH-03")
        return figure.numerator, figure.denominator

    with clock.pinned(dt.date(2027, 4, 20)):  # the returns drafted well after both PCSPs fell due
        q4_before, q1_before = ch03(Q4_2026), ch03(Q1_2027)
        for n, plan in ((41, "2027-03-30"), (42, None)):  # one PCSP written in time, one never written
            residents.save(
                db,
                ACTOR,
                home,
                {
                    "nhs_number": synthetic_nhs(n),
                    "family_name": f"Late{n}",
                    "admitted_on": admitted.isoformat(),
                    "pcsp_on": plan,
                },
            )
        # Not in Q4's figure, though admitted in Q4: neither the hit nor the miss flatters or spoils it...
        assert ch03(Q4_2026) == q4_before
        # ...both in Q1's, the quarter they fell due in: one on time out of two more.
        assert ch03(Q1_2027) == (q1_before[0] + 1, q1_before[1] + 2)


def test_an_admission_not_yet_due_is_left_out_of_a_quarter_under_way(charnwood):
    db, loc, home, _ = charnwood
    with clock.pinned(dt.date(2027, 4, 20)):
        before = next(f for f in kpi_compute.compute(db, loc, Q1_2027) if f.kpi == "CH-03")
        # Admitted on 19 April, due 28 April: a PCSP written already must not count before its peers can miss.
        residents.save(
            db,
            ACTOR,
            home,
            {
                "nhs_number": synthetic_nhs(43),
                "family_name": "Early43",
                "admitted_on": "2027-04-19",
                "pcsp_on": "2027-04-20",
            },
        )
        after = next(f for f in kpi_compute.compute(db, loc, Q1_2027) if f.kpi == "CH-03")
    assert (after.numerator, after.denominator) == (before.numerator, before.denominator)


# 5. A week that straddles two quarters ------------------------------------------------------------------------


def test_the_week_ending_4_april_2027_belongs_to_2027_28_q1_only():
    monday = dt.date(2027, 3, 29)
    assert monday.weekday() == 0 and (monday + 6 * DAY) == dt.date(2027, 4, 4)  # it ends on Sunday 4 April
    assert Q1_2027.weeks()[0] == monday  # the NHS "week ending" rule: a week is its Sunday's
    assert monday not in Q4_2026.weeks()
    assert Q4_2026.weeks()[-1] == dt.date(2027, 3, 22)  # Q4's last week ends on its last Sunday, 28 March
    assert Q1_2027.weeks()[0] == Q4_2026.weeks()[-1] + 7 * DAY  # and nothing falls between


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_a_quarters_weeks_are_those_ending_inside_it_and_its_months_weeks(year):
    for q in (quarters.Quarter(year, n) for n in (1, 2, 3, 4)):
        sundays = [d for d in days(q.start, q.end) if d.weekday() == 6]
        assert q.weeks() == [d - 6 * DAY for d in sundays], q.code
        assert q.weeks() == [w for m in q.months() for w in m.weeks()], q.code
        assert [m.start for m in q.months()] == [
            q.start,
            q.start.replace(month=q.start.month + 1),
            q.start.replace(month=q.start.month + 2),
        ]


def test_every_week_is_in_exactly_one_quarters_weeks():
    all_quarters = [quarters.Quarter(y, n) for y in range(2024, 2031) for n in (1, 2, 3, 4)]
    weeks = [w for q in all_quarters for w in q.weeks()]
    first, last = all_quarters[0].start, all_quarters[-1].end
    mondays = [d - 6 * DAY for d in days(first, last) if d.weekday() == 6]
    # The same weeks, each once, in order: no week lost between quarters and none counted twice.
    assert weeks == mondays
    for monday in mondays:
        assert [q for q in all_quarters if monday in q.weeks()] == [quarters.of(monday + 6 * DAY)]


def test_a_round_in_a_straddling_week_counts_in_one_quarters_grid_only(charnwood):
    db, loc, home, gp = charnwood
    with clock.pinned(dt.date(2027, 4, 10)):
        # Tuesday 30 March 2027 is in the week ending Sunday 4 April (Q1's first), though it is a March day;
        # Wednesday 24 March is in the week ending 28 March, Q4's last.
        last_of_q4, _ = visits.log_visit(db, ACTOR, home, "2027-03-24", "weekly home round", gp)
        straddling, _ = visits.log_visit(db, ACTOR, home, "2027-03-30", "weekly home round", gp)
        q4 = next(h for h in visits.round_grid(db, loc, Q4_2026)["homes"] if h["id"] == home)
        q1 = next(h for h in visits.round_grid(db, loc, Q1_2027)["homes"] if h["id"] == home)
    assert q4["cells"][-1] == [last_of_q4]
    assert [c for c in q4["cells"][:-1] if c] == []
    assert all(straddling not in cell for cell in q4["cells"])
    assert q1["cells"][0] == [straddling]
    # Two rounds, each counted once: one in each quarter.
    assert (q4["covered"], q1["covered"]) == (1, 1)


# 6. The UK clock changes --------------------------------------------------------------------------------------


def test_just_after_midnight_in_british_summer_time_the_business_date_is_the_uk_date(london):
    with clock.pinned(dt.datetime(2027, 4, 1, 0, 30)):  # 00:30 BST is 23:30 UTC on 31 March
        assert clock.today() == dt.date(2027, 4, 1)
        assert clock.utc_now().startswith("2027-03-31T23:30")
        assert quarters.of(clock.today()) == Q1_2027


def test_at_half_past_midnight_bst_on_1_april_q4_is_over_and_31_march_is_overdue(charnwood, london):
    db, loc, _, _ = charnwood
    return_id = return_blocked_only_by_its_date(db, loc, Q4_2026)
    with clock.pinned(dt.date(2027, 3, 1)):
        action_id, _ = actions.create(
            db,
            ACTOR,
            loc,
            {
                "description": "Chase the discharge letter",
                "owner_name": "Pat Owner",
                "owner_organisation": "community health",
                "due_date": "2027-03-31",
            },
        )
    with clock.pinned(dt.datetime(2027, 3, 31, 23, 30)):  # 23:30 BST: still 31 March in the UK
        assert not next(a for a in actions.listing(db, loc) if a["id"] == action_id)["overdue"]
        assert any(i["kind"] == "open quarter" for i in returns.check(db, return_id))
    with clock.pinned(dt.datetime(2027, 4, 1, 0, 30)):  # an hour later: UTC says 31 March, the UK 1 April
        assert next(a for a in actions.listing(db, loc) if a["id"] == action_id)["overdue"]
        returns.sign_off(db, ACTOR, return_id)
    assert returns.get(db, return_id)["status"] == "signed_off"


def test_edits_either_side_of_the_autumn_change_order_by_their_utc_stamps(london):
    # 31 Oct 2027: at 02:00 BST (01:00 UTC) the clocks go back to 01:00 GMT, so 01:00-02:00 happens twice.
    with clock.pinned(dt.datetime(2027, 10, 31, 0, 30, tzinfo=dt.UTC)):
        first_wall, first_stamp = clock.now().replace(microsecond=0), ACTOR.now()
    with clock.pinned(dt.datetime(2027, 10, 31, 1, 10, tzinfo=dt.UTC)):
        second_wall, second_stamp = clock.now().replace(microsecond=0), ACTOR.now()
    assert (first_wall, second_wall) == (dt.datetime(2027, 10, 31, 1, 30), dt.datetime(2027, 10, 31, 1, 10))
    assert second_wall < first_wall  # the wall clock went backwards...
    assert first_stamp < second_stamp  # ...but the stamps, compared as the text stored, still order the edits
    assert (first_stamp, second_stamp) == ("2027-10-31T00:30:00+00:00", "2027-10-31T01:10:00+00:00")


def test_the_pinned_clock_runs_on_across_the_spring_gap(london):
    # 28 Mar 2027: at 01:00 GMT the clocks go forward to 02:00 BST; 01:00-02:00 local never happens.
    with clock.pinned(dt.datetime(2027, 3, 28, 0, 59, 59, tzinfo=dt.UTC)):
        assert clock.now() < dt.datetime(2027, 3, 28, 1, 0)
        time.sleep(1.1)
        wall = clock.now()
        stamp = dt.datetime.fromisoformat(clock.utc_now())
    assert dt.datetime(2027, 3, 28, 2, 0) <= wall < dt.datetime(2027, 3, 28, 2, 0, 5)
    assert dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC) <= stamp < dt.datetime(2027, 3, 28, 1, 0, 5, tzinfo=dt.UTC)


# 7. The pin itself --------------------------------------------------------------------------------------------


def test_pinned_restores_the_pin_it_replaced_even_after_an_error():
    before = clock.today()
    with clock.pinned(dt.date(2027, 3, 31)):
        with clock.pinned(dt.date(2027, 4, 1)):
            assert clock.today() == dt.date(2027, 4, 1)
        assert clock.today() == dt.date(2027, 3, 31)
        with pytest.raises(RuntimeError), clock.pinned(dt.date(2028, 2, 29)):
            raise RuntimeError("a failing step inside the block")
        assert clock.today() == dt.date(2027, 3, 31)
    assert clock.today() == before


def test_a_pinned_clock_keeps_running():
    with clock.pinned(dt.date(2027, 4, 1)):
        assert clock.now() - dt.datetime(2027, 4, 1, 9, 0) < dt.timedelta(seconds=1)  # a date pins 09:00
        first = clock.utc_now()
        time.sleep(1.1)
        second = clock.utc_now()
    assert first < second
    gap = dt.datetime.fromisoformat(second) - dt.datetime.fromisoformat(first)
    assert dt.timedelta(seconds=1) <= gap <= dt.timedelta(seconds=3)
