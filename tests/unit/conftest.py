"""Fixtures for the domain tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def cha(small_world):
    """(locality code, its practice codes, a practice of another locality) in the small world."""
    loc = next(iter(small_world.query("SELECT id, code FROM localities WHERE code = 'CHA'")))
    mine = [r["ods_code"] for r in small_world.query(
        "SELECT ods_code FROM practices WHERE locality_id = ? ORDER BY ods_code", [loc["id"]])]
    other = next(iter(small_world.query(
        "SELECT ods_code FROM practices WHERE locality_id != ? ORDER BY ods_code LIMIT 1", [loc["id"]])))["ods_code"]
    return "CHA", mine, other
