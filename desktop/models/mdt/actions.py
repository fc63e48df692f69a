"""The action log (DESIGN §7): references, owners, due dates, status, escalation and overdue rules.

Every change is one audited transaction, so an action's history is its audit trail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .. import audit, clock
from ..changes import Changes
from ..clock import Actor, new_id
from ..dates import parse_date
from ..errors import NotFound, ValidationError
from ..kpi.catalogue import by_code
from ..reference import ORGANISATIONS
from ..undo import UndoStack, recording

STATUSES = ("open", "in progress", "done", "cancelled")
OPEN = ("open", "in progress")
DUE_WINDOWS = ("overdue", "due in 7 days", "due in 30 days", "no longer open")
EDITABLE = ("description", "owner_name", "owner_staff_id", "owner_organisation", "due_date", "patient_id", "kpi")
# What _clean, set_status and escalate check, field by field, in the words the forms show as help.
HELP = {
    "description": "Required: what is to be done.",
    "owner_name": "Required: a member of the team from the list, or the name of anyone else typed in.",
    "owner_organisation": f"Required: one of {', '.join(ORGANISATIONS)}. Choosing a team member fills it in.",
    "due_date": "Required: a date such as 25/12/2026. An action still open after this date is overdue.",
    "patient_id": "Optional: the patient the action is about.",
    "kpi": "Optional: a KPI of the catalogue; the locality report lists the action under it.",
    "status": f"One of: {', '.join(STATUSES)}. Done needs a completion date.",
    "completed_on": "The day it was done; not in the future. Empty means today.",
    "outcome_note": "Optional: what came of it.",
    "escalated_to": "To escalate, say both to whom and why; leave both empty otherwise.",
    "escalation_reason": "To escalate, say both to whom and why; leave both empty otherwise.",
}


def is_overdue(action: dict[str, Any], today: dt.date) -> bool:
    """Overdue = still open (or in progress) past its due date."""
    return action["status"] in OPEN and action["due_date"] < today.isoformat()


def get(db: sqlite_utils.Database, action_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM actions WHERE id = ?", [action_id]))
    if not rows:
        raise NotFound("That action no longer exists.")
    return rows[0]


def _clean(db: sqlite_utils.Database, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
    clean = dict(values)
    description = str(clean.get("description") or "").strip()
    if not description:
        raise ValidationError("Describe the action: what is to be done.", "description")
    clean["description"] = description
    owner_staff = clean.get("owner_staff_id") or None
    owner = str(clean.get("owner_name") or "").strip()
    if owner_staff:
        staff = db.execute("SELECT name, organisation FROM staff WHERE id = ?", [owner_staff]).fetchone()
        if staff is None:
            raise ValidationError("The chosen owner is no longer on the staff list.", "owner_staff_id")
        owner = owner or staff[0]
        clean.setdefault("owner_organisation", staff[1])
        clean["owner_organisation"] = clean["owner_organisation"] or staff[1]
    if not owner:
        raise ValidationError("Say who owns the action.", "owner_name")
    clean["owner_name"], clean["owner_staff_id"] = owner, owner_staff
    if clean.get("owner_organisation") not in ORGANISATIONS:
        raise ValidationError(
            f"The owner's organisation must be one of: {', '.join(ORGANISATIONS)}.", "owner_organisation"
        )
    clean["due_date"] = parse_date(clean.get("due_date"), "The due date", "due_date", required=True)
    patient = clean.get("patient_id") or None
    if patient and db.execute("SELECT 1 FROM patients WHERE id = ?", [patient]).fetchone() is None:
        from ..cohort.caseload import ensure_rows  # a patient gets a record once an action names them

        ensure_rows(db, actor, [patient])
    clean["patient_id"] = patient
    kpi = clean.get("kpi") or None
    if kpi is not None and kpi not in by_code():
        raise ValidationError(f"{kpi} is not a KPI of the catalogue.", "kpi")
    clean["kpi"] = kpi
    return {k: clean[k] for k in EDITABLE}


def against_kpi(db: sqlite_utils.Database, locality_id: str, kpi: str) -> list[dict[str, Any]]:
    """The locality's actions raised against a KPI, open ones first, then the latest."""
    return list(
        db.query(
            "SELECT * FROM actions WHERE locality_id = ? AND kpi = ? ORDER BY status IN ('done', "
            "'cancelled'), due_date DESC",
            [locality_id, kpi],
        )
    )


