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
REVIEW = "care-plan review"  # the intervention that reviews a care plan (COH-03, COH-04)


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
    every_day: np.ndarray  # the days of all the locality's reviews, its caseload's or not, sorted (COH-06)


class _Context:
    """What the KPIs of one locality-quarter share. Reads go through *shared*, a cache for one batch of
    calls: records a locality needs for every period are read once per locality (its caseload spells, reviews),
    figures that SQLite can group by locality or home, and a period's admissions, once per period for all
    localities, and the few records that cost less in one pass than in one a locality (risk runs, actions, MDT
    agenda items, visits that reviewed no one or sent anyone to hospital, residents at the end of life) once for
    all. DESIGN §13 asks 11 × 8 in 0.3 s and the cost is reading: each read takes the fewest rows and statements
    that give every period's figures, through indexes that hold what it reads (migrations 16 and 17), the
    largest (caseload spells, reviews) each in one row of joined-up columns, and a single locality-quarter reads
    little more than its own."""

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

    def run_id(self) -> str | None:
        """The quarter-end cohort's risk run: the latest extract dated on or before the quarter's end."""
        if self._run is None:

            def read() -> dict[str, tuple[list[str], list[str]]]:
                # Every locality's runs in one read (a few a quarter): the latest of a day's imports last.
                return _dated_by_locality(
                    self.db.execute(
                        "SELECT locality_id, extract_date, id FROM risk_runs ORDER BY extract_date, imported_at"
                    )
                )

            days, ids = self.once("risk runs", read).get(self.locality_id, ([], []))
            at = bisect.bisect_right(days, self.end)
            self._run = (ids[at - 1] if at else None,)
        return self._run[0]

    def cohort(self) -> tuple[pa.Array, int] | None:
        """(patient ids, how many are on the EOL register) of the quarter-end cohort: both columns come out of
        one decompress of the stored run."""
        run = self.run_id()
        if run is None:
            return None

        def read() -> tuple[pa.Array, int]:
            table = risk_store.run_columns(self.db, run, ["patient_id", "eol_register"])
            # A null on the register counts as not on it: true_count passes over nulls.
            return table["patient_id"].combine_chunks(), table["eol_register"].combine_chunks().true_count

        return self.once(("run", run), read)

    def cohort_ids(self) -> pa.Array | None:
        cohort = self.cohort()
        return None if cohort is None else cohort[0]

    def spells(self) -> _Spells:
        """The locality's patients' spells on the caseload, with their caseload fields (caseload_history.spells,
        read once per locality)."""
        return self.once(
            ("caseload spells", self.locality_id), lambda: _as_spells(_caseload_spells(self.db, self.locality_id))
        )

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
            # Through the index (locality_id, type, delivered_on, patient_id): the reviews only, each column in one
            # string (_SPELLS_SQL says why), put in day order here.
            n, days, ids = self.db.execute(
                f"SELECT COUNT(*), group_concat(delivered_on, '{_SEP}'), group_concat(patient_id, '{_SEP}') "
                "FROM interventions WHERE locality_id = ? AND type = ?",
                [self.locality_id, REVIEW],
            ).fetchone()
            day_list, id_list = (days.split(_SEP), ids.split(_SEP)) if n else ([], [])
            if len(day_list) != n or len(id_list) != n:
                rows = self.db.execute(
                    "SELECT delivered_on, patient_id FROM interventions WHERE locality_id = ? AND type = ?",
                    [self.locality_id, REVIEW],
                ).fetchall()
                day_list, id_list = [r[0] for r in rows], [r[1] for r in rows]
            # Day numbers (days since 1970-01-01): numpy parses ISO days faster than SQLite's julianday.
            numbers = np.array(day_list, dtype="datetime64[D]").astype(np.int64)
            order = np.argsort(numbers, kind="stable")
            days = numbers[order]
            # Each review's patient as an index into spells().patients, -1 for one never on the caseload.
            where = pc.index_in(pa.array(id_list, pa.string()), value_set=self.spells().patients)
            patient = where.fill_null(-1).to_numpy().astype(np.int64)[order]
            mine = patient >= 0
            return _Reviews(days[mine], patient[mine], days)

        return self.once(("reviews", self.locality_id), read)

    def last_review(self) -> np.ndarray:
        """The day of each caseload patient's last care-plan review by as_of, NEVER without one."""

        def read() -> np.ndarray:
            reviews = self.reviews()
            last_of = np.full(len(self.spells().patients), NEVER)
            upto = np.searchsorted(reviews.days, _day_number(self.as_of), "right")
            np.maximum.at(last_of, reviews.patient[:upto], reviews.days[:upto])
            return self.on_caseload(last_of[self.spells().patient])

        return self.once(("last review", self.locality_id, self.as_of), read)

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


