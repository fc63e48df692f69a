"""The demo world: deterministic, believable, and built in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3

import pytest
import sqlite_utils

from desktop.models import clock
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.identifiers import cqc_id_problem, pcn_code_problem, practice_code_problem
from desktop.models.progress import Cancelled
from desktop.models.workspace import info


def content_digest(db) -> str:
    """A digest of every table's rows in primary-key order, the migrations' and sync's bookkeeping aside (the
    ledger's clocks and the workspace's sync origin are made when it is built, not drawn from the seed)."""
    h = hashlib.sha256()
    for table in sorted(t for t in db.table_names() if not t.startswith(("_sqlite", "sqlite_", "_sync"))):
        h.update(table.encode())
        where = " WHERE key NOT LIKE 'sync%'" if table == "meta" else ""
        for row in db.execute(f"SELECT * FROM [{table}]{where} ORDER BY 1"):
            h.update(repr(row).encode())
    return h.hexdigest()


def read_only(path):
    return sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))


@pytest.fixture(scope="module")
def full_world(tmp_path_factory):
    db = open_workspace(tmp_path_factory.mktemp("full") / "full.sqlite")
    build_demo(db, history=False)  # the reference data; history is checked on the small world below
    return db


def test_same_seed_and_day_give_identical_content_whenever_built_and_another_seed_does_not(
    tmp_path, history_world_template, small_world_template
):
    from pinned import TODAY

    # The session's template was built on pinned.TODAY with the default seed; this one on a leap day two years
    # later, for the same day of history: the machine's clock must not leak into the content.
    again = open_workspace(tmp_path / "again.sqlite")
    with clock.pinned(dt.datetime(2028, 2, 29, 17, 0)):
        build_demo(again, small=True, today=TODAY)
    template = read_only(history_world_template)  # shared by the run's workers: looked at, never written
    assert content_digest(again) == content_digest(template)
    template.close()
    other = open_workspace(tmp_path / "other.sqlite")
    build_demo(other, seed=8, small=True, history=False)
    reference = read_only(small_world_template)
    assert content_digest(other) != content_digest(reference)
    for db in (again, other, reference):
        db.close()


def test_full_world_has_the_seeds_numbers(full_world):
    summary = info(full_world)
    assert summary["kind"] == "locality"
    assert len(summary["localities"]) == 11
    assert summary["counts"]["practices"] == 138
    assert summary["counts"]["care_homes"] == 311
    registered = full_world.execute("SELECT SUM(list_size) FROM practices").fetchone()[0]
    assert 1_050_000 <= registered <= 1_150_000
    per_locality = [r["n"] for r in full_world.query("SELECT SUM(list_size) AS n FROM practices GROUP BY locality_id")]
    assert all(60_000 <= n <= 120_000 for n in per_locality)
    ccg_practices = dict(
        full_world.execute(
            "SELECT l.ccg, COUNT(*) FROM practices p JOIN localities l ON l.id = p.locality_id GROUP BY l.ccg"
        )
    )
    assert ccg_practices == {"East Leicestershire & Rutland": 31, "West Leicestershire": 48, "Leicester City": 59}
    assert max(r[0] for r in full_world.execute("SELECT list_size FROM practices")) <= 38_000


def test_every_code_in_the_full_world_is_well_formed(full_world):
    assert all(practice_code_problem(r[0]) is None for r in full_world.execute("SELECT ods_code FROM practices"))
    assert all(pcn_code_problem(r[0]) is None for r in full_world.execute("SELECT code FROM pcns"))
    assert all(cqc_id_problem(r[0]) is None for r in full_world.execute("SELECT cqc_id FROM care_homes"))


def test_some_homes_lack_a_lead_or_alignment_so_the_register_has_gaps(full_world):
    no_lead = full_world.execute("SELECT COUNT(*) FROM care_homes WHERE clinical_lead_id IS NULL").fetchone()[0]
    unaligned = full_world.execute("SELECT COUNT(*) FROM care_homes WHERE aligned_practice_id IS NULL").fetchone()[0]
    assert 0 < no_lead < 60 and 0 < unaligned < 60


def test_aligned_practice_and_lead_are_in_the_homes_own_locality(full_world):
    mismatched = full_world.execute(
        """SELECT COUNT(*) FROM care_homes h
           LEFT JOIN practices p ON p.id = h.aligned_practice_id
           LEFT JOIN staff s ON s.id = h.clinical_lead_id
           WHERE p.locality_id != h.locality_id OR s.locality_id != h.locality_id"""
    ).fetchone()[0]
    assert mismatched == 0


def test_cancel_rolls_the_whole_build_back(tmp_path):
    db = open_workspace(tmp_path / "w.sqlite")
    with pytest.raises(Cancelled):
        build_demo(db, small=True, cancel=lambda: True)
    assert info(db)["counts"]["localities"] == 0
    assert info(db)["counts"]["audit"] == 0
    build_demo(db, small=True, history=False)  # the workspace is as good as new
    assert info(db)["counts"]["localities"] == 11


def test_demo_refuses_a_workspace_that_already_has_data(small_world):
    from desktop.models.errors import ValidationError

    with pytest.raises(ValidationError, match="already holds"):
        build_demo(small_world)


@pytest.fixture(scope="module")
def small_history(tmp_path_factory, history_world_template):
    from worlds import copy_world

    db = open_workspace(copy_world(history_world_template, tmp_path_factory.mktemp("hist") / "small.sqlite"))
    yield db
    db.close()


def test_history_has_eight_quarterly_runs_per_locality(small_history):
    from pinned import TODAY

    from desktop.models.demo.history import risk_dates

    RISK_DATES = risk_dates(TODAY)

    per_locality = small_history.execute(
        "SELECT COUNT(*), MIN(extract_date), MAX(extract_date) FROM risk_runs GROUP BY locality_id"
    ).fetchall()
    assert len(per_locality) == 11
    assert set(per_locality) == {(8, RISK_DATES[0].isoformat(), RISK_DATES[-1].isoformat())}
    later = small_history.execute(
        "SELECT SUM(new), SUM(left), SUM(changed) FROM risk_runs WHERE extract_date > ?", [RISK_DATES[0].isoformat()]
    ).fetchone()
    assert all(x > 0 for x in later)  # people join, leave and change every quarter


def test_every_patient_has_a_valid_synthetic_nhs_number(small_history):
    from desktop.models.identifiers import is_synthetic_nhs_number

    numbers = [r[0] for r in small_history.execute("SELECT nhs_number FROM patients")]
    assert len(numbers) > 500
    assert all(is_synthetic_nhs_number(n) for n in numbers)


def test_caseload_history_is_believable(small_history):
    from pinned import TODAY as DEMO_TODAY

    from desktop.models.dates import add_months

    status = dict(small_history.execute("SELECT status, COUNT(*) FROM patients GROUP BY status").fetchall())
    # Those the team has not reached yet are "identified" and have no record of their own.
    assert set(status) == {"contacted", "on caseload", "discharged"}
    from desktop.models.cohort import frame as cohort

    loc = small_history.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    frame = cohort.load(small_history, loc)
    assert "identified" in set(frame.columns["status"]) and "on caseload" in set(frame.columns["status"])
    assert status["on caseload"] > status["discharged"]
    reviews = small_history.execute(
        "SELECT COUNT(*), MAX(delivered_on) FROM interventions WHERE type = 'care-plan review'"
    ).fetchone()
    assert reviews[0] > 0 and reviews[1] <= DEMO_TODAY.isoformat()
    overdue = small_history.execute(
        "SELECT COUNT(*) FROM patients WHERE status = 'on caseload' AND next_review_due < ?", [DEMO_TODAY.isoformat()]
    ).fetchone()[0]
    on = status["on caseload"]
    assert 0 < overdue < on  # some reviews late, most not
    for p in small_history.query(
        "SELECT id, care_plan_date, review_interval_months, next_review_due FROM patients "
        "WHERE care_plan_date IS NOT NULL LIMIT 50"
    ):
        last = small_history.execute(
            "SELECT MAX(delivered_on) FROM interventions WHERE patient_id = ? AND type = 'care-plan review'", [p["id"]]
        ).fetchone()[0]
        base = max(d for d in (p["care_plan_date"], last) if d)
        assert p["next_review_due"] == add_months(dt.date.fromisoformat(base), p["review_interval_months"]).isoformat()


def test_mdt_history_is_monthly_with_mostly_completed_actions(small_history):
    from pinned import TODAY as DEMO_TODAY

    per_locality = small_history.execute("SELECT COUNT(*) FROM meetings GROUP BY locality_id").fetchall()
    assert len(per_locality) == 11 and all(22 <= n <= 24 for (n,) in per_locality)
    status = dict(small_history.execute("SELECT status, COUNT(*) FROM actions GROUP BY status").fetchall())
    total = sum(status.values())
    assert status["done"] / total > 0.7
    overdue = small_history.execute(
        "SELECT COUNT(*) FROM actions WHERE status IN ('open', 'in progress') AND due_date < ?",
        [DEMO_TODAY.isoformat()],
    ).fetchone()[0]
    late = small_history.execute(
        "SELECT COUNT(*) FROM actions WHERE status = 'done' AND completed_on > due_date"
    ).fetchone()[0]
    escalated = small_history.execute("SELECT COUNT(*) FROM actions WHERE escalated_to != ''").fetchone()[0]
    assert 0 < overdue < total * 0.15 and late > 0 and escalated > 0
    assert (
        small_history.execute("SELECT COUNT(*) FROM meeting_items WHERE kind = 'patient' AND outcome != ''").fetchone()[
            0
        ]
        > 1000
    )


def test_care_home_history_has_weekly_rounds_with_gaps_and_mostly_timely_pcsps(small_history):
    from pinned import TODAY as DEMO_TODAY

    from desktop.models import quarters
    from desktop.models.care_homes import residents, visits

    loc = small_history.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    grid = visits.round_grid(small_history, loc, quarters.of(DEMO_TODAY).previous(), today=DEMO_TODAY)
    covered = sum(h["covered"] for h in grid["homes"])
    due = sum(h["due"] for h in grid["homes"])
    assert 0.7 < covered / due < 1.0  # most weeks have a round; some are missed
    homes = [r[0] for r in small_history.execute("SELECT id FROM care_homes WHERE locality_id = ?", [loc])]
    pcsp = residents.pcsp_timeliness(small_history, homes, DEMO_TODAY - dt.timedelta(days=365), DEMO_TODAY, DEMO_TODAY)
    assert pcsp["admissions"] > 10 and pcsp["on_time"] / pcsp["admissions"] > 0.6 and pcsp["late"] > 0
    linked = small_history.execute("SELECT COUNT(*) FROM residents WHERE patient_id IS NOT NULL").fetchone()[0]
    assert linked > 0  # residents who are in the cohort are linked to their record


def test_every_locality_has_eight_signed_off_returns_with_every_red_explained(small_history):
    per = small_history.execute(
        "SELECT locality_id, COUNT(*), SUM(status = 'signed_off') FROM returns GROUP BY locality_id"
    ).fetchall()
    assert len(per) == 11 and all(n == 8 and signed == 8 for _, n, signed in per)
    unexplained = small_history.execute(
        "SELECT COUNT(*) FROM return_values WHERE rag = 'R' AND comment = ''"
    ).fetchone()[0]
    entered = small_history.execute(
        "SELECT COUNT(*) FROM return_values WHERE kpi LIKE 'OUT-%' AND numerator IS NULL"
    ).fetchone()[0]
    assert unexplained == 0 and entered == 0
