"""The KPIs' bulk reads (issue 26: 11 localities x 8 quarters in 0.3 s) give what the rules they stand in for give:
the caseload spells read as one row are caseload_history.spells' own, whatever the records hold, and CH-03 places
every admission where residents.pcsp_standing (the rule of the PCSP reports) places it."""

from __future__ import annotations

import datetime as dt
import itertools

from worlds import copy_world

from desktop.models import quarters
from desktop.models.care_homes import residents
from desktop.models.cohort import caseload_history
from desktop.models.db import open_workspace
from desktop.models.kpi import compute as kpi_compute


def _spells(columns):
    """Each spell as one tuple of what the KPIs read from it, in no particular order."""
    s = kpi_compute._as_spells(columns)
    ids = s.patients.to_pylist()
    return sorted(
        zip(
            [ids[i] for i in s.patient],
            s.start.tolist(),
            s.until.tolist(),
            s.managed.tolist(),
            s.care_plan_date.tolist(),
            s.planned.tolist(),
            s.interval.tolist(),
            s.named_gp.tolist(),
            strict=True,
        )
    )


def _agree(db):
    localities = [r[0] for r in db.execute("SELECT id FROM localities")]
    seen = 0
    for loc in localities:
        fast = _spells(kpi_compute._caseload_spells(db, loc))
        rule = _spells(caseload_history.spells(db, loc, "on caseload", kpi_compute._SPELL_FIELDS))
        assert fast == rule, loc
        seen += len(fast)
    return seen


