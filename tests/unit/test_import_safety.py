"""An import can never wreck a quarter (issue 22): plausibility before writing, partial extracts, roll-back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from extract_helpers import HEADER, patient, write_csv

from desktop import cli
from desktop.models.clock import Actor
from desktop.models.cohort import caseload, rollback
from desktop.models.cohort import store as risk_store
from desktop.models.cohort.plausibility import ImplausibleExtract
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import ValidationError

ACTOR = Actor(user="matron", device_id="laptop-1")
Q2, Q3 = dt.date(2026, 8, 15), dt.date(2026, 11, 15)
PER_PRACTICE = 80  # rows of each practice: above the plausibility checks' small-number floor


def domain_digest(db) -> str:
    """Every table but the audit log (and its sequence) and sync's ledger, row by row in a fixed order.

    The ledger is sync's note of what changed here (desktop.models.sync.tracking): a roll-back is a change that
    teammates who received the import must hear of, so it is rightly noted there."""
    h = hashlib.sha256()
    for table in sorted(db.table_names()):
        if table in ("audit", "sqlite_sequence") or table.startswith("_sync"):
            continue
        h.update(table.encode())
        for row in sorted(repr(r) for r in db.execute(f"SELECT * FROM [{table}]")):
            h.update(row.encode())
    return h.hexdigest()


def latest(db) -> list[dict]:
    """The locality's latest run's stored cohort, row by row."""
    run = db.execute("SELECT id FROM risk_runs ORDER BY extract_date DESC, imported_at DESC LIMIT 1").fetchone()[0]
    return risk_store.run_cohort(db, run).to_pylist()


def population(practices: list[str], start: int = 0, **overrides) -> list[dict[str, str]]:
    """PER_PRACTICE rows per practice, numbered from *start*; every third is in the cohort (frailty)."""
    rows = []
    for p, code in enumerate(practices):
        for k in range(PER_PRACTICE):
            n = start + p * PER_PRACTICE + k
            rows.append(patient(n, code, **({} if n % 3 == 0 else {"efi_score": "0.05"}), **overrides))
    return rows


@pytest.fixture
def three(cha):
    return cha[1][:3]


@pytest.fixture
def imported(small_world, three, tmp_path):
    """CHA with one full run of three practices."""
    import_extract(small_world, ACTOR, "CHA", write_csv(tmp_path / "q2.csv", population(three)), Q2)
    return small_world


def test_a_one_practice_file_is_refused_with_what_it_would_do_and_writes_nothing(imported, three, tmp_path):
    before = domain_digest(imported)
    one = write_csv(tmp_path / "one-practice.csv", population(three[:1]))
    with pytest.raises(ImplausibleExtract) as refused:
        import_extract(imported, ACTOR, "CHA", one, Q3)
    message = str(refused.value)
    cohort_before = len(latest(imported))
    # The cohort of the two missing practices would all have been marked left.
    leaving = refused.value.plausibility.leaving
    assert leaving == cohort_before * 2 // 3
    assert "covers 1 of the 3 practices" in message and f"mark {leaving:,} patients as left" in message
    assert three[1] in message and three[2] in message
    assert "Nothing was imported" in message
    assert domain_digest(imported) == before


def test_an_accepted_partial_file_changes_only_the_practices_it_covers(imported, three, tmp_path):
    old_rows = {r["nhs_number"]: r for r in latest(imported)}
    # The covered practice's patients change: every cohort member's LTCs move, and one leaves the cohort.
    rows = population(three[:1], ltc_count="3")
    rows[0]["efi_score"] = "0.05"
    result = import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "one.csv", rows), Q3, accept=True)
    assert result.partial["missing"] == sorted(three[1:])
    assert result.left == 1 and result.new == 0
    assert result.changed == sum(r["efi_score"] == "0.3056" for r in rows)  # the rest of its cohort: LTCs 2 → 3
    new = latest(imported)
    assert len(new) == len(old_rows) - 1 == result.cohort["total"]
    others = [r for r in new if r["practice_code"] != three[0]]
    assert len(others) == len(old_rows) * 2 // 3
    for row in others:  # untouched practices: exactly as they were, not new, not changed
        assert {**row, "change": "new"} == old_rows[row["nhs_number"]]
    assert json.loads(imported.execute("SELECT summary FROM risk_runs ORDER BY extract_date DESC").fetchone()[0])[
        "partial"
    ]["carried"] == len(others)


def test_the_cli_refuses_a_one_practice_file_unless_accepted(imported, three, tmp_path, capsys, small_world_path):
    one = write_csv(tmp_path / "one-practice.csv", population(three[:1]))
    args = ["import-risk", "--db", str(small_world_path), "--locality", "CHA", "--extract-date", "2026-11-15"]
    before = domain_digest(imported)
    assert cli.main([*args, str(one)]) == 1
    err = capsys.readouterr().err
    assert "covers 1 of the 3 practices" in err and "--accept-partial" in err
    assert domain_digest(imported) == before
    assert cli.main([*args, "--accept-partial", "--json", str(one)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["partial"]["covered"] == [three[0]] and out["findings"]


def test_most_of_the_cohort_leaving_is_refused_even_from_every_practice(imported, three, tmp_path):
    # Another population entirely (other NHS numbers) from the same practices.
    other = write_csv(tmp_path / "wrong.csv", population(three, start=10_000))
    with pytest.raises(ImplausibleExtract, match=r"as left; a quarter usually changes a few per cent"):
        import_extract(imported, ACTOR, "CHA", other, Q3)


def test_a_file_of_another_locality_is_refused(small_world, cha, tmp_path):
    _, mine, other = cha
    rows = population([other]) + population(mine[:1], start=5_000)[:10]
    with pytest.raises(ImplausibleExtract, match="looks like another locality's extract"):
        import_extract(small_world, ACTOR, "CHA", write_csv(tmp_path / "theirs.csv", rows), Q2)


def test_a_practice_cut_short_is_refused(imported, three, tmp_path):
    rows = population(three)
    del rows[PER_PRACTICE : PER_PRACTICE + PER_PRACTICE * 3 // 4]  # the second practice keeps a quarter of its rows
    with pytest.raises(ImplausibleExtract, match=rf"1 practice has far .*\({three[1]} .*: 20 rows, against 80 in the"):
        import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "short.csv", rows), Q3)


def test_a_plausible_next_quarter_imports_without_a_word(imported, three, tmp_path):
    rows = population(three)
    rows[0]["efi_score"] = "0.05"  # one leaves
    result = import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "q3.csv", rows), Q3)
    assert (result.left, result.findings, result.partial) == (1, [], None)


def _worked_world(db, three, tmp_path):
    """A run, some work on its patients, then a second import that re-identifies, moves and drops worked ones."""
    frame = latest(db)
    worked = [r["patient_id"] for r in frame[:3]]
    caseload.update_patients(db, ACTOR, worked, {"status": "contacted"})
    digest = domain_digest(db)
    rows = population(three)
    by_nhs = {r["nhs_number"]: r for r in rows}
    first, second, third = (str(r["nhs_number"]) for r in frame[:3])
    by_nhs[first]["family_name"] = "Married-Name"
    by_nhs[second]["efi_score"] = "0.05"  # leaves the cohort
    by_nhs[third]["postcode"] = "LE12 9ZZ"
    # Through the import dialog's mapping, which the workspace then remembers (and a roll-back forgets).
    import_extract(db, ACTOR, "CHA", write_csv(tmp_path / "q3.csv", rows), Q3, mapping={h: h for h in HEADER})
    return worked, digest


def test_a_roll_back_puts_every_table_but_the_audit_log_back_exactly(imported, three, tmp_path):
    worked, before = _worked_world(imported, three, tmp_path)
    assert domain_digest(imported) != before
    audit_rows = imported.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    rollback.roll_back(imported, ACTOR, "CHA")
    assert domain_digest(imported) == before
    entry = imported.execute("SELECT action, summary FROM audit ORDER BY rowid DESC LIMIT 1").fetchone()
    assert entry[0] == "roll back" and "q3.csv" in entry[1]
    assert imported.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audit_rows + 1
    # The first import is now the last; the team has worked on patients who joined in it, so it stays.
    with pytest.raises(ValidationError, match=r"started work on 3 patients who joined the cohort in it"):
        rollback.roll_back(imported, ACTOR, "CHA")
    assert domain_digest(imported) == before


def test_a_roll_back_keeps_the_teams_later_work(imported, three, tmp_path):
    worked, _ = _worked_world(imported, three, tmp_path)
    caseload.update_patients(imported, ACTOR, worked[:1], {"notes": "Seen at home; daughter now lives in"})
    rollback.roll_back(imported, ACTOR, "CHA")
    row = imported.execute("SELECT family_name, notes, status FROM patients WHERE id = ?", [worked[0]]).fetchone()
    assert row[0] != "Married-Name"  # the import's change is undone
    assert row[1:] == ("Seen at home; daughter now lives in", "contacted")  # the team's is not


def test_a_roll_back_is_refused_when_work_was_started_on_a_patient_who_joined_in_it(imported, three, tmp_path):
    rows = population(three) + [patient(50_000, three[0])]  # one new cohort patient
    import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "q3.csv", rows), Q3)
    newcomer = next(r["patient_id"] for r in latest(imported) if r["change"] == "new")
    caseload.update_patients(imported, ACTOR, [newcomer], {"status": "contacted"})
    before = domain_digest(imported)
    with pytest.raises(ValidationError, match=r"started work on 1 patient who joined the cohort in it \(Given50000"):
        rollback.roll_back(imported, ACTOR, "CHA")
    assert domain_digest(imported) == before


def test_a_roll_back_is_refused_after_a_return_was_signed_off_on_it(imported, three, tmp_path):
    from desktop.models import clock, quarters
    from desktop.models.kpi import returns

    import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "q3.csv", population(three)), Q3)
    locality = imported.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    return_id, _ = returns.draft(imported, ACTOR, locality, quarters.of(Q3))
    # Signed off after the import (sign-off's own checks are tested elsewhere; the moment is what matters here).
    imported.execute(
        "UPDATE returns SET status = 'signed_off', signed_off_at = ? WHERE id = ?", [clock.now().isoformat(), return_id]
    )
    with pytest.raises(ValidationError, match=r"return was signed off after q3.csv was imported.*Reopen the return"):
        rollback.roll_back(imported, ACTOR, "CHA")


def test_the_cli_rolls_back_and_says_what_the_cohort_is_now(imported, three, tmp_path, capsys, small_world_path):
    import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "q3.csv", population(three)), Q3)
    assert cli.main(["rollback-import", "--db", str(small_world_path), "--locality", "CHA", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rolled_back"]["file_name"] == "q3.csv"
    assert out["now"]["file_name"] == "q2.csv" and out["now"]["extract_date"] == "2026-08-15"
    assert cli.main(["rollback-import", "--db", str(small_world_path), "--locality", "CHA"]) == 0
    assert "has no imported cohort now" in capsys.readouterr().out
    assert cli.main(["rollback-import", "--db", str(small_world_path), "--locality", "CHA"]) == 1
    assert "no imported extract to roll back" in capsys.readouterr().err


def test_an_import_keeps_only_the_cohort_row_by_row_yet_counts_everyone(small_world, three, tmp_path):
    import dataclasses

    from desktop.models.cohort import rules as cohort_rules
    from desktop.models.cohort.risk_import import check_extract, population_summary

    rows = population(three)
    rows += [dict(rows[1]), dict(rows[3])]  # a duplicate of a row outside the cohort, and of one in it
    rows[5]["date_of_birth"] = "31/02/1941"  # and a row rejected for another reason
    path = write_csv(tmp_path / "q2.csv", rows)
    full = check_extract(small_world, "CHA", path, Q2)
    lean = check_extract(small_world, "CHA", path, Q2, cohort_only=True)
    rules = cohort_rules.load(small_world)
    in_cohort = sum(
        rules.criteria(*(full.values[k] for k in ("efi_deficits", "ltc_count", "predicted_cost", "expected_cost")))[c]
        for c in "FMC"
    )
    assert len(lean.values["nhs_number"]) == int((in_cohort > 0).sum()) < full.imported
    assert (
        (lean.imported, lean.rows, lean.rejections)
        == (full.imported, full.rows, full.rejections)
        == (
            full.imported,
            len(rows),
            full.rejections,
        )
    )
    assert len(full.rejections) == 3 and full.imported == len(rows) - 3
    assert sorted(lean.everyone.tolist()) == sorted(full.values["nhs_number"].tolist())
    assert lean.counts("practice_code") == full.counts("practice_code")
    # The population summary from the counts made while reading equals one made from every row's values.
    from_values = dataclasses.replace(full, histograms=None, practice_counts=None, counted_on=None)
    assert population_summary(lean, rules, Q2) == population_summary(from_values, rules, Q2)


def test_several_practices_cut_short_are_one_finding(imported, three, tmp_path):
    rows = population(three)
    del rows[PER_PRACTICE + 10 : 3 * PER_PRACTICE - 10]  # the second and third practices keep 10 rows each
    with pytest.raises(ImplausibleExtract, match=r"2 practices have far fewer rows than in the last run") as refused:
        import_extract(imported, ACTOR, "CHA", write_csv(tmp_path / "short.csv", rows), Q3)
    assert [f.key for f in refused.value.plausibility.blocking] == ["leaving", "practice_rows"]
