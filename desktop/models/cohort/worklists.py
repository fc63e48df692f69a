"""The Monday-morning worklists (issue 3) and their export to CSV and Excel.

An export carries patient-identifiable data out of the workspace, so each one is an explicit, audited act.
Cells that a spreadsheet would run as a formula are written as text.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from .. import audit
from ..cells import formula_safe
from ..clock import Actor
from ..errors import ValidationError
from . import frame as cohort
from .frame import CohortFilter, CohortFrame


@dataclass(frozen=True)
class Worklist:
    key: str
    title: str
    explanation: str


WORKLISTS = (
    Worklist("new", "New this run", "Entered the cohort in the latest risk extract."),
    Worklist("no_care_plan", "No care plan", "On the caseload with no care-plan date recorded."),
    Worklist("review_overdue", "Review overdue", "On the caseload and past the next review date."),
    Worklist("no_case_manager", "No case manager", "Contacted or on the caseload, with no named case manager."),
    Worklist(
        "left_on_caseload",
        "Left the cohort, still on caseload",
        "No longer meets the criteria (or not in the extract) but still on the caseload.",
    ),
)
BY_KEY = {w.key: w for w in WORKLISTS}
# The Government Security Classification marking. A CSV has no place for it that keeps the file one header row
# and data (what other programs read), so a worklist's file name carries it; an .xlsx says it in row 1 as well.
MARKING = "OFFICIAL-SENSITIVE"
EXPORT_COLUMNS = (
    ("nhs_number", "NHS number"),
    ("family_name", "Family name"),
    ("given_name", "Given name"),
    ("date_of_birth", "Date of birth"),
    ("practice", "Practice"),
    ("criteria", "Criteria"),
    ("efi_deficits", "eFI deficits"),
    ("ltc_count", "LTCs"),
    ("status", "Status"),
    ("stream", "Stream"),
    ("case_manager", "Case manager"),
    ("care_plan_date", "Care plan"),
    ("next_review_due", "Next review due"),
    ("change_detail", "Change"),
    ("left_reason", "Left because"),
)


def rows(frame: CohortFrame, key: str, today: dt.date | None = None) -> np.ndarray:
    """Row indices of *frame* on worklist *key*."""
    c = frame.columns
    on_caseload = c["status"] == "on caseload"
    if key == "new":
        return cohort.apply(frame, CohortFilter(membership="new this run"))
    if key == "no_care_plan":
        return np.flatnonzero(on_caseload & cohort.pd_isnull(c["care_plan_date"]))
    if key == "review_overdue":
        return cohort.apply(frame, CohortFilter(review="overdue"), today)
    if key == "no_case_manager":
        worked = on_caseload | (c["status"] == "contacted")
        return np.flatnonzero(worked & cohort.pd_isnull(c["case_manager_id"]))
    if key == "left_on_caseload":
        return np.flatnonzero(on_caseload & ~c["in_cohort"])
    raise ValidationError(f"There is no worklist '{key}'.")


def counts(frame: CohortFrame, today: dt.date | None = None) -> dict[str, int]:
    return {w.key: len(rows(frame, w.key, today)) for w in WORKLISTS}


def table(frame: CohortFrame, indices: np.ndarray) -> list[list[str]]:
    return [[formula_safe(frame.columns[col][i]) for col, _ in EXPORT_COLUMNS] for i in indices]


def marked(out: str | Path) -> Path:
    """*out* with the marking in its name (cha-new.csv -> cha-new.OFFICIAL-SENSITIVE.csv), unless it has it."""
    out = Path(out)
    return out if MARKING.lower() in out.name.lower() else out.with_name(f"{out.stem}.{MARKING}{out.suffix}")


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    frame: CohortFrame,
    key: str,
    out: str | Path,
    locality_name: str,
    today: dt.date | None = None,
) -> int:
    """Write worklist *key* to *out* (.csv or .xlsx) and audit it; returns the number of patients."""
    out = Path(out)
    indices = rows(frame, key, today)
    body = table(frame, indices)
    headings = [h for _, h in EXPORT_COLUMNS]
    suffix = out.suffix.lower()
    if suffix == ".csv":
        with open(out, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(headings)
            writer.writerows(body)
    elif suffix == ".xlsx":
        _write_xlsx(out, BY_KEY[key].title, locality_name, headings, body)
    else:
        raise ValidationError("Export to a .csv or .xlsx file.")
    with db.atomic():
        audit.record(
            db,
            actor,
            "export",
            "worklist",
            key,
            f"Exported '{BY_KEY[key].title}' for {locality_name}: {len(body)} patients to {out.name}",
            {"file": str(out), "patients": len(body), "marking": MARKING},
        )
    return len(body)


def _write_xlsx(out: Path, title: str, locality_name: str, headings: list[str], body: list[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([f"{title} — {locality_name}", "", f"{MARKING}: patient-identifiable"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(headings)
    for cell in ws[2]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="005EB8")
    for row in body:
        ws.append(row)
    for i, heading in enumerate(headings, start=1):
        width = max([len(heading)] + [len(r[i - 1]) for r in body[:500]]) + 2
        ws.column_dimensions[get_column_letter(i)].width = min(width, 40)
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = f"A2:{get_column_letter(len(headings))}{len(body) + 2}"
    wb.save(out)