_CASELOAD = "on caseload"
_SPELL_FIELDS = {  # the caseload fields of each spell, from the patient's record as it is now
    "managed": "p.case_manager_id IS NOT NULL",
    "care_plan_date": "COALESCE(p.care_plan_date, '')",
    "interval": "COALESCE(p.review_interval_months, 0)",
    "named_gp": "p.named_gp_id IS NOT NULL",
}
_SEP = "\x1f"  # the ASCII unit separator, in no id or day
# caseload_history.spells' read of the caseload's spells (the next row of the patient's history ends each), its
# columns each brought back as one string: tens of thousands of rows cost Python a tuple and eight objects each,
# about as much again as SQLite's own work; a string split costs a tenth of that. Flags in one digit a spell.
_SPELLS_SQL = (
    f"SELECT COUNT(*), group_concat(p.id, '{_SEP}'), group_concat(h.effective_on, '{_SEP}'), "
    "group_concat(COALESCE((SELECT MIN(n.effective_on) FROM caseload_history n WHERE n.locality_id = h.locality_id "
    f"AND n.patient_id = h.patient_id AND n.effective_on > h.effective_on), '{caseload_history.OPEN}'), '{_SEP}'), "
    f"group_concat((p.status = ?2) + 2 * ({_SPELL_FIELDS['managed']}) + 4 * ({_SPELL_FIELDS['named_gp']}), ''), "
    f"group_concat({_SPELL_FIELDS['care_plan_date']}, '{_SEP}'), "
    f"group_concat(CAST({_SPELL_FIELDS['interval']} AS INTEGER), '{_SEP}') "
    "FROM caseload_history h JOIN patients p ON p.id = h.patient_id AND p.locality_id = h.locality_id "
    "WHERE h.locality_id = ?1 AND h.status = ?2"
)


def _caseload_spells(db: sqlite_utils.Database, locality_id: str) -> dict[str, Any]:
    """caseload_history.spells(db, locality_id, "on caseload", _SPELL_FIELDS), read in one row. Where that row
    cannot stand for the rows (a patient on the caseload with no history, whom spells() adds from their record,
    or a value holding the separator), spells() itself reads them."""
    n, ids, starts, untils, flags, plans, intervals = db.execute(_SPELLS_SQL, [locality_id, _CASELOAD]).fetchone()
    if not n:
        columns: dict[str, Any] = {"id": [], "start": [], "until": [], "now": np.zeros(0, dtype=np.int64)}
        columns.update(care_plan_date=[], interval=[])
    else:
        columns = {
            "id": ids.split(_SEP),
            "start": starts.split(_SEP),
            "until": untils.split(_SEP),
            "care_plan_date": plans.split(_SEP),
            "interval": intervals.split(_SEP),
            "now": np.frombuffer(flags.encode(), dtype=np.uint8).astype(np.int64) - ord("0"),
        }
    flag = columns.pop("now")
    if any(len(v) != n for v in (*columns.values(), flag)) or (flag < 0).any() or (flag > 7).any():
        return caseload_history.spells(db, locality_id, _CASELOAD, _SPELL_FIELDS)
    # spells()' count of the patients in the status with no history (spells() says why it is enough).
    current = int(((np.array(columns["until"], dtype=object) == caseload_history.OPEN) & (flag & 1 == 1)).sum())
    held = db.execute(
        "SELECT COUNT(*) FROM patients WHERE locality_id = ? AND status = ?", [locality_id, _CASELOAD]
    ).fetchone()[0]
    if held > current:
        return caseload_history.spells(db, locality_id, _CASELOAD, _SPELL_FIELDS)
    return {**columns, "managed": flag & 2 != 0, "named_gp": flag & 4 != 0}


