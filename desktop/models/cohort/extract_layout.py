"""Where the patients are in a file a practice system or risk tool wrote (DESIGN §6.1, issue 21).

EMIS Web and SystmOne save a report with its title lines (the report's name, when it ran, how many patients)
above the row that names the columns, and some add a total below the last patient; ACG and the demo write the
heading row first. The heading row is the first of the file's opening lines that names a risk extract's
columns, under the names the tools give them; the lines above it are the report's title, and summary lines
below the last patient are left out with a note rather than rejected as patients. Nothing here reads a file:
the CSV and workbook readers hand in rows of text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

REQUIRED = ("nhs_number", "date_of_birth", "practice_code", "ltc_count", "predicted_cost", "expected_cost")
EFI_COLUMNS = ("efi_score", "efi_deficits")  # one of the two is required
# Each patient's hospital use in the 12 months before the extract (issue 27): what the outcomes comparison
# follows from run to run. Optional, and blank means not known, never none.
USE_COLUMNS = ("emergency_admissions_12m", "ae_attendances_12m", "emergency_bed_days_12m", "cost_12m")
OPTIONAL = (
    "given_name",
    "family_name",
    "sex",
    "postcode",
    "prob_unplanned_admission",
    "care_home_id",
    "eol_register",
    "housebound",
    *USE_COLUMNS,
)
CANONICAL = (
    REQUIRED[:2]
    + ("given_name", "family_name", "sex", "postcode")
    + REQUIRED[2:4]
    + EFI_COLUMNS
    + ("prob_unplanned_admission",)
    + REQUIRED[4:]
    + ("care_home_id", "eol_register", "housebound")
    + USE_COLUMNS
)

# Headings other tools use for the canonical columns (compared after lower-casing and dropping punctuation):
# EMIS Web ("NHS Number", "Date of Birth", "Practice Code"), SystmOne ("NHS number", "Registered practice
# code", "Electronic Frailty Index"), ACG ("Chronic Condition Count", "Probability Unplanned Admission",
# "Rescaled Predicted Total Cost") and what people type.
ALIASES: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhsnumber", "nhsno", "patientnhsnumber", "nhsnum", "patientnhsno", "nhsnumbertext"),
    "given_name": ("forename", "firstname", "givenname", "forenames", "firstnames", "callingname"),
    "family_name": ("surname", "lastname", "familyname", "patientsurname"),
    "date_of_birth": ("dob", "dateofbirth", "birthdate", "birthdt", "patientdob", "patientdateofbirth"),
    "sex": ("gender", "sex", "patientgender", "patientsex"),
    "postcode": ("postcode", "postalcode", "pcode", "patientpostcode", "homepostcode"),
    "practice_code": (
        "practicecode",
        "odscode",
        "practiceods",
        "practiceodscode",
        "gppractice",
        "gppracticecode",
        "pracid",
        "practiceid",
        "registeredpractice",
        "registeredpracticecode",
        "registeredpracticeodscode",
        "organisationcode",
        "organisationodscode",
        "organizationcode",
    ),
    "ltc_count": (
        "ltccount",
        "ltcs",
        "numberofltcs",
        "noofltcs",
        "chronicconditioncount",
        "chroniccount",
        "longtermconditions",
        "longtermconditioncount",
        "numberoflongtermconditions",
        "conditioncount",
    ),
    "efi_score": (
        "efiscore",
        "efi",
        "electronicfrailtyindex",
        "electronicfrailtyindexscore",
        "frailtyindex",
        "efivalue",
    ),
    "efi_deficits": (
        "efideficits",
        "deficitcount",
        "efideficitcount",
        "efideficitscount",
        "numberofdeficits",
        "efinumberofdeficits",
        "frailtydeficits",
    ),
    "prob_unplanned_admission": (
        "probunplannedadmission",
        "probabilityunplannedadmission",
        "probabilityofunplannedadmission",
        "probunplannedinpatienthospitalization",
        "probunplannedinpatienthospitalisation",
        "probabilityunplannedinpatienthospitalization",
        "probabilityunplannedinpatienthospitalisation",
        "probunplannediphosp",
        "probip",
        "probabilityofhospitalisation",
        "probabilityofhospitalization",
        "probinpatienthospitalization",
        "probabilityinpatienthospitalization",
        "probabilityinpatienthospitalisation",
        "probabilityiphospitalization",
        "unplannedadmissionrisk",
    ),
    "predicted_cost": (
        "predictedcost",
        "predictedtotalcost",
        "rescaledpredictedtotalcost",
        "predcost",
        "predictedacutecost",
    ),
    "expected_cost": ("expectedcost", "expectedtotalcost", "expcost", "expectedacutecost"),
    "care_home_id": ("carehomeid", "cqcid", "cqclocationid", "carehomecqc", "carehomecqcid", "carehomecqclocationid"),
    "eol_register": (
        "eolregister",
        "endoflife",
        "endofliferegister",
        "palliativeregister",
        "palliativecareregister",
        "eolflag",
    ),
    "housebound": ("housebound", "houseboundflag", "houseboundstatus"),
    # ACG's utilisation markers count the 12 months of data it was run on ("Unplanned Inpatient Hospitalization
    # Count", "Emergency Visit Count", "Total Cost"); practice-system searches name the period in the heading.
    "emergency_admissions_12m": (
        "emergencyadmissions12m",
        "emergencyadmissions",
        "emergencyadmissionslast12months",
        "emergencyadmissionsinlast12months",
        "emergencyadmissionsprevious12months",
        "emergencyadmissionspast12months",
        "noofemergencyadmissions",
        "numberofemergencyadmissions",
        "emergencyadmissioncount",
        "unplannedadmissions",
        "unplannedadmissions12m",
        "unplannedadmissionslast12months",
        "nonelectiveadmissions",
        "nonelectiveadmissions12m",
        "nonelectiveadmissionslast12months",
        "unplannedinpatienthospitalizationcount",
        "unplannedinpatienthospitalisationcount",
        "unplannedhospitalizationcount",
        "unplannedhospitalisationcount",
    ),
    "ae_attendances_12m": (
        "aeattendances12m",
        "aeattendances",
        "aeattendanceslast12months",
        "aeattendancesinlast12months",
        "aeattendancesprevious12months",
        "aeattendancespast12months",
        "noofaeattendances",
        "numberofaeattendances",
        "aandeattendances",
        "aandeattendanceslast12months",
        "edattendances",
        "edattendanceslast12months",
        "emergencydepartmentattendances",
        "emergencydepartmentvisits",
        "emergencyvisitcount",
        "emergencyvisits",
        "ervisitcount",
        "edvisitcount",
    ),
    "emergency_bed_days_12m": (
        "emergencybeddays12m",
        "emergencybeddays",
        "emergencybeddayslast12months",
        "emergencybeddaysinlast12months",
        "emergencybeddaysprevious12months",
        "nonelectivebeddays",
        "nonelectivebeddayslast12months",
        "unplannedbeddays",
        "unplannedinpatienthospitalizationdays",
        "unplannedinpatienthospitalisationdays",
        "emergencylengthofstay",
    ),
    "cost_12m": (
        "cost12m",
        "costlast12months",
        "costinlast12months",
        "costprevious12months",
        "totalcost",
        "totalcosts",
        "totalcost12m",
        "totalcostlast12months",
        "actualcost",
        "actualtotalcost",
        "observedcost",
        "costprioryear",
        "prioryearcost",
    ),
}
# Names that say less: taken only when no heading of the file has a clearer name for the column, so that
# beside "Practice Code" an EMIS "Organisation" (often the practice's name) is left alone, and beside
# "NHS Number" ACG's "Patient ID" is.
WEAK_ALIASES: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhs", "patientid"),
    "given_name": ("first",),
    "family_name": ("last",),
    "practice_code": ("practice", "organisation", "organization", "registeredorganisation"),
    "ltc_count": ("ltc",),
    "efi_deficits": ("deficits",),
    "prob_unplanned_admission": ("pih",),
    "care_home_id": ("carehome", "nursinghome"),
    "eol_register": ("eol", "palliative"),
    "housebound": ("hb",),
    "emergency_admissions_12m": ("admissions", "admissions12m", "emergencyadmits"),
    "ae_attendances_12m": ("ae", "aande", "edvisits"),
    "emergency_bed_days_12m": ("beddays", "beddays12m"),
    "cost_12m": ("cost",),
}
# Headings the practice systems and ACG write that are known but not imported, and why: the mapping shows
# them as recognised, and they count towards finding the heading row.
NOT_IMPORTED: dict[str, str] = {
    **dict.fromkeys(
        ("usualgp", "usualgpname", "registeredgp", "namedgp", "usualgpfullname"),
        "the usual GP; the team names a patient's GP on the caseload",
    ),
    **dict.fromkeys(
        ("age", "ageyears", "ageinyears", "patientage"), "the age; it is worked out from the date of birth"
    ),
    **dict.fromkeys(
        ("organisationname", "practicename", "registeredpracticename"),
        "the practice's name; the practice code is imported",
    ),
    **dict.fromkeys(("registrationdate", "dateofregistration", "registereddate"), "the date the patient registered"),
    **dict.fromkeys(("acgcode", "acg", "acgcategory", "adjustedclinicalgroup"), "ACG's case-mix group"),
    **dict.fromkeys(("resourceutilizationband", "resourceutilisationband", "rub"), "ACG's resource utilisation band"),
    **dict.fromkeys(("frailtyflag", "acgfrailtyflag"), "ACG's frailty flag; frailty is graded by the eFI instead"),
    **dict.fromkeys(
        ("hospitaldominantcount", "hospitaldominantconditioncount"), "ACG's hospital-dominant condition count"
    ),
    **dict.fromkeys(
        ("probabilityhightotalcost", "probabilityofhightotalcost", "probhightotalcost"),
        "ACG's probability of a high total cost",
    ),
    **dict.fromkeys(("patientneedgroup", "png"), "ACG's patient need group"),
    **dict.fromkeys(
        ("unscaledpredictedtotalcost", "unscaledtotalcostprediction"),
        "ACG's unscaled predicted cost, a relative weight rather than pounds (the rescaled cost is in pounds)",
    ),
    **dict.fromkeys(
        (
            "inpatienthospitalizationcount",
            "inpatienthospitalisationcount",
            "inpatienthospitalizationdays",
            "inpatienthospitalisationdays",
        ),
        "ACG's count of every admission, planned ones included; the emergency (unplanned) count is imported",
    ),
    **dict.fromkeys(("pharmacycost", "pharmacycosts", "rxcost"), "ACG's pharmacy cost; the total cost is imported"),
    **dict.fromkeys(
        ("eficategory", "efiscorecategory", "frailtycategory", "efiband"),
        "the eFI category; it is worked out from the deficit count",
    ),
}

HEADING_SEARCH_ROWS = 30
# A heading row that does not name every required column must still name this many known columns; a title
# line "Practice, Z82001" names one.
_FEWEST_KNOWN = 2


def normalise_heading(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def suggest_mapping(headings: Sequence[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """heading -> canonical column: a remembered mapping first, then canonical names and clear aliases, then
    the vaguer names for the columns still free. Each canonical column comes from one heading."""
    remembered = remembered or {}
    mapping: dict[str, str] = {}
    taken: set[str] = set()

    def take(heading: str, target: str | None) -> None:
        if target and target not in taken and heading not in mapping:
            mapping[heading] = target
            taken.add(target)

    for heading in headings:
        take(heading, remembered.get(heading))
    for heading in headings:
        key = normalise_heading(heading)
        target = next((c for c in CANONICAL if key == normalise_heading(c)), None)
        take(heading, target or next((c for c, names in ALIASES.items() if key in names), None))
    for heading in headings:
        key = normalise_heading(heading)
        take(heading, next((c for c, names in WEAK_ALIASES.items() if key in names), None))
    return mapping


def covers_required(mapping: dict[str, str]) -> bool:
    targets = set(mapping.values())
    return all(c in targets for c in REQUIRED) and bool(targets.intersection(EFI_COLUMNS))


def not_imported_reason(heading: str) -> str | None:
    """Why a heading the tools write is left out, or None for a heading this app does not know."""
    return NOT_IMPORTED.get(normalise_heading(heading))


@dataclass(frozen=True)
class Layout:
    """The heading row a file's opening rows hold, and what is above it."""

    row: int  # 0-based: the rows above it are title lines
    headings: list[str]
    mapping: dict[str, str]
    known: int  # headings recognised: mapped, or known and not imported
    title_lines: list[str] = field(default_factory=list)
    # False when no row looked like a risk extract's headings and the first line was taken for want of one:
    # the layout is unknown, and the refusal says so.
    found: bool = True

    @property
    def heading_row(self) -> int:
        """The heading's row as a spreadsheet numbers it."""
        return self.row + 1