def next_reference(db: sqlite_utils.Database, locality_id: str, year: int) -> tuple[str, int]:
    code = db.execute("SELECT code FROM localities WHERE id = ?", [locality_id]).fetchone()
    if code is None:
        raise ValidationError("Choose a locality for the action.")
    seq = db.execute(
        "SELECT COALESCE(MAX(seq), 0) + 1 FROM actions WHERE locality_id = ? AND year = ?", [locality_id, year]
    ).fetchone()[0]
    return f"{code[0]}-{year}-{seq:04d}", seq


def create(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_id: str,
    values: dict[str, Any],
    meeting_id: str | None = None,
    today: dt.date | None = None,
) -> tuple[str, Changes]:
    """A new open action, from a meeting (and its patient) or on its own; returns its id."""
    today = today or clock.today()
    with db.atomic():
        clean = _clean(db, actor, values)
        if (
            meeting_id
            and db.execute(
                "SELECT 1 FROM meetings WHERE id = ? AND locality_id = ?", [meeting_id, locality_id]
            ).fetchone()
            is None
        ):
            raise ValidationError("That meeting is not one of this locality's.", "meeting_id")
        reference, seq = next_reference(db, locality_id, today.year)
        row_id, now = new_id(), actor.now()
        db["actions"].insert(
            {
                "id": row_id,
                "reference": reference,
                "locality_id": locality_id,
                "year": today.year,
                "seq": seq,
                "meeting_id": meeting_id,
                **clean,
                "status": "open",
                "created_at": now,
                "updated_at": now,
                "updated_by": actor.user,
                "device_id": actor.device_id,
            }
        )
        audit.record(
            db, actor, "create", "actions", row_id, f"Opened {reference}: {clean['description'][:80]}", {"after": clean}
        )
    return row_id, Changes.of("actions")


def update(
    db: sqlite_utils.Database, actor: Actor, action_id: str, values: dict[str, Any], undo: UndoStack | None = None
) -> Changes:
    before = get(db, action_id)
    merged = {**{k: before[k] for k in EDITABLE}, **values}
    with recording(undo, db, f"Edit action {before['reference']}") as step:
        step.touch(db, "patients", [merged.get("patient_id")])  # _clean gives a newly named patient a record
        step.touch(db, "actions", [action_id])
        clean = _clean(db, actor, merged)
        moved = {k: {"before": before[k], "after": v} for k, v in clean.items() if before[k] != v}
        if not moved:
            return Changes()
        db["actions"].update(action_id, {**clean, **actor.stamp()})
        audit.record(
            db,
            actor,
            "update",
            "actions",
            action_id,
            f"{before['reference']}: changed {', '.join(k.replace('_', ' ') for k in moved)}",
            {"changes": moved},
        )
    return Changes.of("actions")