def _as_spells(spells: dict[str, Any]) -> _Spells:
    """caseload_history.spells' columns (with _SPELL_FIELDS) as _Spells."""
    # Each patient once, numbered in order of first spell: arrow's dictionary encoding, in C++.
    encoded = pa.array(spells["id"], pa.string()).dictionary_encode()
    plan = np.array(spells["care_plan_date"], dtype="U10")
    planned = np.full(len(plan), NEVER)
    has_plan = plan != ""
    planned[has_plan] = plan[has_plan].astype("datetime64[D]").astype(np.int64)
    return _Spells(
        patients=encoded.dictionary,
        patient=encoded.indices.to_numpy().astype(np.int64),
        start=np.array(spells["start"], dtype="U10"),
        until=np.array(spells["until"], dtype="U10"),
        managed=np.array(spells["managed"], dtype=bool),
        care_plan_date=plan,
        planned=planned,
        interval=np.array(spells["interval"], dtype=np.int64),
        named_gp=np.array(spells["named_gp"], dtype=bool),
    )


def _dated_by_locality(rows) -> dict[str, tuple[list[str], list[str]]]:
    """(locality, day, value) rows, read in day order, as each locality's (days, values): sorted days for bisect."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    for loc, day, value in rows:
        days, values = out.setdefault(loc, ([], []))
        days.append(day)
        values.append(value)
    return out


_JULIAN_DAY_0 = 1721424.5  # SQLite's julianday() of a date is its ordinal plus this


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
    # Reviewed in the year to as_of: the last review by as_of falls in it.
    reviewed = c.last_review() >= _day_number(add_months(c.as_of, -12))
    plan = c.on_caseload(spells.care_plan_date)
    planned = (plan >= year_ago) & (plan <= until) & (plan != "")
    return int((inside & (reviewed | planned)).sum()), int(inside.sum())


def _coh04(c: _Context) -> tuple[float | None, float | None]:
    """A review is in date at as_of when the later of the care plan and the last review before then, plus the
    patient's review interval, has not passed: what next_review_due said on that day (caseload.next_review_due),
    so a past quarter is judged by what was known at its end, not by reviews done since."""
    spells, inside = c.spells(), c.in_cohort()
    last = c.last_review()
    plan = c.on_caseload(spells.care_plan_date)
    has_plan = (plan != "") & (plan <= c.as_of.isoformat())
    planned = np.where(has_plan, c.on_caseload(spells.planned), NEVER)
    base = np.maximum(last, planned)
    months_of = c.on_caseload(spells.interval)
    in_date = base >= c.on_caseload(_review_thresholds(c))
    in_date &= (base != NEVER) & ((months_of > 0) | (plan != ""))
    return int((inside & in_date).sum()), int(inside.sum())


def _review_thresholds(c: _Context) -> np.ndarray:
    """For each spell, the first base day (care plan or review) whose next review, its interval on (6 months
    without one; add_months, clamped at a month's end), falls on or after as_of: worked out once a locality and
    day for each interval its spells hold."""

    def read() -> np.ndarray:
        months, which = np.unique(np.where(c.spells().interval > 0, c.spells().interval, 6), return_inverse=True)
        firsts = []
        for n in months.tolist():
            first = add_months(c.as_of, -n)
            while add_months(first, n) < c.as_of:
                first += dt.timedelta(days=1)
            firsts.append(_day_number(first))
        return np.array(firsts, dtype=np.int64)[which.reshape(-1)]

    return c.once(("review thresholds", c.locality_id, c.as_of), read)


def _coh05(c: _Context) -> tuple[float | None, float | None]:
    inside = c.in_cohort()
    return int((inside & c.on_caseload(c.spells().managed)).sum()), int(inside.sum())


def _interventions(c: _Context) -> dict[str, int]:
    """The interventions the locality delivered in the period, by type."""

    def read() -> dict[str, int]:
        counts = dict(
            c.db.execute(
                # One count per type the locality has ever delivered (found by a skip through the index
                # (locality_id, type, delivered_on)), each a range of that index: no sort, as GROUP BY type over
                # the period's range of (locality_id, delivered_on) would need. The reviews, most of them, are
                # counted in the days reviews() holds.
                "WITH RECURSIVE t(type) AS (SELECT MIN(type) FROM interventions WHERE locality_id = ?1 "
                "UNION ALL SELECT (SELECT MIN(type) FROM interventions WHERE locality_id = ?1 AND type > t.type) "
                "FROM t WHERE t.type IS NOT NULL) SELECT type, (SELECT COUNT(*) FROM interventions i "
                "WHERE i.locality_id = ?1 AND i.type = t.type AND i.delivered_on BETWEEN ?2 AND ?3) AS n "
                "FROM t WHERE type IS NOT NULL AND type != ?4 AND n > 0",
                [c.locality_id, c.start, c.end, REVIEW],
            ).fetchall()
        )
        days = c.reviews().every_day
        reviews = int(
            np.searchsorted(days, _day_number(c.q.end), "right") - np.searchsorted(days, _day_number(c.q.start))
        )
        return {**counts, REVIEW: reviews} if reviews else counts

    return c.once(("COH-06 by type", c.locality_id, c.q), read)


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
    def read() -> dict[str, tuple[list[str], list[str]]]:
        # Every locality's patient agenda items at once (a few thousand): one read instead of one a period.
        return _dated_by_locality(
            c.db.execute(
                "SELECT m.locality_id, m.held_on, i.patient_id FROM meeting_items i JOIN meetings m "
                "ON m.id = i.meeting_id WHERE i.kind = 'patient' AND i.patient_id IS NOT NULL ORDER BY m.held_on"
            )
        )

    days, patients = c.once("MDT-02", read).get(c.locality_id, ([], []))
    return len(set(patients[bisect.bisect_left(days, c.start) : bisect.bisect_right(days, c.end)])), None


@dataclass
class _Actions:
    """A locality's actions that were not cancelled, as columns of ISO days."""

    due: np.ndarray
    on_time: np.ndarray  # done, on or before the due day
    closed: np.ndarray  # the day it stopped being open: completed_on if done, _OPEN if not, "" never open
    created: np.ndarray  # the day it was made, "~" (after any day) if unreadable


_OPEN = caseload_history.OPEN  # a day after any: not closed yet


def _actions(c: _Context) -> tuple[int, int, int] | None:
    """(actions due in the period by as_of, those done by their due day, actions overdue at as_of) of the
    locality: both KPIs from one read of every locality's actions (a few thousand), each period counted in numpy."""

    def read() -> dict[str, _Actions]:
        # An action done with no completion day is neither on time nor overdue, as SQL's NULL made it.
        rows = c.db.execute(
            "SELECT locality_id, due_date, COALESCE(status = 'done' AND completed_on <= due_date, 0), "
            f"CASE WHEN status != 'done' THEN '{_OPEN}' ELSE COALESCE(completed_on, '') END, "
            "COALESCE(date(created_at), '~') FROM actions WHERE status != 'cancelled' ORDER BY locality_id"
        ).fetchall()
        if not rows:
            return {}
        # Columns for all, then each locality's run of rows: numpy turns a column into an array in one call.
        locality, *columns = (np.array(column) for column in zip(*rows, strict=True))
        cuts = [0, *(np.flatnonzero(locality[1:] != locality[:-1]) + 1).tolist(), len(rows)]
        return {
            str(locality[lo]): _Actions(*(column[lo:hi] for column in columns))
            for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)
        }

    return c.once(("actions of", c.locality_id, c.q, c.as_of), lambda: _count_actions(c, c.once("actions", read)))


