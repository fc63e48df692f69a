"""MDT meetings (DESIGN §7): plan, attend, build the agenda from the cohort worklists, record outcomes.

Creating a meeting carries every still-open action of the locality onto its agenda, so nothing agreed at
one meeting is forgotten by the next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from .. import audit
from ..changes import Changes
from ..clock import Actor, new_id
from ..cohort import frame as cohort
from ..cohort import worklists
from ..cohort.caseload import ensure_rows
from ..dates import parse_date
from ..errors import NotFound, ValidationError
from ..reference import ORGANISATIONS

TYPES = ("locality MDT", "care-home MDT", "ad hoc")
AGENDA_SOURCES = ("new this run", "review overdue", "flagged", "added")


def _stamp(actor: Actor) -> dict[str, str]:
    now = actor.now()
    return {"created_at": now, "updated_at": now, "updated_by": actor.user, "device_id": actor.device_id}


def get(db: sqlite_utils.Database, meeting_id: str) -> dict[str, Any]:
    rows = list(
        db.query(
            "SELECT m.*, s.name AS chair FROM meetings m LEFT JOIN staff s ON s.id = m.chair_id WHERE m.id = ?",
            [meeting_id],
        )
    )
    if not rows:
        raise NotFound("That meeting no longer exists.")
    return rows[0]


def listing(db: sqlite_utils.Database, locality_id: str) -> list[dict[str, Any]]:
    """The locality's meetings, newest first, with counts for the list."""
    return list(
        db.query(
            "SELECT m.*, s.name AS chair, "
            "(SELECT COUNT(*) FROM meeting_attendees a WHERE a.meeting_id = m.id AND a.present) AS attendees, "
            "(SELECT COUNT(*) FROM meeting_items i WHERE i.meeting_id = m.id AND i.kind = 'patient') AS patients, "
            "(SELECT COUNT(*) FROM actions x WHERE x.meeting_id = m.id) AS actions "
            "FROM meetings m LEFT JOIN staff s ON s.id = m.chair_id WHERE m.locality_id = ? "
            "ORDER BY m.held_on DESC",
            [locality_id],
        )
    )


def latest(db: sqlite_utils.Database, locality_id: str) -> dict[str, Any] | None:
    rows = listing(db, locality_id)
    return rows[0] if rows else None


# What create and _check_attendees check, field by field, in the words the meeting form shows as help.
HELP = {
    "held_on": "Required: the day of the meeting, such as 25/12/2026.",
    "type": f"One of: {', '.join(TYPES)}.",
    "chair_id": "Someone on this locality's staff list, or Not decided yet.",
    "location": "Optional: a room, or Teams.",
    "attendees": f"Each attendee needs a name and an organisation: {', '.join(ORGANISATIONS)}.",
}


def _check_attendees(attendees: list[dict[str, Any]]) -> list[dict[str, Any]]:
    clean = []
    for i, a in enumerate(attendees, start=1):
        name = str(a.get("name") or "").strip()
        if not name:
            raise ValidationError(f"Attendee {i} has no name.", "attendees")
        if a.get("organisation") not in ORGANISATIONS:
            raise ValidationError(f"{name}'s organisation must be one of: {', '.join(ORGANISATIONS)}.", "attendees")
        clean.append(
            {
                "name": name,
                "role": str(a.get("role") or "").strip(),
                "organisation": a["organisation"],
                "staff_id": a.get("staff_id") or None,
                "present": int(bool(a.get("present", True))),
            }
        )
    return clean


def create(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_id: str,
    held_on: Any,
    kind: str = "locality MDT",
    chair_id: str | None = None,
    attendees: list[dict[str, Any]] | None = None,
    location: str = "",
    today: dt.date | None = None,
) -> tuple[str, Changes]:
    """Plan a meeting; its agenda starts with every open action of the locality, carried forward."""
    if kind not in TYPES:
        raise ValidationError(f"Meeting type must be one of: {', '.join(TYPES)}.", "type")
    day = parse_date(held_on, "The meeting date", "held_on", required=True)
    if (
        chair_id
        and db.execute("SELECT 1 FROM staff WHERE id = ? AND locality_id = ?", [chair_id, locality_id]).fetchone()
        is None
    ):
        raise ValidationError("The chair must be on this locality's staff list.", "chair_id")
    people = _check_attendees(attendees or [])
    row_id = new_id()
    with db.atomic():
        db["meetings"].insert(
            {
                "id": row_id,
                "locality_id": locality_id,
                "held_on": day,
                "type": kind,
                "chair_id": chair_id,
                "location": location,
                "status": "planned",
                "notes": "",
                **_stamp(actor),
            }
        )
        db["meeting_attendees"].insert_all(
            [{"id": new_id(), "meeting_id": row_id, **a, **_stamp(actor)} for a in people]
        )
        carried = carry_open_actions(db, actor, row_id)
        audit.record(
            db,
            actor,
            "create",
            "meetings",
            row_id,
            f"Planned a {kind} on {day}; {carried} open actions carried onto the agenda",
        )
    return row_id, Changes.of("meetings", "meeting_items")


