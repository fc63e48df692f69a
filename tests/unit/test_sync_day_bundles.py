"""A laptop's day-to-day bundles (issue 23, with issue 25's caseload history): once two laptops have heard from
each other, each day's bundle carries exactly the records that day's edits changed, among them the caseload_history
rows a status change writes, and nothing of an earlier day that the teammate already holds.

What a day changed is read by comparing the laptop's records before and after it, not from the sync ledger, so a
ledger that marks records it should not cannot vouch for itself.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sync_helpers import actor
from worlds import copy_world

from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.db import open_workspace
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.models.sync import tracking

PASS = "correct horse battery staple"
ANN = actor("ann", "2026-11-20T08:00:00+00:00")
BOB_DAYS = [actor("bob", f"2026-11-20T{hour}:00:00+00:00") for hour in (10, 12, 14)]

pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py

Record = tuple[str, str]  # (table, ledger key)


def snapshot(path: Path) -> dict[Record, tuple]:
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table in tracking.synced_tables(conn):
            key = tracking.key_sql(tracking.pk_columns(conn, table), "t")
            for k, *row in conn.execute(f'SELECT {key}, t.* FROM "{table}" t'):
                out[(table, k)] = tuple(row)
        return out
    finally:
        conn.close()


def changed(before: dict[Record, tuple], after: dict[Record, tuple]) -> set[Record]:
    return {r for r in before.keys() | after.keys() if before.get(r) != after.get(r)}


def carried(bundle: Path) -> set[Record]:
    _, payload = sync_bundle.open_sealed(bundle, PASS)
    tables = json.loads(payload)["tables"]
    return {(t, row[0]) for t, body in tables.items() for row in body["rows"]}


def send(sender: Path, receiver: Path, by: Actor, to: Actor, name: str) -> set[Record]:
    out = sender.parent / f"{name}.ldsync"
    sync_bundle.export_bundle(sender, out, PASS, actor=by)
    sync_merge.import_bundle(receiver, out, PASS, actor=to)
    return carried(out)


@pytest.fixture
def laptops(history_world_template, tmp_path) -> tuple[Path, Path]:
    """Ann's and Bob's copies of one team workspace, after the first exchange both ways and Ann's reply, so each
    knows what the other holds (as benchmarks/bench_sync.py does before its days)."""
    a = copy_world(history_world_template, tmp_path / "a.sqlite")
    sync_bundle.ensure_team_id(a)
    b = copy_world(a, tmp_path / "b.sqlite")
    send(a, b, ANN, BOB_DAYS[0], "first-a")
    send(b, a, BOB_DAYS[0], ANN, "first-b")
    send(a, b, ANN, BOB_DAYS[0], "first-a-reply")
    return a, b


def contacted(path: Path, how_many: int, offset: int) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT p.id FROM patients p JOIN localities l ON l.id = p.locality_id WHERE l.code = 'CHA' "
            "AND p.status = 'contacted' ORDER BY p.id LIMIT ? OFFSET ?",
            [how_many, offset],
        ).fetchall()
    finally:
        conn.close()
    assert len(rows) == how_many, "the small history world has too few contacted patients in CHA for this test"
    return [r[0] for r in rows]


def test_each_days_bundle_carries_that_days_records_and_its_caseload_history_only(laptops):
    a, b = laptops
    # Days of different sizes: the bundles must follow what each day changed, not one day's count.
    patients = contacted(b, 1 + 2 + 3, 0)
    days = [patients[:1], patients[1:3], patients[3:]]
    sent_before: set[Record] = set()
    for n, (bob, ids) in enumerate(zip(BOB_DAYS, days, strict=True)):
        before = snapshot(b)
        db = open_workspace(b)
        try:
            for pid in ids:
                caseload.update_patients(db, bob, [pid], {"status": "on caseload"})
        finally:
            db.close()
        today = changed(before, snapshot(b))
        assert {t for t, _ in today} == {"patients", "caseload_history"}
        assert sum(t == "patients" for t, _ in today) == len(ids)

        sent = send(b, a, bob, ANN, f"day-{n}")
        assert sent == today, f"day {n + 1}: sent again {sorted(sent - today)}, left out {sorted(today - sent)}"
        assert not sent & sent_before
        sent_before |= sent

        echo = send(a, b, ANN, bob, f"echo-{n}")
        assert echo == set(), "Ann edited nothing: her reply must not send Bob's records back"

    conn = sqlite3.connect(a)
    try:
        on_caseload = {r[0] for r in conn.execute("SELECT id FROM patients WHERE status = 'on caseload'")}
        history = {r[0] for r in conn.execute("SELECT DISTINCT patient_id FROM caseload_history")}
    finally:
        conn.close()
    assert set(patients) <= on_caseload
    assert set(patients) <= history
