"""Computed KPIs (DESIGN §9) for a locality and NHS quarter, from the workspace's own records.

Each KPI keeps its numerator and denominator. Who was on the caseload is read from the caseload status history
(cohort.caseload_history) as it stood at the period's end, or today in a period under way, so a past quarter or
month counts the caseload of its day and a later edit does not move it. The other caseload fields (care plan
date, review interval, case manager, named GP) hold their current value: a past period computed today judges
its caseload by today's care plans and allocations (COH-04 reads reviews as of the period's end). A signed-off
return freezes the figures of its day.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlite_utils

from .. import clock
from ..care_homes import residents, visits
from ..cohort import caseload_history
from ..cohort import store as risk_store
from ..dates import add_months
from ..quarters import Quarter
from .catalogue import Kpi, by_code


@dataclass
class Figure:
    kpi: str
    numerator: float | None
    denominator: float | None
    value: float | None
    rag: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi,
            "numerator": self.numerator,
            "denominator": self.denominator,
            "value": self.value,
            "rag": self.rag,
        }


NEVER = np.iinfo(np.int64).min  # a day number before any: no plan, no review


@dataclass
class _Spells:
    """A locality's spells on the caseload (caseload_history.spells) as columns, each spell's patient an index
    into *patients*, so that a quarter's caseload, cohort and reviews meet as integer arrays, not string sets."""

    patients: pa.Array  # each patient once
    patient: np.ndarray  # the patient of each spell
    start: np.ndarray
    until: np.ndarray
    managed: np.ndarray
    care_plan_date: np.ndarray
    planned: np.ndarray  # the care plan date as a day number, NEVER without one
    interval: np.ndarray
    named_gp: np.ndarray


@dataclass
class _Reviews:
    """The care-plan reviews the locality delivered to its caseload's patients, by day."""

    days: np.ndarray  # day numbers, sorted
    patient: np.ndarray  # the patient of each review, an index into _Spells.patients


