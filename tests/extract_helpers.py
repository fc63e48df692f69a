"""Writing small risk extracts by hand, for the import tests."""

from __future__ import annotations

import csv

from desktop.models.demo.extract import CANONICAL_COLUMNS
from desktop.models.identifiers import nhs_check_digit

# The demo extract's columns, in its order, but for the use columns (issue 27): the committed extracts were
# written before they existed, and the tests that want them add USE_HEADER.
USE_HEADER = ["emergency_admissions_12m", "ae_attendances_12m", "emergency_bed_days_12m", "cost_12m"]
HEADER = [c for c in CANONICAL_COLUMNS if c not in USE_HEADER]


_VALID: list[str] = []  # the valid numbers of the 999 test range found so far, in order


def synthetic_nhs(n: int) -> str:
    """The n-th valid number of the 999 test range (kept as found: the suite asks for tens of thousands)."""
    stem = int(_VALID[-1][:9]) if _VALID else 999_000_000
    while len(_VALID) <= n:
        stem += 1
        check = nhs_check_digit(str(stem))
        if check is not None:
            _VALID.append(f"{stem}{check}")
    return _VALID[n]


def patient(n: int, practice: str, **overrides) -> dict[str, str]:
    """A valid row; n picks the NHS number. Defaults put the patient in the cohort for frailty only."""
    row = {
        "nhs_number": synthetic_nhs(n),
        "given_name": f"Given{n}",
        "family_name": f"Family{n}",
        "date_of_birth": "14/03/1938",
        "sex": "F",
        "postcode": "LE11 2AB",
        "practice_code": practice,
        "ltc_count": "2",
        "efi_score": "0.3056",
        "prob_unplanned_admission": "0.21",
        "predicted_cost": "1500",
        "expected_cost": "1200",
        "care_home_id": "",
        "eol_register": "N",
        "housebound": "N",
    }
    row.update({k: str(v) for k, v in overrides.items()})
    return row


def write_csv(path, rows, header=None, delimiter=",", encoding="utf-8", bom=False):
    header = header or HEADER
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else encoding) as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(h, "") for h in header] if isinstance(row, dict) else row)
    return path