def find_heading(rows: Sequence[Sequence[str]], remembered: dict[str, str] | None = None) -> Layout | None:
    """The heading row among the first HEADING_SEARCH_ROWS *rows*: the first that names every required column,
    else the one that names most known columns (at least two), else a first line that can only be headings
    (every cell filled with words, as many as a risk extract's required columns) for the user to map by hand.
    Failing all three the first non-blank line is returned with found=False: the layout is unknown. None when
    the rows are all blank."""
    best: Layout | None = None
    for i, cells in enumerate(rows[:HEADING_SEARCH_ROWS]):
        headings = [str(c).strip() for c in cells]
        if not any(headings):
            continue
        mapping = suggest_mapping(headings, remembered)
        known = len(mapping) + sum(1 for h in headings if h not in mapping and not_imported_reason(h))
        if covers_required(mapping):
            return Layout(i, headings, mapping, known, title_lines(rows[:i]))
        if known >= _FEWEST_KNOWN and (best is None or known > best.known):
            best = Layout(i, headings, mapping, known, title_lines(rows[:i]))
    if best is not None:
        return best
    first = next((i for i, cells in enumerate(rows[:HEADING_SEARCH_ROWS]) if any(str(c).strip() for c in cells)), None)
    if first is None:
        return None
    headings = [str(c).strip() for c in rows[first]]
    mapping = suggest_mapping(headings, remembered)
    return Layout(first, headings, mapping, len(mapping), title_lines(rows[:first]), found=_only_headings(headings))


