"""Extracts as practice systems and risk tools write them (issue 21, point 2): title lines above the heading
row, a summary below the patients, .xlsx and .xls workbooks, and the tools' own headings. Each example under
tests/data/extracts/ (made by tests/corpus_extracts.py) imports with the same result as its plain-CSV twin; an
unknown layout, a workbook with no extract and the wrong sheet are refused with nothing written."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from corpus_extracts import EXTRACTS, TWINS, WRONG_CHECK_DIGIT, examples, files
from corpus_helpers import CHA_PRACTICES, CORPUS, content_digest, snapshot
from extract_helpers import HEADER, patient, write_csv
from worlds import copy_world

from desktop.cli import main
from desktop.models.clock import Actor
from desktop.models.cohort import store as risk_store
from desktop.models.cohort.extract_layout import find_heading, not_imported_reason, suggest_mapping, trailing_summary
from desktop.models.cohort.extract_preview import preview, sheet_names
from desktop.models.cohort.extract_reader import read_extract
from desktop.models.cohort.risk_import import check_extract, import_extract
from desktop.models.cohort.workbook import column_text
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError

ACTOR = Actor(user="gp.lead", device_id="laptop-1")
DAY = dt.date(2026, 11, 20)


def _imported(template: Path, tmp_path: Path, path: Path, **kw) -> dict:
    """Import *path* into a fresh copy of the small world; what the import said and what it stored."""
    world = copy_world(template, tmp_path / f"{path.name}.sqlite")
    db = open_workspace(world)
    try:
        result = import_extract(db, ACTOR, "CHA", path, DAY, **kw)
        run = dict(next(iter(db.query("SELECT * FROM risk_runs WHERE id = ?", [result.run_id]))))
        cohort = risk_store.run_cohort(db, result.run_id)
    finally:
        db.close()
    return {"result": result, "summary": json.loads(run["summary"]), "cohort": cohort, "run": run}


def _first_data_row(path: Path) -> int:
    return read_extract(path).line_numbers[0]


# -- the committed files -----------------------------------------------------------------------------------------


def test_the_committed_examples_and_refusals_are_what_the_generator_makes_and_small():
    made = examples()
    for name, data in made.items():
        assert (EXTRACTS / name).read_bytes() == data, f"{name} differs: run `python tests/corpus_extracts.py`"
    on_disk = {p.name for p in EXTRACTS.iterdir() if p.is_file()}
    # The .xls needs xlwt to be made again; without it the committed copy stands (and is still imported below).
    assert on_disk - set(made) <= {"emis_web_report.xls"}
    assert "emis_web_report.xls" in on_disk
    assert sum((EXTRACTS / n).stat().st_size for n in on_disk) < 60_000
    for name, data in files().items():
        assert (CORPUS / name).read_bytes() == data, f"{name} differs: run `python tests/corpus_extracts.py`"


# -- each layout imports as its plain twin does -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TWINS))
def test_each_example_imports_with_the_same_result_as_its_plain_twin(small_world_template, tmp_path, name):
    example, twin = EXTRACTS / name, EXTRACTS / TWINS[name]
    got, want = _imported(small_world_template, tmp_path, example), _imported(small_world_template, tmp_path, twin)
    a, b = got["result"], want["result"]
    assert {k: v for k, v in a.as_json().items() if k != "rejections"} == {
        k: v for k, v in b.as_json().items() if k != "rejections"
    }
    assert (a.rows, a.imported, a.rejected) == (10, 9, 1)
    # The same row rejected for the same rule, numbered as each file numbers its rows.
    offset = _first_data_row(example) - _first_data_row(twin)
    assert [(r.row - offset, r.column) for r in a.rejections] == [(r.row, r.column) for r in b.rejections]
    assert [r.column for r in a.rejections] == ["nhs_number"] and "check digit" in a.rejections[0].reason
    assert got["summary"] == want["summary"]
    assert got["cohort"].equals(want["cohort"]), (got["cohort"].to_pydict(), want["cohort"].to_pydict())
    assert got["cohort"].num_rows > 0


def test_the_emis_report_reads_its_title_headings_and_total_line(small_world_template, tmp_path):
    for name in ("emis_web_report.csv", "emis_web_report.xlsx", "emis_web_report.xls"):
        result = _imported(small_world_template, tmp_path, EXTRACTS / name)["result"]
        assert result.rejections[0].row == 13  # title (4 lines and a blank), heading on row 6, patient 7 on row 13
        notes = " ".join(result.notes)
        assert "The column headings are on row 6" in notes and "'Population count, 10'" not in notes
        assert "Locality risk stratification" in notes
        assert "row 18: 'Total: 10 patients'" in notes  # left out, not rejected


def test_the_preview_shows_the_title_lines_apart_from_the_rows():
    for name in ("emis_web_report.csv", "emis_web_report.xlsx", "emis_web_report.xls"):
        shown = preview(EXTRACTS / name)
        assert shown.heading_row == 6 and shown.headings[0] == "NHS Number"
        assert shown.title_lines == [
            "Locality risk stratification - frailty, LTCs and cost",
            "Search run on, 20-Nov-2026 08:45",
            "Parent population, All currently registered patients",
            "Population count, 10",
        ]
        assert shown.row_numbers[:3] == [7, 8, 9] and len(shown.rows) == 10
        assert shown.summary_lines == [(18, "Total: 10 patients")]  # set apart, as the import leaves it out
        assert shown.rows[0][0] == "999 000 0026"
        assert shown.mapping["Practice Code"] == "practice_code" and "Organisation" not in shown.mapping
    systmone = preview(EXTRACTS / "systmone_report.csv")
    assert (systmone.heading_row, systmone.encoding, systmone.delimiter) == (7, "cp1252", ",")
    assert systmone.title_lines[0].startswith("Report: Locality risk extract") and len(systmone.title_lines) == 5
    assert systmone.rows[5][1] == "Zoë"
    book = preview(EXTRACTS / "two_sheets.xlsx")
    assert (book.sheet, book.sheets, book.title_lines) == ("Patients", ["About", "Patients"], [])
    assert book.rows[0][HEADER.index("date_of_birth")] == "14/03/1938"  # an Excel day number, read as a date
    assert sheet_names(EXTRACTS / "two_sheets.xlsx") == ["About", "Patients"] and sheet_names(EXTRACTS / "x.csv") == []


# -- headings as the tools name them ----------------------------------------------------------------------------


def test_headings_as_emis_systmone_and_acg_name_them_are_recognised():
    emis = suggest_mapping(["NHS Number", "Date of Birth", "Usual GP", "Organisation", "Practice Code", "eFI Score"])
    assert emis == {
        "NHS Number": "nhs_number",
        "Date of Birth": "date_of_birth",
        "Practice Code": "practice_code",  # the code, not the practice's name beside it
        "eFI Score": "efi_score",
    }
    assert suggest_mapping(["Organisation"]) == {"Organisation": "practice_code"}  # when nothing says more
    acg = suggest_mapping(
        [
            "Patient ID",
            "Probability Unplanned Admission",
            "Predicted Total Cost",
            "Frailty Flag",
            "Chronic Condition Count",
            "eFI Deficit Count",
            "Expected Total Cost",
        ]
    )
    assert acg == {
        "Patient ID": "nhs_number",
        "Probability Unplanned Admission": "prob_unplanned_admission",
        "Predicted Total Cost": "predicted_cost",
        "Chronic Condition Count": "ltc_count",
        "eFI Deficit Count": "efi_deficits",
        "Expected Total Cost": "expected_cost",
    }
    assert "Patient ID" not in suggest_mapping(["Patient ID", "NHS Number"])
    systmone = suggest_mapping(["NHS number", "Registered practice code", "Electronic Frailty Index"])
    assert set(systmone.values()) == {"nhs_number", "practice_code", "efi_score"}
    assert "frailty flag" in not_imported_reason("Frailty Flag").lower()
    assert "usual gp" in not_imported_reason("Usual GP").lower()
    assert "rather than pounds" in not_imported_reason("Unscaled Predicted Total Cost")
    assert not_imported_reason("Favourite colour") is None


def test_dates_as_emis_and_systmone_write_them_are_read(small_world, tmp_path):
    rows = [
        patient(1, CHA_PRACTICES[0], date_of_birth="14-Mar-1938"),
        patient(2, CHA_PRACTICES[1], date_of_birth="3 September 1940"),
        patient(3, CHA_PRACTICES[0], date_of_birth="14-Marx-1938"),
        patient(4, CHA_PRACTICES[1], date_of_birth="31 Feb 1950"),
    ]
    checked = check_extract(small_world, "CHA", write_csv(tmp_path / "x.csv", rows), DAY)
    assert checked.imported == 2
    assert [(r.row, r.reason) for r in checked.rejections] == [
        (4, "'14-Marx-1938' is not a date; use dd/mm/yyyy or yyyy-mm-dd."),
        (5, "31 Feb 1950 is not a real calendar date."),
    ]


# -- where the heading row is, and what is below the patients --------------------------------------------------


def test_the_heading_row_is_the_first_naming_the_required_columns_within_30_lines():
    title = [["Report", "Frailty"], ["Practice", "Z82001"], []]
    found = find_heading([*title, HEADER, ["9990000018"] * len(HEADER)])
    assert (found.row, found.heading_row, found.found) == (3, 4, True)
    assert found.title_lines == ["Report, Frailty", "Practice, Z82001"]
    too_deep = find_heading([*([["A report line"]] * 30), HEADER])
    assert too_deep is not None and not too_deep.found and too_deep.row == 0
    by_hand = find_heading([["Ident", "Born", "Surgery", "Conditions", "Frailty", "Predicted", "Expected"]])
    assert by_hand.found and by_hand.mapping == {}  # a line of words only: headings to map by hand
    assert find_heading([[""], []]) is None


@pytest.mark.parametrize(
    ("tail", "dropped"),
    [
        ([["Total: 1,234"]], 1),
        ([["Total", "", "", "1234"]], 1),  # Excel pads a total with empty cells
        ([[], ["Produced by the practice system"]], 2),  # blank, then text
        ([[""] * 5, ["Report end"], ["Page 1 of 1"]], 3),
        ([["Page 1 of 1"]], 0),  # no blank and no summary word: a short row is left to be rejected
        ([[], ["999 000 0018", "Smith"]], 0),  # a patient's NHS number is never a summary
        ([["Grand total", "999 000 0018"]], 0),
    ],
)
def test_summary_lines_below_the_last_patient(tail, dropped):
    rows = [["9990000018", "Given", "Family", "14/03/1938"]] * 3 + tail
    assert trailing_summary(rows) == dropped


def test_a_total_line_is_left_out_with_a_note_not_rejected(small_world, tmp_path):
    rows = [patient(n, CHA_PRACTICES[n % 2]) for n in range(1, 4)]
    padded = write_csv(tmp_path / "padded.csv", [*rows, {}, ["TOTAL", "", "", "", "3"] + [""] * (len(HEADER) - 5)])
    checked = check_extract(small_world, "CHA", padded, DAY)
    assert (checked.rows, checked.imported, checked.rejections) == (3, 3, [])
    assert checked.notes == [
        "1 line below the last patient was read as the report's summary, not as patients, and left out "
        "(row 6: 'TOTAL, 3')."
    ]
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(padded.read_text(encoding="utf-8").rsplit("\n", 3)[0] + '\n\n"Total: 1,234"\nEnd of report\n')
    checked = check_extract(small_world, "CHA", ragged, DAY)
    assert (checked.rows, checked.imported, checked.rejections) == (3, 3, [])
    assert "2 lines below the last patient" in checked.notes[0] and "'Total: 1,234'" in checked.notes[0]
    # A short line straight below the patients, with no blank line or summary word, is still a rejected row.
    short = tmp_path / "short.csv"
    short.write_text(padded.read_text(encoding="utf-8").rsplit("\n", 3)[0] + "\n9990000026,Given\n")
    checked = check_extract(small_world, "CHA", short, DAY)
    assert checked.imported == 3 and [(r.row, r.column) for r in checked.rejections] == [(5, "(whole row)")]


# -- workbook cells as text ---------------------------------------------------------------------------------------


def test_workbook_cells_become_the_text_a_csv_would_hold():
    assert column_text(["a", "", "b"]).to_pylist() == ["a", "", "b"]
    assert column_text([9990000018.0, 0.3056, 1500.0, 1839.99, "", "£1,200", 2]).to_pylist() == [
        "9990000018",
        "0.3056",
        "1500",
        "1839.99",
        "",
        "£1,200",
        "2",
    ]
    assert column_text(
        [dt.date(1938, 3, 14), dt.datetime(1940, 2, 29), dt.datetime(1950, 1, 1, 10, 30)]
    ).to_pylist() == [
        "14/03/1938",
        "29/02/1940",
        "1950-01-01 10:30:00",
    ]
    assert column_text([True, False, dt.time(9, 30)]).to_pylist() == ["TRUE", "FALSE", "09:30:00"]
    # Excel day numbers in the date-of-birth column: 1 is 01/01/1900, 61 is 01/03/1900 (60 is Excel's 29/02/1900,
    # which never was), a fraction is a time of day. What is no day is left as the number, for the rules to refuse.
    assert column_text([1, 59, 61, 14318.75, 60, 0, -3, 3e6, "14/03/1938", ""], dates=True).to_pylist() == [
        "01/01/1900",
        "28/02/1900",
        "01/03/1900",
        "14/03/1939",
        "60",
        "0",
        "-3",
        "3000000",
        "14/03/1938",
        "",
    ]
    assert isinstance(column_text([1.5]), pa.Array)


# -- refusals: nothing written ----------------------------------------------------------------------------------


def test_the_wrong_sheet_is_refused_naming_the_sheets_and_nothing_is_written(small_world_path, capsys):
    before = content_digest(small_world_path)
    book = EXTRACTS / "two_sheets.xlsx"
    db = open_workspace(small_world_path)
    try:
        for attempt in (
            lambda: check_extract(db, "CHA", book, DAY, sheet="About"),
            lambda: import_extract(db, ACTOR, "CHA", book, DAY, sheet="About"),
            lambda: preview(book, sheet="About"),
        ):
            with pytest.raises(ValidationError) as refused:
                attempt()
            message = str(refused.value)
            assert message.startswith("The sheet 'About' of two_sheets.xlsx holds no risk extract")
            assert (
                "The workbook's sheets are 'About' and 'Patients'. 'Patients' has a risk extract's headings" in message
            )
        with pytest.raises(
            ValidationError, match="has no sheet called 'Patient'. Its sheets are 'About' and 'Patients'"
        ):
            import_extract(db, ACTOR, "CHA", book, DAY, sheet="Patient")
    finally:
        db.close()
    assert content_digest(small_world_path) == before
    # Without a sheet named, the one holding the extract is read; the command line has no other way.
    code = main(
        [
            "import-risk",
            "--db",
            str(small_world_path),
            "--locality",
            "CHA",
            str(book),
            "--extract-date",
            DAY.isoformat(),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "9 of 10 rows imported, 1 rejected" in out


# file -> words the command line's refusal must hold (lower-cased)
REFUSED = {
    "unknown_layout.csv": [
        "unknown_layout.csv has no column for nhs_number",
        "its first line reads: locality risk stratification",
        "no line among its first 30 names a risk extract's columns, so its layout is unknown",
    ],
    "no_extract_sheet.xlsx": [
        "no sheet of no_extract_sheet.xlsx has a risk extract's column headings",
        "its sheets are 'summary' and 'chart data'",
    ],
    "damaged_workbook.xlsx": ["damaged_workbook.xlsx could not be read as an excel workbook", "save it again"],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_an_unknown_layout_is_refused_with_a_plain_message_exit_1_and_changes_nothing(small_world_path, capsys, name):
    before = snapshot(small_world_path, capsys)
    capsys.readouterr()
    path = CORPUS / "risk" / name
    code = main(
        [
            "import-risk",
            "--db",
            str(small_world_path),
            "--locality",
            "CHA",
            str(path),
            "--extract-date",
            DAY.isoformat(),
        ]
    )
    out = capsys.readouterr()
    assert (code, out.out) == (1, ""), out.err
    assert out.err.startswith("locality-desk: ") and "Traceback" not in out.err and len(out.err) < 700
    for words in REFUSED[name]:
        assert words in out.err.lower(), out.err
    assert snapshot(small_world_path, capsys) == before


def test_the_unknown_layout_refusal_names_what_it_found(small_world):
    with pytest.raises(ValidationError) as refused:
        check_extract(small_world, "CHA", CORPUS / "risk" / "unknown_layout.csv", DAY)
    assert "Map them in the import dialog" not in str(refused.value)  # there is nothing to map
    assert WRONG_CHECK_DIGIT not in str(refused.value)