class _Context:
    """What the KPIs of one locality-quarter share. Reads go through *shared*, a cache for one batch of
    calls: records a locality needs for every period are read once per locality (its caseload spells, reviews,
    care home admissions), figures that SQLite can group by locality once per period for all localities, and the
    few records that cost less in one pass than in one a locality (visits that reviewed no one or sent anyone
    to hospital, residents at the end of life) once for all. DESIGN §13 asks 11 × 8 in 0.3 s and the cost is
    reading: each read takes the fewest rows and statements that give every period's figures, and a single
    locality-quarter reads little more than its own."""

    def __init__(
        self, db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date, shared: dict[Any, Any]
    ):
        self.db, self.locality_id, self.q, self.today = db, locality_id, quarter, today
        self.start, self.end = quarter.start.isoformat(), quarter.end.isoformat()
        self.as_of = min(quarter.end, today)
        self._shared = shared
        self._run: tuple[str | None] | None = None  # (the run or None) once looked up
        self._in_cohort: np.ndarray | None = None

    def once(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self._shared:
            self._shared[key] = read()
        return self._shared[key]

    def by_locality(self, key: Any, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
        """One row of a query whose first column is the locality id, run once for all localities."""
        rows = self.once(key, lambda: {r[0]: r[1:] for r in self.db.execute(sql, params)})
        return rows.get(self.locality_id)

    def home_localities(self) -> dict[str, str]:
        """Each care home's locality."""
        return self.once("home localities", lambda: dict(self.db.execute("SELECT id, locality_id FROM care_homes")))

    def by_home(self, key: Any, sql: str, params: list[Any]) -> tuple[int, ...] | None:
        """The locality's totals of a query whose first column is the care home id and the others counts, run
        once for all homes: grouped by home, SQLite need not join every visit to its home."""

        def read() -> dict[str, tuple[int, ...]]:
            homes, out = self.home_localities(), {}
            for home, *counts in self.db.execute(sql, params):
                if home in homes:
                    held = out.get(homes[home])
                    out[homes[home]] = (
                        tuple(counts) if held is None else tuple(map(sum, zip(held, counts, strict=True)))
                    )
            return out

        return self.once(key, read).get(self.locality_id)

    def run_id(self) -> str | None:
        """The quarter-end cohort's risk run: the latest extract dated on or before the quarter's end."""
        if self._run is None:
            row = self.db.execute(
                "SELECT id FROM risk_runs WHERE locality_id = ? AND extract_date <= ? "
                "ORDER BY extract_date DESC, imported_at DESC LIMIT 1",
                [self.locality_id, self.end],
            ).fetchone()
            self._run = (row[0] if row else None,)
        return self._run[0]

    def cohort(self) -> tuple[pa.Array, int] | None:
        """(patient ids, how many are on the EOL register) of the quarter-end cohort: both columns come out of
        one decompress of the stored run."""
        run = self.run_id()
        if run is None:
            return None

        def read() -> tuple[pa.Array, int]:
            table = risk_store.run_columns(self.db, run, ["patient_id", "eol_register"])
            eol = int(pc.sum(pc.fill_null(table["eol_register"], False)).as_py() or 0)
            return table["patient_id"].combine_chunks(), eol

        return self.once(("run", run), read)

    def cohort_ids(self) -> pa.Array | None:
        cohort = self.cohort()
        return None if cohort is None else cohort[0]

    def spells(self) -> _Spells:
        """The locality's patients' spells on the caseload, with their caseload fields (caseload_history.spells,
        read once per locality)."""

        def read() -> _Spells:
            spells = caseload_history.spells(
                self.db,
                self.locality_id,
                "on caseload",
                {
                    "managed": "p.case_manager_id IS NOT NULL",
                    "care_plan_date": "COALESCE(p.care_plan_date, '')",
                    "interval": "COALESCE(p.review_interval_months, 0)",
                    "named_gp": "p.named_gp_id IS NOT NULL",
                },
            )
            index: dict[str, int] = {}
            patient = np.fromiter((index.setdefault(i, len(index)) for i in spells["id"]), np.int64, len(spells["id"]))
            plan = np.array(spells["care_plan_date"], dtype="U10")
            planned = np.full(len(plan), NEVER)
            has_plan = plan != ""
            planned[has_plan] = plan[has_plan].astype("datetime64[D]").astype(np.int64)
            return _Spells(
                patients=pa.array(list(index), pa.string()),
                patient=patient,
                start=np.array(spells["start"], dtype="U10"),
                until=np.array(spells["until"], dtype="U10"),
                managed=np.array(spells["managed"], dtype=bool),
                care_plan_date=plan,
                planned=planned,
                interval=np.array(spells["interval"], dtype=np.int64),
                named_gp=np.array(spells["named_gp"], dtype=bool),
            )

        return self.once(("caseload spells", self.locality_id), read)

    def caseload(self) -> np.ndarray:
        """The spells (indexes into spells()) of the patients on the caseload at the end of as_of."""

        def read() -> np.ndarray:
            spells, day = self.spells(), self.as_of.isoformat()
            return np.flatnonzero((spells.start <= day) & (day < spells.until))

        return self.once(("caseload", self.locality_id, self.as_of), read)

    def on_caseload(self, column: np.ndarray) -> np.ndarray:
        """A column of spells() for the patients on the caseload at as_of."""
        return column[self.caseload()]

    def reviews(self) -> _Reviews:
        """The care-plan reviews of the locality's caseload patients (read once per locality)."""

        def read() -> _Reviews:
            rows = self.db.execute(
                # Day numbers (days since 1970-01-01, as numpy's datetime64[D]), not ISO text: ints cost less.
                "SELECT CAST(julianday(delivered_on) - 2440587.5 AS INTEGER), patient_id FROM interventions "
                "WHERE locality_id = ? AND type = 'care-plan review' ORDER BY delivered_on",
                [self.locality_id],
            ).fetchall()
            days = np.fromiter((r[0] for r in rows), np.int64, len(rows))
            where = pc.index_in(pa.array([r[1] for r in rows], pa.string()), value_set=self.spells().patients)
            mine = pc.is_valid(where)
            return _Reviews(days[mine.to_numpy(zero_copy_only=False)], where.filter(mine).to_numpy().astype(np.int64))

        return self.once(("reviews", self.locality_id), read)

    def in_cohort(self) -> np.ndarray:
        """Which caseload patients are in the quarter-end cohort."""
        if self._in_cohort is None:
            ids, patient = self.cohort_ids(), self.on_caseload(self.spells().patient)
            if ids is None or not len(patient):
                self._in_cohort = np.zeros(len(patient), dtype=bool)
            else:
                member = pc.is_in(self.spells().patients, value_set=ids).to_numpy(zero_copy_only=False)
                self._in_cohort = member[patient]
        return self._in_cohort


def _day_number(day: dt.date) -> int:
    """Days since 1970-01-01, as numpy's datetime64[D] counts them."""
    return int(np.datetime64(day, "D").astype(np.int64))


def _coh01(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (len(ids) if ids is not None else None), None


def _coh02(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (int(c.in_cohort().sum()), len(ids)) if ids is not None else (None, None)


def _coh03(c: _Context) -> tuple[float | None, float | None]:
    year_ago, until = add_months(c.as_of, -12).isoformat(), c.as_of.isoformat()
    spells, inside = c.spells(), c.in_cohort()
    reviews = c.reviews()
    lo = np.searchsorted(reviews.days, _day_number(add_months(c.as_of, -12)), "left")
    hi = np.searchsorted(reviews.days, _day_number(c.as_of), "right")
    seen = np.zeros(len(spells.patients), dtype=bool)
    seen[reviews.patient[lo:hi]] = True
    reviewed = c.on_caseload(seen[spells.patient])
    plan = c.on_caseload(spells.care_plan_date)
    planned = (plan >= year_ago) & (plan <= until) & (plan != "")
    return int((inside & (reviewed | planned)).sum()), int(inside.sum())


def _coh04(c: _Context) -> tuple[float | None, float | None]:
    """A review is in date at as_of when the later of the care plan and the last review before then, plus the
    patient's review interval, has not passed: what next_review_due said on that day (caseload.next_review_due),
    so a past quarter is judged by what was known at its end, not by reviews done since."""
    spells, inside, reviews = c.spells(), c.in_cohort(), c.reviews()
    last_of = np.full(len(spells.patients), NEVER)  # no review by as_of
    upto = np.searchsorted(reviews.days, _day_number(c.as_of), "right")
    np.maximum.at(last_of, reviews.patient[:upto], reviews.days[:upto])
    last = c.on_caseload(last_of[spells.patient])
    plan = c.on_caseload(spells.care_plan_date)
    has_plan = (plan != "") & (plan <= c.as_of.isoformat())
    planned = np.where(has_plan, c.on_caseload(spells.planned), NEVER)
    base = np.maximum(last, planned)
    months_of = c.on_caseload(spells.interval)
    interval = np.where(months_of > 0, months_of, 6)
    in_date = np.zeros(len(base), dtype=bool)
    for months in np.unique(interval):
        # The first base day whose next review (add_months, clamped at a month's end) falls on or after as_of.
        first = add_months(c.as_of, -int(months))
        while add_months(first, int(months)) < c.as_of:
            first += dt.timedelta(days=1)
        these = interval == months
        in_date[these] = base[these] >= _day_number(first)
    in_date &= (base != NEVER) & ((months_of > 0) | (plan != ""))
    return int((inside & in_date).sum()), int(inside.sum())


def _coh05(c: _Context) -> tuple[float | None, float | None]:
    inside = c.in_cohort()
    return int((inside & c.on_caseload(c.spells().managed)).sum()), int(inside.sum())


def _interventions(c: _Context) -> dict[str, int]:
    """The interventions the locality delivered in the period, by type."""
    return c.once(
        ("COH-06 by type", c.locality_id, c.q),
        lambda: dict(
            c.db.execute(
                "SELECT type, COUNT(*) FROM interventions WHERE locality_id = ? AND delivered_on BETWEEN ? AND ? "
                "GROUP BY type",
                [c.locality_id, c.start, c.end],
            ).fetchall()
        ),
    )


def _coh06(c: _Context) -> tuple[float | None, float | None]:
    return sum(_interventions(c).values()), None


def _coh06_type(intervention: str) -> Callable[[_Context], tuple[float | None, float | None]]:
    def count(c: _Context) -> tuple[float | None, float | None]:
        return _interventions(c).get(intervention, 0), None

    return count


def _coh07(c: _Context) -> tuple[float | None, float | None]:
    inside = c.in_cohort()
    return int((inside & c.on_caseload(c.spells().named_gp)).sum()), int(inside.sum())


def _coh08(c: _Context) -> tuple[float | None, float | None]:
    cohort = c.cohort()
    return (cohort[1], len(cohort[0])) if cohort is not None else (None, None)


def _mdt01(c: _Context) -> tuple[float | None, float | None]:
    row = c.by_locality(
        ("MDT-01", c.q, c.today),
        "SELECT locality_id, COUNT(*) FROM meetings WHERE held_on BETWEEN ? AND ? AND type IN ('locality MDT', "
        "'care-home MDT') AND (status = 'held' OR held_on <= ?) GROUP BY locality_id",
        [c.start, c.end, c.today.isoformat()],
    )
    return (row[0] if row else 0), None


def _mdt02(c: _Context) -> tuple[float | None, float | None]:
    row = c.by_locality(
        ("MDT-02", c.q),
        "SELECT m.locality_id, COUNT(DISTINCT i.patient_id) FROM meeting_items i JOIN meetings m "
        "ON m.id = i.meeting_id WHERE m.held_on BETWEEN ? AND ? AND i.kind = 'patient' GROUP BY m.locality_id",
        [c.start, c.end],
    )
    return (row[0] if row else 0), None


def _actions(c: _Context) -> tuple[Any, ...] | None:
    """(actions due in the period by as_of, those done by their due day, actions overdue at as_of) of the
    locality: both KPIs in one pass over the actions."""
    return c.by_locality(
        ("actions", c.q, c.as_of),
        "SELECT locality_id, SUM(due_date BETWEEN ?1 AND ?2), SUM(due_date BETWEEN ?1 AND ?2 AND status = 'done' "
        "AND completed_on <= due_date), SUM(due_date < ?2 AND date(created_at) <= ?2 AND NOT (status = 'done' "
        "AND completed_on <= ?2)) FROM actions WHERE due_date <= ?2 AND status != 'cancelled' GROUP BY locality_id",
        [c.start, c.as_of.isoformat()],
    )


def _mdt03(c: _Context) -> tuple[float | None, float | None]:
    # In a quarter under way, only the actions already due: those still to come cannot have been done late yet.
    row = _actions(c)
    return (row[1] or 0, row[0] or 0) if row else (0, 0)


def _mdt04(c: _Context) -> tuple[float | None, float | None]:
    # At quarter end, or today in a quarter under way: an action due later this quarter is not overdue yet.
    row = _actions(c)
    return (row[2] or 0 if row else 0), None


def _homes(c: _Context) -> tuple[Any, ...] | None:
    """(homes, homes with a named clinical lead, beds) of the locality."""
    return c.by_locality(
        "homes",
        "SELECT locality_id, COUNT(*), SUM(clinical_lead_id IS NOT NULL), SUM(beds) "
        "FROM care_homes GROUP BY locality_id",
        [],
    )


def _ch01(c: _Context) -> tuple[float | None, float | None]:
    row = _homes(c)
    return (row[1] or 0, row[0]) if row else (0, 0)


def _ch02(c: _Context) -> tuple[float | None, float | None]:
    def read() -> dict[str, tuple[int, int]]:
        # The round grid's weeks (Quarter.weeks): a week is the quarter's that holds its Sunday, so a week that
        # straddles two quarters is counted in one only.
        weeks = c.q.weeks()
        started, finished = visits.week_progress(weeks, c.today)
        homes = c.home_localities()
        held: dict[str, set[int]] = {home: set() for home in homes}
        for home, week in c.db.execute(
            "SELECT care_home_id, CAST((julianday(visited_on) - julianday(?)) / 7 AS INTEGER) FROM visits "
            "WHERE visited_on BETWEEN ? AND ? AND type = 'weekly home round'",
            [weeks[0].isoformat(), weeks[0].isoformat(), (weeks[-1] + dt.timedelta(days=6)).isoformat()],
        ):
            if home in held:
                held[home].add(week)
        out: dict[str, tuple[int, int]] = {}
        for home, weeks_held in held.items():
            covered, due = visits.round_coverage(weeks_held, started, finished)
            was = out.get(homes[home], (0, 0))
            out[homes[home]] = (was[0] + covered, was[1] + due)
        return out

    return c.once(("CH-02", c.q, c.today), read).get(c.locality_id, (0, 0))


# What residents.pcsp_standing reads of a resident's record.
_PCSP_FIELDS = ("admitted_on", "readmitted_on", "pcsp_on")


def _admissions(c: _Context) -> tuple[list[str], list[dict[str, Any]]]:
    """The latest admission day of each of the locality's residents, sorted, beside the fields pcsp_standing
    reads: read once per locality, and sliced for each period as residents.pcsp_candidates selects."""

    def read() -> tuple[list[str], list[dict[str, Any]]]:
        rows = c.db.execute(
            f"SELECT COALESCE(readmitted_on, admitted_on) AS day, {', '.join(_PCSP_FIELDS)} FROM residents "
            "WHERE care_home_id IN (SELECT id FROM care_homes WHERE locality_id = ?) ORDER BY day",
            [c.locality_id],
        ).fetchall()
        return [r[0] for r in rows], [dict(zip(_PCSP_FIELDS, r[1:], strict=True)) for r in rows]

    return c.once(("admissions", c.locality_id), read)


def _ch03(c: _Context) -> tuple[float | None, float | None]:
    start, end = c.q.start, c.q.end
    days, admissions = _admissions(c)
    # pcsp_candidates' window: an admission earlier than this has its PCSP due before the period.
    since = (start - dt.timedelta(days=residents.PCSP_MAX_CALENDAR_DAYS)).isoformat()
    lo, hi = bisect.bisect_left(days, since), bisect.bisect_right(days, end.isoformat())
    on_time = counted = 0
    # One rule with the visit and locality reports (residents.pcsp_standing): an admission counts in the one
    # quarter its PCSP falls due in, once that day has come; one admitted late in March is judged in Q1.
    for resident in admissions[lo:hi]:
        standing = residents.pcsp_standing(resident, start, end, c.today)
        if standing in residents.COUNTED:
            on_time += standing == "on time"
            counted += 1
    return on_time, counted


def _ch04(c: _Context) -> tuple[float | None, float | None]:
    row, homes = _visits(c), _homes(c)
    return (row[0] if row else 0), (homes[2] or 0 if homes else 0)


def _ch05(c: _Context) -> tuple[float | None, float | None]:
    row = _visits(c)
    if not row:
        return 0, 0
    alone = c.once("visits alone", lambda: _visit_days(c, _ALONE))
    transfers = c.once("transfers", lambda: _visit_days(c, _TRANSFERS))
    return _in_period(c, transfers), row[0] - _in_period(c, alone)


def _visits(c: _Context) -> tuple[Any, ...] | None:
    """(visits,) in the quarter."""
    return c.by_home(
        ("visits", c.q),
        "SELECT care_home_id, COUNT(*) FROM visits WHERE visited_on BETWEEN ? AND ? GROUP BY care_home_id",
        [c.start, c.end],
    )


# Visits that reviewed no one and visits that sent anyone to hospital are few: their days, read once for every
# locality, cost less than a look into each visit's residents in every period. Those that reviewed no one are
# found walking the visits' ids in order (their primary key's index), so that the look-ups into the residents'
# index (visit_id, outcome) go in its order too: a third of the cost of taking the visits in the table's order.
_ALONE = (
    "SELECT care_home_id, visited_on FROM visits WHERE id IN (SELECT id FROM visits INDEXED BY "
    "sqlite_autoindex_visits_1 WHERE id NOT IN (SELECT visit_id FROM visit_residents))"
)
_TRANSFERS = (
    "SELECT care_home_id, visited_on FROM visits WHERE id IN "
    "(SELECT visit_id FROM visit_residents WHERE outcome = 'transferred to hospital')"
)


def _visit_days(c: _Context, sql: str) -> dict[str, list[str]]:
    """The days of the visits *sql* selects (care home id, day), sorted, by locality."""
    homes, out = c.home_localities(), {}
    for home, day in c.db.execute(sql):
        if home in homes:
            out.setdefault(homes[home], []).append(day)
    return {loc: sorted(days) for loc, days in out.items()}


def _in_period(c: _Context, days: dict[str, list[str]]) -> int:
    """How many of the locality's *days* fall in the period."""
    mine = days.get(c.locality_id, [])
    return bisect.bisect_right(mine, c.end) - bisect.bisect_left(mine, c.start)


def _ch06(c: _Context) -> tuple[float | None, float | None]:
    def read() -> dict[str, tuple[int, int]]:
        at, out = c.as_of.isoformat(), {}
        for loc, admitted, left, plan in _end_of_life(c):
            if admitted <= at and (left is None or left > at):
                was = out.get(loc, (0, 0))
                out[loc] = (was[0] + 1, was[1] + (plan is not None and plan <= at))
        return out

    row = c.once(("CH-06", c.as_of), read).get(c.locality_id)
    return (row[1], row[0]) if row else (0, 0)


def _end_of_life(c: _Context) -> list[tuple[str, str, str | None, str | None]]:
    """(locality, admitted on, left on, EOL plan on) of every resident recorded at the end of life: few, read
    once for every day asked."""

    def read() -> list[tuple[str, str, str | None, str | None]]:
        homes = c.home_localities()
        return [
            (homes[home], *dates)
            for home, *dates in c.db.execute(
                "SELECT care_home_id, admitted_on, left_on, eol_plan_on FROM residents WHERE end_of_life = 1"
            )
            if home in homes
        ]

    return c.once("end of life", read)


COMPUTE: dict[str, Callable[[_Context], tuple[float | None, float | None]]] = {
    "COH-01": _coh01,
    "COH-02": _coh02,
    "COH-03": _coh03,
    "COH-04": _coh04,
    "COH-05": _coh05,
    "COH-06": _coh06,
    "COH-07": _coh07,
    "COH-08": _coh08,
    "MDT-01": _mdt01,
    "MDT-02": _mdt02,
    "MDT-03": _mdt03,
    "MDT-04": _mdt04,
    "CH-01": _ch01,
    "CH-02": _ch02,
    "CH-03": _ch03,
    "CH-04": _ch04,
    "CH-05": _ch05,
    "CH-06": _ch06,
}


def compute(
    db: sqlite_utils.Database,
    locality_id: str,
    quarter: Quarter,
    today: dt.date | None = None,
    shared: dict[Any, Any] | None = None,
) -> list[Figure]:
    """Every computed KPI of the catalogue for one locality and quarter, in catalogue order. Pass the same
    *shared* dict to a batch of calls so each locality's records are read once."""
    context = _Context(db, locality_id, quarter, today or clock.today(), {} if shared is None else shared)
    out = []
    for kpi in by_code().values():
        if kpi.source != "computed":
            continue
        figures = COMPUTE[kpi.code] if kpi.intervention is None else _coh06_type(kpi.intervention)
        numerator, denominator = figures(context)
        out.append(_figure(kpi, numerator, denominator, rated=not kpi.flow or context.as_of >= quarter.end))
    return out


def _figure(kpi: Kpi, numerator: float | None, denominator: float | None, rated: bool = True) -> Figure:
    """*rated* False: a count per quarter still under way, which cannot be held to the whole quarter's target."""
    value = kpi.value(numerator, denominator)
    return Figure(kpi.code, numerator, denominator, value, kpi.rag(value) if rated else None)
