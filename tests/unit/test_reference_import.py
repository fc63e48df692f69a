"""ODS reference import (issue 21): the real December 2019 files, the preview, idempotence and refusals."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.models import reference
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
    # The demo's invented reference set, so the import meets practices of the team's that are not in the file.
    db = create_workspace(tmp_path / "llr.sqlite", "locality", reference="demo")
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
    # Where the project's shared/ folder is beside the checkout, the committed copies are exactly its files.
    original = Path(__file__).resolve().parents[3] / "shared" / "reference"
    for copy in (EPRACCUR, EPCN):
        assert not (original / copy.name).exists() or (original / copy.name).read_bytes() == copy.read_bytes()
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


# --- Closed practices and the CQC care directory --------------------------------------------------------------

CQC_CSV = SHARED / "cqc-care-directory-sample.csv"  # invented homes in CQC's published layout
CQC_XLSX = SHARED / "cqc-care-directory-sample.xlsx"
LLR_HOMES = {"1-900000001", "1-900000002", "1-900000003", "1-900000004"}


def _homes_digest(db) -> str:
    h = hashlib.sha256()
    for table in ("care_homes", "meta", "audit"):
        for row in db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall():
            h.update(repr(row).encode())
    return h.hexdigest()


def _homes(db) -> dict[str, dict]:
    return {r["cqc_id"]: r for r in db.query("SELECT * FROM care_homes WHERE cqc_id LIKE '1-9000000%'")}


def test_practice_closed_in_the_file_is_marked_closed_never_deleted(workspace, tmp_path):
    import_files(workspace, ACTOR, [_epraccur(tmp_path / "a.csv", [_row("C82001", "ONE"), _row("C82002", "TWO")])])
    closed = _row("C82002", "TWO", status="C")
    closed[11] = "20261031"
    later = import_files(workspace, ACTOR, [_epraccur(tmp_path / "b.csv", [_row("C82001", "ONE"), closed])])
    assert [(p["code"], p["closed_on"]) for p in later.to_close] == [("C82002", "2026-10-31")]
    row = next(workspace.query("SELECT status, closed_on FROM practices WHERE ods_code = 'C82002'"))
    assert row == {"status": "closed", "closed_on": "2026-10-31"}
    listed = {r["ods_code"]: r["status"] for r in reference.list_rows(workspace, "practices")}
    assert listed["C82002"] == "closed 2026-10-31" and listed["C82001"] == "active"
    # The same file again: still listed as closed in the preview, nothing written.
    before = _digest(workspace)
    again = import_files(workspace, ACTOR, [tmp_path / "b.csv"])
    assert not again.to_close and not again.writes and [r["code"] for r in again.closed] == ["C82002"]
    assert _digest(workspace) == before


def test_upgraded_workspace_has_every_practice_active_and_every_home_registered(tmp_path):
    path = tmp_path / "w.sqlite"
    shutil.copy(Path(__file__).resolve().parents[1] / "data" / "workspace-schema10.sqlite", path)
    db = open_workspace(path)
    assert {r[0] for r in db.execute("SELECT DISTINCT status FROM practices")} == {"active"}
    assert {r[0] for r in db.execute("SELECT DISTINCT status FROM care_homes")} == {"registered"}
    db.close()


@pytest.mark.parametrize("sample", [CQC_CSV, CQC_XLSX], ids=["csv", "xlsx"])
def test_cqc_directory_gives_the_care_homes_in_the_covered_area_and_a_reimport_changes_nothing(workspace, sample):
    first = import_files(workspace, ACTOR, [sample])
    assert first.local_authorities == ("Leicester", "Leicestershire", "Rutland")
    assert first.homes_in_area == 4 and {h["cqc_id"] for h in first.new_homes} == LLR_HOMES
    homes = _homes(workspace)
    assert set(homes) == LLR_HOMES  # not the domiciliary service, not the Nottingham home
    bramble, heron, oakley, willow = (homes[f"1-90000000{n}"] for n in range(1, 5))
    assert (bramble["home_type"], bramble["beds"], bramble["dementia"], bramble["older_people"]) == (
        "nursing",
        42,
        1,
        1,
    )
    assert (bramble["cqc_rating"], bramble["provider"], bramble["local_authority"]) == (
        "Good",
        "Bramble Care Ltd",
        "Leicester",
    )
    assert heron["address"] == "3 Mill Road, Quorn, Loughborough" and heron["postcode"] == "LE12 9ZZ"
    assert (heron["home_type"], oakley["home_type"], willow["home_type"]) == (
        "residential",
        "both",
        "learning disability",
    )
    assert all(h["status"] == "registered" for h in homes.values())
    assert workspace.execute("SELECT value FROM meta WHERE key = 'cqc_local_authorities'").fetchone()[0] == (
        "Leicester,Leicestershire,Rutland"
    )
    before = _homes_digest(workspace)
    again = import_files(workspace, ACTOR, [sample])
    assert not again.writes
    assert _homes_digest(workspace) == before


def test_cqc_csv_and_xlsx_give_the_same_homes(tmp_path):
    results = []
    for sample in (CQC_CSV, CQC_XLSX):
        db = create_workspace(tmp_path / f"{sample.suffix[1:]}.sqlite", "locality")
        import_files(db, ACTOR, [sample])
        results.append(
            {
                k: {c: v for c, v in r.items() if c not in ("id", "created_at", "updated_at")}
                for k, r in _homes(db).items()
            }
        )
        db.close()
    assert results[0] == results[1]


def _resident(db, home_id: str) -> None:
    stamp = ACTOR.stamp()
    db["residents"].insert(
        {
            "id": "r-1",
            "care_home_id": home_id,
            "nhs_number": "9434765919",
            "admitted_on": "2026-01-05",
            "created_at": stamp["updated_at"],
            **stamp,
        }
    )


def test_renamed_and_deregistered_homes_are_previewed_kept_and_flagged(workspace, tmp_path):
    import_files(workspace, ACTOR, [CQC_CSV])
    homes = _homes(workspace)
    _resident(workspace, homes["1-900000002"]["id"])
    lines = CQC_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = [
        line.replace("Bramble Court Care Home", "Bramble Court") for line in lines if not line.startswith("1-900000002")
    ]
    later_file = tmp_path / "cqc-later.csv"
    later_file.write_text("".join(edited), encoding="utf-8")
    preview = import_files(workspace, ACTOR, [later_file], dry_run=True)
    assert [(h["cqc_id"], h["changes"]["name"]) for h in preview.renamed_homes] == [
        ("1-900000001", ["Bramble Court Care Home", "Bramble Court"])
    ]
    gone = {h["cqc_id"]: h for h in preview.deregistered_homes}
    assert gone["1-900000002"]["residents"] == 1
    assert [h["cqc_id"] for h in preview.homes_with_residents] == ["1-900000002"]
    assert _homes(workspace)["1-900000002"]["status"] == "registered"  # the dry run wrote nothing
    import_files(workspace, ACTOR, [later_file])
    homes = _homes(workspace)
    assert homes["1-900000001"]["name"] == "Bramble Court"
    assert (homes["1-900000002"]["status"], homes["1-900000002"]["deregistered_on"]) == ("deregistered", "2026-11-20")
    listed = {r["cqc_id"]: r["status"] for r in reference.list_rows(workspace, "care_homes")}
    assert listed["1-900000002"] == "deregistered 2026-11-20"
    # Back on the register: registered again.
    back = import_files(workspace, ACTOR, [CQC_CSV])
    assert [h["cqc_id"] for h in back.changed_homes if "status" in h["changes"]] == ["1-900000002"]
    assert _homes(workspace)["1-900000002"]["status"] == "registered"


def test_a_directory_filtered_to_one_authority_deregisters_nobody_elsewhere(workspace, tmp_path):
    import_files(workspace, ACTOR, [CQC_CSV])
    lines = CQC_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    only_city = tmp_path / "city.csv"
    only_city.write_text("".join(line for line in lines if "Leicestershire,East" not in line), encoding="utf-8")
    planned = import_files(workspace, ACTOR, [only_city], dry_run=True)
    assert not planned.deregistered_homes


def test_cqc_directory_with_no_homes_in_the_area_is_refused_with_nothing_written(workspace, tmp_path):
    lines = CQC_CSV.read_text(encoding="utf-8").splitlines(keepends=True)
    far = tmp_path / "far.csv"
    far.write_text("".join(lines[:5] + [line for line in lines[5:] if "Nottingham" in line]), encoding="utf-8")
    before = _homes_digest(workspace)
    with pytest.raises(ValidationError, match="holds no care home in the local authorities"):
        import_files(workspace, ACTOR, [far])
    assert _homes_digest(workspace) == before


def test_cqc_directory_missing_a_column_is_refused(workspace, tmp_path):
    text = CQC_CSV.read_text(encoding="utf-8").replace("Care homes beds", "Beds")
    bad = tmp_path / "cqc.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match="has no column 'Care homes beds'"):
        import_files(workspace, ACTOR, [bad])


def test_workbook_that_is_neither_epcn_nor_cqc_is_refused(workspace, tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "other.xlsx"
    Workbook().save(path)
    with pytest.raises(ValidationError, match="CQC's 'Location ID' and 'Care home\\?' columns"):
        import_files(workspace, ACTOR, [path])


def test_cli_imports_the_cqc_directory_with_the_ods_files(tmp_path, capsys):
    db_path = tmp_path / "w.sqlite"
    create_workspace(db_path, "locality").close()
    prac = _epraccur(tmp_path / "epraccur.csv", [_row("C82001", "REAL SURGERY")])
    assert main(["reference", "import", "--db", str(db_path), str(prac), str(CQC_XLSX)]) == 0
    out = capsys.readouterr().out
    assert "4 care homes in Leicester, Leicestershire, Rutland" in out and "new care homes: 4" in out
    db = open_workspace(db_path, create=False)
    assert set(_homes(db)) == LLR_HOMES
    assert db.execute("SELECT COUNT(*) FROM practices WHERE ods_code = 'C82001'").fetchone()[0] == 1
    db.close()