def set_status(
    db: sqlite_utils.Database,
    actor: Actor,
    action_ids: list[str],
    status: str,
    completed_on: Any = None,
    outcome_note: str | None = None,
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> Changes:
    """Move one or many actions to *status*; done needs a completion date (default today). All or none; one
    undo step."""
    today = today or clock.today()
    if status not in STATUSES:
        raise ValidationError(f"Status must be one of: {', '.join(STATUSES)}.", "status")
    if not action_ids:
        raise ValidationError("Choose at least one action.")
    completed = parse_date(completed_on, "The completion date", "completed_on")
    if status == "done":
        completed = completed or today.isoformat()
        if completed > today.isoformat():
            raise ValidationError("An action cannot be completed in the future.", "completed_on")
    else:
        completed = None
    with recording(undo, db, status_name(db, action_ids, status)) as step:
        for action_id in action_ids:
            before = get(db, action_id)
            step.touch(db, "actions", [action_id])
            note = before["outcome_note"] if outcome_note is None else outcome_note
            if before["status"] == status and before["completed_on"] == completed and before["outcome_note"] == note:
                continue
            db["actions"].update(
                action_id, {"status": status, "completed_on": completed, "outcome_note": note, **actor.stamp()}
            )
            audit.record(
                db,
                actor,
                "status",
                "actions",
                action_id,
                f"{before['reference']}: {before['status']} → {status}" + (f" on {completed}" if completed else ""),
                {"before": before["status"], "after": status, "completed_on": completed, "note": note},
            )
    return Changes.of("actions")


def status_name(db: sqlite_utils.Database, action_ids: list[str], status: str) -> str:
    """The undo step's name: "Set status of 3 actions to Done", or of one action by its reference."""
    one = db.execute("SELECT reference FROM actions WHERE id = ?", [action_ids[0]]).fetchone()
    what = one[0] if len(action_ids) == 1 and one else f"{len(action_ids):,} actions"
    return f"Set status of {what} to {status.capitalize()}"


def escalate(
    db: sqlite_utils.Database,
    actor: Actor,
    action_id: str,
    to: str,
    why: str,
    on: Any = None,
    today: dt.date | None = None,
) -> Changes:
    today = today or clock.today()
    before = get(db, action_id)
    if not str(to).strip():
        raise ValidationError("Say to whom the action is escalated.", "escalated_to")
    if not str(why).strip():
        raise ValidationError("Say why it is escalated.", "escalation_reason")
    day = parse_date(on or today, "The escalation date", "escalated_on", required=True)
    with db.atomic():
        db["actions"].update(
            action_id,
            {"escalated_to": to.strip(), "escalation_reason": why.strip(), "escalated_on": day, **actor.stamp()},
        )
        audit.record(
            db,
            actor,
            "escalate",
            "actions",
            action_id,
            f"{before['reference']}: escalated to {to.strip()} on {day}",
            {"why": why.strip()},
        )
    return Changes.of("actions")


def history(db: sqlite_utils.Database, action_id: str) -> list[dict[str, Any]]:
    """What happened to the action, oldest first, from the audit trail."""
    return list(reversed(audit.entries(db, "actions", action_id)))


@dataclass(frozen=True)
class ActionFilter:
    text: str = ""
    owner: str | None = None  # owner name
    organisation: str | None = None
    status: str | None = None  # a status, or "open or in progress"
    due: str | None = None  # one of DUE_WINDOWS
    patient_id: str | None = None
    meeting_id: str | None = None


def listing(
    db: sqlite_utils.Database, locality_id: str, f: ActionFilter = ActionFilter(), today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The locality's actions, filtered, soonest due first, each with `overdue` and the patient's name."""
    today_s = (today or clock.today()).isoformat()
    where, params = ["a.locality_id = ?"], [locality_id]
    if f.owner:
        where.append("a.owner_name = ?")
        params.append(f.owner)
    if f.organisation:
        where.append("a.owner_organisation = ?")
        params.append(f.organisation)
    if f.status == "open or in progress":
        where.append("a.status IN ('open', 'in progress')")
    elif f.status:
        where.append("a.status = ?")
        params.append(f.status)
    if f.due == "overdue":
        where.append("a.status IN ('open', 'in progress') AND a.due_date < ?")
        params.append(today_s)
    elif f.due in ("due in 7 days", "due in 30 days"):
        days = 7 if f.due == "due in 7 days" else 30
        limit = ((today or clock.today()) + dt.timedelta(days=days)).isoformat()
        where.append("a.status IN ('open', 'in progress') AND a.due_date BETWEEN ? AND ?")
        params += [today_s, limit]
    elif f.due == "no longer open":
        where.append("a.status IN ('done', 'cancelled')")
    if f.patient_id:
        where.append("a.patient_id = ?")
        params.append(f.patient_id)
    if f.meeting_id:
        where.append("a.meeting_id = ?")
        params.append(f.meeting_id)
    if f.text.strip():
        where.append(
            "(a.reference || ' ' || a.description || ' ' || a.owner_name || ' ' || "
            "COALESCE(p.family_name, '') || ' ' || COALESCE(p.nhs_number, '')) LIKE ?"
        )
        params.append(f"%{f.text.strip()}%")
    sql = (
        "SELECT a.*, m.held_on AS meeting_date, p.nhs_number, p.given_name, p.family_name, "
        "CASE WHEN a.status IN ('open', 'in progress') AND a.due_date < ? THEN 1 ELSE 0 END AS overdue "
        "FROM actions a LEFT JOIN meetings m ON m.id = a.meeting_id LEFT JOIN patients p ON p.id = a.patient_id "
        f"WHERE {' AND '.join(where)} ORDER BY overdue DESC, a.status IN ('done', 'cancelled'), a.due_date, a.seq"
    )
    return list(db.query(sql, [today_s, *params]))


def owners(db: sqlite_utils.Database, locality_id: str) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT owner_name FROM actions WHERE locality_id = ? ORDER BY owner_name", [locality_id]
        )
    ]
