"""Computed KPIs (DESIGN §9) for a locality and NHS quarter, from the workspace's own records.

Each KPI keeps its numerator and denominator. Caseload fields (status, care plan, case manager) hold their
current value, so a past quarter computed today shows today's caseload for that quarter's cohort; a signed
-off return freezes the figures of its day.
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

from . import residents, risk_store, visits
from .caseload import add_months
from .kpi_catalogue import Kpi, by_code
from .quarters import Quarter


@dataclass
class Figure:
    kpi: str
    numerator: float | None
    denominator: float | None
    value: float | None
    rag: str | None

    def as_json(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "numerator": self.numerator, "denominator": self.denominator,
                "value": self.value, "rag": self.rag}


class _Context:
    """What the KPIs of one locality-quarter share, read once."""

    def __init__(self, db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date,
                 shared: dict[Any, Any]):
        self.db, self.locality_id, self.q, self.today = db, locality_id, quarter, today
        self.start, self.end = quarter.start.isoformat(), quarter.end.isoformat()
        self.as_of = min(quarter.end, today)
        self._shared = shared  # reads reused across the quarters (and localities) of one batch
        self._caseload: list[dict[str, Any]] | None = None

    def once(self, key: Any, read: Callable[[], Any]) -> Any:
        if key not in self._shared:
            self._shared[key] = read()
        return self._shared[key]

    def care_plan_reviews(self) -> tuple[np.ndarray, np.ndarray]:
        """(dates sorted, patient ids) of the locality's care-plan reviews. One query serves the whole batch:
        joining by locality made SQLite walk every patient's interventions, locality by locality."""
        def read_all() -> dict[str, tuple[np.ndarray, np.ndarray]]:
            rows = self.db.execute(
                "SELECT p.locality_id, i.delivered_on, i.patient_id FROM interventions i "
                "JOIN patients p ON p.id = i.patient_id WHERE i.type = 'care-plan review'").fetchall()
            if not rows:
                return {}
            loc, days, pids = (np.array(c, dtype=object) for c in zip(*rows, strict=True))
            order = np.lexsort((days.astype(str), loc.astype(str)))
            loc, days, pids = loc[order], days[order], pids[order]
            starts = np.flatnonzero(np.r_[True, loc[1:] != loc[:-1]])
            ends = np.r_[starts[1:], len(loc)]
            return {loc[a]: (days[a:b], pids[a:b]) for a, b in zip(starts, ends, strict=True)}

        empty = (np.array([], dtype=object), np.array([], dtype=object))
        return self.once("reviews", read_all).get(self.locality_id, empty)

    def interventions_by_month(self) -> dict[str, int]:
        """'YYYY-MM' -> interventions delivered that month, for the locality; one query for the batch."""
        def read_all() -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for loc, month, n in self.db.execute(
                    "SELECT p.locality_id, substr(i.delivered_on, 1, 7), COUNT(*) FROM interventions i "
                    "JOIN patients p ON p.id = i.patient_id GROUP BY 1, 2"):
                out.setdefault(loc, {})[month] = n
            return out

        return self.once("interventions", read_all).get(self.locality_id, {})

    def cohort_ids(self) -> pa.Array | None:
        row = self.db.execute("SELECT id FROM risk_runs WHERE locality_id = ? AND extract_date <= ? "
                              "ORDER BY extract_date DESC, imported_at DESC LIMIT 1",
                              [self.locality_id, self.end]).fetchone()
        if row is None:
            return None
        run = self.once(("run", row[0]), lambda: risk_store.run_cohort(self.db, row[0]).select(["patient_id"]))
        return run["patient_id"]

    def caseload(self) -> list[dict[str, Any]]:
        """The quarter-end cohort's patients on the caseload."""
        if self._caseload is None:
            ids = self.cohort_ids()
            worked, worked_ids = self.once(("caseload", self.locality_id), self._read_caseload)
            if ids is None or not worked:
                self._caseload = []
            else:
                inside = pc.is_in(worked_ids, ids).to_numpy(zero_copy_only=False)
                self._caseload = [worked[i] for i in np.flatnonzero(inside)]
        return self._caseload

    def _read_caseload(self) -> tuple[list[dict[str, Any]], pa.Array]:
        worked = list(self.db.query("SELECT id, case_manager_id, care_plan_date, next_review_due FROM patients "
                                    "WHERE locality_id = ? AND status = 'on caseload'", [self.locality_id]))
        return worked, pa.array([w["id"] for w in worked], pa.string())

    def scalar(self, sql: str, params: list[Any]) -> int:
        return self.db.execute(sql, params).fetchone()[0] or 0


