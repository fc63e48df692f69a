"""Is this checked extract plausibly the locality's whole registered population? (issue 22)

A file picked by mistake (one practice's extract, last quarter's, another locality's) used to be imported
without a word, marking thousands of patients as left and flooding "new" on the next import. Before anything
is written the file is compared with the locality's previous run and its practices; what looks wrong is said
in plain words. Findings that would wreck the quarter *block*: the GUI asks before going on, the CLI refuses
unless told `--accept-partial`. A partial file, once accepted, changes only the practices it covers: the
previous run's patients of the other practices are carried into the new run as they were.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import sqlite_utils

from ..errors import ValidationError

# A quarter's churn is typically a few per cent; a quarter of the cohort leaving at once is a wrong file.
LEAVING_SHARE = 0.25
LEAVING_MIN = 20  # below this many leavers a share says nothing
# A practice whose rows fall below half of both its registered list and its previous run's count was cut short.
PRACTICE_SHARE = 0.5
PRACTICE_MIN = 50
_ELSEWHERE = re.compile(r"^Practice \S+ belongs to (.+), not this locality\.$")


@dataclass(frozen=True)
class Finding:
    key: str  # "coverage", "practice_rows", "leaving", "other_locality", "list_size"
    text: str
    blocking: bool = True


@dataclass
class Plausibility:
    """What the comparison found, and which practices the file covers."""

    findings: list[Finding] = field(default_factory=list)
    covered: list[str] = field(default_factory=list)  # practices with valid rows in the file
    missing: list[str] = field(default_factory=list)  # practices of the previous run the file has no rows for
    leaving: int = 0  # previous-cohort patients a whole-population import would mark as left

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    def as_json(self) -> dict[str, Any]:
        return {
            "findings": [{"key": f.key, "text": f.text, "blocking": f.blocking} for f in self.findings],
            "covered": self.covered,
            "missing": self.missing,
            "leaving": self.leaving,
        }


class ImplausibleExtract(ValidationError):
    """Refused because the file does not look like the locality's whole extract; nothing was written."""

    def __init__(self, plausibility: Plausibility, file_name: str):
        self.plausibility = plausibility
        lines = "\n".join(f"- {f.text}" for f in plausibility.blocking)
        what = (
            "only the practices it covers would change"
            if plausibility.partial
            else "it would be imported as the locality's whole population"
        )
        super().__init__(
            f"{file_name} does not look like the locality's whole extract:\n{lines}\nNothing was imported. Check "
            f"you picked the right file; to import it anyway ({what}), confirm in the import dialog or give "
            "--accept-partial on the command line."
        )


