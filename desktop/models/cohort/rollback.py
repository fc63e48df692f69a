"""Rolling back a locality's last extract import as one step (issue 22).

An import writes its run (the run row, its stored cohort, its cohort_changes) and touches only the `patients`
rows the team has worked on: their identity and cohort membership. Beside the run it keeps those columns as
they were before and as it left them, and the workspace settings it changed (risk_run_undo). Rolling back
deletes the run and puts those columns back, so every table but the audit log is as it was before the import.

The team's own work is never lost: the columns put back are the import's only, and a rollback is refused in
plain words when later work depends on the run — a patient who joined in it and has been worked on since, a
return signed off after it, or a row the import wrote that has changed since (a sync, another locality's
import).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .. import audit, quarters
from ..changes import Changes
from ..clock import Actor
from ..errors import ValidationError
from ..workspace import locality_by_code
from . import changed_risk, frame

# The patients columns an import writes (risk_import._refresh_worked_patients, _record_leavers_and_changes).
IMPORTED = (
    "locality_id",
    "given_name",
    "family_name",
    "sex",
    "postcode",
    "practice_code",
    "care_home_id",
    "date_of_birth",
    "joined_run_id",
    "in_cohort",
    "left_run_id",
    "left_reason",
)
STAMP = ("updated_at", "updated_by", "device_id")
# The tables an import writes and a roll-back puts back.
WRITTEN = ("risk_runs", "patients", "cohort_changes")
_CHUNK = 500


def capture(db: sqlite_utils.Database, patient_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The import-written columns and stamps of *patient_ids*, as they are now (before the import writes)."""
    found: dict[str, dict[str, Any]] = {}
    wanted = list(dict.fromkeys(patient_ids))
    columns = ", ".join(f"[{c}]" for c in ("id", *IMPORTED, *STAMP))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for row in db.query(f"SELECT {columns} FROM patients WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
            found[row.pop("id")] = row
    return found


def keep(
    db: sqlite_utils.Database, run_id: str, before: dict[str, dict[str, Any]], meta_before: dict[str, str | None]
) -> None:
    """Store what the import overwrote, and what it wrote, beside its run (inside the import's transaction)."""
    after = capture(db, list(before))
    db.execute(
        "INSERT INTO risk_run_undo (run_id, patients, meta) VALUES (?, ?, ?)",
        [run_id, json.dumps({"before": before, "after": after}, sort_keys=True), json.dumps(meta_before)],
    )


@dataclass(frozen=True)
class LastImport:
    """What the import history and Edit → Undo say of a locality's last import."""

    run: dict[str, Any]
    previous: dict[str, Any] | None  # the run the locality goes back to (None: no cohort at all)
    refusal: str | None  # why it cannot be rolled back, in plain words; None when it can

    def describe(self) -> str:
        run = self.run
        back = (
            f"the run of {_day(self.previous['extract_date'])} ({self.previous['file_name']}, cohort "
            f"{self.previous['cohort_total']:,})"
            if self.previous
            else "no imported cohort"
        )
        return (
            f"{run['file_name']}, dated {_day(run['extract_date'])}, imported by {run['imported_by']}: cohort "
            f"{run['cohort_total']:,} ({run['new']:,} new, {run['left']:,} left, {run['changed']:,} changed). "
            f"Rolling it back returns the cohort to {back}; the team's own work (caseload, care plans, notes, "
            "actions) is kept."
        )


@dataclass(frozen=True)
class _Kept:
    """What an import kept beside its run, and the rows it touched as they are now."""

    before: dict[str, dict[str, Any]]
    after: dict[str, dict[str, Any]]
    meta: dict[str, str | None]
    now: dict[str, dict[str, Any]]


def last_import(db: sqlite_utils.Database, locality_code: str) -> LastImport | None:
    """The locality's last import and whether it can be rolled back (None: nothing has been imported)."""
    return _last(db, locality_by_code(db, locality_code))[0]


def _last(db: sqlite_utils.Database, locality: dict[str, Any]) -> tuple[LastImport | None, _Kept | None]:
    run = frame.latest_run(db, locality["id"])
    if run is None:
        return None, None
    row = db.execute("SELECT patients, meta FROM risk_run_undo WHERE run_id = ?", [run["id"]]).fetchone()
    kept = None
    if row is not None:
        images = json.loads(row[0])
        kept = _Kept(images["before"], images["after"], json.loads(row[1]), capture(db, list(images["after"])))
    return LastImport(run, changed_risk.previous_run(db, run), _refusal(db, locality, run, kept)), kept


def history(db: sqlite_utils.Database, locality_code: str) -> list[dict[str, Any]]:
    """The locality's import runs, newest first, with whether each was a partial extract."""
    return list(reversed(frame.runs(db, locality_by_code(db, locality_code)["id"])))


def roll_back(db: sqlite_utils.Database, actor: Actor, locality_code: str, run_id: str | None = None) -> LastImport:
    """Undo the locality's last import in one transaction; *run_id*, when given, must still be that import (an
    undo step names the run it would take back). ValidationError, writing nothing, when it cannot."""
    locality = locality_by_code(db, locality_code)
    with db.atomic():
        last, kept = _last(db, locality)
        if last is None:
            raise ValidationError(f"{locality['name']} has no imported extract to roll back.")
        run = last.run
        if run_id is not None and run["id"] != run_id:
            raise ValidationError(
                f"That import is no longer {locality['name']}'s last ({run['file_name']} is), so it cannot be rolled "
                "back; nothing was changed."
            )
        if last.refusal or kept is None:
            raise ValidationError(last.refusal)
        for pid, before in kept.before.items():
            now = kept.now[pid]  # the refusal above made sure the row is there, as the import left it
            # The team's edit since the import keeps its stamp; otherwise the row's stamps go back too.
            stamps = before if all(now[c] == kept.after[pid][c] for c in STAMP) else now
            row = {**{c: before[c] for c in IMPORTED}, **{c: stamps[c] for c in STAMP}}
            db.execute(f"UPDATE patients SET {', '.join(f'[{c}] = ?' for c in row)} WHERE id = ?", [*row.values(), pid])
        for key, value in kept.meta.items():
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", [key])
            else:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])
        for table, column in (
            ("cohort_changes", "run_id"),
            ("risk_run_cohorts", "run_id"),
            ("risk_run_undo", "run_id"),
            ("risk_runs", "id"),
        ):
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", [run["id"]])
        audit.record(
            db,
            actor,
            "roll back",
            "risk_runs",
            run["id"],
            f"Rolled back the import of {run['file_name']} (dated {_day(run['extract_date'])}) for "
            f"{locality['name']}: cohort {run['cohort_total']:,} removed, "
            f"{len(kept.before):,} worked-on patients put back as they were",
            {"file": run["file_name"], "extract_date": run["extract_date"], "imported_at": run["imported_at"]},
        )
    return last


