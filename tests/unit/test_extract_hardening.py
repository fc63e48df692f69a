"""Extracts that were misread without a word, and stored cohort criteria that broke the import (issue 19,
point 5 and point 6's cohort rules): each file of tests/data/bad/risk/ made by tests/corpus_risk.py is run
through the command line and through check_extract, for its message, exit code and what is stored."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from corpus_helpers import CORPUS, snapshot
from corpus_risk import NUNEZ, PAST_64_KB_GOOD, ZOE, past_64_kb
from extract_helpers import HEADER, patient, synthetic_nhs, write_csv

from desktop.cli import main
from desktop.models import clock
from desktop.models.clock import Actor
from desktop.models.cohort import frame as cohort
from desktop.models.cohort import rules as cohort_rules
from desktop.models.cohort.risk_import import check_extract, import_extract, store_run
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.workspace import set_meta

ACTOR = Actor(user="gp.lead", device_id="laptop-1")
DAY = dt.date(2026, 10, 1)
RISK = CORPUS / "risk"


def _import_risk(world: Path, path: Path, capsys, day: str = DAY.isoformat()) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["import-risk", "--db", str(world), "--locality", "CHA", str(path), "--extract-date", day])
    out = capsys.readouterr()
    return code, out.out, out.err


def _rejections(db, path: Path) -> list[tuple[int, str, str]]:
    checked = check_extract(db, "CHA", path, DAY)
    return [(r.row, r.column, r.reason) for r in checked.rejections]


def _cohort(db) -> dict[str, list]:
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    return {k: list(v) for k, v in cohort.load(db, loc).columns.items()}


# file -> words the command line's message must hold (lower-cased): each file has no good row, so the whole
# import is refused, exit 1, and nothing is written.
REFUSED = {
    "decimal_comma.csv": ["no row", "row 2, predicted_cost", "'1839,99' has a decimal comma"],
    "control_characters.csv": ["no row", "row 2, given_name", "control character (u+0007)"],
    "placeholder_nhs.csv": ["no row", "'0000000000' is a placeholder"],
    "date_with_garbage.csv": ["no row", "'1950-01-01tgarbage' is not a date"],
    "absurd_cost.csv": ["no row", "predicted cost 1e300 is more than £10,000,000"],
    "bad_use.csv": ["no row", "row 2, emergency_admissions_12m", "-1 emergency admissions in the last 12 months"],
    "efi_disagrees.csv": ["no row", "efi score 0.5 does not agree with the row's deficit count"],
    "fullwidth_digits.csv": ["no row", "is not an nhs number", "not the plain digits 0-9"],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_misread_extract_is_refused_with_a_message_exit_1_and_changes_nothing(small_world_path, capsys, name):
    before = snapshot(small_world_path, capsys)
    code, out, err = _import_risk(small_world_path, RISK / name, capsys)
    assert (code, out) == (1, ""), err
    assert err.startswith("locality-desk: ") and "Traceback" not in err
    for words in REFUSED[name]:
        assert words in err.lower(), err
    assert snapshot(small_world_path, capsys) == before


def test_a_decimal_comma_is_refused_naming_its_column_and_a_thousands_comma_still_reads(small_world, cha, tmp_path):
    # 1839,99 was stored as £183,999 and an LTC count 1,2 as 12. A decimal comma is not read at all: beside one,
    # "1,500" could be 1.5 or 1500, so a column with a decimal comma has every comma refused.
    got = _rejections(small_world, RISK / "decimal_comma.csv")
    assert [(row, column) for row, column, _ in got] == [
        (2, "predicted_cost"),
        (3, "ltc_count"),
        (4, "expected_cost"),
        (5, "efi_score"),
        (6, "prob_unplanned_admission"),
        (7, "predicted_cost"),
    ]
    assert got[0][2].startswith("'1839,99' has a decimal comma") and "full stops for decimals" in got[0][2]
    assert got[1][2].startswith("'1,2' has a decimal comma")
    assert got[5][2].startswith("'1,500' could be read with a thousands comma or a decimal comma")

    _, mine, _ = cha
    rows = [
        patient(1, mine[0], predicted_cost="£3,839.99", expected_cost="1,200"),
        patient(2, mine[1], predicted_cost="12,345,678.5"),  # thousands, then refused as absurd
    ]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "t.csv", rows), DAY)
    assert checked.values["predicted_cost"].tolist() == [3839.99]
    assert checked.values["expected_cost"].tolist() == [1200.0]
    assert [(r.row, r.column) for r in checked.rejections] == [(3, "predicted_cost")]
    assert "more than £10,000,000" in checked.rejections[0].reason
    # A leading 0 is no thousands group: 0,500 is a decimal comma.
    rows = [patient(1, mine[0], prob_unplanned_admission="0,500")]
    got = _rejections(small_world, write_csv(tmp_path / "z.csv", rows))
    assert [(row, column) for row, column, _ in got] == [(2, "prob_unplanned_admission")]
    assert "decimal comma" in got[0][2]


def test_one_stray_windows_1252_byte_costs_its_row_not_every_name(small_world_path, tmp_path, capsys):
    # Past the first 64 kB the byte re-read the whole file as Windows-1252: every "Zoë Ñúñez" became
    # "ZoÃ« Ã‘ÃºÃ±ez". The NUL and the ANSI escape were stored in the names.
    path = tmp_path / "past-64-kb.csv"
    path.write_bytes(past_64_kb())
    code, out, err = _import_risk(small_world_path, path, capsys)
    n = PAST_64_KB_GOOD
    assert (code, err) == (0, ""), err
    assert f"{n + 1} of {n + 4} rows imported, 3 rejected" in out
    assert f"row {n + 2}, given_name: 'Zo\ufffd' holds bytes that are not UTF-8 text" in out
    assert f"row {n + 3}, family_name: The family name 'Nu\\x00nez' holds a control character (U+0000)" in out
    assert f"row {n + 4}, given_name: The given name '\\x1b[2JZoe' holds a control character (U+001B)" in out
    db = open_workspace(small_world_path)
    try:
        stored = _cohort(db)
    finally:
        db.close()
    assert set(stored["given_name"]) == {ZOE} and set(stored["family_name"]) == {NUNEZ}
    assert len(stored["given_name"]) == n + 1


def test_a_stray_byte_in_the_first_64_kb_is_decided_on_the_whole_file_too(small_world, cha):
    # Within the sample, the byte made the sniffer call the whole file Windows-1252.
    checked = check_extract(small_world, "CHA", RISK / "stray_cp1252_byte.csv", DAY)
    assert [(r.row, r.column) for r in checked.rejections] == [(4, "given_name")]
    assert checked.imported == 3
    assert sorted(checked.text("given_name")) == ["Given4", ZOE, ZOE]
    assert sorted(checked.text("family_name")) == ["Family2", NUNEZ, NUNEZ]


def test_a_windows_1252_file_is_still_read_as_one(small_world, cha, tmp_path):
    _, mine, _ = cha
    rows = [patient(n, mine[0], given_name="Zoë", family_name="O’Brien") for n in range(1, 900)]
    path = write_csv(tmp_path / "w.csv", rows, encoding="cp1252")
    assert path.stat().st_size > 64 * 1024
    checked = check_extract(small_world, "CHA", path, DAY)
    assert (checked.imported, checked.rejections) == (899, [])
    assert set(checked.text("given_name")) == {"Zoë"} and set(checked.text("family_name")) == {"O’Brien"}


def test_control_characters_in_names_are_refused_not_stripped(small_world, cha, tmp_path):
    got = _rejections(small_world, RISK / "control_characters.csv")
    assert [(row, column) for row, column, _ in got] == [
        (2, "given_name"),
        (3, "family_name"),
        (4, "given_name"),
        (5, "family_name"),
        (6, "given_name"),
        (7, "postcode"),
    ]
    codes = ["U+0007", "U+001B", "U+007F", "U+0085", "U+202E", "U+000C"]
    for (_, _, reason), code in zip(got, codes, strict=True):
        assert f"holds a control character ({code})" in reason and "correct the cell" in reason
    # Names in other scripts, apostrophes, joiners and a tab-led formula (kept, and defused on export) pass.
    _, mine, _ = cha
    fine = ["Łucja", "O’Brien", "Zoë-Ñúñez", "\u0645\u06cc\u200c\u0631", "\t=1+1", "Ann\u00a0Marie"]
    rows = [patient(n, mine[0], given_name=v) for n, v in enumerate(fine, start=1)]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "ok.csv", rows), DAY)
    assert checked.rejections == [] and sorted(checked.text("given_name")) == sorted(v.strip() for v in fine)


def test_placeholder_nhs_numbers_are_refused(small_world):
    got = _rejections(small_world, RISK / "placeholder_nhs.csv")
    assert [(row, column) for row, column, _ in got] == [(2, "nhs_number"), (3, "nhs_number"), (4, "nhs_number")]
    assert all("placeholder (one digit ten times)" in reason for _, _, reason in got)


def test_an_iso_date_takes_a_time_of_day_and_nothing_else(small_world, cha, tmp_path):
    got = _rejections(small_world, RISK / "date_with_garbage.csv")
    assert [(row, column) for row, column, _ in got] == [(r, "date_of_birth") for r in (2, 3, 4, 5)]
    assert got[0][2] == "'1950-01-01Tgarbage' is not a date; use dd/mm/yyyy or yyyy-mm-dd."
    _, mine, _ = cha
    times = ["1950-01-01", "1950-01-01 00:00:00", "1950-01-01T10:30", "1950-01-01T10:30:00.000Z", "1950-01-01 23:59"]
    rows = [patient(n, mine[0], date_of_birth=v) for n, v in enumerate(times, start=1)]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "ok.csv", rows), DAY)
    assert checked.rejections == []
    assert set(checked.values["date_of_birth"].astype(str)) == {"1950-01-01"}


def test_an_absurd_cost_is_refused(small_world):
    got = _rejections(small_world, RISK / "absurd_cost.csv")
    assert [(row, column) for row, column, _ in got] == [
        (2, "predicted_cost"),
        (3, "expected_cost"),
        (4, "predicted_cost"),
    ]
    assert "pounds (not pence)" in got[1][2] and "10,000,001" in got[2][2]


def test_a_bad_use_in_the_last_12_months_is_refused_naming_its_row_and_column(small_world):
    got = _rejections(small_world, RISK / "bad_use.csv")
    assert [(row, column) for row, column, _ in got] == [
        (2, "emergency_admissions_12m"),
        (3, "emergency_admissions_12m"),
        (4, "ae_attendances_12m"),
        (5, "ae_attendances_12m"),
        (6, "emergency_bed_days_12m"),
        (7, "cost_12m"),
        (8, "emergency_bed_days_12m"),
    ]
    reasons = [reason for _, _, reason in got]
    assert "is negative" in reasons[0] and "whole number" in reasons[1] and "'lots' is not a number" in reasons[2]
    assert "0 to 365" in reasons[3] and "366" in reasons[4] and "pounds (not pence)" in reasons[5]


def test_an_efi_score_and_deficit_count_that_disagree_are_refused(small_world, cha, tmp_path):
    got = _rejections(small_world, RISK / "efi_disagrees.csv")
    assert [(row, column) for row, column, _ in got] == [(2, "efi_score"), (3, "efi_score")]
    assert "map only one of the two columns" in got[0][2]
    # Agreeing to two places (0.31 for 11 deficits), or with the score blank, is fine; a score that is not one
    # is no longer passed over because the count is there.
    _, mine, _ = cha
    header = [*HEADER, "efi_deficits"]
    rows = [
        patient(1, mine[0], efi_score="0.31", efi_deficits="11"),
        patient(2, mine[0], efi_score="", efi_deficits="11"),
        patient(3, mine[0], efi_score="0.25", efi_deficits="9"),
        patient(4, mine[0], efi_score="high", efi_deficits="9"),
    ]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "both.csv", rows, header=header), DAY)
    assert [(r.row, r.column, r.reason) for r in checked.rejections] == [
        (5, "efi_score", "'high' is not an eFI score.")
    ]
    assert checked.values["efi_deficits"].tolist() == [11, 11, 9]


def test_full_width_digits_are_refused_plainly_in_every_column(small_world):
    # The NHS number's gave an ArrowInvalid traceback: utf8_is_digit counts them as digits, the cast does not.
    got = _rejections(small_world, RISK / "fullwidth_digits.csv")
    assert [(row, column) for row, column, _ in got] == [
        (2, "nhs_number"),
        (3, "date_of_birth"),
        (4, "ltc_count"),
        (5, "predicted_cost"),
        (6, "efi_score"),
    ]
    assert all("not the plain digits 0-9" in reason for _, _, reason in got)


def test_an_extract_date_in_the_future_is_refused_and_blocks_nothing_later(small_world_path, tmp_path, capsys):
    # 2031-01-01 was imported, and every genuine extract after it was refused as older than the latest run.
    good = write_csv(tmp_path / "good.csv", [patient(1, "Z82001"), patient(2, "Z82002")])
    before = snapshot(small_world_path, capsys)
    code, out, err = _import_risk(small_world_path, good, capsys, day="2031-01-01")
    assert (code, out) == (1, "")
    assert "the extract date 01/01/2031 is in the future (today is 20/11/2026)" in err.lower()
    assert snapshot(small_world_path, capsys) == before
    code, out, err = _import_risk(small_world_path, good, capsys, day=clock.today().isoformat())
    assert (code, err) == (0, ""), err
    assert "2 of 2 rows imported" in out


def test_the_domain_refuses_a_future_extract_date_whatever_the_route(small_world, cha, tmp_path):
    good = write_csv(tmp_path / "good.csv", [patient(1, cha[1][0])])
    tomorrow = clock.today() + dt.timedelta(days=1)
    with pytest.raises(ValidationError, match="is in the future"):
        check_extract(small_world, "CHA", good, tomorrow)
    with pytest.raises(ValidationError, match="is in the future"):
        import_extract(small_world, ACTOR, "CHA", good, tomorrow)
    checked = check_extract(small_world, "CHA", good, clock.today())
    with pytest.raises(ValidationError, match="is in the future"):
        store_run(small_world, ACTOR, "CHA", checked, "good.csv", tomorrow)
    assert small_world.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0] == 0


def test_a_commissioner_workspace_refuses_a_risk_extract(tmp_path, capsys, small_world, cha):
    path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner"]) == 0
    good = write_csv(tmp_path / "good.csv", [patient(1, "Z82001")])
    before = snapshot(path, capsys)
    code, out, err = _import_risk(path, good, capsys)
    assert (code, out) == (1, "") and "commissioner workspace, which never holds patient" in err
    assert snapshot(path, capsys) == before
    # And by the route the demo's generated extracts take, which reads no file.
    checked = check_extract(small_world, "CHA", good, DAY)
    db = open_workspace(path)
    try:
        with pytest.raises(ValidationError, match="commissioner workspace"):
            store_run(db, ACTOR, "CHA", checked, "good.csv", DAY)
        assert db.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0] == 0
    finally:
        db.close()


# -- the stored cohort criteria --------------------------------------------------------------------------

DEFAULTS = cohort_rules.defaults()


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("cohort_rules_not_json.txt", {}),
        ("cohort_rules_a_list.json", {}),
        ("cohort_rules_null.json", {}),
        ("cohort_rules_zero_ratio.json", {}),
        ("cohort_rules_wrong_types.json", {"mild_frailty_min_deficits": 4}),
    ],
)
def test_damaged_stored_criteria_give_way_to_the_defaults_and_the_import_goes_ahead(
    small_world_path, tmp_path, capsys, caplog, name, kept
):
    # Not JSON, a list or null gave tracebacks; a high-cost ratio of 0 put every row in the cohort.
    db = open_workspace(small_world_path)
    set_meta(db, cohort_rules=(RISK / name).read_text(encoding="utf-8"))
    with caplog.at_level(logging.WARNING, logger="desktop.models.cohort.rules"):
        rules = cohort_rules.load(db)
    assert cohort_rules.load_checked(db) == (rules, problems := cohort_rules.load_checked(db)[1])
    db.close()
    expected = {**DEFAULTS.__dict__, **kept}
    assert rules.__dict__ == expected and problems and "damaged" in caplog.text
    rows = [patient(1, "Z82001", efi_score="0.05"), patient(2, "Z82002", efi_score="0.05", predicted_cost="1300")]
    code, out, err = _import_risk(small_world_path, write_csv(tmp_path / "g.csv", rows), capsys)
    assert (code, err) == (0, ""), err
    assert "Cohort 0 (" in out  # neither is frail, multimorbid or three times dearer than expected


def test_stored_criteria_keep_every_good_value(small_world):
    stored = {
        "mild_frailty_min_deficits": 10,
        "frailty_min_deficits": 14,
        "severe_frailty_min_deficits": 20,
        "high_cost_min_ratio": 2.5,
        "multimorbidity_min_ltc": 99,  # out of range: the default 5
        "unknown": "ignored",
    }
    set_meta(small_world, cohort_rules=json.dumps(stored))
    rules, problems = cohort_rules.load_checked(small_world)
    assert (rules.mild_frailty_min_deficits, rules.frailty_min_deficits, rules.severe_frailty_min_deficits) == (
        10,
        14,
        20,
    )
    assert (rules.high_cost_min_ratio, rules.multimorbidity_min_ltc) == (2.5, DEFAULTS.multimorbidity_min_ltc)
    assert problems == ["multimorbidity_min_ltc = 99 is out of range; the default is used"]
    set_meta(small_world, cohort_rules=json.dumps({"high_cost_min_ratio": 4}))
    assert cohort_rules.load_checked(small_world) == (
        DEFAULTS.__class__(**{**DEFAULTS.__dict__, "high_cost_min_ratio": 4}),
        [],
    )


def test_a_good_extract_still_lands_whole(small_world, cha, tmp_path):
    """The new rules leave a clean file alone (every row imported, every value as written)."""
    _, mine, _ = cha
    rows = [patient(n, mine[n % 2], given_name="Zoë", family_name="Ñúñez") for n in range(1, 6)]
    result = import_extract(small_world, ACTOR, "CHA", write_csv(tmp_path / "g.csv", rows), DAY)
    assert (result.imported, result.rejected) == (5, 0)
    assert sorted(_cohort(small_world)["nhs_number"]) == sorted(synthetic_nhs(n) for n in range(1, 6))
