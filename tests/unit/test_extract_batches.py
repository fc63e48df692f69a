"""A risk extract read in batches (issue 22 point 5): a file of many blocks is checked exactly as one read whole,
mixed ISO and UK dates in one column, Windows-1252 with semicolons and every field quoted, and no pandas on the
import path."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from corpus_risk import past_64_kb
from extract_helpers import HEADER

from desktop.models.clock import Actor
from desktop.models.cohort import extract_chunks
from desktop.models.cohort import store as risk_store
from desktop.models.cohort.frame import latest_run
from desktop.models.cohort.risk_import import check_extract, import_extract
from desktop.models.identifiers import nhs_check_digit, patient_id, patient_ids

ACTOR = Actor(user="gp.lead", device_id="laptop-1")
DAY = dt.date(2026, 10, 1)
SMALL_BLOCK = 4096  # bytes: a 1,500-row file is ~40 blocks


def _numbers(count: int, start: int = 999_100_000) -> list[str]:
    """*count* valid NHS numbers of the 999 test range."""
    out, stem = [], start
    while len(out) < count:
        stem += 1
        check = nhs_check_digit(str(stem))
        if check is not None:
            out.append(f"{stem}{check}")
    return out


def _row(nhs: str, k: int, practice: str) -> list[str]:
    """A valid row, varied as real extracts are: ISO and UK dates, thousands commas, accented names."""
    year, month, day = 1930 + k % 60, 1 + k % 12, 1 + k % 28
    dob = f"{year}-{month:02d}-{day:02d}" if k % 3 else f"{day:02d}/{month:02d}/{year}"
    cost = f"{1000 + 37 * k:,}.50" if k % 4 == 0 else f"{300 + k}.25"
    return [
        nhs,
        "Zoë" if k % 7 == 0 else f"Given{k}",
        "Ñúñez" if k % 11 == 0 else f"Family{k}",
        dob,
        "MF"[k % 2],
        "LE11 2AB",
        practice,
        str(k % 8),  # 5+ long-term conditions: in the cohort
        f"{(k % 20) / 36:.4f}",  # 9+ deficits: in the cohort
        "0.21",
        cost,
        "1,200.00" if k % 5 == 0 else "900",
        "",
        "N",
        "Y" if k % 13 == 0 else "N",
    ]


def _cells(cells: list[str], delimiter: str, quote_all: bool) -> str:
    out = []
    for c in cells:
        needs = quote_all or delimiter in c or '"' in c
        out.append('"' + c.replace('"', '""') + '"' if needs else c)
    return delimiter.join(out)


def _extract(path: Path, practices: list[str], delimiter=",", encoding="utf-8", quote_all=False) -> dict:
    """A 1,500-row extract with a title above the headings, blank and ragged rows, duplicates far apart,
    impossible dates and a summary below the patients. Returns what a reader should find, by spreadsheet row."""
    numbers = _numbers(1500)
    lines = ["Risk stratification report", "Produced 01/10/2026", _cells(HEADER, delimiter, quote_all)]
    expect = {"ragged": [], "blank": [], "duplicate": {}, "impossible": []}
    first_row = {}
    for k, nhs in enumerate(numbers):
        if k % 250 == 17:
            lines.append(delimiter * (len(HEADER) - 1))  # a blank row: skipped, not counted
            expect["blank"].append(len(lines))
        if k % 300 == 29:
            lines.append(_cells(["Zoë", "ragged", "row"], delimiter, quote_all))  # too few fields
            expect["ragged"].append(len(lines))
        row = _row(nhs, k, practices[k % len(practices)])
        if k % 200 == 150 and k > 700:  # the same patient as a row 550 rows (many blocks) earlier
            row[0] = numbers[k - 550]
            expect["duplicate"][len(lines) + 1] = first_row[numbers[k - 550]]
        if k % 400 == 123:
            row[3] = "31/02/1950" if k % 800 == 123 else "1950-02-30"
            expect["impossible"].append(len(lines) + 1)
        lines.append(_cells(row, delimiter, quote_all))
        first_row.setdefault(row[0], len(lines))
    lines.append(_cells(["Total: 1,500", "", ""], delimiter, quote_all))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return expect


def _summary(checked) -> dict:
    return {
        "rows": checked.rows,
        "rejections": [(r.row, r.column, r.reason) for r in checked.rejections],
        "values": {k: v.tolist() for k, v in checked.values.items()},
        "text": {k: checked.text(k).tolist() for k in ("given_name", "family_name", "postcode", "practice_code")},
        "notes": checked.notes,
    }


def test_a_file_of_many_blocks_is_checked_exactly_as_one_read_whole(small_world, cha, tmp_path, monkeypatch):
    _, mine, _ = cha
    path = tmp_path / "many.csv"
    expect = _extract(path, mine)
    assert path.stat().st_size > 20 * SMALL_BLOCK
    whole = _summary(check_extract(small_world, "CHA", path, DAY))
    monkeypatch.setattr(extract_chunks, "BLOCK_BYTES", SMALL_BLOCK)
    batched = _summary(check_extract(small_world, "CHA", path, DAY))
    assert batched == whole

    rejected = {row: (column, reason) for row, column, reason in batched["rejections"]}
    for row in expect["ragged"]:
        assert rejected[row] == ("(whole row)", "This row has 3 fields; the heading row has 15.")
    for row, first in expect["duplicate"].items():
        column, reason = rejected[row]
        assert column == "nhs_number" and reason.endswith(f"a duplicate of row {first}."), (row, reason)
    for row in expect["impossible"]:
        assert rejected[row][0] == "date_of_birth" and "not a real calendar date" in rejected[row][1]
    assert not set(expect["blank"]) & set(rejected)
    assert len(rejected) == len(expect["ragged"]) + len(expect["duplicate"]) + len(expect["impossible"])
    # Blank rows are not counted; ragged ones are.
    assert batched["rows"] == 1500 + len(expect["ragged"])
    assert any("summary" in note for note in batched["notes"])
    assert any("title" in note for note in batched["notes"])


def test_a_duplicate_of_a_row_rejected_for_another_reason_is_still_a_duplicate(small_world, cha, tmp_path, monkeypatch):
    _, mine, other = cha
    numbers = _numbers(400)
    rows = [_row(n, k, mine[0]) for k, n in enumerate(numbers)]
    rows[3][6] = other  # rejected: another locality's practice
    rows[390][0] = numbers[3]  # the same patient, far below: a duplicate of row 5 all the same
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(_cells(r, ",", False) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    monkeypatch.setattr(extract_chunks, "BLOCK_BYTES", 2048)
    checked = check_extract(small_world, "CHA", path, DAY)
    got = [(r.row, r.column) for r in checked.rejections]
    assert got == [(5, "practice_code"), (392, "nhs_number")]
    assert checked.rejections[1].reason.endswith("a duplicate of row 5.")
    assert checked.imported == 398


def test_iso_and_uk_dates_in_one_column_are_each_read_and_impossible_ones_refused(small_world, cha, tmp_path):
    _, mine, _ = cha
    dates = {
        "14/03/1938": "1938-03-14",
        "1938-03-14": "1938-03-14",
        "29/02/2000": "2000-02-29",
        "2000-02-29": "2000-02-29",
        "01/12/1950": "1950-12-01",  # day first: 1 December, never 12 January
        "1950-12-01": "1950-12-01",
        "1950-1-5": "1950-01-05",  # not ten bytes: read by the patterns
        "5/1/1950": "1950-01-05",
        "1950-01-05 00:00:00": "1950-01-05",
        "14-Mar-1938": "1938-03-14",
    }
    impossible = ["31/02/1950", "1950-02-31", "29/02/1900", "1900-02-29", "2023-13-01", "13/13/1950", "00/01/1950"]
    numbers = _numbers(len(dates) + len(impossible) + 1)
    rows = []
    for k, text in enumerate([*dates, *impossible, "1950/13/45x"]):
        row = _row(numbers[k], 0, mine[0])
        row[3] = text
        rows.append(row)
    path = tmp_path / "dates.csv"
    path.write_text("\n".join(_cells(r, ",", False) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    checked = check_extract(small_world, "CHA", path, DAY)
    assert checked.values["date_of_birth"].tolist() == [dt.date.fromisoformat(d) for d in dates.values()]
    reasons = {r.row: r.reason for r in checked.rejections}
    first_bad = len(dates) + 2
    for k, text in enumerate(impossible):
        assert reasons[first_bad + k] == f"{text} is not a real calendar date."
    assert reasons[first_bad + len(impossible)] == "'1950/13/45x' is not a date; use dd/mm/yyyy or yyyy-mm-dd."
    assert all(r.column == "date_of_birth" for r in checked.rejections)


def _cohort_rows(path: Path) -> dict:
    from desktop.models.db import open_workspace

    db = open_workspace(path)
    try:
        loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
        table = risk_store.run_cohort(db, latest_run(db, loc)["id"])
        return {name: table[name].to_pylist() for name in table.column_names}
    finally:
        db.close()


def test_a_windows_1252_semicolon_quoted_extract_imports_the_cohort_of_its_utf8_comma_twin(
    small_world_path, cha, tmp_path, monkeypatch
):
    _, mine, _ = cha
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    _extract(plain, mine)
    _extract(excel, mine, delimiter=";", encoding="cp1252", quote_all=True)
    assert "Zoë".encode("cp1252") in excel.read_bytes() and "Zoë".encode() not in excel.read_bytes()
    other = tmp_path / "other.sqlite"
    other.write_bytes(small_world_path.read_bytes())
    monkeypatch.setattr(extract_chunks, "BLOCK_BYTES", SMALL_BLOCK)
    results = []
    for world, path in ((small_world_path, plain), (other, excel)):
        from desktop.models.db import open_workspace

        db = open_workspace(world)
        try:
            results.append(import_extract(db, ACTOR, "CHA", path, DAY))
        finally:
            db.close()
    assert results[0].as_json() == results[1].as_json()
    assert results[0].cohort["total"] > 500
    plain_cohort, excel_cohort = _cohort_rows(small_world_path), _cohort_rows(other)
    assert plain_cohort == excel_cohort
    assert "Zoë" in plain_cohort["given_name"] and "Ñúñez" in plain_cohort["family_name"]


def test_a_ragged_windows_1252_row_is_named_by_its_row_and_nothing_is_printed(small_world, cha, tmp_path, capfd):
    _, mine, _ = cha
    numbers = _numbers(3)
    text = "\r\n".join(
        [
            ";".join(HEADER),
            ";".join(_row(numbers[0], 7, mine[0])),
            "Zoë;Ñúñez;a row too short",
            ";".join(_row(numbers[1], 11, mine[0])),
            ";".join(_row(numbers[2], 14, mine[0])),
        ]
    )
    path = tmp_path / "ragged.csv"
    path.write_bytes(text.encode("cp1252"))
    checked = check_extract(small_world, "CHA", path, DAY)
    assert [(r.row, r.column) for r in checked.rejections] == [(3, "(whole row)")]
    assert sorted(checked.text("given_name").tolist()) == ["Given11", "Zoë", "Zoë"]
    assert sorted(checked.text("family_name").tolist()) == ["Family14", "Family7", "Ñúñez"]
    assert capfd.readouterr().err == ""


def test_a_stray_byte_in_a_later_block_rereads_the_file_and_costs_only_its_row(small_world, tmp_path, monkeypatch):
    path = tmp_path / "stray.csv"
    path.write_bytes(past_64_kb())
    whole = _summary(check_extract(small_world, "CHA", path, DAY))
    monkeypatch.setattr(extract_chunks, "BLOCK_BYTES", SMALL_BLOCK)  # the stray byte is ~17 blocks in
    assert _summary(check_extract(small_world, "CHA", path, DAY)) == whole
    assert [r.column for r in check_extract(small_world, "CHA", path, DAY).rejections] == [
        "given_name",
        "family_name",
        "given_name",
    ]


def test_patient_ids_in_bulk_are_patient_id_one_by_one():
    numbers = [9_000_000_009, 943_476_5919, 123_456_789, 1, *range(9_990_000_000, 9_990_000_500)]
    assert patient_ids(numbers) == [patient_id(n) for n in numbers]
    assert patient_ids(np.array(numbers[:10], dtype=np.int64)) == [patient_id(n) for n in numbers[:10]]
    assert patient_ids([]) == []


@pytest.mark.parametrize("first", ["", "import pandas; "])
def test_the_import_path_does_not_import_pandas_and_pandas_still_imports(first, tmp_path):
    """sqlite-utils and pyarrow each import pandas (~0.2-0.45 s, ~30 MB) unless kept from it; an import
    statement still gets it, and pandas then works with pyarrow as ever."""
    csv = tmp_path / "x.csv"
    rows = [HEADER, _row(_numbers(1)[0], 4, "C82001")]
    csv.write_text("\n".join(_cells(r, ",", False) for r in rows) + "\n", encoding="utf-8")
    code = (
        f"{first}import sys; import desktop.models.cohort.risk_import, desktop.models.db, desktop.cli\n"
        "from desktop.models.cohort.extract_reader import read_extract\n"
        "from desktop.models.cohort.extract_rules import _number, parse_dates\n"
        f"batch = next(read_extract({str(csv)!r}).batches())\n"
        "_number(batch.columns['predicted_cost']); parse_dates(batch.columns['date_of_birth'])\n"
        "loaded = 'pandas' in sys.modules\n"
        "import pyarrow as pa, sqlite_utils.db, importlib; import pandas as pd\n"
        "assert importlib.import_module('pandas') is pd\n"
        f"frame = pd.read_csv({str(csv)!r}, engine='pyarrow')\n"
        "print(loaded, sqlite_utils.db.pd is None, frame.shape, pa.array(pd.Series([1.5, None])).to_pylist())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    out = done.stdout.split()
    if first:  # pandas loaded first: sqlite-utils is left to take it as it always did
        assert out == ["True", "False", "(1,", "15)", "[1.5,", "None]"]
    else:
        assert out == ["False", "True", "(1,", "15)", "[1.5,", "None]"]
