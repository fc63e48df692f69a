"""Reading CQC's "care directory with filters" (the register of active locations), as CQC publishes it.

CQC publishes it as a spreadsheet (and sometimes CSV) with a few lines of notes above the heading row, one row
per registered location, and Y/blank flag columns for service types and service user bands. Only the rows with
"Care home?" = Y in the local authorities the workspace covers are kept. The directory lists registered
locations only: a home that has left the register is simply absent from it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ValidationError

# The local authorities an LLR workspace covers; a workspace can hold its own list in meta (CQC_META_KEY).
LLR_LOCAL_AUTHORITIES = ("Leicester", "Leicestershire", "Rutland")
CQC_META_KEY = "cqc_local_authorities"  # comma-separated, as the directory spells them

ID, NAME, CARE_HOME, BEDS = "Location ID", "Location Name", "Care home?", "Care homes beds"
POSTCODE, AUTHORITY = "Location Postal Code", "Location Local Authority"
REQUIRED = (ID, NAME, CARE_HOME, BEDS, POSTCODE, AUTHORITY)
ADDRESS = ("Location Street Address", "Location Address Line 2", "Location City")
RATING, PROVIDER, STARTED = "Location Latest Overall Rating", "Provider Name", "Location HSCA start date"
NURSING = "Service type - Care home service with nursing"
WITHOUT_NURSING = "Service type - Care home service without nursing"
DEMENTIA = "Service user band - Dementia"
OLDER_PEOPLE = "Service user band - Older People"
LEARNING_DISABILITY = "Service user band - Learning disabilities or autistic spectrum disorder"
HEADING_SEARCH = 20  # the notes above the heading row are a handful of lines


@dataclass(frozen=True)
class CqcHome:
    cqc_id: str
    name: str
    address: str
    postcode: str
    beds: int
    local_authority: str
    home_type: str  # reference.HOME_TYPES
    older_people: bool
    dementia: bool
    provider: str
    rating: str
    registered_on: str


def heading_row(rows: list[list[Any]]) -> int | None:
    """Index of the row naming the CQC columns, among the first lines; None when the file is not CQC's."""
    for index, row in enumerate(rows[:HEADING_SEARCH]):
        cells = {_text(c).casefold() for c in row}
        if ID.casefold() in cells and CARE_HOME.casefold() in cells:
            return index
    return None


def csv_rows(raw: bytes) -> list[list[str]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    return list(csv.reader(io.StringIO(text, newline="")))


def read_rows(path: Path, rows: list[list[Any]], start: int) -> tuple[dict[str, CqcHome], int]:
    """The care homes in *rows* (heading at *start*), and how many locations were not care homes."""
    heading = {_text(c).casefold(): i for i, c in enumerate(rows[start])}
    missing = [n for n in REQUIRED if n.casefold() not in heading]
    if missing:
        raise ValidationError(
            f"{path.name} looks like CQC's care directory but has no column {', '.join(repr(m) for m in missing)}. "
            "Download the 'care directory with filters' file again from the CQC website (Using CQC data) and "
            "import it as it is. Nothing was imported."
        )

    def get(row: list[Any], name: str) -> str:
        i = heading.get(name.casefold())
        return _text(row[i]) if i is not None and i < len(row) else ""

    homes: dict[str, CqcHome] = {}
    others = 0
    for number, row in enumerate(rows[start + 1 :], start=start + 2):
        cqc_id = get(row, ID)
        if not cqc_id:
            continue  # blank lines and the notes some exports add at the foot
        if get(row, CARE_HOME).upper() != "Y":
            others += 1
            continue
        beds_text = get(row, BEDS).replace(",", "")
        try:
            beds = int(float(beds_text)) if beds_text else 0
        except ValueError:
            raise ValidationError(
                f"{path.name}, line {number} ({cqc_id}): 'Care homes beds' is '{beds_text}', not a number of beds. "
                "Check the file is CQC's directory as downloaded. Nothing was imported."
            ) from None
        yes = {name: get(row, name).upper() == "Y" for name in (NURSING, WITHOUT_NURSING, OLDER_PEOPLE)}
        learning = get(row, LEARNING_DISABILITY).upper() == "Y"
        if yes[NURSING] and yes[WITHOUT_NURSING]:
            home_type = "both"
        elif yes[NURSING]:
            home_type = "nursing"
        elif learning and not yes[OLDER_PEOPLE]:
            home_type = "learning disability"
        else:
            home_type = "residential"
        homes[cqc_id] = CqcHome(
            cqc_id=cqc_id,
            name=get(row, NAME),
            address=", ".join(p for p in (get(row, a) for a in ADDRESS) if p),
            postcode=get(row, POSTCODE).upper(),
            beds=beds,
            local_authority=get(row, AUTHORITY),
            home_type=home_type,
            older_people=yes[OLDER_PEOPLE],
            dementia=get(row, DEMENTIA).upper() == "Y",
            provider=get(row, PROVIDER),
            rating=get(row, RATING),
            registered_on=get(row, STARTED),
        )
    return homes, others


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # beds, stored by the spreadsheet as a number
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return str(value).strip()