def _only_headings(cells: Sequence[str]) -> bool:
    words = [str(c).strip() for c in cells]
    return (
        len(words) >= len(REQUIRED) + 1 and all(words) and not any(re.fullmatch(r"[-+£$]?[\d.,/: ]+", w) for w in words)
    )


def title_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """The non-blank rows above a heading row, each as one line of text."""
    lines = []
    for cells in rows:
        filled = [str(c).strip() for c in cells if str(c).strip()]
        if filled:
            lines.append(", ".join(filled))
    return lines


# The first words of a summary line a report puts below its last patient.
_SUMMARY = re.compile(
    r"^(grand\s+)?(total|totals|sum|count|counts|number\s+of|no\.?\s+of|population|patients?|records?|rows?|"
    r"results?|end\s+of|report\s+(total|end|produced|run|printed)|produced\s+by|printed)\b",
    re.IGNORECASE,
)
# Ten digits, spaced 3-3-4 or not: a row holding one is a patient's, whatever else it says.
_NHS_LIKE = re.compile(r"\d{3}[\s-]?\d{3}[\s-]?\d{4}")


def trailing_summary(rows: Sequence[Sequence[str]]) -> int:
    """How many of the last *rows* (the end of the data, in file order, every cell as text) are a summary
    below the patients rather than patients: from the first line starting "Total", "Count", "Population"
    and the like, or from a blank line on, provided every line from there to the end holds no NHS number
    and is either such a summary line, blank, or text in at most two cells. A short line directly below
    the patients with no blank line and no summary word before it is left to be checked (and rejected) as
    a patient row."""
    start = len(rows)
    for k in range(len(rows) - 1, -1, -1):
        if not _may_be_summary(rows[k]):
            break
        start = k
    for k in range(start, len(rows)):
        filled = [str(c).strip() for c in rows[k] if str(c).strip()]
        if not filled or _SUMMARY.match(filled[0]):
            return len(rows) - k
    return 0