def carry_open_actions(db: sqlite_utils.Database, actor: Actor, meeting_id: str) -> int:
    """Put every open action of the locality not yet on this agenda onto it, for review. Returns how many."""
    meeting = get(db, meeting_id)
    open_actions = [
        r[0]
        for r in db.execute(
            "SELECT id FROM actions WHERE locality_id = ? AND status IN ('open', 'in progress') "
            "AND (meeting_id IS NULL OR meeting_id != ?) AND id NOT IN "
            "(SELECT action_id FROM meeting_items WHERE meeting_id = ? AND action_id IS NOT NULL) "
            "ORDER BY due_date, seq",
            [meeting["locality_id"], meeting_id, meeting_id],
        )
    ]
    start = _next_position(db, meeting_id)
    db["meeting_items"].insert_all(
        [
            {
                "id": new_id(),
                "meeting_id": meeting_id,
                "position": start + i,
                "kind": "action",
                "action_id": aid,
                "source": "carried forward",
                **_stamp(actor),
            }
            for i, aid in enumerate(open_actions)
        ]
    )
    return len(open_actions)


def _next_position(db: sqlite_utils.Database, meeting_id: str) -> int:
    return db.execute(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM meeting_items WHERE meeting_id = ?", [meeting_id]
    ).fetchone()[0]


def update(db: sqlite_utils.Database, actor: Actor, meeting_id: str, values: dict[str, Any]) -> Changes:
    """Edit date, type, chair, location, notes, status ('held' once it has happened) and attendees."""
    before = get(db, meeting_id)
    clean: dict[str, Any] = {}
    if "held_on" in values:
        clean["held_on"] = parse_date(values["held_on"], "The meeting date", "held_on", required=True)
    if "type" in values:
        if values["type"] not in TYPES:
            raise ValidationError(f"Meeting type must be one of: {', '.join(TYPES)}.", "type")
        clean["type"] = values["type"]
    if "status" in values:
        if values["status"] not in ("planned", "held"):
            raise ValidationError("A meeting is planned or held.", "status")
        clean["status"] = values["status"]
    for key in ("chair_id", "location", "notes"):
        if key in values:
            clean[key] = values[key] or (None if key == "chair_id" else "")
    people = _check_attendees(values["attendees"]) if "attendees" in values else None
    with db.atomic():
        if clean:
            db["meetings"].update(meeting_id, {**clean, **actor.stamp()})
        if people is not None:
            db.execute("DELETE FROM meeting_attendees WHERE meeting_id = ?", [meeting_id])
            db["meeting_attendees"].insert_all(
                [{"id": new_id(), "meeting_id": meeting_id, **a, **_stamp(actor)} for a in people]
            )
        moved = [k for k in clean if before.get(k) != clean[k]] + (["attendees"] if people is not None else [])
        audit.record(
            db,
            actor,
            "update",
            "meetings",
            meeting_id,
            f"Meeting of {before['held_on']}: changed {', '.join(moved) or 'nothing'}",
        )
    return Changes.of("meetings")


def attendees(db: sqlite_utils.Database, meeting_id: str) -> list[dict[str, Any]]:
    return list(
        db.query("SELECT * FROM meeting_attendees WHERE meeting_id = ? ORDER BY organisation, name", [meeting_id])
    )