def assess(
    db: sqlite_utils.Database,
    locality: Mapping[str, Any],
    practice_rows: Mapping[str, int],
    rejections: list,
    previous: Mapping[str, Any] | None,
    last: pa.Table | None,
    cohort_nhs: np.ndarray,
) -> Plausibility:
    """Compare a checked file with the locality's *previous* run (its risk_runs row) and that run's cohort *last*.
    *practice_rows* counts the file's valid rows per practice, *cohort_nhs* are the new cohort's NHS numbers."""
    practices = {
        r["ods_code"]: r
        for r in db.query(
            "SELECT ods_code, name, list_size, status FROM practices WHERE locality_id = ?", [locality["id"]]
        )
    }
    before = _previous_counts(previous)
    covered = sorted(code for code, n in practice_rows.items() if n)
    expected = sorted(c for c, n in before.items() if n and practices.get(c, {}).get("status", "active") == "active")
    missing = [c for c in expected if c not in practice_rows]
    out = Plausibility(covered=covered, missing=missing)
    if last is not None and len(last):
        gone = pc.invert(pc.is_in(last["nhs_number"], pa.array(cohort_nhs, pa.int64())))
        out.leaving = int(pc.sum(gone).as_py() or 0)
    total = sum(practice_rows.values())
    if missing:
        carried = _carried_count(last, missing)
        out.findings.append(
            Finding(
                "coverage",
                f"This file covers {len(covered)} of the {len(expected)} practices of {locality['name']}'s last "
                f"run (no rows for {_named(missing, practices)}). Imported as the whole population it would mark "
                f"{out.leaving:,} patients as left; imported as a partial extract only its practices change and "
                f"the {carried:,} cohort patients of the others are kept as they were.",
            )
        )
    elif last is not None and out.leaving >= LEAVING_MIN and out.leaving > LEAVING_SHARE * len(last):
        out.findings.append(
            Finding(
                "leaving",
                f"Importing it would mark {out.leaving:,} of the {len(last):,} patients of the last run's cohort "
                f"({out.leaving / len(last):.0%}) as left; a quarter usually changes a few per cent.",
            )
        )
    short, thin = [], []  # practices cut short against the last run; (first run) far below their lists
    for code in covered:
        rows, listed, earlier = practice_rows[code], practices.get(code, {}).get("list_size") or 0, before.get(code, 0)
        if earlier >= PRACTICE_MIN and rows < PRACTICE_SHARE * earlier and rows < PRACTICE_SHARE * max(listed, 1):
            short.append(
                f"{_named([code], practices)}: {rows:,} rows, against {earlier:,} in the last run and a "
                f"registered list of {listed:,}"
            )
        elif not before and listed >= PRACTICE_MIN and rows < PRACTICE_SHARE * listed:
            thin.append(f"{_named([code], practices)}: {rows:,} rows against a registered list of {listed:,}")
    if short:
        out.findings.append(
            Finding(
                "practice_rows",
                f"{_count(short, 'practice has', 'practices have')} far fewer rows than in the last run and on "
                f"{'its list' if len(short) == 1 else 'their lists'} ({_listed(short)}): the file looks cut short.",
            )
        )
    if thin:
        out.findings.append(
            Finding(
                "list_size",
                f"{_count(thin, 'practice has', 'practices have')} far fewer rows than registered patients "
                f"({_listed(thin)}): is this each practice's whole population?",
                blocking=False,
            )
        )
    elsewhere = _other_localities(rejections)
    if elsewhere and sum(elsewhere.values()) > total:
        name, n = max(elsewhere.items(), key=lambda kv: kv[1])
        out.findings.append(
            Finding(
                "other_locality",
                f"{sum(elsewhere.values()):,} of its rows are registered with other localities' practices "
                f"({n:,} with {name}'s), against {total:,} with {locality['name']}'s: it looks like another "
                "locality's extract.",
            )
        )
    return out


def _previous_counts(previous: Mapping[str, Any] | None) -> dict[str, int]:
    if previous is None:
        return {}
    try:
        counts = json.loads(previous["summary"]).get("practice", {})
    except (ValueError, AttributeError):
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, int | float)}


def _carried_count(last: pa.Table | None, missing: list[str]) -> int:
    if last is None:
        return 0
    return int(pc.sum(pc.is_in(last["practice_code"], pa.array(missing))).as_py() or 0)


def _other_localities(rejections: list) -> dict[str, int]:
    """Rows refused because their practice is another locality's, by that locality's name."""
    found: dict[str, int] = {}
    for r in rejections:
        if r.column == "practice_code" and (m := _ELSEWHERE.match(r.reason)):
            found[m.group(1)] = found.get(m.group(1), 0) + 1
    return found


def _count(items: list, one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


def _listed(items: list[str], limit: int = 3) -> str:
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


def _named(codes: list[str], practices: Mapping[str, Mapping[str, Any]], limit: int = 4) -> str:
    shown = [f"{c} {practices[c]['name']}" if c in practices else c for c in codes[:limit]]
    more = f" and {len(codes) - limit} more" if len(codes) > limit else ""
    return ", ".join(shown) + more


def carried_rows(last: pa.Table, missing: list[str], in_file: np.ndarray) -> np.ndarray:
    """Which rows of *last* a partial import keeps as they were: patients of the practices the file does not
    cover who are not in the file at all (one who moved to a covered practice, or is in the file but no longer
    meets the criteria, is judged by the file)."""
    uncovered = pc.is_in(last["practice_code"], pa.array(missing, pa.string()))
    absent = pc.invert(pc.is_in(last["nhs_number"], pa.array(in_file, pa.int64())))
    return np.asarray(pc.and_(uncovered, absent).to_numpy(zero_copy_only=False), dtype=bool)
