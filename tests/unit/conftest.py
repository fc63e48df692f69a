"""Fixtures for the domain tests."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import patient, write_csv

from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract


@pytest.fixture
def cha(small_world):
    """(locality code, its practice codes, a practice of another locality) in the small world."""
    loc = next(iter(small_world.query("SELECT id, code FROM localities WHERE code = 'CHA'")))
    mine = [
        r["ods_code"]
        for r in small_world.query(
            "SELECT ods_code FROM practices WHERE locality_id = ? ORDER BY ods_code", [loc["id"]]
        )
    ]
    other = next(
        iter(
            small_world.query(
                "SELECT ods_code FROM practices WHERE locality_id != ? ORDER BY ods_code LIMIT 1", [loc["id"]]
            )
        )
    )["ods_code"]
    return "CHA", mine, other


@pytest.fixture
def six_in_cha(small_world, cha, tmp_path):
    """Charnwood's extract of 1 October 2026 imported: six cohort patients over two of its practices. Returns a
    function of the importing actor, giving the locality's id (each test's actor is stamped on the import)."""
    code, mine, _ = cha

    def load(actor: Actor) -> str:
        rows = [patient(n, mine[n % 2]) for n in range(1, 7)]
        import_extract(small_world, actor, code, write_csv(tmp_path / "q3.csv", rows), dt.date(2026, 10, 1))
        return small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]

    return load


@pytest.fixture
def undo_world(small_world, six_in_cha):
    """Charnwood with six cohort patients (none worked on yet), its staff and one care home, for the undo tests:
    (db, locality id, staff ids, (home id, home name))."""
    loc = six_in_cha(Actor(user="matron.a", device_id="laptop-7", fixed_time="2026-10-20T09:00:00+00:00"))
    staff = [r[0] for r in small_world.execute("SELECT id FROM staff WHERE locality_id = ? ORDER BY name", [loc])]
    home = small_world.execute(
        "SELECT id, name FROM care_homes WHERE locality_id = ? ORDER BY name LIMIT 1", [loc]
    ).fetchone()
    return small_world, loc, staff, home
