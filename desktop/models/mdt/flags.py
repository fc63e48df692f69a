"""Flags for MDT: a colleague asks, with a reason, for a patient to be discussed at the next MDT meeting.

Each flag is a row of mdt_flags. It waits (meeting_item_id NULL, cleared_at NULL) until the patient is put on
an agenda; then it is attached to that agenda item, so the reason, who gave it and when travel with the patient
into the meeting and the pack, whatever source the item records. Taking the item off the agenda makes its flags
wait again. Withdrawing the flags of a patient stamps cleared_at on the waiting ones. A patient may carry
several flags from several colleagues: all are kept.

patients.flagged_for_mdt and patients.flag_note are kept in step as a cache (flagged while any flag waits; the
waiting reasons, oldest first) for code that reads the patient row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from .. import audit
from ..changes import Changes
from ..clock import Actor, local_day, new_id

WAITING = "meeting_item_id IS NULL AND cleared_at IS NULL"
_COLUMNS = "id, patient_id, meeting_item_id, reason, flagged_by, flagged_at"


def _rows(db: sqlite_utils.Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    rows = db.query(f"SELECT {_COLUMNS} FROM mdt_flags WHERE {where} ORDER BY flagged_at, rowid", params)
    return [r | {"flagged_on": local_day(r["flagged_at"])} for r in rows]


def _grouped(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(r[key], []).append(dict(r))
    return out


def _in(ids: list[str]) -> str:
    return ", ".join("?" * len(ids))


def waiting(db: sqlite_utils.Database, patient_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The flags still waiting for an agenda, by patient, oldest first; each with reason, flagged_by,
    flagged_at and flagged_on (the local day)."""
    if not patient_ids:
        return {}
    return _grouped(_rows(db, f"{WAITING} AND patient_id IN ({_in(patient_ids)})", list(patient_ids)), "patient_id")


def waiting_in(db: sqlite_utils.Database, locality_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every flag of the locality still waiting for an agenda, by patient."""
    return _grouped(_rows(db, f"{WAITING} AND locality_id = ?", [locality_id]), "patient_id")


def on_items(db: sqlite_utils.Database, item_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The flags attached to agenda items, by item, oldest first (withdrawn ones left out)."""
    if not item_ids:
        return {}
    rows = _rows(db, f"cleared_at IS NULL AND meeting_item_id IN ({_in(item_ids)})", list(item_ids))
    return _grouped(rows, "meeting_item_id")


def note(flags: Iterable[Mapping[str, Any]]) -> str:
    """The reasons given, oldest first, as one line (the cache in patients.flag_note)."""
    return "; ".join(r["reason"] for r in flags if r["reason"])


def refresh(db: sqlite_utils.Database, patient_ids: Iterable[str]) -> None:
    """Bring the patients' cached flag columns in step with their waiting flags."""
    ids = list(dict.fromkeys(patient_ids))
    if not ids:
        return
    found = waiting(db, ids)
    db.conn.executemany(
        "UPDATE patients SET flagged_for_mdt = ?, flag_note = ? WHERE id = ?",
        [(int(pid in found), note(found.get(pid, [])), pid) for pid in ids],
    )


def flag(db: sqlite_utils.Database, actor: Actor, patient_id: str, reason: str) -> Changes:
    """Add a flag for *patient_id* by *actor*, now, with *reason* (may be empty). Earlier flags are kept."""
    from ..cohort.caseload import ensure_rows  # with the cohort frame (pyarrow), which My work never needs

    reason = reason.strip()
    with db.atomic():
        ensure_rows(db, actor, [patient_id])
        locality_id = db.execute("SELECT locality_id FROM patients WHERE id = ?", [patient_id]).fetchone()[0]
        now = actor.now()
        flag_id = new_id()
        db["mdt_flags"].insert(
            {
                "id": flag_id,
                "patient_id": patient_id,
                "locality_id": locality_id,
                "reason": reason,
                "flagged_by": actor.user,
                "flagged_at": now,
                "meeting_item_id": None,
                "cleared_at": None,
                "created_at": now,
                **actor.stamp(),
            }
        )
        refresh(db, [patient_id])
        db["patients"].update(patient_id, actor.stamp())
        audit.record(
            db,
            actor,
            "flag",
            "patients",
            patient_id,
            "Flagged for MDT" + (f": {reason}" if reason else ""),
            {"flag_id": flag_id},
        )
    return Changes.of("patients", "mdt_flags")


def withdraw(db: sqlite_utils.Database, actor: Actor, patient_id: str) -> Changes:
    """Withdraw every flag of *patient_id* still waiting for an agenda (flags already on one stay there)."""
    ids = [r[0] for r in db.execute(f"SELECT id FROM mdt_flags WHERE patient_id = ? AND {WAITING}", [patient_id])]
    if not ids:
        return Changes()
    with db.atomic():
        db.conn.executemany(
            "UPDATE mdt_flags SET cleared_at = ?, updated_at = ?, updated_by = ?, device_id = ? WHERE id = ?",
            [(actor.now(), actor.now(), actor.user, actor.device_id, fid) for fid in ids],
        )
        refresh(db, [patient_id])
        db["patients"].update(patient_id, actor.stamp())
        audit.record(db, actor, "unflag", "patients", patient_id, "MDT flag cleared", {"flag_ids": ids})
    return Changes.of("patients", "mdt_flags")


def attach(db: sqlite_utils.Database, actor: Actor, items: Mapping[str, str]) -> int:
    """Attach every waiting flag of each patient to their agenda item (*items*: patient id → item id), inside
    the caller's transaction. Returns how many flags were attached."""
    if not items:
        return 0
    found = waiting(db, list(items))
    db.conn.executemany(
        "UPDATE mdt_flags SET meeting_item_id = ?, updated_at = ?, updated_by = ?, device_id = ? WHERE id = ?",
        [(items[pid], actor.now(), actor.user, actor.device_id, f["id"]) for pid, rows in found.items() for f in rows],
    )
    refresh(db, list(items))
    return sum(len(rows) for rows in found.values())


def detach(db: sqlite_utils.Database, actor: Actor, item_id: str) -> list[str]:
    """Put the flags of an agenda item about to be removed back to waiting, inside the caller's transaction;
    returns the patients concerned. (The foreign key's ON DELETE SET NULL does the same when the item is deleted
    with foreign keys on, as every workspace connection has them; this does it whatever the connection.)"""
    patients = [
        r[0] for r in db.execute("SELECT DISTINCT patient_id FROM mdt_flags WHERE meeting_item_id = ?", [item_id])
    ]
    db.execute(
        "UPDATE mdt_flags SET meeting_item_id = NULL, updated_at = ?, updated_by = ?, device_id = ? "
        "WHERE meeting_item_id = ?",
        [actor.now(), actor.user, actor.device_id, item_id],
    )
    return patients