def _count_actions(c: _Context, every: dict[str, _Actions]) -> tuple[int, int, int] | None:
    actions = every.get(c.locality_id)
    if actions is None:
        return None
    at = c.as_of.isoformat()
    due = actions.due <= at
    if not due.any():
        return None
    in_period = due & (actions.due >= c.start)
    overdue = (actions.due < at) & (actions.created <= at) & (actions.closed > at)
    return int(in_period.sum()), int((in_period & (actions.on_time == 1)).sum()), int(overdue.sum())


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


def _home_visits(c: _Context) -> tuple[int, int, int] | None:
    """(visits in the period, weeks its homes' rounds covered, weeks due) of the locality: CH-02, CH-04 and CH-05
    from one pass over the period's visits, a row a home, grouped by home so that SQLite need not join every visit
    to its home."""

    def read() -> dict[str, tuple[int, int, int]]:
        # The round grid's weeks (Quarter.weeks): a week is the quarter's that holds its Sunday, so a week that
        # straddles two quarters is counted in one only.
        weeks = c.q.weeks()
        started, finished = visits.week_progress(weeks, c.today)
        monday = weeks[0]

        def week(n: int) -> str:  # the first day of the quarter's week n
            return (monday + dt.timedelta(days=7 * n)).isoformat()

        first, last = monday.isoformat(), (weeks[-1] + dt.timedelta(days=6)).isoformat()
        under_way = (week(finished), week(finished + 1)) if finished < len(weeks) else ("", "")
        # visits.round_coverage's rule counted in SQL, a row a home instead of a row a round: the weeks held that
        # have started, and whether the round of week *finished* (the week under way, if any) was held. Weeks are
        # told apart by their days, so that only the rounds' days are turned into week numbers.
        held: dict[str, tuple[int, int, int]] = {}
        for home, *counts in c.db.execute(
            "SELECT care_home_id, SUM(visited_on BETWEEN ?1 AND ?2), COUNT(DISTINCT CASE WHEN type = "
            "'weekly home round' AND visited_on >= ?3 AND visited_on < ?4 THEN CAST((julianday(visited_on) - ?5) "
            "/ 7 AS INTEGER) END), MAX(type = 'weekly home round' AND visited_on >= ?6 AND visited_on < ?7) "
            "FROM visits WHERE visited_on BETWEEN ?8 AND ?9 GROUP BY care_home_id",
            [c.start, c.end, first, week(started), monday.toordinal() + _JULIAN_DAY_0, *under_way]
            + [min(c.start, first), max(c.end, last)],
        ):
            held[home] = tuple(counts)
        out: dict[str, tuple[int, int, int]] = {}
        for home, loc in c.home_localities().items():
            n, covered, current = held.get(home, (0, 0, 0))
            # The week under way counts only once its round has happened (round_coverage).
            due = finished + (1 if started > finished and current else 0)
            was = out.get(loc, (0, 0, 0))
            out[loc] = (was[0] + n, was[1] + covered, was[2] + due)
        return out

    return c.once(("home visits", c.q, c.today), read).get(c.locality_id)


