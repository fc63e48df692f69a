"""The team's work on cohort patients (DESIGN §6.4): lifecycle, stream, named GP, case manager, care plan,
review interval and interventions. Every change is one audited transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from .. import audit, clock, workspace
from ..changes import Changes
from ..clock import Actor, new_id
from ..dates import add_months, parse_date
from ..errors import NotFound, ValidationError
from ..undo import UndoStack, recording
from . import caseload_history
from . import frame as cohort
from . import rules as cohort_rules

STATUSES = ("identified", "contacted", "on caseload", "discharged")
DISCHARGE_REASONS = ("stable", "declined", "moved", "died")
STREAMS = ("complex", "intermediate", "less complex")
INTERVENTION_TYPES = (
    "care-plan review",
    "structured medication review",
    "falls assessment",
    "social prescribing",
    "crisis response referral",
    "advance care plan",
    "carer assessment",
    "other",
)
EDITABLE = (
    "status",
    "discharge_reason",
    "stream",
    "named_gp_id",
    "case_manager_id",
    "care_plan_date",
    "review_interval_months",
    "notes",
)
# What validate_changes checks, field by field, in the words the caseload form shows as help.
HELP = {
    "status": f"One of: {', '.join(STATUSES)}.",
    "discharge_reason": f"Required for a discharge: {', '.join(DISCHARGE_REASONS)}.",
    "stream": f"Optional: {', '.join(STREAMS)}.",
    "named_gp_id": "A GP on this locality's staff list, or none named.",
    "case_manager_id": "Someone on this locality's staff list, or nobody named.",
    "care_plan_date": "The day the care plan was agreed; not in the future. The next review is counted from it.",
    "review_interval_months": "Months between reviews, 1 to 24. Default: the cohort criteria's interval (6 months, "
    "or 3 for severe frailty, unless changed), set when the patient goes on the caseload.",
    "notes": "Optional.",
}
# What add_intervention checks, in the words the intervention form shows as help.
INTERVENTION_HELP = {
    "type": f"Required: {', '.join(INTERVENTION_TYPES)}. A care-plan review moves the next review date on.",
    "delivered_on": "Required: the day it was delivered, not in the future.",
    "delivered_by_id": "Someone on this locality's staff list, or Not recorded.",
    "note": "Optional.",
}


def get_patient(db: sqlite_utils.Database, patient_id: str) -> dict[str, Any]:
    """The patient's record; for someone the team has not yet worked on, what the latest cohort says."""
    rows = list(db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
    if rows:
        return rows[0]
    found = cohort.member(db, patient_id)
    if found is None:
        raise NotFound("That patient is no longer in this workspace.")
    return _unworked(*found)


def _unworked(locality_id: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["patient_id"],
        "nhs_number": str(row["nhs_number"]),
        "locality_id": locality_id,
        "given_name": row["given_name"],
        "family_name": row["family_name"],
        "date_of_birth": row["date_of_birth"].isoformat(),
        "sex": row["sex"],
        "postcode": row["postcode"],
        "practice_code": row["practice_code"],
        "care_home_id": row["care_home_id"],
        "in_cohort": 1,
        "joined_run_id": row["run_id"] if row["change"] == "new" else None,
        "left_run_id": None,
        "left_reason": "",
        "status": "identified",
        "discharge_reason": "",
        "stream": "",
        "named_gp_id": None,
        "case_manager_id": None,
        "care_plan_date": None,
        "review_interval_months": None,
        "next_review_due": None,
        "notes": "",
        "flagged_for_mdt": 0,
        "flag_note": "",
    }


def ensure_rows(db: sqlite_utils.Database, actor: Actor, patient_ids: list[str]) -> None:
    """Give patients the team starts working on a row of their own, from the latest cohort."""
    workspace.require_patient_level(db)
    held = {
        r[0]
        for r in db.execute(f"SELECT id FROM patients WHERE id IN ({', '.join('?' * len(patient_ids))})", patient_ids)
    }
    missing = [pid for pid in patient_ids if pid not in held]
    if not missing:
        return
    found = cohort.members(db, missing)
    gone = [pid for pid in missing if pid not in found]
    if gone:
        raise NotFound("A chosen patient is no longer in this workspace; reload the cohort and try again.")
    now = actor.now()
    db["patients"].insert_all(
        [
            {
                **_unworked(*found[pid]),
                "created_at": now,
                "updated_at": now,
                "updated_by": actor.user,
                "device_id": actor.device_id,
            }
            for pid in missing
        ]
    )


def _staff_in_locality(
    db: sqlite_utils.Database, staff_id: str | None, locality_id: str, label: str, field: str
) -> str | None:
    if not staff_id:
        return None
    row = db.execute("SELECT locality_id FROM staff WHERE id = ?", [staff_id]).fetchone()
    if row is None:
        raise ValidationError(f"The chosen {label} is no longer on the staff list.", field)
    if row[0] != locality_id:
        raise ValidationError(f"The chosen {label} works in another locality.", field)
    return staff_id


def validate_changes(
    db: sqlite_utils.Database, patient: dict[str, Any], changes: dict[str, Any], today: dt.date | None = None
) -> dict[str, Any]:
    """Clean a set of caseload edits for one patient, or raise ValidationError naming the field."""
    today = today or clock.today()
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    merged = {**{k: patient[k] for k in EDITABLE}, **changes}
    if merged["status"] not in STATUSES:
        raise ValidationError(f"Status must be one of: {', '.join(STATUSES)}.", "status")
    if merged["status"] == "discharged":
        if merged["discharge_reason"] not in DISCHARGE_REASONS:
            raise ValidationError(
                "Say why the patient is discharged: stable, declined, moved or died.", "discharge_reason"
            )
    else:
        merged["discharge_reason"] = ""
    if merged["stream"] not in ("", *STREAMS):
        raise ValidationError(f"Stream must be one of: {', '.join(STREAMS)}.", "stream")
    merged["named_gp_id"] = _staff_in_locality(
        db, merged["named_gp_id"], patient["locality_id"], "named GP", "named_gp_id"
    )
    merged["case_manager_id"] = _staff_in_locality(
        db, merged["case_manager_id"], patient["locality_id"], "case manager", "case_manager_id"
    )
    merged["care_plan_date"] = parse_date(merged["care_plan_date"], "The care-plan date", "care_plan_date")
    if merged["care_plan_date"] and merged["care_plan_date"] > today.isoformat():
        raise ValidationError("The care-plan date cannot be in the future.", "care_plan_date")
    interval = merged["review_interval_months"]
    if interval in (None, ""):
        interval = None
    else:
        try:
            interval = int(interval)
        except (TypeError, ValueError):
            raise ValidationError(
                "The review interval is a whole number of months.", "review_interval_months"
            ) from None
        if not 1 <= interval <= 24:
            raise ValidationError("The review interval must be between 1 and 24 months.", "review_interval_months")
    merged["review_interval_months"] = interval
    merged["notes"] = str(merged["notes"] or "")
    return merged


def next_review_due(
    db: sqlite_utils.Database, patient_id: str, care_plan_date: str | None, interval: int | None
) -> str | None:
    """The later of the care plan and the last care-plan review, plus the review interval."""
    if not care_plan_date and not interval:
        return None
    last_review = db.execute(
        "SELECT MAX(delivered_on) FROM interventions WHERE patient_id = ? AND type = 'care-plan review'", [patient_id]
    ).fetchone()[0]
    base = max(d for d in (care_plan_date, last_review) if d) if (care_plan_date or last_review) else None
    if base is None:
        return None
    return add_months(dt.date.fromisoformat(base), interval or 6).isoformat()


def update_patients(
    db: sqlite_utils.Database,
    actor: Actor,
    patient_ids: list[str],
    changes: dict[str, Any],
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> Changes:
    """Apply the same caseload edits to one or many patients (bulk assignment), all or none; one undo step."""
    if not patient_ids:
        raise ValidationError("Choose at least one patient.")
    rules = cohort_rules.load(db)
    with recording(undo, db, edit_name(changes, len(patient_ids))) as step:
        step.touch(db, "patients", patient_ids)  # before ensure_rows: a patient new to the team has no row yet
        ensure_rows(db, actor, list(patient_ids))
        deficits: dict[str, int] | None = None  # the latest eFI, read once for the whole batch
        moved_status: list[caseload_history.Change] = []
        for pid in patient_ids:
            patient = get_patient(db, pid)
            clean = validate_changes(db, patient, changes, today)
            if clean["status"] == "on caseload" and clean["review_interval_months"] is None:
                if deficits is None:
                    deficits = cohort.latest_deficits(db, patient["locality_id"], list(patient_ids))
                severe = deficits.get(pid, 0) >= rules.severe_frailty_min_deficits
                clean["review_interval_months"] = (
                    rules.severe_frailty_review_interval_months if severe else rules.review_interval_months
                )
            clean["next_review_due"] = next_review_due(
                db, pid, clean["care_plan_date"], clean["review_interval_months"]
            )
            moved = {k: {"before": patient[k], "after": v} for k, v in clean.items() if patient[k] != v}
            if not moved:
                continue
            db["patients"].update(pid, {**clean, **actor.stamp()})
            audit.record(
                db,
                actor,
                "update",
                "patients",
                pid,
                f"Changed {', '.join(k.replace('_id', '').replace('_', ' ') for k in moved)}",
                {"changes": moved},
            )
            if "status" in moved:
                moved_status.append(
                    caseload_history.Change(pid, patient["locality_id"], patient["status"], clean["status"])
                )
        # The day of the edit, as validation judged it: the KPIs of a past period count the caseload as it was.
        caseload_history.record(db, actor, moved_status, today or clock.today(), step)
    return Changes.of("patients", "caseload_history")


FIELD_NAMES = {
    "status": "status",
    "discharge_reason": "discharge reason",
    "stream": "stream",
    "named_gp_id": "named GP",
    "case_manager_id": "case manager",
    "care_plan_date": "care-plan date",
    "review_interval_months": "review interval",
    "notes": "notes",
}


def edit_name(changes: dict[str, Any], patients: int) -> str:
    """The undo step's name: "Set status of 3 patients to On caseload", "Change case manager"."""
    whom = f" of {patients:,} patients" if patients > 1 else ""
    if set(changes) <= {"status", "discharge_reason"} and changes.get("status"):
        return f"Set status{whom} to {str(changes['status']).capitalize()}"
    named = [FIELD_NAMES.get(k, k.replace("_", " ")) for k in changes if k != "discharge_reason" or len(changes) == 1]
    fields = ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else "".join(named)
    return f"Change {fields or 'caseload record'}{whom}"


def add_intervention(
    db: sqlite_utils.Database,
    actor: Actor,
    patient_id: str,
    kind: str,
    delivered_on: Any,
    delivered_by_id: str | None = None,
    note: str = "",
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> tuple[str, Changes]:
    """Record an intervention delivered; a care-plan review moves the patient's next review on. One undo step
    takes back the intervention, the review date it moved and any patient record it created."""
    today = today or clock.today()
    patient = get_patient(db, patient_id)
    if kind not in INTERVENTION_TYPES:
        raise ValidationError(f"Intervention type must be one of: {', '.join(INTERVENTION_TYPES)}.", "type")
    day = parse_date(delivered_on, "The date delivered", "delivered_on")
    if day is None:
        raise ValidationError("Say when the intervention was delivered.", "delivered_on")
    if day > today.isoformat():
        raise ValidationError("An intervention cannot be recorded in the future.", "delivered_on")
    by = _staff_in_locality(db, delivered_by_id, patient["locality_id"], "clinician", "delivered_by_id")
    row_id = new_id()
    now = actor.now()
    with recording(undo, db, f"Record {kind} of {dt.date.fromisoformat(day):%d/%m/%Y}") as step:
        step.touch(db, "patients", [patient_id])  # before ensure_rows: a patient new to the team has no row yet
        step.touch(db, "interventions", [row_id])
        ensure_rows(db, actor, [patient_id])
        db["interventions"].insert(
            {
                "id": row_id,
                "patient_id": patient_id,
                "locality_id": patient["locality_id"],
                "type": kind,
                "delivered_on": day,
                "delivered_by_id": by,
                "note": note or "",
                "created_at": now,
                "updated_at": now,
                "updated_by": actor.user,
                "device_id": actor.device_id,
            }
        )
        if kind == "care-plan review":
            due = next_review_due(db, patient_id, patient["care_plan_date"], patient["review_interval_months"])
            if due != patient["next_review_due"]:  # stamped, so a sync carries the new date to teammates
                db["patients"].update(patient_id, {"next_review_due": due, **actor.stamp()})
        audit.record(
            db, actor, "create", "interventions", row_id, f"Recorded {kind} on {day}", {"patient_id": patient_id}
        )
    return row_id, Changes.of("interventions", "patients")


def interventions(db: sqlite_utils.Database, patient_id: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT i.*, s.name AS delivered_by FROM interventions i LEFT JOIN staff s ON s.id = i.delivered_by_id "
            "WHERE i.patient_id = ? ORDER BY i.delivered_on DESC",
            [patient_id],
        )
    )
