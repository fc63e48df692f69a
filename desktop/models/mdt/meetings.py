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
from ..names import patient_name
from ..reference import ORGANISATIONS
from ..undo import UndoStack, recording
from . import flags

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


def update(
    db: sqlite_utils.Database, actor: Actor, meeting_id: str, values: dict[str, Any], undo: UndoStack | None = None
) -> Changes:
    """Edit date, type, chair, location, notes, status ('held' once it has happened) and attendees; one undo
    step (the attendees are replaced, so undo puts the old rows back and takes the new ones away)."""
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
    new_people = [{"id": new_id(), "meeting_id": meeting_id, **a, **_stamp(actor)} for a in people or []]
    with recording(undo, db, _edit_name(before, clean, people is not None)) as step:
        step.touch(db, "meetings", [meeting_id])
        if people is not None:
            step.touch(db, "meeting_attendees", [a["id"] for a in attendees(db, meeting_id)])
            step.touch(db, "meeting_attendees", [a["id"] for a in new_people])
        if clean:
            db["meetings"].update(meeting_id, {**clean, **actor.stamp()})
        if people is not None:
            db.execute("DELETE FROM meeting_attendees WHERE meeting_id = ?", [meeting_id])
            db["meeting_attendees"].insert_all(new_people)
        moved = [k for k in clean if before.get(k) != clean[k]] + (["attendees"] if people is not None else [])
        audit.record(
            db,
            actor,
            "update",
            "meetings",
            meeting_id,
            f"Meeting of {before['held_on']}: changed {', '.join(moved) or 'nothing'}",
        )
    return Changes.of("meetings", "meeting_attendees")


def _edit_name(before: dict[str, Any], clean: dict[str, Any], people: bool) -> str:
    """The undo step's name: "Mark the meeting of 07/12/2026 as held", "Change the attendees of …"."""
    of = f"the meeting of {dt.date.fromisoformat(before['held_on']):%d/%m/%Y}"
    if set(clean) == {"status"} and not people:
        return f"Mark {of} as {clean['status']}"
    if not clean and people:
        return f"Change the attendees of {of}"
    return f"Edit {of}"


def attendees(db: sqlite_utils.Database, meeting_id: str) -> list[dict[str, Any]]:
    return list(
        db.query("SELECT * FROM meeting_attendees WHERE meeting_id = ? ORDER BY organisation, name", [meeting_id])
    )