def _may_be_summary(cells: Sequence[str]) -> bool:
    filled = [str(c).strip() for c in cells if str(c).strip()]
    if not filled:
        return True
    if any(_NHS_LIKE.fullmatch(c) for c in filled):
        return False
    return bool(_SUMMARY.match(filled[0])) or len(filled) <= 2


def summary_note(ignored: Sequence[tuple[int, str]]) -> str | None:
    """The note for summary lines left out (row number, text), or None when only blank lines were."""
    shown = [(row, text) for row, text in ignored if text.strip()]
    if not shown:
        return None
    listed = "; ".join(f"row {row}: '{_short(text)}'" for row, text in shown[:3])
    more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
    lines = "line" if len(shown) == 1 else "lines"
    return (
        f"{len(shown)} {lines} below the last patient {'was' if len(shown) == 1 else 'were'} read as the report's "
        f"summary, not as patients, and left out ({listed}{more})."
    )


def title_note(heading_row: int, lines: Sequence[str]) -> str | None:
    """The note for title lines above the heading row, or None when there are none."""
    if not lines:
        return None
    listed = "; ".join(f"'{_short(line)}'" for line in lines[:3])
    more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
    return (
        f"The column headings are on row {heading_row}; the lines above them were read as the report's title, "
        f"not as patients ({listed}{more})."
    )


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
