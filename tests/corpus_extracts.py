"""Extracts as practice systems and risk tools save them (issue 21, point 2), each with a plain-CSV twin:
`examples()` makes tests/data/extracts/, `files()` the refused ones under tests/data/bad/risk/.

Run `python tests/corpus_extracts.py` from the repository root to rewrite both. Every example holds the same
ten invented Charnwood patients (NHS numbers from the 999 test range, one with a wrong check digit), laid out
the way each tool writes its report, so that each imports with the same result as its twin:

- EMIS Web: a search report saved as CSV, with its title lines (report name, run date, population count)
  above the headings, NHS numbers spaced 3-3-4, dates as 14-Mar-1938, the practice's name under
  "Organisation" beside its code under "Practice Code", and a "Total" line below the patients; the same
  report as an .xlsx workbook (typed cells: real dates, numbers) and as an .xls (BIFF8) workbook;
- SystmOne: a report saved as CSV in Windows-1252, its header block above the headings, dates as 14 Mar 1938;
- ACG: the tool's patient-level output (no title), its own column names, the eFI as a deficit count, and ACG
  columns that are not imported (ACG code, resource utilisation band, frailty flag ...);
- a two-sheet workbook whose first sheet is notes and whose second holds the patients, its dates of birth
  Excel day numbers (a column formatted as General) and its NHS numbers numbers.

The layouts follow the systems' saved reports as the issue describes them; no real export was to hand, so
they are written from those descriptions, not copied from one. The .xls is written with xlwt (a writer of
the old format that is not a dependency of the app): without it, `examples()` leaves the .xls out and the
committed copy is still read by the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_helpers import CHA_PRACTICES, CORPUS
from extract_helpers import HEADER, patient

EXTRACTS = Path(__file__).resolve().parent / "data" / "extracts"
RUN = dt.datetime(2026, 11, 20, 8, 45)
# Names of the two Charnwood practices (invented, as the demo world's are).
ORGANISATIONS = {CHA_PRACTICES[0]: "Beacon Road Surgery", CHA_PRACTICES[1]: "Loughborough Lane Practice"}
WRONG_CHECK_DIGIT = "9990000011"  # 999 000 001 has check digit 8: this is a mistyping


def patients() -> list[dict[str, str]]:
    """The ten patients, as canonical text (the plain twin's cells)."""
    rows = [
        patient(1, CHA_PRACTICES[0]),  # frailty: eFI 0.3056 = 11 deficits
        patient(2, CHA_PRACTICES[1], efi_score="0.0556", ltc_count="6"),  # multimorbidity
        patient(3, CHA_PRACTICES[0], efi_score="0.0556", predicted_cost="3600", expected_cost="1200"),  # high cost
        patient(4, CHA_PRACTICES[1], efi_score="0.1389", predicted_cost="950.5", expected_cost="1100"),  # none
        patient(
            5,
            CHA_PRACTICES[0],
            efi_score="0.4167",
            ltc_count="7",
            care_home_id="1-123456789",
            eol_register="Y",
            housebound="Y",
            prob_unplanned_admission="0.62",
            predicted_cost="18250.75",
            expected_cost="4100",
        ),
        patient(6, CHA_PRACTICES[1], efi_score="0.25", given_name="Zoë", date_of_birth="29/02/1940"),
        patient(7, CHA_PRACTICES[0], nhs_number=WRONG_CHECK_DIGIT),  # rejected everywhere
        patient(8, CHA_PRACTICES[1], efi_score="0.3333", sex="M", postcode="", predicted_cost="2640.1"),
        patient(9, CHA_PRACTICES[0], efi_score="0.0278", ltc_count="5", date_of_birth="01/12/1951"),
        patient(10, CHA_PRACTICES[1], efi_score="0.3611", prob_unplanned_admission="", date_of_birth="31/10/1929"),
    ]
    return rows


def deficits(row: dict[str, str]) -> str:
    return str(round(float(row["efi_score"]) * 36))


# -- text helpers ----------------------------------------------------------------------------------------------


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d/%m/%Y").date()


def _spaced(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"


def _yes_no(flag: str) -> str:
    return {"Y": "Yes", "N": "No"}[flag]


# -- the plain twins -------------------------------------------------------------------------------------------


def canonical_csv() -> bytes:
    return _csv([HEADER] + [[row[h] for h in HEADER] for row in patients()]).encode()


ACG_TWIN = [
    "nhs_number",
    "practice_code",
    "sex",
    "date_of_birth",
    "ltc_count",
    "efi_deficits",
    "prob_unplanned_admission",
    "predicted_cost",
    "expected_cost",
]


def acg_twin_csv() -> bytes:
    rows = [[deficits(r) if h == "efi_deficits" else r[h] for h in ACG_TWIN] for r in patients()]
    return _csv([ACG_TWIN, *rows]).encode()


# -- EMIS Web ----------------------------------------------------------------------------------------------------

EMIS_HEADINGS = [
    "NHS Number",
    "Surname",
    "Forename",
    "Date of Birth",
    "Gender",
    "Postcode",
    "Usual GP",
    "Organisation",
    "Practice Code",
    "LTC Count",
    "eFI Score",
    "Probability Unplanned Admission",
    "Predicted Total Cost",
    "Expected Total Cost",
    "Care Home CQC ID",
    "End of Life Register",
    "Housebound",
]
EMIS_TITLE = [
    ["Locality risk stratification - frailty, LTCs and cost"],
    ["Search run on", RUN.strftime("%d-%b-%Y %H:%M")],
    ["Parent population", "All currently registered patients"],
    ["Population count", "10"],
    [],
]


def _emis_values(row: dict[str, str]) -> list:
    """One patient's EMIS row as typed values (numbers as numbers, the date as a date)."""
    gp = "Dr A Example" if row["practice_code"] == CHA_PRACTICES[0] else "Dr B Sample"
    prob = row["prob_unplanned_admission"]
    return [
        _spaced(row["nhs_number"]),
        row["family_name"],
        row["given_name"],
        _date(row["date_of_birth"]),
        {"F": "Female", "M": "Male"}[row["sex"]],
        row["postcode"],
        gp,
        ORGANISATIONS[row["practice_code"]],
        row["practice_code"],
        int(row["ltc_count"]),
        float(row["efi_score"]),
        float(prob) if prob else "",
        float(row["predicted_cost"]),
        float(row["expected_cost"]),
        row["care_home_id"],
        _yes_no(row["eol_register"]),
        _yes_no(row["housebound"]),
    ]


def _emis_text(value) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d-%b-%Y")
    if isinstance(value, float):
        return f"{value:,.2f}" if value >= 100 else repr(value)
    return str(value)


EMIS_TOTAL = [[], ["Total: 10 patients"]]


def emis_csv() -> bytes:
    body = [[_emis_text(v) for v in _emis_values(r)] for r in patients()]
    return _csv([*EMIS_TITLE, EMIS_HEADINGS, *body, *EMIS_TOTAL]).encode("utf-8-sig")


def _emis_sheet(ws) -> None:
    for line in [*EMIS_TITLE, EMIS_HEADINGS]:
        ws.append(line)
    for row in patients():
        ws.append(_emis_values(row))
    for line in EMIS_TOTAL:
        ws.append(line)


def emis_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Locality risk extract"
    _emis_sheet(ws)
    for cell in ws["D"][len(EMIS_TITLE) + 1 :]:
        cell.number_format = "dd-mmm-yyyy"
    return _stable_xlsx(wb)


def emis_xls() -> bytes | None:
    """The EMIS report as an Excel 97-2003 workbook, or None without xlwt."""
    try:
        import xlwt
    except ImportError:
        return None
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("Locality risk extract")
    day = xlwt.easyxf(num_format_str="dd-mmm-yyyy")
    lines = [*EMIS_TITLE, EMIS_HEADINGS, *(_emis_values(r) for r in patients()), *EMIS_TOTAL]
    for r, line in enumerate(lines):
        for c, value in enumerate(line):
            if isinstance(value, dt.date):
                ws.write(r, c, value, day)
            elif value != "":
                ws.write(r, c, value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- SystmOne ------------------------------------------------------------------------------------------------------

SYSTMONE_HEADINGS = [
    "NHS number",
    "First name",
    "Surname",
    "Date of birth",
    "Gender",
    "Postcode",
    "Registered practice code",
    "Number of long term conditions",
    "Electronic Frailty Index",
    "Probability of unplanned admission",
    "Predicted cost",
    "Expected cost",
    "Care home CQC location ID",
    "Palliative care register",
    "Housebound",
]


def systmone_csv() -> bytes:
    block = [
        ["Report: Locality risk extract (frailty and long term conditions)"],
        ["Organisation: Charnwood Locality"],
        ["Run by: Test User (invented)"],
        [f"Date run: {RUN:%d %b %Y %H:%M}"],
        ["Patients: 10"],
        [],
    ]
    body = [
        [
            r["nhs_number"],
            r["given_name"],
            r["family_name"],
            _date(r["date_of_birth"]).strftime("%d %b %Y"),
            {"F": "Female", "M": "Male"}[r["sex"]],
            r["postcode"],
            r["practice_code"],
            r["ltc_count"],
            r["efi_score"],
            r["prob_unplanned_admission"],
            r["predicted_cost"],
            r["expected_cost"],
            r["care_home_id"],
            r["eol_register"],
            r["housebound"],
        ]
        for r in patients()
    ]
    return _csv([*block, SYSTMONE_HEADINGS, *body]).encode("cp1252")


# -- ACG -------------------------------------------------------------------------------------------------------------

ACG_HEADINGS = [
    "Patient ID",
    "Practice Code",
    "Age",
    "Sex",
    "Date of Birth",
    "ACG Code",
    "Resource Utilization Band",
    "Chronic Condition Count",
    "Hospital Dominant Count",
    "Frailty Flag",
    "eFI Deficit Count",
    "Probability Unplanned Admission",
    "Probability High Total Cost",
    "Rescaled Predicted Total Cost",
    "Unscaled Predicted Total Cost",
    "Expected Total Cost",
]


def acg_csv() -> bytes:
    body = []
    for n, r in enumerate(patients()):
        born = _date(r["date_of_birth"])
        body.append(
            [
                r["nhs_number"],
                r["practice_code"],
                str(RUN.year - born.year - ((RUN.month, RUN.day) < (born.month, born.day))),
                r["sex"],
                born.isoformat(),
                f"{1711 + 10 * n:04d}",
                str(min(5, 2 + int(r["ltc_count"]) // 2)),
                r["ltc_count"],
                str(int(r["ltc_count"]) // 3),
                "Y" if float(r["efi_score"]) >= 0.25 else "N",
                deficits(r),
                r["prob_unplanned_admission"],
                "0.12",
                r["predicted_cost"],
                f"{float(r['predicted_cost']) / 3500:.4f}",
                r["expected_cost"],
            ]
        )
    return _csv([ACG_HEADINGS, *body]).encode()


# -- a workbook of two sheets ------------------------------------------------------------------------------------

EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 for dates after February 1900


def two_sheets_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    about = wb.active
    about.title = "About"
    for line in (
        ["Locality risk extract"],
        ["Produced", RUN.strftime("%d/%m/%Y")],
        ["The patients are on the sheet 'Patients'."],
    ):
        about.append(line)
    ws = wb.create_sheet("Patients")
    ws.append(HEADER)
    for r in patients():
        cells = []
        for h in HEADER:
            value = r[h]
            if h == "nhs_number":
                cells.append(int(value))
            elif h == "date_of_birth":
                cells.append((_date(value) - EXCEL_EPOCH).days)  # General format: the bare day number
            elif h in ("ltc_count",):
                cells.append(int(value))
            elif h in ("efi_score", "prob_unplanned_admission", "predicted_cost", "expected_cost") and value:
                cells.append(float(value))
            else:
                cells.append(value)
        ws.append(cells)
    return _stable_xlsx(wb)


def _stable_xlsx(wb) -> bytes:
    """The workbook's bytes, the same on every run: openpyxl stamps the time into the file and its zip."""
    from openpyxl.writer.excel import ExcelWriter

    fixed = dt.datetime(2026, 11, 20, 8, 45)
    wb.properties.creator = "Locality Desk tests"
    wb.properties.created = wb.properties.modified = fixed
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(zipfile.ZipInfo(info.filename, fixed.timetuple()[:6]), src.read(info), zipfile.ZIP_DEFLATED)
    return out.getvalue()


# -- what each file is, and its twin ---------------------------------------------------------------------------

# example -> its plain CSV twin
TWINS = {
    "emis_web_report.csv": "canonical.csv",
    "emis_web_report.xlsx": "canonical.csv",
    "emis_web_report.xls": "canonical.csv",
    "systmone_report.csv": "canonical.csv",
    "acg_output.csv": "acg_plain.csv",
    "two_sheets.xlsx": "canonical.csv",
}


def examples() -> dict[str, bytes]:
    """Every committed example, by its name under tests/data/extracts/ (the .xls only where xlwt is)."""
    out = {
        "canonical.csv": canonical_csv(),
        "acg_plain.csv": acg_twin_csv(),
        "emis_web_report.csv": emis_csv(),
        "emis_web_report.xlsx": emis_xlsx(),
        "systmone_report.csv": systmone_csv(),
        "acg_output.csv": acg_csv(),
        "two_sheets.xlsx": two_sheets_xlsx(),
    }
    xls = emis_xls()
    if xls is not None:
        out["emis_web_report.xls"] = xls
    return out


# -- the refused --------------------------------------------------------------------------------------------------


def files() -> dict[str, bytes]:
    """The refused extracts, by their path under tests/data/bad/."""
    from openpyxl import Workbook

    body = [[_emis_text(v) for v in _emis_values(r)] for r in patients()]
    # An EMIS report saved without its column headings: the title, then patients.
    unknown = _csv([*EMIS_TITLE, *body]).encode()
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    summary.append(["Practice", "Patients", "Frail"])
    for code in CHA_PRACTICES:
        summary.append([code, 5, 2])
    chart = wb.create_sheet("Chart data")
    for month, value in (("Sep", 41), ("Oct", 44), ("Nov", 47)):
        chart.append([month, value])
    return {
        "risk/unknown_layout.csv": unknown,
        "risk/no_extract_sheet.xlsx": _stable_xlsx(wb),
        "risk/damaged_workbook.xlsx": b"PK\x03\x04\x14\x00\x06\x00" + bytes(range(256)) * 2,
    }


def write_all() -> None:
    EXTRACTS.mkdir(parents=True, exist_ok=True)
    for name, data in examples().items():
        (EXTRACTS / name).write_bytes(data)
    for name, data in files().items():
        (CORPUS / name).parent.mkdir(parents=True, exist_ok=True)
        (CORPUS / name).write_bytes(data)


if __name__ == "__main__":
    write_all()
    print(f"Wrote {len(examples())} examples under {EXTRACTS} and {len(files())} files under {CORPUS}")