def changes() -> Changes:
    return Changes.of(*WRITTEN)


def _refusal(
    db: sqlite_utils.Database, locality: dict[str, Any], run: dict[str, Any], kept: _Kept | None
) -> str | None:
    if kept is None:
        return (
            f"The import of {run['file_name']} was made before imports could be rolled back (or came with the demo "
            "world), so it cannot be rolled back. Import the right extract again instead."
        )
    since = [
        r
        for r in db.query(
            "SELECT id, given_name, family_name FROM patients WHERE joined_run_id = ? OR left_run_id = ? "
            "ORDER BY family_name, given_name",
            [run["id"], run["id"]],
        )
        if r["id"] not in kept.before
    ]
    if since:
        return (
            f"Since {run['file_name']} was imported the team has started work on {len(since):,} patient"
            f"{'s' if len(since) != 1 else ''} who joined the cohort in it ({_people(since)}). Rolling it back would "
            "take them out of the cohort with that work, so nothing was changed. Import the right extract instead: "
            "it replaces this one's new, left and changed."
        )
    signed = db.execute(
        "SELECT period, signed_off_at FROM returns WHERE locality_id = ? AND status IN ('signed_off', 'exported') "
        "AND signed_off_at > ? ORDER BY signed_off_at LIMIT 1",
        [locality["id"], run["imported_at"]],
    ).fetchone()
    if signed:
        return (
            f"The {quarters.parse(signed[0]).label} return was signed off after {run['file_name']} was imported, and "
            "its figures come from that import. Reopen the return first, then roll the import back; nothing was "
            "changed."
        )
    moved = [
        pid
        for pid, after in kept.after.items()
        if kept.now.get(pid) is None or any(kept.now[pid][c] != after[c] for c in IMPORTED)
    ]
    if moved:
        names = list(
            db.query(
                f"SELECT given_name, family_name FROM patients WHERE id IN ({', '.join('?' * len(moved[:3]))})",
                moved[:3],
            )
        )
        return (
            f"{len(moved):,} patient record{'s' if len(moved) != 1 else ''} this import updated "
            f"{'have' if len(moved) != 1 else 'has'} changed since ({_people(names) or 'removed'}), by a sync or "
            "another locality's import; rolling back would overwrite that, so nothing was changed."
        )
    return None


def _people(rows: list[dict[str, Any]], limit: int = 3) -> str:
    shown = [f"{r['given_name']} {str(r['family_name']).upper()}".strip() for r in rows[:limit]]
    return ", ".join(shown) + (f" and {len(rows) - limit:,} more" if len(rows) > limit else "")


def _day(iso: str) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"
