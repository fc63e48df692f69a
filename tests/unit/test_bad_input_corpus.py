"""The bad-input corpus (tests/data/bad/, issue 10.1): every way data enters, each bad file refused with a
message a person understands, exit 1 on the command line, and the workspace's content unchanged (both
`info --json` and a digest of every table's rows)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import corpus_extracts
import corpus_returns
import corpus_risk
import corpus_signing
import pytest
from corpus_helpers import CORPUS, content_digest, corpus, refused_return, snapshot
from extract_helpers import patient, write_csv

from desktop.cli import main
from desktop.models.clock import Actor
from desktop.models.cohort import frame as cohort
from desktop.models.cohort import worklists
from desktop.models.db import open_workspace
from desktop.models.workspace import set_meta

ACTOR = Actor(user="gp.lead", device_id="laptop-1")
DAY = "2026-10-01"

# file -> words the message must hold (lower-cased comparison)
RISK_REFUSED = {
    "utf16.csv": ["utf-16", "csv utf-8"],
    "binary.csv": ["not a csv file"],
    "excel_workbook.csv": ["not a csv file", "excel"],
    "empty.csv": ["empty", "nothing to import"],
    "blank_lines.csv": ["empty"],
    "header_only.csv": ["heading row but no patient rows"],
    "missing_column.csv": ["no column for ltc_count, expected_cost"],
    "duplicated_column.csv": ["'nhs number' appears twice"],
    "excel_scientific.csv": ["no row", "scientific notation", "format the column as text"],
    "impossible_dates.csv": ["no row", "31/02/1950 is not a real calendar date"],
    "not_a_number.csv": ["no row", "'nan' is not an efi score"],
}
RETURN_REFUSED = {  # file -> (code, words)
    "truncated.json": ("unreadable", ["not valid json", "truncated"]),
    "wrong_types.json": ("bad-field", ["revision must be a whole number"]),
    "wrong_value_type.json": ("bad-field", ["numerator must be a number", "'many'"]),
    "huge_number.json": ("impossible-value", ["between 0 and a billion"]),
    "huge_integer.json": ("impossible-value", ["401-digit number", "between 0 and a billion"]),
    "huge_revision.json": ("bad-field", ["revision must be a whole number", "22-digit"]),
    "infinity.json": ("impossible-value", ["is inf", "between 0 and a billion"]),
    "nan.json": ("impossible-value", ["nan, which is not a figure"]),
    "negative_count.json": ("impossible-value", ["is -4", "between 0 and a billion"]),
    "unknown_field.json": ("bad-field", ["unexpected field 'notes'"]),
    "tampered_digest.json": ("digest-mismatch", ["digest does not match", "export it again"]),
    "patient_fields.json": ("patient-data", ["'patients' field", "never carry patient data"]),
    "patient_in_comment.json": ("patient-data", ["nhs number", "never carry patient data"]),
    "lone_surrogate.json": ("unreadable", ["broken text"]),
    "deeply_nested.json": ("unreadable", ["far too deep"]),
    "not_utf8.json": ("unreadable", ["not utf-8"]),
    "not_json.json": ("unreadable", ["not utf-8"]),
}


def test_the_committed_corpus_is_what_the_generator_makes_and_small():
    made = corpus()
    on_disk = {str(p.relative_to(CORPUS)): p.read_bytes() for p in CORPUS.rglob("*") if p.is_file()}
    assert set(on_disk) - {"README.md"} == set(made), "run `python tests/corpus_helpers.py` to rebuild the corpus"
    for name, data in made.items():
        assert on_disk[name] == data, f"{name} differs from the generator: run `python tests/corpus_helpers.py`"
    assert sum(len(d) for d in on_disk.values()) < 200_000
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    unlisted = [name for name in made if f"`{name.split('/', 1)[1]}`" not in readme]
    assert not unlisted, f"list these in tests/data/bad/README.md: {unlisted}"
    # Issues 19-21's files are run by their own tests (test_extract_hardening, test_return_import_hardening,
    # test_return_signing, test_practice_system_extracts).
    hardening = {
        n.split("/", 1)[1]
        for n in (*corpus_risk.files(), *corpus_returns.files(), *corpus_signing.files(), *corpus_extracts.files())
    }
    listed = set(RISK_REFUSED) | set(RETURN_REFUSED) | hardening | {"formula_injection.csv", "unclosed_quote.csv"}
    assert {n.split("/", 1)[1] for n in made if n.startswith(("risk/", "returns/"))} == listed


def _import_risk(world: Path, path: Path, capsys, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["import-risk", "--db", str(world), "--locality", "CHA", str(path), "--extract-date", DAY, *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("name", sorted(RISK_REFUSED))
def test_a_bad_risk_extract_is_refused_with_a_message_exit_1_and_changes_nothing(small_world_path, capsys, name):
    before = snapshot(small_world_path, capsys)
    code, out, err = _import_risk(small_world_path, CORPUS / "risk" / name, capsys)
    assert code == 1 and out == ""
    assert err.startswith("locality-desk: ") and "Traceback" not in err
    for words in RISK_REFUSED[name]:
        assert words in err.lower(), err
    assert snapshot(small_world_path, capsys) == before


def test_nan_and_infinity_are_not_numbers_in_any_column(small_world, tmp_path):
    from desktop.models.cohort.risk_import import check_extract

    checked = check_extract(small_world, "CHA", CORPUS / "risk" / "not_a_number.csv", dt.date(2026, 10, 1))
    assert checked.imported == 0
    assert [(r.row, r.column, r.reason) for r in checked.rejections] == [
        (2, "efi_score", "'nan' is not an eFI score."),
        (3, "predicted_cost", "'inf' is not a predicted cost in pounds."),
        (4, "expected_cost", "'1e999' is not a expected cost in pounds."),
        (5, "prob_unplanned_admission", "'NaN' is not a probability between 0 and 1."),
    ]


def test_an_unclosed_quote_costs_only_its_row(small_world_path, capsys):
    code, out, err = _import_risk(small_world_path, CORPUS / "risk" / "unclosed_quote.csv", capsys)
    assert (code, err) == (0, "")
    assert "1 of 2 rows imported, 1 rejected" in out and "row 3, (whole row)" in out


def test_a_50_mb_single_line_is_refused_quickly_with_a_short_message(small_world_path, tmp_path, capsys):
    before = snapshot(small_world_path, capsys)
    headed = write_csv(tmp_path / "one-long-row.csv", [patient(1, "Z82001")])
    with open(headed, "ab") as fh:
        fh.write(b"9" * 50_000_000 + b"\r\n")
    no_breaks = tmp_path / "no-line-breaks.csv"
    no_breaks.write_bytes(b"x" * 50_000_000)
    for path, words in ((headed, "line far longer than any patient's row"), (no_breaks, "has no column for")):
        code, out, err = _import_risk(small_world_path, path, capsys)
        assert code == 1 and words in err, err
        assert len(err) < 600  # the 64 kB "heading" is not repeated back
    assert snapshot(small_world_path, capsys) == before


def test_a_formula_in_a_name_is_imported_but_exported_as_text(small_world_path, tmp_path, capsys):
    code, out, err = _import_risk(small_world_path, CORPUS / "risk" / "formula_injection.csv", capsys)
    assert code == 0 and "3 of 3 rows imported" in out, err
    db = open_workspace(small_world_path)
    try:
        loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
        frame = cohort.load(db, loc)
        stored = set(frame.columns["given_name"]) | set(frame.columns["family_name"])
        assert '=HYPERLINK("http://x","click")' in stored  # kept as the extract has it
        csv_out, xlsx_out = tmp_path / "new.csv", tmp_path / "new.xlsx"
        assert worklists.export(db, ACTOR, frame, "new", csv_out, "Charnwood") == 3
        assert worklists.export(db, ACTOR, frame, "new", xlsx_out, "Charnwood") == 3
    finally:
        db.close()
    with open(csv_out, encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    names = [cell for row in table[1:] for cell in row[1:3]]
    assert len(names) == 6 and all(n.startswith("'") for n in names), names
    # (the tab before "=1+1" is trimmed on import, as all surrounding whitespace is)
    assert '\'=HYPERLINK("http://x","click")' in names and names.count("'=1+1") == 2
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx_out).active
    cells = [sheet.cell(row=r, column=c) for r in range(3, 6) for c in (2, 3)]
    assert all(c.data_type == "s" and str(c.value).startswith("'") for c in cells), [c.value for c in cells]
    assert not any(str(c.value).startswith(("=", "+", "-", "@")) for row in sheet.iter_rows() for c in row)


@pytest.fixture
def commissioner_path(tmp_path, capsys):
    path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner"]) == 0
    capsys.readouterr()
    return path


@pytest.mark.parametrize("name", sorted(RETURN_REFUSED))
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_a_bad_return_file_is_rejected_with_its_code_exit_1_and_changes_nothing(
    commissioner_path, capsys, name, dry_run
):
    got = refused_return(commissioner_path, capsys, CORPUS / "returns" / name, dry_run)
    expected_code, words = RETURN_REFUSED[name]
    assert (got["status"], got["code"]) == ("rejected", expected_code), got
    for w in words:
        assert w in got["reason"].lower(), got["reason"]


def test_a_batch_of_the_whole_return_corpus_keeps_nothing_and_says_why_for_each(commissioner_path, capsys):
    before = snapshot(commissioner_path, capsys)
    files = [str(CORPUS / "returns" / n) for n in sorted(RETURN_REFUSED)]
    assert main(["return", "import", "--db", str(commissioner_path), *files]) == 1
    out = capsys.readouterr().out
    assert out.count(": rejected [") == len(files)
    assert f"0 imported, 0 superseded, 0 ignored, {len(files)} rejected" in out
    assert snapshot(commissioner_path, capsys) == before


# -- the remembered column mapping ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["not_json.txt", "a_list.json", "non_string_values.json", "unknown_targets.json"])
def test_a_damaged_remembered_mapping_is_ignored_and_the_import_goes_ahead(small_world_path, tmp_path, capsys, name):
    db = open_workspace(small_world_path)
    set_meta(db, extract_mapping=(CORPUS / "mapping" / name).read_text(encoding="utf-8"))
    db.close()
    good = write_csv(tmp_path / "good.csv", [patient(1, "Z82001"), patient(2, "Z82002")])
    code, out, err = _import_risk(small_world_path, good, capsys)
    assert (code, err) == (0, ""), err
    assert "2 of 2 rows imported" in out


def test_a_remembered_mapping_with_list_values_for_headings_the_file_has_does_not_crash(
    small_world_path, tmp_path, capsys
):
    db = open_workspace(small_world_path)
    set_meta(db, extract_mapping='{"nhs_number": ["nhs_number"], "date_of_birth": 5}')
    db.close()
    code, out, err = _import_risk(small_world_path, write_csv(tmp_path / "g.csv", [patient(1, "Z82001")]), capsys)
    assert (code, err) == (0, "") and "1 of 1 rows imported" in out


def test_a_remembered_mapping_that_swaps_columns_is_honoured_and_refused_row_by_row(small_world_path, tmp_path, capsys):
    db = open_workspace(small_world_path)
    set_meta(db, extract_mapping=(CORPUS / "mapping" / "swapped_columns.json").read_text(encoding="utf-8"))
    db.close()
    before = snapshot(small_world_path, capsys)
    code, out, err = _import_risk(small_world_path, write_csv(tmp_path / "g.csv", [patient(1, "Z82001")]), capsys)
    assert code == 1 and "no row" in err.lower() and "is not an nhs number" in err.lower()
    assert snapshot(small_world_path, capsys) == before


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"nhs_number": ["x"]}, "not a column of a risk extract"),
        ({"nhs_number": "drop table patients"}, "not a column of a risk extract"),
        (
            {
                "NHS": "nhs_number",
                "date_of_birth": "date_of_birth",
                "practice_code": "practice_code",
                "ltc_count": "ltc_count",
                "predicted_cost": "predicted_cost",
                "expected_cost": "expected_cost",
                "efi_score": "efi_score",
            },
            "has no column for nhs_number",
        ),
        ({}, "has no column for nhs_number"),
    ],
    ids=["list-target", "unknown-target", "heading-not-in-file", "empty"],
)
def test_a_bad_mapping_from_the_dialog_is_refused_and_changes_nothing(
    small_world_path, tmp_path, capsys, mapping, words
):
    from desktop.models.cohort.risk_import import import_extract
    from desktop.models.errors import ValidationError

    good = write_csv(tmp_path / "g.csv", [patient(1, "Z82001")])
    before = content_digest(small_world_path)
    db = open_workspace(small_world_path)
    try:
        with pytest.raises(ValidationError, match=words):
            import_extract(db, ACTOR, "CHA", good, mapping=mapping)
    finally:
        db.close()
    assert content_digest(small_world_path) == before


# -- settings files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["wrong_types.ini", "unknown_keys.ini", "garbage.ini", "truncated.ini"])
def test_a_corrupt_settings_file_gives_defaults_and_never_raises(name):
    from desktop.settings import SETTINGS, STATE, Settings, qsettings

    ini = Path(qsettings().fileName())
    ini.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(CORPUS / "settings" / name, ini)
    settings = Settings(qsettings())
    values = {n: settings.get(n) for n in SETTINGS}
    state = {n: settings.state(n) for n in STATE}
    for n, option in {**SETTINGS, **STATE}.items():
        got = values.get(n, state.get(n))
        assert isinstance(got, option.type), (n, got)
    # Text that is not base64 gives no saved layout rather than an exception at start-up.
    for n in STATE:  # raised binascii.Error on text that is not base64
        settings.state_bytes(n)
    settings.add_recent(Path("/somewhere/w.sqlite"))  # and the app can still write
    assert settings.recent_workspaces()[0] == Path("/somewhere/w.sqlite").resolve()
    if name == "wrong_types.ini":
        assert values["user_name"] == "" and values["last_locality"] == ""
        assert state["splitter"] == "" and settings.state_bytes("window_geometry") is None
    if name == "unknown_keys.ini":
        assert values["user_name"] == "Dr A Example" and state["last_screen"] == "cohort"
        assert settings.unknown_keys() == ["elsewhere/anything", "settings/sound_theme"]
    if name == "truncated.ini":
        assert values["user_name"] == "Dr A Exa"
