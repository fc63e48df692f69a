"""Caseload status history (issue 25): kept with each status edit, read back from the audit log by migration 15,
and used by the KPIs, so a past quarter counts the caseload of its day."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from extract_helpers import synthetic_nhs
from pinned import TODAY
from worlds import copy_world

from desktop.models import audit, clock, quarters
from desktop.models.clock import Actor
from desktop.models.cohort import caseload, caseload_history
from desktop.models.cohort import store as risk_store
from desktop.models.db import open_workspace
from desktop.models.identifiers import patient_id
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi import monthly_figures
from desktop.models.quarters import Month
from desktop.models.undo import UndoStack

ACTOR = Actor(user="matron", device_id="laptop-1")
GOLDEN = Path(__file__).resolve().parents[1] / "data"
CASELOAD_KPIS = ("COH-02", "COH-03", "COH-04", "COH-05", "COH-07")
SIX = [patient_id(int(synthetic_nhs(n))) for n in range(1, 7)]  # the patients of six_in_cha


def rows(db, pid=None):
    sql = "SELECT patient_id, status, effective_on, source FROM caseload_history"
    if pid:
        return [tuple(r) for r in db.execute(sql + " WHERE patient_id = ? ORDER BY effective_on", [pid])]
    return sorted(tuple(r) for r in db.execute(sql))


@pytest.fixture
def history_world(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    yield db
    db.close()


def figures(db, loc, quarter):
    out = {f.kpi: f for f in kpi_compute.compute(db, loc, quarter, TODAY)}
    return {code: (out[code].numerator, out[code].denominator) for code in CASELOAD_KPIS}


def monthly(db, month):
    report = monthly_figures.gather(db, "CHA", month, TODAY)
    return {code: (report.row(code).numerator, report.row(code).denominator) for code in CASELOAD_KPIS[1:]}


def test_kpis_of_an_earlier_quarter_are_unchanged_by_a_later_caseload_edit(history_world):
    db = history_world
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    now, past = quarters.of(TODAY), quarters.of(TODAY).previous()
    run = db.execute(
        "SELECT id FROM risk_runs WHERE locality_id = ? AND extract_date <= ? ORDER BY extract_date DESC LIMIT 1",
        [loc, past.end.isoformat()],
    ).fetchone()[0]
    in_past_cohort = set(risk_store.run_patient_ids(db, run).to_pylist())
    then = caseload_history.status_as_of(db, loc, past.end)
    last_month = Month(TODAY.year, TODAY.month).previous()
    month_end = caseload_history.status_as_of(db, loc, last_month.end)
    current = dict(db.execute("SELECT id, status FROM patients WHERE locality_id = ?", [loc]).fetchall())
    leaving, joining = (
        next(p for p in sorted(in_past_cohort) if then.get(p) == month_end.get(p) == current.get(p) == status)
        for status in ("on caseload", "contacted")
    )
    before_past, before_now = figures(db, loc, past), figures(db, loc, now)
    before_month = monthly(db, last_month)

    caseload.update_patients(db, ACTOR, [leaving], {"status": "discharged", "discharge_reason": "stable"})
    assert figures(db, loc, past) == before_past
    assert figures(db, loc, now)["COH-02"][0] == before_now["COH-02"][0] - 1

    caseload.update_patients(db, ACTOR, [joining], {"status": "on caseload"})
    assert figures(db, loc, past) == before_past
    assert monthly(db, last_month) == before_month  # last month's exception report says what it said
    assert figures(db, loc, now)["COH-02"][0] == before_now["COH-02"][0]
    assert caseload_history.status_as_of(db, loc, past.end)[joining] == "contacted"
    assert caseload_history.status_as_of(db, loc, TODAY)[joining] == "on caseload"


def test_the_demo_caseload_grows_from_nothing_and_each_patient_moves_in_order(history_world):
    db = history_world
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    first = dt.date.fromisoformat(
        db.execute("SELECT MIN(extract_date) FROM risk_runs WHERE locality_id = ?", [loc]).fetchone()[0]
    )
    on = [
        sum(s == "on caseload" for s in caseload_history.status_as_of(db, loc, day).values())
        for day in (first, first + dt.timedelta(days=180), first + dt.timedelta(days=365), TODAY)
    ]
    assert on[0] == 0 and on[1] < on[2] < on[3]
    now = dict(db.execute("SELECT id, status FROM patients WHERE locality_id = ?", [loc]).fetchall())
    assert caseload_history.status_as_of(db, loc, TODAY) == now
    order = {s: i for i, s in enumerate(caseload.STATUSES)}
    for (pid,) in db.execute("SELECT id FROM patients WHERE locality_id = ? LIMIT 200", [loc]).fetchall():
        path = rows(db, pid)
        assert [order[s] for _, s, _, _ in path] == sorted(order[s] for _, s, _, _ in path)
        assert path[0][1] == "identified" and path[-1][2] <= TODAY.isoformat()
        assert {source for *_, source in path} == {"recorded"}


def test_undo_of_a_status_edit_removes_its_history_row_and_redo_puts_it_back(small_world, six_in_cha):
    six_in_cha(ACTOR)
    db, undo = small_world, UndoStack()
    pid = SIX[0]
    caseload.update_patients(db, ACTOR, [pid], {"status": "contacted"}, undo=undo)
    assert rows(db, pid) == [(pid, "contacted", TODAY.isoformat(), "recorded")]
    with clock.pinned(TODAY + dt.timedelta(days=3)):
        caseload.update_patients(db, ACTOR, [pid], {"status": "on caseload"}, undo=undo)
        later = (TODAY + dt.timedelta(days=3)).isoformat()
        assert rows(db, pid)[-1] == (pid, "on caseload", later, "recorded")
        undo.undo(db, ACTOR)
        assert rows(db, pid) == [(pid, "contacted", TODAY.isoformat(), "recorded")]
        undo.redo(db, ACTOR)
        assert rows(db, pid)[-1] == (pid, "on caseload", later, "recorded")
        undo.undo(db, ACTOR)
        undo.undo(db, ACTOR)  # the first edit also made the patient's record: both go
    assert rows(db, pid) == [] and db.execute("SELECT COUNT(*) FROM patients WHERE id = ?", [pid]).fetchone()[0] == 0


def test_a_rows_id_is_the_uuid5_of_its_patient_and_day():
    import uuid

    for pid, day in (("p1", "2026-01-01"), (SIX[0], "2024-12-31")):
        assert caseload_history.row_id(pid, day) == str(uuid.uuid5(caseload_history._NAMESPACE, f"{pid}:{day}"))
    assert caseload_history.row_id("p1", "2026-01-01") != caseload_history.row_id("p1", "2026-01-02")


def test_a_second_change_on_the_same_day_rewrites_that_days_row(small_world, six_in_cha):
    six_in_cha(ACTOR)
    db = small_world
    pid = SIX[0]
    caseload.update_patients(db, ACTOR, [pid], {"status": "contacted"})
    caseload.update_patients(db, ACTOR, [pid], {"status": "on caseload"})
    caseload.update_patients(db, ACTOR, [pid], {"notes": "seen at home"})  # no status change: no row
    assert rows(db, pid) == [(pid, "on caseload", TODAY.isoformat(), "recorded")]


def _at(day: dt.date):
    return clock.pinned(dt.datetime.combine(day, dt.time(10, 0)))


def test_backfill_reads_each_status_change_back_from_the_audit_log(small_world, six_in_cha):
    loc = six_in_cha(ACTOR)
    db, undo = small_world, UndoStack()
    a, b, c, d = SIX[:4]
    days = [dt.date(2026, 6, 1) + dt.timedelta(days=n) for n in (0, 20, 40, 60, 80)]
    with _at(days[0]):
        caseload.update_patients(db, ACTOR, [a, b], {"status": "contacted"})
        caseload.ensure_rows(db, ACTOR, [c])  # worked on (an action names them) but never moved on
    with _at(days[1]):
        caseload.update_patients(db, ACTOR, [a, b], {"status": "on caseload"})
    with _at(days[2]):
        caseload.update_patients(db, ACTOR, [a], {"notes": "no status in this edit"})
        caseload.update_patients(db, ACTOR, [b], {"status": "discharged", "discharge_reason": "declined"}, undo=undo)
    with _at(days[3]):
        undo.undo(db, ACTOR)  # b is on the caseload again, from the day of the undo
        caseload.update_patients(db, ACTOR, [d], {"status": "contacted"})
    with _at(days[4]):
        # A teammate's discharge of d arrives by sync: the patient record moves, this laptop's log has no edit.
        db.execute(
            "UPDATE patients SET status = 'discharged', discharge_reason = 'moved', updated_at = ? WHERE id = ?",
            [clock.utc_now(), d],
        )
    kept = rows(db)
    db.execute("DELETE FROM caseload_history")
    caseload_history.backfill(db)

    def path(pid):
        return [(status, day, source) for _, status, day, source in rows(db, pid)]

    iso = [x.isoformat() for x in days]
    assert path(a) == [("contacted", iso[0], "audit"), ("on caseload", iso[1], "audit")]
    assert path(b) == [
        ("contacted", iso[0], "audit"),
        ("on caseload", iso[1], "audit"),
        ("discharged", iso[2], "audit"),
        ("on caseload", iso[3], "audit"),
    ]
    assert path(c) == [("identified", iso[0], "assumed")]
    assert path(d) == [("contacted", iso[3], "audit"), ("discharged", iso[4], "assumed")]
    # What was recorded as the edits were made, the log gives back; besides, the sync's discharge (never recorded
    # here) and the undone discharge: undo takes its row back, while the log keeps the edit and its undo.
    recorded = {(p, s, day) for p, s, day, _ in kept}
    assert {(p, s, day) for p, s, day, _ in rows(db) if p != c} - recorded == {
        (d, "discharged", iso[4]),
        (b, "discharged", iso[2]),
        (b, "on caseload", iso[3]),
    }
    assert (b, "on caseload", iso[1]) in recorded
    for day in days:
        assert caseload_history.status_as_of(db, loc, day)[b] == {0: "contacted", 2: "discharged"}.get(
            days.index(day), "on caseload"
        )


def test_migration_15_backfills_a_workspace_of_schema_14(tmp_path):
    path = tmp_path / "fourteen.sqlite"
    shutil.copy(GOLDEN / "workspace-schema14.sqlite", path)
    raw = sqlite3.connect(path)
    locality = raw.execute("SELECT id FROM localities ORDER BY code LIMIT 1").fetchone()[0]
    made = "2025-04-01T09:00:00+00:00"
    for pid, nhs, status in (("p1", "9000000009", "on caseload"), ("p2", "9000000017", "contacted")):
        raw.execute(
            "INSERT INTO patients (id, nhs_number, locality_id, date_of_birth, practice_code, status, created_at, "
            "updated_at, updated_by, device_id) VALUES (?, ?, ?, '1940-01-01', 'C82001', ?, ?, ?, 'matron', 'l1')",
            [pid, nhs, locality, status, made, made],
        )
    for at, before, after in (("2025-05-02", "identified", "contacted"), ("2025-07-03", "contacted", "on caseload")):
        editor = Actor("matron", "laptop-1", fixed_time=f"{at}T11:00:00+00:00")
        detail = {"changes": {"status": {"before": before, "after": after}}}
        audit.append(raw, audit.row(editor, "update", "patients", "p1", "Changed status", detail))
    raw.commit()
    raw.close()
    db = open_workspace(path)
    assert rows(db) == [
        ("p1", "contacted", "2025-05-02", "audit"),
        ("p1", "identified", "2025-04-01", "audit"),
        ("p1", "on caseload", "2025-07-03", "audit"),
        ("p2", "contacted", "2025-04-01", "assumed"),
    ]
    assert audit.verify(db).intact


def test_a_patient_with_no_history_counts_from_the_start_and_one_who_moved_in_their_new_locality(
    small_world, six_in_cha
):
    """A spell starts at each row in the status and ends at the patient's next row; a patient on the caseload with
    no history (a record come by sync) is on it from the start; one who moved locality counts in their new one
    (from the start, having no history there), not in the one that holds their history. The KPIs agree."""
    db = small_world
    cha = six_in_cha(ACTOR)
    other = db.execute("SELECT id FROM localities WHERE id != ? ORDER BY code LIMIT 1", [cha]).fetchone()[0]
    later = TODAY + dt.timedelta(days=5)
    caseload.update_patients(db, ACTOR, SIX[:4], {"status": "on caseload"})
    with clock.pinned(later):
        caseload.update_patients(db, ACTOR, [SIX[2]], {"status": "discharged", "discharge_reason": "stable"})
    with db.conn:
        db.execute("DELETE FROM caseload_history WHERE patient_id = ?", [SIX[0]])
        db.execute("UPDATE patients SET locality_id = ? WHERE id = ?", [other, SIX[3]])

    def spells(locality_id):
        s = caseload_history.spells(db, locality_id, "on caseload", {"plan": "p.care_plan_date"})
        return sorted(row for row in zip(s["id"], s["start"], s["until"], s["plan"], strict=True) if row[0] in SIX)

    today, open_ = TODAY.isoformat(), caseload_history.OPEN
    assert spells(cha) == sorted(
        [(SIX[0], "", open_, None), (SIX[1], today, open_, None), (SIX[2], today, later.isoformat(), None)]
    )
    assert spells(other) == [(SIX[3], "", open_, None)]
    # Of the six in CHA's cohort, on its caseload today: the one with no history and the two edited in CHA.
    assert figures(db, cha, quarters.of(TODAY))["COH-02"] == (3, 6)


def test_a_patient_with_no_history_is_found_beside_one_whose_record_left_the_status_without_a_history_row(
    small_world, six_in_cha
):
    """spells() looks for patients with no history only when the status holds more patients than histories end
    in it: a record moved out of the status with no row kept (an edit come by sync) must not stand in for one
    with no history at all, so the two counts are of the same patients."""
    db = small_world
    cha = six_in_cha(ACTOR)
    caseload.update_patients(db, ACTOR, SIX[:2], {"status": "on caseload"})
    with db.conn:
        db.execute("UPDATE patients SET status = 'discharged' WHERE id = ?", [SIX[0]])
        db.execute("DELETE FROM caseload_history WHERE patient_id = ?", [SIX[1]])
    s = caseload_history.spells(db, cha, "on caseload")
    mine = sorted(row for row in zip(s["id"], s["start"], s["until"], strict=True) if row[0] in SIX)
    open_ = caseload_history.OPEN
    assert mine == sorted([(SIX[0], TODAY.isoformat(), open_), (SIX[1], "", open_)])
    assert figures(db, cha, quarters.of(TODAY))["COH-02"] == (2, 6)
