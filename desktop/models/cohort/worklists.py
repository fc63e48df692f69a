"""The Monday-morning worklists (issue 3), the Changed risk list (issue 22), and their export to CSV and Excel.

An export carries patient-identifiable data out of the workspace, so each one is an explicit, audited act, written
through patient_files (marked, never onto the workspace, whole or nothing). Cells that a spreadsheet would run as a
formula are written as text.
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
from . import changed_risk
from . import frame as cohort
from . import rules as cohort_rules
from .frame import CohortFilter, CohortFrame
from .patient_files import MARKING, marked, written

__all__ = ["BY_KEY", "MARKING", "WORKLISTS", "counts", "export", "marked", "rows", "table"]


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
    Worklist(
        "changed_risk",
        "Changed risk",
        "In the cohort in this extract and the one before, with criteria, eFI band or LTC count changed between them.",
    ),
)
BY_KEY = {w.key: w for w in WORKLISTS}
# What the Changed risk list says when there is nothing to compare with.
NEEDS_TWO_RUNS = (
    "Changed risk needs two imports: it compares the latest risk extract with the one before it, and "
    "{locality} has only one so far. Import the next extract and this list shows whose criteria, eFI band or "
    "LTC count changed, with before and now side by side."
)
# A CSV has no place for the marking that keeps the file one header row and data (what other programs read), so a
# worklist's file name carries it (patient_files.marked); an .xlsx says it in row 1 as well.
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
# The Changed risk list: who, what changed in one cell, then before and now column by column to sort and filter.
CHANGED_EXPORT_COLUMNS = (
    ("nhs_number", "NHS number"),
    ("family_name", "Family name"),
    ("given_name", "Given name"),
    ("date_of_birth", "Date of birth"),
    ("practice", "Practice"),
    ("what_changed", "What changed"),
    ("criteria_before", "Criteria before"),
    ("criteria_now", "Criteria now"),
    ("efi_band_before", "eFI band before"),
    ("efi_band_now", "eFI band now"),
    ("efi_direction", "eFI band direction"),
    ("ltc_before", "LTCs before"),
    ("ltc_now", "LTCs now"),
    ("cost_ratio_before", "Cost ratio before"),
    ("cost_ratio_now", "Cost ratio now"),
    ("status", "Status"),
    ("case_manager", "Case manager"),
)


def export_columns(key: str) -> tuple[tuple[str, str], ...]:
    return CHANGED_EXPORT_COLUMNS if key == "changed_risk" else EXPORT_COLUMNS


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
    if key == "changed_risk":
        return cohort.apply(frame, CohortFilter(membership="changed risk"))
    raise ValidationError(f"There is no worklist '{key}'.")


def counts(frame: CohortFrame, today: dt.date | None = None) -> dict[str, int]:
    return {w.key: len(rows(frame, w.key, today)) for w in WORKLISTS}


def table(frame: CohortFrame, indices: np.ndarray, key: str | None = None) -> list[list[str]]:
    """The rows of worklist *key* as exported, every cell formula-safe text."""
    columns = export_columns(key or "")
    values = changed_values if key == "changed_risk" else _plain_values
    return [[formula_safe(v) for v in values(frame, i, columns)] for i in indices]


def _plain_values(frame: CohortFrame, i: int, columns) -> list:
    return [frame.columns[col][i] for col, _ in columns]


def changed_values(frame: CohortFrame, i: int, columns=CHANGED_EXPORT_COLUMNS) -> list:
    """A Changed risk row: before and now of each measure, from the frame's changed_risk columns."""
    c = frame.columns
    band_then, band_now = int(c["was_efi_band"][i]), int(c["now_efi_band"][i])
    ltc_then = int(c["was_ltc_count"][i])
    derived = {
        "criteria_before": changed_risk.criteria_names(c["was_criteria"][i]),
        "criteria_now": changed_risk.criteria_names(c["criteria"][i]),
        "efi_band_before": cohort_rules.EFI_BANDS[band_then] if band_then >= 0 else "",
        "efi_band_now": cohort_rules.EFI_BANDS[band_now] if band_now >= 0 else "",
        "efi_direction": changed_risk.direction(int(c["efi_band_change"][i])) if band_then >= 0 else "",
        "ltc_before": ltc_then if ltc_then >= 0 else "",
        "ltc_now": int(c["ltc_count"][i]),
        "cost_ratio_before": changed_risk.ratio(float(c["was_cost_ratio"][i])),
        "cost_ratio_now": changed_risk.ratio(float(c["cost_ratio"][i])),
    }
    return [derived[col] if col in derived else c[col][i] for col, _ in columns]


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
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValidationError("Export to a .csv or .xlsx file.")
    indices = rows(frame, key, today)
    body = table(frame, indices, key)
    headings = [h for _, h in export_columns(key)]
    with written(db, out) as temp:
        if suffix == ".csv":
            with open(temp, "w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(headings)
                writer.writerows(body)
        else:
            _write_xlsx(temp, BY_KEY[key].title, locality_name, headings, body)
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