def test_the_caseload_spells_read_in_one_row_are_caseload_history_spells(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    try:
        assert _agree(db) > 100  # the world has a caseload with a history worth comparing
        # One patient of each of two localities, so that each change alone decides how its locality is read.
        on_caseload = [
            r[0]
            for r in db.execute(
                "SELECT MIN(id) FROM patients WHERE status = 'on caseload' GROUP BY locality_id ORDER BY 1 LIMIT 2"
            )
        ]
        # A day holding the separator the one-row read splits on, then a record come by sync with no history
        # (spells() adds it from the record): each must still give spells()' spells.
        for change in (
            "UPDATE caseload_history SET effective_on = effective_on || char(31) WHERE patient_id = ?",
            "DELETE FROM caseload_history WHERE patient_id = ?",
        ):
            with db.conn:
                db.execute(change, [on_caseload.pop()])
            assert _agree(db) > 100
    finally:
        db.close()


def test_ch03_places_every_admission_as_the_pcsp_rule_does():
    """Admissions around a quarter with Christmas in it, re-admissions, plans early, on the day, late and missing,
    judged on days before, within and after the quarter."""
    q = quarters.parse("2025-26-Q3")  # October to December 2025
    homes = {"home-a": "loc-1", "home-b": "loc-2"}
    days = [q.start + dt.timedelta(days=n) for n in range(-25, (q.end - q.start).days + 8, 3)]
    rows = []
    for n, (home, admitted) in enumerate(itertools.product(homes, days)):
        readmitted = (admitted + dt.timedelta(days=4)).isoformat() if n % 5 == 0 else None
        begun = dt.date.fromisoformat(readmitted) if readmitted else admitted
        plan = [None, begun - dt.timedelta(days=1), begun, begun + dt.timedelta(days=9), begun + dt.timedelta(days=12)]
        chosen = plan[n % len(plan)]
        rows.append((home, admitted.isoformat(), readmitted, chosen.isoformat() if chosen else None))
    rows.append(("home-elsewhere", q.start.isoformat(), None, None))  # a home of no locality counts nowhere
    for today in (q.start + dt.timedelta(days=40), q.end - dt.timedelta(days=2), q.end, dt.date(2026, 2, 1)):
        expected: dict[str, list[int]] = {}
        for home, admitted, readmitted, plan in rows:
            if home not in homes:
                continue
            record = {"admitted_on": admitted, "readmitted_on": readmitted, "pcsp_on": plan}
            standing = residents.pcsp_standing(record, q.start, q.end, today)
            if standing in residents.COUNTED:
                counts = expected.setdefault(homes[home], [0, 0])
                counts[0] += standing == "on time"
                counts[1] += 1
        # As the read gives them: a column each, "" for a day not recorded.
        columns = [[value or "" for value in column] for column in zip(*rows, strict=True)]
        got = kpi_compute._pcsp_counts(*columns, homes, q.start, q.end, today)
        assert got == {loc: tuple(counts) for loc, counts in expected.items()}, today
        assert sum(n for _, n in got.values()) > 20  # each day judges a good many admissions


def test_the_reviews_read_in_one_row_are_the_locality_s_care_plan_reviews(history_world_template, tmp_path):
    """COH-03 and COH-04 judge each caseload patient by their care-plan reviews: the one-row read gives every
    review of the locality, and each caseload patient's own, as reading them row by row does, also when a value
    holds the separator it splits on (then it reads them row by row)."""
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    try:
        loc = db.execute(
            "SELECT locality_id FROM interventions WHERE type = ? GROUP BY locality_id ORDER BY COUNT(*) DESC",
            [kpi_compute.REVIEW],
        ).fetchone()[0]
        quarter = quarters.parse("2025-26-Q3")

        def agree() -> int:
            reviews = kpi_compute._Context(db, loc, quarter, quarter.end, {}).reviews()
            spells = kpi_compute._Context(db, loc, quarter, quarter.end, {}).spells()
            number = {p: i for i, p in enumerate(spells.patients.to_pylist())}
            rows = db.execute(
                "SELECT delivered_on, patient_id FROM interventions WHERE locality_id = ? AND type = ?",
                [loc, kpi_compute.REVIEW],
            ).fetchall()
            day = {d: kpi_compute._day_number(dt.date.fromisoformat(d)) for d, _ in rows}
            assert reviews.every_day.tolist() == sorted(day[d] for d, _ in rows)
            mine = sorted((day[d], number[p]) for d, p in rows if p in number)
            assert sorted(zip(reviews.days.tolist(), reviews.patient.tolist(), strict=True)) == mine
            return len(mine)

        assert agree() > 50
        db.execute("PRAGMA foreign_keys = OFF")  # an id no patient has, to hold the separator
        with db.conn:
            db.execute(
                "UPDATE interventions SET patient_id = patient_id || char(31) WHERE id = (SELECT MIN(id) FROM "
                "interventions WHERE locality_id = ? AND type = ?)",
                [loc, kpi_compute.REVIEW],
            )
        assert agree() > 50
    finally:
        db.close()


def test_ch03_of_every_locality_is_the_pcsp_reports_count(history_world_template, tmp_path):
    """CH-03 of each locality counts what residents.pcsp_standing says of pcsp_candidates' admissions, also when a
    value holds the separator the one-row read splits on (then it reads them row by row)."""
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    try:
        quarter = quarters.parse("2025-26-Q3")
        today = quarter.end + dt.timedelta(days=20)

        def agree() -> int:
            expected: dict[str, list[int]] = {}
            for r in residents.pcsp_candidates(db, quarter.start, quarter.end):
                standing = residents.pcsp_standing(r, quarter.start, quarter.end, today)
                if standing in residents.COUNTED:
                    counts = expected.setdefault(r["locality_id"], [0, 0])
                    counts[0] += standing == "on time"
                    counts[1] += 1
            shared: dict = {}
            for (loc,) in db.execute("SELECT id FROM localities"):
                (figure,) = [f for f in kpi_compute.compute(db, loc, quarter, today, shared) if f.kpi == "CH-03"]
                assert (figure.numerator, figure.denominator) == tuple(expected.get(loc, (0, 0))), loc
            return sum(n for _, n in expected.values())

        assert agree() > 20
        with db.conn:
            db.execute(
                "UPDATE residents SET pcsp_on = pcsp_on || char(31) WHERE id = (SELECT MIN(id) FROM residents "
                "WHERE pcsp_on IS NOT NULL AND COALESCE(readmitted_on, admitted_on) BETWEEN ? AND ?)",
                [quarter.start.isoformat(), quarter.end.isoformat()],
            )
        assert agree() > 20
    finally:
        db.close()