def _ch02(c: _Context) -> tuple[float | None, float | None]:
    row = _home_visits(c)
    return (row[1], row[2]) if row else (0, 0)


def _ch03(c: _Context) -> tuple[float | None, float | None]:
    def read() -> dict[str, tuple[int, int]]:
        # pcsp_candidates' window: an admission earlier than this has its PCSP due before the period. Every
        # locality's at once, through the index on the latest admission day: the period's admissions only, each
        # column in one string (_SPELLS_SQL says why).
        since = (c.q.start - dt.timedelta(days=residents.PCSP_MAX_CALENDAR_DAYS)).isoformat()
        fields = ("care_home_id", "admitted_on", "COALESCE(readmitted_on, '')", "COALESCE(pcsp_on, '')")
        where = "FROM residents WHERE COALESCE(readmitted_on, admitted_on) BETWEEN ? AND ?"
        joins = ", ".join(f"group_concat({field}, '{_SEP}')" for field in fields)
        n, *joined = c.db.execute(f"SELECT COUNT(*), {joins} {where}", [since, c.end]).fetchone()
        columns = [text.split(_SEP) for text in joined] if n else [[] for _ in fields]
        if any(len(column) != n for column in columns):
            rows = c.db.execute(f"SELECT {', '.join(fields)} {where}", [since, c.end]).fetchall()
            columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in fields]
        return _pcsp_counts(*columns, c.home_localities(), c.q.start, c.q.end, c.today)

    return c.once(("CH-03", c.q, c.today), read).get(c.locality_id, (0, 0))