def _coh01(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (len(ids) if ids is not None else None), None


def _coh02(c: _Context) -> tuple[float | None, float | None]:
    ids = c.cohort_ids()
    return (len(c.caseload()), len(ids)) if ids is not None else (None, None)


def _coh03(c: _Context) -> tuple[float | None, float | None]:
    year_ago = add_months(c.as_of, -12).isoformat()
    until = c.as_of.isoformat()
    days, patients = c.care_plan_reviews()
    lo, hi = np.searchsorted(days, year_ago, "left"), np.searchsorted(days, until, "right")
    reviewed = set(patients[lo:hi].tolist())
    load = c.caseload()
    current = sum(1 for p in load if p["id"] in reviewed or
                  (p["care_plan_date"] and year_ago <= p["care_plan_date"] <= until))
    return current, len(load)


def _coh04(c: _Context) -> tuple[float | None, float | None]:
    load = c.caseload()
    at = c.as_of.isoformat()
    return sum(1 for p in load if p["next_review_due"] and p["next_review_due"] >= at), len(load)


def _coh05(c: _Context) -> tuple[float | None, float | None]:
    load = c.caseload()
    return sum(1 for p in load if p["case_manager_id"]), len(load)


def _coh06(c: _Context) -> tuple[float | None, float | None]:
    months = {f"{c.q.start.year + (c.q.start.month + i - 1) // 12}-{(c.q.start.month + i - 1) % 12 + 1:02d}"
              for i in range(3)}
    return sum(n for month, n in c.interventions_by_month().items() if month in months), None


def _mdt01(c: _Context) -> tuple[float | None, float | None]:
    return c.scalar("SELECT COUNT(*) FROM meetings WHERE locality_id = ? AND held_on BETWEEN ? AND ? AND "
                    "type IN ('locality MDT', 'care-home MDT') AND (status = 'held' OR held_on <= ?)",
                    [c.locality_id, c.start, c.end, c.today.isoformat()]), None


def _mdt02(c: _Context) -> tuple[float | None, float | None]:
    return c.scalar("SELECT COUNT(DISTINCT i.patient_id) FROM meeting_items i JOIN meetings m ON m.id = i.meeting_id "
                    "WHERE m.locality_id = ? AND m.held_on BETWEEN ? AND ? AND i.kind = 'patient'",
                    [c.locality_id, c.start, c.end]), None


def _mdt03(c: _Context) -> tuple[float | None, float | None]:
    row = c.db.execute(
        "SELECT COUNT(*), SUM(status = 'done' AND completed_on <= due_date) FROM actions WHERE locality_id = ? "
        "AND due_date BETWEEN ? AND ? AND status != 'cancelled'", [c.locality_id, c.start, c.end]).fetchone()
    return row[1] or 0, row[0]


def _mdt04(c: _Context) -> tuple[float | None, float | None]:
    return c.scalar("SELECT COUNT(*) FROM actions WHERE locality_id = ? AND due_date < ? AND status != 'cancelled' "
                    "AND date(created_at) <= ? AND NOT (status = 'done' AND completed_on <= ?)",
                    [c.locality_id, c.end, c.end, c.end]), None


def _ch01(c: _Context) -> tuple[float | None, float | None]:
    row = c.db.execute("SELECT COUNT(*), SUM(clinical_lead_id IS NOT NULL) FROM care_homes WHERE locality_id = ?",
                       [c.locality_id]).fetchone()
    return row[1] or 0, row[0]


def _ch02(c: _Context) -> tuple[float | None, float | None]:
    grid = visits.round_grid(c.db, c.locality_id, c.q, c.today)
    return sum(h["covered"] for h in grid["homes"]), sum(h["due"] for h in grid["homes"])


def _home_ids(c: _Context) -> list[str]:
    return [r[0] for r in c.db.execute("SELECT id FROM care_homes WHERE locality_id = ?", [c.locality_id])]


def _ch03(c: _Context) -> tuple[float | None, float | None]:
    homes = _home_ids(c)
    if not homes:
        return 0, 0
    summary = residents.pcsp_timeliness(c.db, homes, c.q.start, c.q.end, c.as_of)
    return summary["on_time"], summary["on_time"] + summary["late"] + summary["overdue"]


def _visits(c: _Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dates sorted, reviewed anyone, transferred anyone) of every visit to the locality's homes, read once."""
    def read() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = c.db.execute(
            "SELECT v.visited_on, COUNT(r.id) > 0, COALESCE(MAX(r.outcome = 'transferred to hospital'), 0) "
            "FROM visits v JOIN care_homes h ON h.id = v.care_home_id LEFT JOIN visit_residents r "
            "ON r.visit_id = v.id WHERE h.locality_id = ? GROUP BY v.id ORDER BY v.visited_on",
            [c.locality_id]).fetchall()
        return (np.array([r[0] for r in rows], dtype=object), np.array([r[1] for r in rows], dtype=bool),
                np.array([r[2] for r in rows], dtype=bool))
    return c.once(("visits", c.locality_id), read)


def _in_quarter(c: _Context, days: np.ndarray) -> slice:
    return slice(int(np.searchsorted(days, c.start, "left")), int(np.searchsorted(days, c.end, "right")))


def _ch04(c: _Context) -> tuple[float | None, float | None]:
    days, _, _ = _visits(c)
    beds = c.once(("beds", c.locality_id),
                  lambda: c.scalar("SELECT SUM(beds) FROM care_homes WHERE locality_id = ?", [c.locality_id]))
    window = _in_quarter(c, days)
    return window.stop - window.start, beds


def _ch05(c: _Context) -> tuple[float | None, float | None]:
    days, reviewed, transferred = _visits(c)
    window = _in_quarter(c, days)
    return int(transferred[window].sum()), int(reviewed[window].sum())


def _ch06(c: _Context) -> tuple[float | None, float | None]:
    at = c.as_of.isoformat()
    row = c.db.execute(
        "SELECT COUNT(*), SUM(r.eol_plan_on IS NOT NULL AND r.eol_plan_on <= ?) FROM residents r "
        "JOIN care_homes h ON h.id = r.care_home_id WHERE h.locality_id = ? AND r.end_of_life = 1 "
        "AND r.admitted_on <= ? AND (r.left_on IS NULL OR r.left_on > ?)", [at, c.locality_id, at, at]).fetchone()
    return row[1] or 0, row[0]


COMPUTE: dict[str, Callable[[_Context], tuple[float | None, float | None]]] = {
    "COH-01": _coh01, "COH-02": _coh02, "COH-03": _coh03, "COH-04": _coh04, "COH-05": _coh05, "COH-06": _coh06,
    "MDT-01": _mdt01, "MDT-02": _mdt02, "MDT-03": _mdt03, "MDT-04": _mdt04,
    "CH-01": _ch01, "CH-02": _ch02, "CH-03": _ch03, "CH-04": _ch04, "CH-05": _ch05, "CH-06": _ch06,
}


def compute(db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date | None = None,
            shared: dict[Any, Any] | None = None) -> list[Figure]:
    """Every computed KPI of the catalogue for one locality and quarter, in catalogue order. Pass the same
    *shared* dict to a batch of calls so each locality's records are read once."""
    context = _Context(db, locality_id, quarter, today or dt.date.today(), {} if shared is None else shared)
    out = []
    for kpi in by_code().values():
        if kpi.source != "computed":
            continue
        numerator, denominator = COMPUTE[kpi.code](context)
        out.append(_figure(kpi, numerator, denominator))
    return out


def _figure(kpi: Kpi, numerator: float | None, denominator: float | None) -> Figure:
    value = kpi.value(numerator, denominator)
    return Figure(kpi.code, numerator, denominator, value, kpi.rag(value))
