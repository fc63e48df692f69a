"""ODS reference import (issue 21): the real December 2019 files, the preview, idempotence and refusals."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.reference_import import import_files
from desktop.models.workspace import create_workspace

# Byte-for-byte copies of the project's shared/reference files (NHS ODS, December 2019, Open Government Licence),
# committed so CI's clean clone reads the real files too.
SHARED = Path(__file__).resolve().parents[1] / "data" / "reference"
EPRACCUR = SHARED / "epraccur-2019-12.csv"
EPCN = SHARED / "ePCN-2019-12.xlsx"
ACTOR = Actor("Test User", "test-device")


def _digest(db) -> str:
    h = hashlib.sha256()
    for table in ("practices", "pcns", "meta", "audit"):
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall():
            h.update(repr(row).encode())
    return h.hexdigest()


@pytest.fixture
def workspace(tmp_path):
    db = create_workspace(tmp_path / "llr.sqlite", "locality")
    yield db
    db.close()


def _row(code, name, status="A", setting="4", ccg="04C", postcode="LE1 1AA"):
    row = [""] * 27
    row[0], row[1], row[9], row[10], row[12], row[14], row[25] = code, name, postcode, "19740401", status, ccg, setting
    return row


def _epraccur(path: Path, rows) -> Path:
    with path.open("w", newline="") as f:
        csv.writer(f, quoting=csv.QUOTE_ALL).writerows(rows)
    return path


def _epcn(path: Path, pcns, members) -> Path:
    """An ePCN workbook in the published layout, the partner sheet's PCN name a VLOOKUP with no cached value."""
    from openpyxl import Workbook

    book = Workbook()
    details = book.active
    details.title = "PCN Details"
    details.append(["PCN Code", "PCN Name", "Current Clinical Commissioning Group Code", "Open Date (YYYYMMDD)"])
    for code, name, ccg in pcns:
        details.append([code, name, ccg, 20191001])
    partners = book.create_sheet("PCN Core Partner Details")
    partners.append(
        ["Partner Organisation Code", "Partner Name", "Practice Parent CCG Code", "Practice Parent CCG Name",
         "PCN Code", "PCN Name", "PCN Parent CCG Code", "PCN Parent CCG Name",
         "Practice to PCN Relationship Start Date", "Practice to PCN Relationship End Date"]
    )  # fmt: skip
    for n, (practice, pcn) in enumerate(members, start=2):
        partners.append(
            [practice, "", "04C", "", pcn, f"=VLOOKUP(E{n},'PCN Details'!A:B,2,FALSE)", "04C", "", 20191001, None]
        )
    book.save(path)
    return path


def test_real_ods_files_give_134_practices_in_25_pcns_and_a_reimport_changes_nothing(workspace):
    first = import_files(workspace, ACTOR, [EPRACCUR, EPCN])
    assert (first.practices_in_area, first.pcns_in_area) == (134, 25)
    assert len(first.new_practices) == 134 and len(first.new_pcns) == 25
    expected = {}
    with EPRACCUR.open(newline="") as f:
        for r in csv.reader(f):
            if r[14] in ("03W", "04C", "04V") and r[12] == "A" and r[25] == "4":
                expected[r[0]] = r[1]
    held = {r["ods_code"]: r["name"] for r in workspace.query("SELECT ods_code, name FROM practices")}
    assert {code: held[code] for code in expected} == expected
    real_pcns = workspace.execute(
        "SELECT COUNT(DISTINCT n.code) FROM practices p JOIN pcns n ON n.id = p.pcn_id "
        f"WHERE p.ods_code IN ({','.join('?' * len(expected))})",
        list(expected),
    ).fetchone()[0]
    assert real_pcns == 25
    # The PCN names are the real ones from the "PCN Details" sheet, not formula text.
    names = [r[0] for r in workspace.execute("SELECT name FROM pcns")]
    assert not any(n.startswith("=") for n in names)
    # The invented practices the demo reference set holds are kept and listed.
    assert first.not_in_file and all(r["code"].startswith("Z") for r in first.not_in_file)

    before = _digest(workspace)
    again = import_files(workspace, ACTOR, [EPRACCUR, EPCN])
    assert not again.writes
    assert _digest(workspace) == before


