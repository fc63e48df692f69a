"""The demo world: deterministic, believable, and built in one transaction."""

from __future__ import annotations

import hashlib

import pytest

from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.identifiers import cqc_id_problem, pcn_code_problem, practice_code_problem
from desktop.models.progress import Cancelled
from desktop.models.workspace import info


def content_digest(db) -> str:
    """A digest of every table's rows in primary-key order, migrations bookkeeping aside."""
    h = hashlib.sha256()
    for table in sorted(t for t in db.table_names() if not t.startswith(("_sqlite", "sqlite_"))):
        h.update(table.encode())
        for row in db.execute(f"SELECT * FROM [{table}] ORDER BY 1"):
            h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def full_world(tmp_path_factory):
    db = open_workspace(tmp_path_factory.mktemp("full") / "full.sqlite")
    build_demo(db)
    return db


def test_same_seed_gives_identical_content_and_another_seed_does_not(tmp_path):
    digests = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        db = open_workspace(tmp_path / f"{name}.sqlite")
        build_demo(db, seed=seed, small=True)
        digests.append(content_digest(db))
        db.close()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


def test_full_world_has_the_seeds_numbers(full_world):
    summary = info(full_world)
    assert summary["kind"] == "locality"
    assert len(summary["localities"]) == 11
    assert summary["counts"]["practices"] == 138
    assert summary["counts"]["care_homes"] == 311
    registered = full_world.execute("SELECT SUM(list_size) FROM practices").fetchone()[0]
    assert 1_050_000 <= registered <= 1_150_000
    per_locality = [r["n"] for r in full_world.query(
        "SELECT SUM(list_size) AS n FROM practices GROUP BY locality_id")]
    assert all(60_000 <= n <= 120_000 for n in per_locality)
    ccg_practices = dict(full_world.execute(
        "SELECT l.ccg, COUNT(*) FROM practices p JOIN localities l ON l.id = p.locality_id GROUP BY l.ccg"))
    assert ccg_practices == {"East Leicestershire & Rutland": 31, "West Leicestershire": 48, "Leicester City": 59}
    assert max(r[0] for r in full_world.execute("SELECT list_size FROM practices")) <= 38_000


def test_every_code_in_the_full_world_is_well_formed(full_world):
    assert all(practice_code_problem(r[0]) is None for r in full_world.execute("SELECT ods_code FROM practices"))
    assert all(pcn_code_problem(r[0]) is None for r in full_world.execute("SELECT code FROM pcns"))
    assert all(cqc_id_problem(r[0]) is None for r in full_world.execute("SELECT cqc_id FROM care_homes"))


def test_some_homes_lack_a_lead_or_alignment_so_the_register_has_gaps(full_world):
    no_lead = full_world.execute("SELECT COUNT(*) FROM care_homes WHERE clinical_lead_id IS NULL").fetchone()[0]
    unaligned = full_world.execute(
        "SELECT COUNT(*) FROM care_homes WHERE aligned_practice_id IS NULL").fetchone()[0]
    assert 0 < no_lead < 60 and 0 < unaligned < 60


def test_aligned_practice_and_lead_are_in_the_homes_own_locality(full_world):
    mismatched = full_world.execute(
        """SELECT COUNT(*) FROM care_homes h
           LEFT JOIN practices p ON p.id = h.aligned_practice_id
           LEFT JOIN staff s ON s.id = h.clinical_lead_id
           WHERE p.locality_id != h.locality_id OR s.locality_id != h.locality_id""").fetchone()[0]
    assert mismatched == 0


def test_cancel_rolls_the_whole_build_back(tmp_path):
    db = open_workspace(tmp_path / "w.sqlite")
    with pytest.raises(Cancelled):
        build_demo(db, small=True, cancel=lambda: True)
    assert info(db)["counts"]["localities"] == 0
    assert info(db)["counts"]["audit"] == 0
    build_demo(db, small=True)
    assert info(db)["counts"]["localities"] == 11


def test_demo_refuses_a_workspace_that_already_has_data(small_world):
    from desktop.models.errors import ValidationError

    with pytest.raises(ValidationError, match="already holds"):
        build_demo(small_world)