def _pcsp_counts(
    homes: list[str],
    admitted: list[str],
    readmitted: list[str],
    plans: list[str],
    localities: dict[str, str],
    start: dt.date,
    end: dt.date,
    today: dt.date,
) -> dict[str, tuple[int, int]]:
    """(PCSPs on time, admissions counted) by locality of the period [start, end], of residents given as columns
    (their care home, admission, re-admission and PCSP days, "" for none): residents.pcsp_standing's rule (one
    with the visit and locality reports: an admission counts in the one quarter its PCSP falls due in, once that
    day has come; one admitted late in March is judged in Q1) on whole columns, each admission day's due day
    worked out once, in ISO days, which order as the dates do. A period's admissions are a thousand or more; the
    rule's own dates and dicts cost ~5 µs each."""
    if not homes:
        return {}
    begun = np.where(np.array(readmitted) != "", np.array(readmitted), np.array(admitted))
    days, which = np.unique(begun, return_inverse=True)
    due = np.array([residents.pcsp_due({"admitted_on": day}).isoformat() for day in days.tolist()])[which]
    plan = np.array(plans)
    names = sorted(set(localities.values()))
    ids, home_of = np.unique(np.array(homes), return_inverse=True)
    number = {name: n for n, name in enumerate(names)}
    loc = np.array([number.get(localities.get(h), -1) for h in ids.tolist()], dtype=np.int64)[home_of]
    # Of the period and due by the period's end or today (a PCSP falling due later is not counted yet).
    counted = (loc >= 0) & (due >= start.isoformat()) & (begun <= end.isoformat())
    counted &= due <= min(end, today).isoformat()
    planned = (plan != "") & (plan >= begun)
    on_time = planned & (plan <= due)
    counted &= planned | (due < today.isoformat())  # without a plan, overdue once its day has passed
    totals = np.bincount(loc[counted], minlength=len(names))
    timely = np.bincount(loc[counted & on_time], minlength=len(names))
    return {name: (int(timely[n]), int(totals[n])) for n, name in enumerate(names) if totals[n]}


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


def _visits(c: _Context) -> tuple[int] | None:
    """(visits,) in the period, None without any."""
    row = _home_visits(c)
    return (row[0],) if row and row[0] else None


# Visits that reviewed no one and visits that sent anyone to hospital are few: their days, read once for every
# locality, cost less than a look into each visit's residents in every period. Those that reviewed no one are
# found walking the visits' ids in order (their primary key's index), so that the look-ups into the residents'
# index (visit_id, outcome) go in its order too: a third of the cost of taking the visits in the table's order.
# Those that sent anyone to hospital are the whole of the partial index visit_residents_transfers (migration 16).
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
    out, over = [], context.as_of >= quarter.end
    for kpi in by_code().values():
        if kpi.source != "computed":
            continue
        figures = COMPUTE[kpi.code] if kpi.intervention is None else _coh06_type(kpi.intervention)
        numerator, denominator = figures(context)
        out.append(_figure(kpi, numerator, denominator, rated=over or not kpi.flow))
    return out


def _figure(kpi: Kpi, numerator: float | None, denominator: float | None, rated: bool = True) -> Figure:
    """*rated* False: a count per quarter still under way, which cannot be held to the whole quarter's target."""
    value = kpi.value(numerator, denominator)
    return Figure(kpi.code, numerator, denominator, value, kpi.rag(value) if rated else None)
