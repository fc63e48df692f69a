"""Computed KPIs (DESIGN §9) for a locality and NHS quarter, from the workspace's own records.

Each KPI keeps its numerator and denominator. Who was on the caseload is read from the caseload status history
(cohort.caseload_history) as it stood at the period's end, or today in a period under way, so a past quarter or
month counts the caseload of its day and a later edit does not move it. The other caseload fields (care plan
date, review interval, case manager, named GP) hold their current value: a past period computed today judges
its caseload by today's care plans and allocations (COH-04 reads reviews as of the period's end). A signed-off
return freezes the figures of its day.
"""

from __future__ import annotations

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


class _Context:
    """What the KPIs of one locality-quarter share. Reads go through *shared*, a cache for one batch of
    calls: records a locality needs for every quarter are read once per locality, and figures that SQLite can
    group by locality are read once per quarter for all localities (DESIGN §13: 11 × 8 in under a second)."""

    def __init__(
        self, db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date, shared: dict[Any, Any]
    ):
        self.db, self.locality_id, self.q, self.today = db, locality_id, quarter, today
        self.start, self.end = quarter.start.isoformat(), quarter.end.isoformat()
        self.as_of = min(quarter.end, today)
        self._shared = shared
        self._in_cohort: np.ndarray | None = None

    def once(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self._shared:
            self._shared[key] = read()
        return self._shared[key]

    def by_locality(self, key: Any, sql: str, params: list[Any]) -> tuple[Any, ...] | None:
        """One row of a query whose first column is the locality id, run once for all localities."""
        rows = self.once(key, lambda: {r[0]: r[1:] for r in self.db.execute(sql, params)})
        return rows.get(self.locality_id)

    def scalar(self, sql: str, params: list[Any]) -> int:
        return self.db.execute(sql, params).fetchone()[0] or 0

    def care_plan_reviews(self) -> tuple[np.ndarray, pa.Array]:
        """(dates sorted, patient ids) of the care-plan reviews the locality delivered."""

        def read() -> tuple[np.ndarray, pa.Array]:
            rows = self.db.execute(
                "SELECT delivered_on, patient_id FROM interventions WHERE locality_id = ? AND "
                "type = 'care-plan review' ORDER BY delivered_on",
                [self.locality_id],
            ).fetchall()
            return (np.array([r[0] for r in rows], dtype="U10"), pa.array([r[1] for r in rows], pa.string()))

        return self.once(("reviews", self.locality_id), read)

    def run_id(self) -> str | None:
        """The quarter-end cohort's risk run: the latest extract dated on or before the quarter's end."""
        row = self.db.execute(
            "SELECT id FROM risk_runs WHERE locality_id = ? AND extract_date <= ? "
            "ORDER BY extract_date DESC, imported_at DESC LIMIT 1",
            [self.locality_id, self.end],
        ).fetchone()
        return row[0] if row else None

    def cohort_ids(self) -> pa.Array | None:
        run = self.run_id()
        if run is None:
            return None
        return self.once(("run", run), lambda: risk_store.run_patient_ids(self.db, run))

    def caseload_spells(self) -> dict[str, Any]:
        """The locality's patients' spells on the caseload, with their caseload fields, as columns (read once
        per locality; caseload_history.spells)."""

        def read() -> dict[str, Any]:
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
            return {
                "id": pa.array(spells["id"], pa.string()),
                "start": np.array(spells["start"], dtype="U10"),
                "until": np.array(spells["until"], dtype="U10"),
                "managed": np.array(spells["managed"], dtype=bool),
                "care_plan_date": np.array(spells["care_plan_date"], dtype="U10"),
                "interval": np.array(spells["interval"], dtype=np.int64),
                "named_gp": np.array(spells["named_gp"], dtype=bool),
            }

        return self.once(("caseload spells", self.locality_id), read)

    def caseload(self) -> dict[str, Any]:
        """The locality's patients on the caseload at the end of as_of, as columns."""

        def read() -> dict[str, Any]:
            spells, day = self.caseload_spells(), self.as_of.isoformat()
            on = (spells["start"] <= day) & (day < spells["until"])
            return {
                "id": spells["id"].filter(pa.array(on)),
                **{name: spells[name][on] for name in ("managed", "care_plan_date", "interval", "named_gp")},
            }

        return self.once(("caseload", self.locality_id, self.as_of), read)

    def reviews_by_patient(self) -> tuple[np.ndarray, np.ndarray]:
        """The care-plan reviews of caseload patients: (dates sorted, as day numbers; the index of each review's
        patient in caseload()), for reading each patient's last review before a day."""

        def read() -> tuple[np.ndarray, np.ndarray]:
            days, patients = self.care_plan_reviews()
            numbers = self.once(
                ("review day numbers", self.locality_id), lambda: days.astype("datetime64[D]").astype(np.int64)
            )
            where = pc.index_in(patients, value_set=self.caseload()["id"]).to_numpy(zero_copy_only=False)
            mine = ~np.isnan(where.astype(float))
            return numbers[mine], where[mine].astype(np.int64)

        return self.once(("reviews by patient", self.locality_id, self.as_of), read)

    def in_cohort(self) -> np.ndarray:
        """Which caseload patients are in the quarter-end cohort."""
        if self._in_cohort is None:
            ids, load = self.cohort_ids(), self.caseload()
            if ids is None or not len(load["id"]):
                self._in_cohort = np.zeros(len(load["id"]), dtype=bool)
            else:
                self._in_cohort = pc.is_in(load["id"], value_set=ids).to_numpy(zero_copy_only=False)
        return self._in_cohort


def _coh01(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (len(ids) if ids is not None else None), None


def _coh02(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (int(c.in_cohort().sum()), len(ids)) if ids is not None else (None, None)


def _coh03(c: _Context) -> tuple[float | None, float | None]:
    year_ago, until = add_months(c.as_of, -12).isoformat(), c.as_of.isoformat()
    load, inside = c.caseload(), c.in_cohort()
    days, patients = c.care_plan_reviews()
    lo, hi = np.searchsorted(days, year_ago, "left"), np.searchsorted(days, until, "right")
    reviewed = pc.is_in(load["id"], value_set=patients[lo:hi]).to_numpy(zero_copy_only=False)
    plan = load["care_plan_date"]
    planned = (plan >= year_ago) & (plan <= until) & (plan != "")
    return int((inside & (reviewed | planned)).sum()), int(inside.sum())


def _coh04(c: _Context) -> tuple[float | None, float | None]:
    """A review is in date at as_of when the later of the care plan and the last review before then, plus the
    patient's review interval, has not passed: what next_review_due said on that day (caseload.next_review_due),
    so a past quarter is judged by what was known at its end, not by reviews done since."""
    never = np.iinfo(np.int64).min  # no plan and no review by as_of
    load, inside = c.caseload(), c.in_cohort()
    days, who = c.reviews_by_patient()
    until = np.datetime64(c.as_of, "D").astype(np.int64)
    last = np.full(len(load["id"]), never)
    upto = np.searchsorted(days, until, "right")
    np.maximum.at(last, who[:upto], days[:upto])
    plan = load["care_plan_date"]
    has_plan = (plan != "") & (plan <= c.as_of.isoformat())
    planned = np.where(has_plan, plan, "1970-01-01").astype("datetime64[D]").astype(np.int64)
    planned[~has_plan] = never
    base = np.maximum(last, planned)
    interval = np.where(load["interval"] > 0, load["interval"], 6)
    in_date = np.zeros(len(base), dtype=bool)
    for months in np.unique(interval):
        # The first base day whose next review (add_months, clamped at a month's end) falls on or after as_of.
        first = add_months(c.as_of, -int(months))
        while add_months(first, int(months)) < c.as_of:
            first += dt.timedelta(days=1)
        these = interval == months
        in_date[these] = base[these] >= np.datetime64(first, "D").astype(np.int64)
    in_date &= (base != never) & ((load["interval"] > 0) | (plan != ""))
    return int((inside & in_date).sum()), int(inside.sum())


def _coh05(c: _Context) -> tuple[float | None, float | None]:
    load, inside = c.caseload(), c.in_cohort()
    return int((inside & load["managed"]).sum()), int(inside.sum())


def _coh06(c: _Context) -> tuple[float | None, float | None]:
    return c.scalar(
        "SELECT COUNT(*) FROM interventions WHERE locality_id = ? AND delivered_on BETWEEN ? AND ?",
        [c.locality_id, c.start, c.end],
    ), None


def _coh06_type(intervention: str) -> Callable[[_Context], tuple[float | None, float | None]]:
    def count(c: _Context) -> tuple[float | None, float | None]:
        by_type = c.once(
            ("COH-06 by type", c.locality_id, c.q),
            lambda: dict(
                c.db.execute(
                    "SELECT type, COUNT(*) FROM interventions WHERE locality_id = ? AND delivered_on BETWEEN ? AND ? "
                    "GROUP BY type",
                    [c.locality_id, c.start, c.end],
                ).fetchall()
            ),
        )
        return by_type.get(intervention, 0), None

    return count


def _coh07(c: _Context) -> tuple[float | None, float | None]:
    load, inside = c.caseload(), c.in_cohort()
    return int((inside & load["named_gp"]).sum()), int(inside.sum())


def _coh08(c: _Context) -> tuple[float | None, float | None]:
    run = c.run_id()
    if run is None:
        return None, None
    flags = c.once(("eol", run), lambda: risk_store.run_columns(c.db, run, ["eol_register"])["eol_register"])
    return int(pc.sum(pc.fill_null(flags, False)).as_py() or 0), len(flags)


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


def _mdt03(c: _Context) -> tuple[float | None, float | None]:
    # In a quarter under way, only the actions already due: those still to come cannot have been done late yet.
    row = c.by_locality(
        ("MDT-03", c.q, c.as_of),
        "SELECT locality_id, COUNT(*), SUM(status = 'done' AND completed_on <= due_date) FROM actions "
        "WHERE due_date BETWEEN ? AND ? AND status != 'cancelled' GROUP BY locality_id",
        [c.start, c.as_of.isoformat()],
    )
    return (row[1] or 0, row[0]) if row else (0, 0)


def _mdt04(c: _Context) -> tuple[float | None, float | None]:
    # At quarter end, or today in a quarter under way: an action due later this quarter is not overdue yet.
    at = c.as_of.isoformat()
    row = c.by_locality(
        ("MDT-04", c.q, c.as_of),
        "SELECT locality_id, COUNT(*) FROM actions WHERE due_date < ? AND status != 'cancelled' "
        "AND date(created_at) <= ? AND NOT (status = 'done' AND completed_on <= ?) GROUP BY locality_id",
        [at, at, at],
    )
    return (row[0] if row else 0), None


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
        held: dict[str, dict[str, set[int]]] = {}
        for loc, home in c.db.execute("SELECT locality_id, id FROM care_homes"):
            held.setdefault(loc, {})[home] = set()
        for loc, home, week in c.db.execute(
            "SELECT DISTINCT h.locality_id, v.care_home_id, CAST((julianday(v.visited_on) - julianday(?)) / 7 "
            "AS INTEGER) FROM visits v JOIN care_homes h ON h.id = v.care_home_id WHERE v.visited_on "
            "BETWEEN ? AND ? AND v.type = 'weekly home round'",
            [weeks[0].isoformat(), weeks[0].isoformat(), (weeks[-1] + dt.timedelta(days=6)).isoformat()],
        ):
            held[loc][home].add(week)
        out = {}
        for loc, homes in held.items():
            cover = [visits.round_coverage(weeks_held, started, finished) for weeks_held in homes.values()]
            out[loc] = (sum(a for a, _ in cover), sum(b for _, b in cover))
        return out

    return c.once(("CH-02", c.q, c.today), read).get(c.locality_id, (0, 0))


def _ch03(c: _Context) -> tuple[float | None, float | None]:
    def read() -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = {}
        # One rule with the visit and locality reports (residents.pcsp_standing): an admission counts in the one
        # quarter its PCSP falls due in, once that day has come; one admitted late in March is judged in Q1.
        for row in residents.pcsp_candidates(c.db, c.q.start, c.q.end):
            standing = residents.pcsp_standing(row, c.q.start, c.q.end, c.today)
            if standing in residents.COUNTED:
                counts = out.setdefault(row["locality_id"], [0, 0])
                counts[0] += standing == "on time"
                counts[1] += 1
        return {loc: (a, b) for loc, (a, b) in out.items()}

    return c.once(("CH-03", c.q, c.today), read).get(c.locality_id, (0, 0))


def _ch04(c: _Context) -> tuple[float | None, float | None]:
    row, homes = _visits(c), _homes(c)
    return (row[0] if row else 0), (homes[2] or 0 if homes else 0)


def _ch05(c: _Context) -> tuple[float | None, float | None]:
    row = _visits(c)
    return (row[2] or 0, row[1] or 0) if row else (0, 0)


def _visits(c: _Context) -> tuple[Any, ...] | None:
    """(visits, visits that reviewed anyone, visits that sent anyone to hospital) in the quarter."""
    return c.by_locality(
        ("visits", c.q),
        "SELECT h.locality_id, COUNT(*), SUM(EXISTS (SELECT 1 FROM visit_residents r WHERE r.visit_id = v.id)), "
        "SUM(EXISTS (SELECT 1 FROM visit_residents r WHERE r.visit_id = v.id AND r.outcome = 'transferred to "
        "hospital')) FROM visits v JOIN care_homes h ON h.id = v.care_home_id WHERE v.visited_on BETWEEN ? AND ? "
        "GROUP BY h.locality_id",
        [c.start, c.end],
    )


def _ch06(c: _Context) -> tuple[float | None, float | None]:
    at = c.as_of.isoformat()
    row = c.by_locality(
        ("CH-06", at),
        "SELECT h.locality_id, COUNT(*), SUM(r.eol_plan_on IS NOT NULL AND r.eol_plan_on <= ?) FROM residents r "
        "JOIN care_homes h ON h.id = r.care_home_id WHERE r.end_of_life = 1 AND r.admitted_on <= ? "
        "AND (r.left_on IS NULL OR r.left_on > ?) GROUP BY h.locality_id",
        [at, at, at],
    )
    return (row[1] or 0, row[0]) if row else (0, 0)


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
