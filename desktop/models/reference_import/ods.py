"""Reading the ODS files as NHS Digital publishes them (layouts in ../shared/reference/README.md).

epraccur is a CSV with no heading row: every row has 27 quoted columns, and the layout is recognised by its
shape (an organisation code first, a status code in column 13) rather than by headings. ePCN is a workbook
whose "PCN Core Partner Details" sheet gives each practice's PCN name as a VLOOKUP formula; a reader that does
not evaluate formulas sees no value, or a stale one, there. The name is therefore taken from the "PCN Details"
sheet by PCN code, the record the formula itself looks up, and the cached value is used only for a code that
sheet lacks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import clock
from ..errors import ValidationError
from .cqc import CqcHome, csv_rows, heading_row, read_rows

# The commissioner codes a new LLR workspace covers: 03W East Leicestershire and Rutland, 04C Leicester City,
# 04V West Leicestershire (since 2022 the sub-ICB locations of LLR ICB, same codes). A workspace can hold its
# own list in meta (plan.META_KEY).
LLR_COMMISSIONERS = ("03W", "04C", "04V")
ACTIVE = "A"
GP_PRACTICE = "4"  # epraccur prescribing setting of a GP practice
STATUS_WORDS = {"A": "active", "C": "closed", "D": "dormant", "P": "proposed"}

EPRACCUR_COLUMNS = 27
_ODS_CODE = re.compile(r"^[A-Z0-9]{3,8}$")
PCN_DETAILS = "PCN Details"
PCN_PARTNERS = "PCN Core Partner Details"
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


@dataclass(frozen=True)
class OdsPractice:
    code: str
    name: str
    postcode: str
    status: str  # A active, C closed, D dormant, P proposed
    setting: str  # prescribing setting; 4 = GP practice
    commissioner: str
    open_date: str
    close_date: str

    @property
    def active_gp(self) -> bool:
        return self.status == ACTIVE and self.setting == GP_PRACTICE


@dataclass(frozen=True)
class OdsPcn:
    code: str
    name: str
    ccg: str


@dataclass
class OdsFiles:
    """What the files say: every practice row, every PCN, and each practice's current PCN."""

    practices: dict[str, OdsPractice] = field(default_factory=dict)
    pcns: dict[str, OdsPcn] = field(default_factory=dict)
    membership: dict[str, str] = field(default_factory=dict)  # practice code -> PCN code
    files: list[str] = field(default_factory=list)
    has_pcn_file: bool = False
    care_homes: dict[str, CqcHome] = field(default_factory=dict)  # CQC location id -> home
    has_cqc_file: bool = False


def read_files(paths: Iterable[str | Path]) -> OdsFiles:
    """Read the given files, each recognised by its layout; refuse (ValidationError) anything else."""
    out = OdsFiles()
    for path in map(Path, paths):
        if not path.is_file():
            raise ValidationError(f"{path} does not exist or is not a file. Check the name and try again.")
        if path.suffix.lower() in WORKBOOK_SUFFIXES:
            _read_workbook(path, out)
        else:
            _read_csv(path, out)
        out.files.append(path.name)
    if not out.practices and not out.has_cqc_file:
        raise ValidationError(
            "No practices file was given. Add the ODS epraccur file (epraccur.csv, from the ODS data downloads): "
            "the practices come from it, and the ePCN workbook only adds their PCNs."
        )
    if out.has_pcn_file and not out.practices:
        raise ValidationError(
            "The ePCN workbook was given without the practices file. Add the ODS epraccur file (epraccur.csv): "
            "the practices come from it, and the ePCN workbook only adds their PCNs. Nothing was imported."
        )
    return out


def _unknown(path: Path, why: str) -> ValidationError:
    return ValidationError(
        f"{path.name} is not in a layout Locality Desk knows: {why} It reads the ODS epraccur file (CSV, no heading "
        "row, 27 columns) and the ODS ePCN workbook (sheets 'PCN Details' and 'PCN Core Partner Details'), as "
        "published in the ODS data downloads, and CQC's care directory with filters (spreadsheet or CSV, as "
        "published on the CQC website). Nothing was imported."
    )


def _read_cqc(path: Path, rows: list[list[Any]], start: int, out: OdsFiles) -> None:
    homes, _others = read_rows(path, rows, start)
    out.care_homes.update(homes)
    out.has_cqc_file = True


def _read_csv(path: Path, out: OdsFiles) -> None:
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
        raise _unknown(path, "it is a workbook or binary file, not a CSV.")
    rows = csv_rows(raw)
    start = heading_row(rows)
    if start is not None:
        _read_cqc(path, rows, start, out)
    else:
        _read_epraccur(path, raw, out)


