"""The rejected rows of a risk extract as a CSV to open beside the extract and fix (DESIGN §6.2).

The reasons quote what the extract held (NHS numbers, dates of birth), so the file is patient-identifiable like a
worklist: OFFICIAL-SENSITIVE in its suggested name and on its first line, written through patient_files (never onto
the workspace, whole or nothing) and audited. A column name or reason that quotes the extract's text is written so
a spreadsheet will not run it as a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlite_utils

from .. import audit
from ..cells import formula_safe
from ..clock import Actor
from ..errors import ValidationError
from .extract_rules import Rejection
from .patient_files import MARKING, marked, written

HEADINGS = ("row", "column", "reason")


def suggested_name(extract: str | Path | None) -> str:
    """The file name offered for the rejections of *extract*: cha-q3.csv -> cha-q3-rejections.OFFICIAL-SENSITIVE.csv."""
    stem = Path(extract).stem if extract else "extract"
    return marked(f"{stem}-rejections.csv").name


def marking_line(extract_name: str | None, locality_name: str) -> str:
    """The file's first line: the marking, and what the rows are."""
    of = f" of {extract_name}" if extract_name else ""
    return (
        f"{MARKING}: patient-identifiable. The rows{of} rejected for {locality_name}; the reasons quote NHS numbers "
        "and dates of birth. Keep on an NHS-approved, encrypted device and delete when fixed."
    )


def write_rejections(
    db: sqlite_utils.Database,
    actor: Actor,
    rejections: Sequence[Rejection],
    out: str | Path,
    locality_name: str,
    extract_name: str | None = None,
) -> int:
    """Write *rejections* to the CSV file *out* (the marking line, the headings, a row each) and audit the export;
    returns the number of rows written."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise ValidationError("Save the rejected rows to a .csv file.")
    with written(db, out) as temp:
        with open(temp, "w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow([formula_safe(marking_line(extract_name, locality_name))])
            writer.writerow(HEADINGS)
            writer.writerows([formula_safe(r.row), formula_safe(r.column), formula_safe(r.reason)] for r in rejections)
        of = f" of {extract_name}" if extract_name else ""
        audit.record(
            db,
            actor,
            "export",
            "rejections",
            None,
            f"Saved {len(rejections):,} rejected {'row' if len(rejections) == 1 else 'rows'}{of} for {locality_name} "
            f"to {out.name}",
            {
                "file": str(out),
                "rows": len(rejections),
                "locality": locality_name,
                "extract": extract_name,
                "marking": MARKING,
            },
        )
    return len(rejections)
