"""Saving an extract's rejected rows (issue 22): patient-identifiable, so marked OFFICIAL-SENSITIVE in its name and
first line, audited, formula-safe, and never written onto the workspace."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from extract_helpers import patient, write_csv

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.cohort import rejections_export
from desktop.models.cohort.extract_rules import Rejection
from desktop.models.cohort.risk_import import check_extract
from desktop.models.outputs import OutputRefused

ACTOR = Actor(user="analyst.b", device_id="laptop-3")


@pytest.fixture
def rejected(small_world, cha, tmp_path):
    """The rejections of a Charnwood extract: a date of birth that is no date, and a sex that is a formula."""
    code, mine, _ = cha
    rows = [
        patient(1, mine[0]),
        patient(2, mine[0], date_of_birth="31/02/1950"),
        patient(3, mine[1], sex='=HYPERLINK("http://x","y")'),
    ]
    checked = check_extract(small_world, code, write_csv(tmp_path / "cha-q3.csv", rows), dt.date(2026, 10, 1))
    assert len(checked.rejections) == 2
    return checked.rejections


def read(path):
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def test_the_file_is_marked_in_its_name_and_first_line(small_world, rejected, tmp_path):
    name = rejections_export.suggested_name(tmp_path / "cha-q3.csv")
    assert name == "cha-q3-rejections.OFFICIAL-SENSITIVE.csv"
    out = tmp_path / name
    written = rejections_export.write_rejections(small_world, ACTOR, rejected, out, "Charnwood", "cha-q3.csv")
    assert written == 2
    lines = read(out)
    assert lines[0][0].startswith("OFFICIAL-SENSITIVE") and "cha-q3.csv" in lines[0][0]
    assert lines[1] == ["row", "column", "reason"]
    assert [(r[0], r[1]) for r in lines[2:]] == [("3", "date_of_birth"), ("4", "sex")]


def test_the_save_is_audited_with_the_file_rows_and_locality(small_world, rejected, tmp_path):
    out = tmp_path / "rejected.csv"
    rejections_export.write_rejections(small_world, ACTOR, rejected, out, "Charnwood", "cha-q3.csv")
    [entry] = audit.entries(small_world, "rejections")
    assert entry["action"] == "export" and entry["user"] == "analyst.b"
    assert "2 rejected rows" in entry["summary"] and "Charnwood" in entry["summary"] and out.name in entry["summary"]
    assert f'"file": "{out}"' in entry["detail"] and '"rows": 2' in entry["detail"]


def test_a_cell_starting_with_equals_is_written_as_text(small_world, tmp_path):
    nasty = [Rejection(5, "=cmd|' /C calc'!A0", "=1+1 is not a recognised sex."), Rejection(6, "sex", "@SUM(A1)")]
    out = tmp_path / "r.csv"
    rejections_export.write_rejections(small_world, ACTOR, nasty, out, "Charnwood")
    cells = [cell for row in read(out)[2:] for cell in row]
    assert cells == ["5", "'=cmd|' /C calc'!A0", "'=1+1 is not a recognised sex.", "6", "sex", "'@SUM(A1)"]


def test_onto_the_workspace_is_refused_and_nothing_is_audited(small_world, small_world_path, rejected, tmp_path):
    link = tmp_path / "rejections.csv"
    link.symlink_to(small_world_path)
    size = small_world_path.stat().st_size
    with pytest.raises(OutputRefused):
        rejections_export.write_rejections(small_world, ACTOR, rejected, link, "Charnwood")
    assert small_world_path.stat().st_size == size
    assert audit.entries(small_world, "rejections") == []


def test_a_failed_write_leaves_no_file_and_no_audit_entry(small_world, rejected, tmp_path, monkeypatch):
    out = tmp_path / "r.csv"

    def refused(*_a, **_k):
        raise RuntimeError("the audit trail refused the entry")

    monkeypatch.setattr(audit, "record", refused)
    with pytest.raises(RuntimeError):
        rejections_export.write_rejections(small_world, ACTOR, rejected, out, "Charnwood")
    assert not out.exists() and list(tmp_path.glob(".r.csv*")) == []
