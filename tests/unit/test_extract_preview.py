"""The import dialog's preview: the first rows of an extract, read the way the import reads them."""

from __future__ import annotations

import pytest
from extract_helpers import HEADER, patient, synthetic_nhs, write_csv

from desktop.models.cohort.extract_preview import preview
from desktop.models.cohort.extract_reader import read_headings
from desktop.models.errors import ValidationError


def test_headings_and_first_rows_as_text(tmp_path):
    path = write_csv(tmp_path / "x.csv", [patient(n, "Z82001") for n in range(30)])
    shown = preview(path)
    assert shown.headings == HEADER == read_headings(path)[0]
    assert len(shown.rows) == 20
    assert shown.rows[0][0] == synthetic_nhs(0)
    assert shown.rows[19][HEADER.index("family_name")] == "Family19"
    assert shown.file_size == path.stat().st_size
    assert len(preview(path, limit=5).rows) == 5


def test_semicolons_windows_1252_and_a_bom_are_read(tmp_path):
    rows = [patient(1, "Z82001", family_name="Müller")]
    semi = preview(write_csv(tmp_path / "semi.csv", rows, delimiter=";", encoding="cp1252"))
    assert (semi.delimiter, semi.encoding) == (";", "cp1252")
    assert semi.rows[0][HEADER.index("family_name")] == "Müller"
    bom = preview(write_csv(tmp_path / "bom.csv", rows, bom=True))
    assert bom.headings[0] == "nhs_number"


def test_blank_rows_are_skipped_and_ragged_rows_padded_or_cut(tmp_path):
    path = write_csv(tmp_path / "x.csv", [[""] * len(HEADER), ["9990000018", "Ann"], ["1"] * (len(HEADER) + 3)])
    shown = preview(path)
    assert len(shown.rows) == 2
    assert shown.rows[0][:3] == ["9990000018", "Ann", ""]
    assert all(len(r) == len(HEADER) for r in shown.rows)


def test_a_large_file_previews_only_whole_rows_from_its_start(tmp_path):
    path = write_csv(tmp_path / "big.csv", [patient(n % 50, "Z82001", given_name="G" * 40) for n in range(3000)])
    assert path.stat().st_size > 256 * 1024
    shown = preview(path, limit=10_000)
    assert 0 < len(shown.rows) < 3000
    assert all(r[-1] == "N" for r in shown.rows)  # the last (cut) line of the sample is not shown


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 zipped", b"\r\n  \r\n"])
def test_what_is_not_a_csv_is_refused_with_the_import_message(tmp_path, content):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match="x.csv"):
        preview(path)