def suggest_agenda(
    db: sqlite_utils.Database, locality_id: str, today: dt.date | None = None, frame: cohort.CohortFrame | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Patients to consider for the agenda, by source: the Monday worklists and those flagged for MDT."""
    frame = frame or cohort.load(db, locality_id)
    c = frame.columns
    out: dict[str, list[dict[str, Any]]] = {}
    for source, key in (("new this run", "new"), ("review overdue", "review_overdue")):
        out[source] = [frame.row(i) for i in worklists.rows(frame, key, today)]
    flagged = {
        r[0]: r[1]
        for r in db.execute(
            "SELECT id, flag_note FROM patients WHERE locality_id = ? AND flagged_for_mdt = 1", [locality_id]
        )
    }
    out["flagged"] = [
        frame.row(i) | {"flag_note": flagged[c["id"][i]]} for i in range(len(frame)) if c["id"][i] in flagged
    ]
    return out


def flag_for_mdt(db: sqlite_utils.Database, actor: Actor, patient_id: str, note: str, flagged: bool = True) -> Changes:
    """A team member asks for a patient to be discussed at the next MDT."""
    with db.atomic():
        ensure_rows(db, actor, [patient_id])
        db["patients"].update(
            patient_id, {"flagged_for_mdt": int(flagged), "flag_note": note.strip() if flagged else "", **actor.stamp()}
        )
        audit.record(
            db,
            actor,
            "flag" if flagged else "unflag",
            "patients",
            patient_id,
            "Flagged for MDT" + (f": {note.strip()}" if flagged and note.strip() else "")
            if flagged
            else "MDT flag cleared",
        )
    return Changes.of("patients")


def add_patients(
    db: sqlite_utils.Database, actor: Actor, meeting_id: str, patient_ids: list[str], source: str = "added"
) -> Changes:
    """Put patients on the agenda (once each); a flag for MDT is cleared once they are on one."""
    if source not in AGENDA_SOURCES:
        raise ValidationError(f"Agenda source must be one of: {', '.join(AGENDA_SOURCES)}.")
    get(db, meeting_id)
    with db.atomic():
        ensure_rows(db, actor, list(patient_ids))
        already = {
            r[0]
            for r in db.execute(
                "SELECT patient_id FROM meeting_items WHERE meeting_id = ? AND kind = 'patient'", [meeting_id]
            )
        }
        new = [pid for pid in dict.fromkeys(patient_ids) if pid not in already]
        start = _next_position(db, meeting_id)
        db["meeting_items"].insert_all(
            [
                {
                    "id": new_id(),
                    "meeting_id": meeting_id,
                    "position": start + i,
                    "kind": "patient",
                    "patient_id": pid,
                    "source": source,
                    **_stamp(actor),
                }
                for i, pid in enumerate(new)
            ]
        )
        db.conn.executemany(
            "UPDATE patients SET flagged_for_mdt = 0, flag_note = '' WHERE id = ?", [(pid,) for pid in new]
        )
        if new:
            audit.record(
                db,
                actor,
                "update",
                "meetings",
                meeting_id,
                f"Added {len(new)} patients to the agenda ({source})",
                {"patients": new},
            )
    return Changes.of("meeting_items", "patients")


def agenda(db: sqlite_utils.Database, meeting_id: str) -> list[dict[str, Any]]:
    """Agenda items in order: patients (with name and NHS number) and carried actions (with reference)."""
    return list(
        db.query(
            "SELECT i.*, p.nhs_number, p.given_name, p.family_name, p.date_of_birth, p.practice_code, "
            "p.care_plan_date, p.next_review_due, p.status AS caseload_status, cm.name AS case_manager, "
            "a.reference, a.description, a.owner_name, a.due_date, a.status AS action_status "
            "FROM meeting_items i LEFT JOIN patients p ON p.id = i.patient_id "
            "LEFT JOIN staff cm ON cm.id = p.case_manager_id LEFT JOIN actions a ON a.id = i.action_id "
            "WHERE i.meeting_id = ? ORDER BY i.kind = 'action', i.position",
            [meeting_id],
        )
    )


def record_outcome(
    db: sqlite_utils.Database, actor: Actor, item_id: str, outcome: str, discussed: bool = True
) -> Changes:
    row = db.execute("SELECT meeting_id FROM meeting_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("That agenda item no longer exists.")
    with db.atomic():
        db["meeting_items"].update(item_id, {"outcome": outcome.strip(), "discussed": int(discussed), **actor.stamp()})
        audit.record(db, actor, "update", "meeting_items", item_id, f"Outcome recorded: {outcome.strip()[:80]}")
    return Changes.of("meeting_items")


def remove_item(db: sqlite_utils.Database, actor: Actor, item_id: str) -> Changes:
    row = db.execute("SELECT meeting_id, kind FROM meeting_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("That agenda item no longer exists.")
    with db.atomic():
        db.execute("DELETE FROM meeting_items WHERE id = ?", [item_id])
        audit.record(
            db, actor, "delete", "meeting_items", item_id, f"Removed a {row[1]} from the agenda", {"meeting_id": row[0]}
        )
    return Changes.of("meeting_items")