def suggest_agenda(
    db: sqlite_utils.Database, locality_id: str, today: dt.date | None = None, frame: cohort.CohortFrame | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Patients to consider for the agenda, by source: the Monday worklists and those flagged for MDT.

    A patient with flags still waiting carries them in every list (`flags`: reason, flagged_by, flagged_at,
    flagged_on, oldest first; `flag_note`: the reasons in one line)."""
    frame = frame or cohort.load(db, locality_id)
    c = frame.columns
    waiting = flags.waiting_in(db, locality_id)

    def row(i: int) -> dict[str, Any]:
        found = waiting.get(c["id"][i])
        return frame.row(i) | ({"flags": found, "flag_note": flags.note(found)} if found else {})

    out: dict[str, list[dict[str, Any]]] = {}
    for source, key in (("new this run", "new"), ("review overdue", "review_overdue")):
        out[source] = [row(i) for i in worklists.rows(frame, key, today)]
    out["flagged"] = [row(i) for i in range(len(frame)) if c["id"][i] in waiting]
    return out


def flag_for_mdt(db: sqlite_utils.Database, actor: Actor, patient_id: str, note: str, flagged: bool = True) -> Changes:
    """A team member asks for a patient to be discussed at the next MDT, saying why: another flag beside any
    earlier ones (flags.flag). *flagged* False withdraws the patient's waiting flags (flags.withdraw)."""
    return flags.flag(db, actor, patient_id, note) if flagged else flags.withdraw(db, actor, patient_id)


def add_patients(
    db: sqlite_utils.Database,
    actor: Actor,
    meeting_id: str,
    patient_ids: list[str],
    source: str = "added",
    undo: UndoStack | None = None,
) -> Changes:
    """Put patients on the agenda (once each). Every flag for MDT still waiting for an added patient is
    attached to their new item, so its reason travels with them whatever *source* the item records."""
    if source not in AGENDA_SOURCES:
        raise ValidationError(f"Agenda source must be one of: {', '.join(AGENDA_SOURCES)}.")
    get(db, meeting_id)
    named = f"{len(patient_ids):,} patients" if len(patient_ids) != 1 else "a patient"
    with recording(undo, db, f"Add {named} to the agenda") as step:
        step.touch(db, "patients", patient_ids)  # before ensure_rows: a patient new to the team has no row yet
        ensure_rows(db, actor, list(patient_ids))
        already = {
            r[0]
            for r in db.execute(
                "SELECT patient_id FROM meeting_items WHERE meeting_id = ? AND kind = 'patient'", [meeting_id]
            )
        }
        new = [pid for pid in dict.fromkeys(patient_ids) if pid not in already]
        start = _next_position(db, meeting_id)
        item_of = {pid: new_id() for pid in new}
        step.touch(db, "meeting_items", item_of.values())
        step.touch(db, "mdt_flags", [f["id"] for rows in flags.waiting(db, new).values() for f in rows])
        db["meeting_items"].insert_all(
            [
                {
                    "id": item_of[pid],
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
        flags.attach(db, actor, item_of)
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
    return Changes.of("meeting_items", "patients", "mdt_flags")


def agenda(db: sqlite_utils.Database, meeting_id: str) -> list[dict[str, Any]]:
    """Agenda items in order: patients (with name, NHS number and `flags`, the flags for MDT that brought them,
    each with reason, flagged_by, flagged_at and flagged_on) and carried actions (with reference)."""
    rows = list(
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
    attached = flags.on_items(db, [r["id"] for r in rows if r["kind"] == "patient"])
    for r in rows:
        if r["kind"] == "patient":
            r["flags"] = attached.get(r["id"], [])
    return rows


def record_outcome(
    db: sqlite_utils.Database,
    actor: Actor,
    item_id: str,
    outcome: str,
    discussed: bool = True,
    undo: UndoStack | None = None,
) -> Changes:
    row = db.execute("SELECT meeting_id FROM meeting_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("That agenda item no longer exists.")
    with recording(undo, db, f"Record the outcome for {_item_name(db, item_id)}") as step:
        step.touch(db, "meeting_items", [item_id])
        db["meeting_items"].update(item_id, {"outcome": outcome.strip(), "discussed": int(discussed), **actor.stamp()})
        audit.record(db, actor, "update", "meeting_items", item_id, f"Outcome recorded: {outcome.strip()[:80]}")
    return Changes.of("meeting_items")


def remove_item(db: sqlite_utils.Database, actor: Actor, item_id: str, undo: UndoStack | None = None) -> Changes:
    """Take an item off the agenda. A patient's flags for MDT go back to waiting for the next agenda (mdt_flags'
    foreign key is ON DELETE SET NULL, and foreign keys are on in every workspace connection; flags.detach
    does it explicitly as well, and says who)."""
    row = db.execute("SELECT meeting_id, kind FROM meeting_items WHERE id = ?", [item_id]).fetchone()
    if row is None:
        raise NotFound("That agenda item no longer exists.")
    with recording(undo, db, f"Remove {_item_name(db, item_id)} from the agenda") as step:
        # Undo puts back the item, the flags it answered and their patients' flag cache, newest touched first.
        step.touch(db, "meeting_items", [item_id])
        step.touch(
            db, "mdt_flags", [r[0] for r in db.execute("SELECT id FROM mdt_flags WHERE meeting_item_id = ?", [item_id])]
        )
        step.touch(
            db, "patients", [r[0] for r in db.execute("SELECT patient_id FROM meeting_items WHERE id = ?", [item_id])]
        )
        returned = flags.detach(db, actor, item_id)
        db.execute("DELETE FROM meeting_items WHERE id = ?", [item_id])
        flags.refresh(db, returned)
        audit.record(
            db,
            actor,
            "delete",
            "meeting_items",
            item_id,
            f"Removed a {row[1]} from the agenda" + ("; their flags for MDT wait for the next" if returned else ""),
            {"meeting_id": row[0]},
        )
    return Changes.of("meeting_items", "mdt_flags", "patients") if returned else Changes.of("meeting_items")


def _item_name(db: sqlite_utils.Database, item_id: str) -> str:
    """An agenda item as an undo step names it: "DENHOLM, Ada" or "action CHA-2026-0001"."""
    row = db.execute(
        "SELECT p.family_name, p.given_name, a.reference FROM meeting_items i LEFT JOIN patients p ON p.id = "
        "i.patient_id LEFT JOIN actions a ON a.id = i.action_id WHERE i.id = ?",
        [item_id],
    ).fetchone()
    if row is None or not (row[0] or row[2]):
        return "an agenda item"
    return patient_name(row[0], row[1]) if row[0] else f"action {row[2]}"