def test_pcn_name_formula_is_resolved_from_the_details_sheet(workspace, tmp_path):
    prac = _epraccur(tmp_path / "epraccur.csv", [_row("C82001", "REAL SURGERY"), _row("C82002", "OTHER SURGERY")])
    pcn = _epcn(tmp_path / "ePCN.xlsx", [("U11111", "CITY HEART PCN", "04C")], [("C82001", "U11111")])
    planned = import_files(workspace, ACTOR, [prac, pcn])
    assert [p["name"] for p in planned.new_pcns] == ["CITY HEART PCN"]
    row = next(workspace.query("SELECT p.name, n.name AS pcn FROM practices p JOIN pcns n ON n.id = p.pcn_id"
                               " WHERE p.ods_code = 'C82001'"))  # fmt: skip
    assert row == {"name": "REAL SURGERY", "pcn": "CITY HEART PCN"}


def test_preview_shows_renamed_moved_and_closed_and_keeps_locality(workspace, tmp_path):
    pcns = [("U11111", "ONE PCN", "04C"), ("U22222", "TWO PCN", "04C")]
    import_files(
        workspace,
        ACTOR,
        [
            _epraccur(tmp_path / "a.csv", [_row("C82001", "FIRST"), _row("C82002", "SECOND")]),
            _epcn(tmp_path / "a.xlsx", pcns, [("C82001", "U11111"), ("C82002", "U11111")]),
        ],
        pcn_localities={"U11111": "CTN", "U22222": "CTS"},
    )
    locality = workspace.execute("SELECT locality_id FROM practices WHERE ods_code = 'C82001'").fetchone()[0]
    later = import_files(
        workspace,
        ACTOR,
        [
            _epraccur(tmp_path / "b.csv", [_row("C82001", "FIRST RENAMED"), _row("C82002", "SECOND", status="C")]),
            _epcn(tmp_path / "b.xlsx", pcns + [("U33333", "X", "04C")], [("C82001", "U22222")]),
        ],
        pcn_localities={"U22222": "CTS"},
        dry_run=True,
    )
    assert [r["code"] for r in later.renamed] == ["C82001"]
    assert [(r["before"], r["after"], r["other_locality"]) for r in later.moved] == [("U11111", "U22222", True)]
    assert [(r["code"], r["why"]) for r in later.closed] == [("C82002", "closed in the file")]
    before = _digest(workspace)
    assert _digest(workspace) == before  # the dry run wrote nothing
    import_files(
        workspace,
        ACTOR,
        [tmp_path / "b.csv", tmp_path / "b.xlsx"],
        pcn_localities={"U22222": "CTS"},
    )
    row = next(workspace.query("SELECT name, locality_id FROM practices WHERE ods_code = 'C82001'"))
    assert row == {"name": "FIRST RENAMED", "locality_id": locality}  # the team's locality is kept
    assert workspace.execute("SELECT COUNT(*) FROM practices WHERE ods_code = 'C82002'").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Organisation Code,Name\nC82001,SURGERY\n", "not in a layout Locality Desk knows"),
        (b"", "not in a layout Locality Desk knows"),
        (b"PK\x03\x04 not really a workbook", "not in a layout Locality Desk knows"),
    ],
)
def test_unknown_layout_is_refused_with_nothing_written(tmp_path, content, message, capsys):
    db_path = tmp_path / "w.sqlite"
    create_workspace(db_path, "locality").close()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    db = open_workspace(db_path, create=False)
    before = _digest(db)
    db.close()
    assert main(["reference", "import", "--db", str(db_path), str(bad)]) == 1
    assert message in capsys.readouterr().err
    db = open_workspace(db_path, create=False)
    assert _digest(db) == before
    db.close()


def test_no_practices_in_the_covered_area_is_refused_with_nothing_written(workspace, tmp_path):
    prac = _epraccur(tmp_path / "epraccur.csv", [_row("A81001", "FAR AWAY", ccg="00K")])
    before = _digest(workspace)
    with pytest.raises(ValidationError, match="holds no active GP practice in the area"):
        import_files(workspace, ACTOR, [prac])
    assert _digest(workspace) == before


def test_workbook_without_the_pcn_sheets_is_refused(workspace, tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "other.xlsx"
    Workbook().save(path)
    prac = _epraccur(tmp_path / "epraccur.csv", [_row("C82001", "REAL SURGERY")])
    with pytest.raises(ValidationError, match="has no sheet 'PCN Details'"):
        import_files(workspace, ACTOR, [prac, path])