def _read_epraccur(path: Path, raw: bytes, out: OdsFiles) -> None:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older ODS files were Windows-1252; names stay readable
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if not rows:
        raise _unknown(path, "it is empty.")
    for number, row in enumerate(rows, start=1):
        if len(row) != EPRACCUR_COLUMNS or not _ODS_CODE.match(row[0].strip()) or row[12].strip() not in STATUS_WORDS:
            why = (
                "its first line looks like a heading row, and epraccur has none."
                if number == 1 and len(row) > 1 and not _ODS_CODE.match(row[0].strip())
                else f"line {number} has {len(row)} columns (epraccur has {EPRACCUR_COLUMNS}, an organisation code "
                "first and a status code A, C, D or P in column 13)."
            )
            raise _unknown(path, why)
        code = row[0].strip()
        out.practices[code] = OdsPractice(
            code=code,
            name=row[1].strip(),
            postcode=row[9].strip(),
            status=row[12].strip(),
            setting=row[25].strip(),
            commissioner=row[14].strip(),
            open_date=row[10].strip(),
            close_date=row[11].strip(),
        )


def _read_workbook(path: Path, out: OdsFiles) -> None:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged or mislabelled files
        raise _unknown(path, f"it could not be opened as a workbook ({exc}).") from None
    wanted = {PCN_DETAILS.casefold(): PCN_DETAILS, PCN_PARTNERS.casefold(): PCN_PARTNERS}
    found = {wanted[n.strip().casefold()]: n for n in book.sheet_names if n.strip().casefold() in wanted}
    if found:
        if len(found) < 2:
            missing = " and ".join(f"'{s}'" for s in wanted.values() if s not in found)
            raise _unknown(path, f"it has no sheet {missing}.")
        _read_epcn(path, {key: book.get_sheet_by_name(name).to_python() for key, name in found.items()}, out)
        return
    # CQC's workbook has its directory on one sheet, with notes on others; the directory is the sheet whose
    # heading row names CQC's columns.
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python()
        start = heading_row(rows)
        if start is not None:
            _read_cqc(path, rows, start, out)
            return
    raise _unknown(
        path,
        "it has no sheet 'PCN Details' and 'PCN Core Partner Details' (the ePCN workbook), and no sheet with "
        "CQC's 'Location ID' and 'Care home?' columns (the CQC care directory).",
    )


def _columns(path: Path, rows: list[list[Any]], sheet: str, names: tuple[str, ...]) -> dict[str, int]:
    if not rows:
        raise _unknown(path, f"the sheet '{sheet}' is empty.")
    heading = {str(c).strip().casefold(): i for i, c in enumerate(rows[0])}
    missing = [n for n in names if n.casefold() not in heading]
    if missing:
        raise _unknown(path, f"the sheet '{sheet}' has no column {', '.join(repr(m) for m in missing)}.")
    return {n: heading[n.casefold()] for n in names}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a YYYYMMDD date or a code Excel stored as a number
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime("%Y%m%d")
    return str(value).strip()


def _cell(row: list[Any], index: int) -> str:
    return _text(row[index]) if index < len(row) else ""


def _read_epcn(path: Path, sheets: dict[str, list[list[Any]]], out: OdsFiles) -> None:
    details, partners = sheets[PCN_DETAILS], sheets[PCN_PARTNERS]
    d = _columns(path, details, PCN_DETAILS, ("PCN Code", "PCN Name", "Current Clinical Commissioning Group Code"))
    p = _columns(
        path,
        partners,
        PCN_PARTNERS,
        (
            "Partner Organisation Code",
            "PCN Code",
            "PCN Name",
            "Practice to PCN Relationship Start Date",
            "Practice to PCN Relationship End Date",
        ),
    )
    for row in details[1:]:
        code = _cell(row, d["PCN Code"])
        if code:
            ccg = _cell(row, d["Current Clinical Commissioning Group Code"])
            out.pcns[code] = OdsPcn(code, _cell(row, d["PCN Name"]), ccg)
    today = clock.today().strftime("%Y%m%d")
    latest: dict[str, str] = {}
    for row in partners[1:]:
        practice, pcn = _cell(row, p["Partner Organisation Code"]), _cell(row, p["PCN Code"])
        if not practice or not pcn:
            continue
        ended = _cell(row, p["Practice to PCN Relationship End Date"])
        if ended and ended <= today:
            continue
        if pcn not in out.pcns:
            cached = _cell(row, p["PCN Name"])
            # An unevaluated formula's text is not a name.
            out.pcns[pcn] = OdsPcn(pcn, cached if cached and not cached.startswith("=") else pcn, "")
        started = _cell(row, p["Practice to PCN Relationship Start Date"])
        if started >= latest.get(practice, ""):
            latest[practice] = started
            out.membership[practice] = pcn
    out.has_pcn_file = True
