"""Caseload status history (issue 25): each patient's status changes with the day each took effect, so a past
month's or quarter's KPIs count the caseload as it was then.

A row says "from *effective_on* the patient's status was *status*", kept under the locality whose caseload it
was. Its source says how it is known: `recorded` when the change was made (caseload.update_patients, the demo
world), `audit` when migration 15 read it back from the audit log, `assumed` when nothing said when it happened
and the record's first day stands in. One row per patient per day: its id is made from the two, so a second
change on the same day rewrites that day's row, and two laptops that write the same day merge into one row
(the later edit wins, as for any record) instead of leaving two that disagree.

The rule for the status at the end of a day (`status_as_of`, `spells`): the latest row on or before that day;
before a patient's first row, `identified` (the team had not started on them); a patient of the locality with
no row in it at all (never worked on, or moved here from another locality) counts at their current status.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from ..clock import Actor, local_day
from ..undo import Step

SOURCES = ("recorded", "audit", "assumed")
_NAMESPACE = uuid.UUID("6f1c1f52-2d55-4b8e-9a51-0c8f3f2b7a10")  # ids of this table only
_VARIANT = {f"{n:x}": f"{n & 0x3 | 0x8:x}" for n in range(16)}  # RFC 4122's variant bits in a hex digit
_CHUNK = 500  # ids per IN (...), well under SQLite's variable limit
# Where a status change sits in an audit entry's detail: an edit, an undo or redo (undo._what_moved) and a sync
# conflict resolved (sync.conflicts: the whole record before and after).
_AUDITED = {
    "update": ("$.changes.status.before", "$.changes.status.after"),
    "undo": ("$.changes.status.before", "$.changes.status.after"),
    "redo": ("$.changes.status.before", "$.changes.status.after"),
    "sync-resolve": ("$.before.status", "$.after.status"),
}
_INSERT = (
    "INSERT INTO caseload_history (id, patient_id, locality_id, status, effective_on, source, created_at, "
    "updated_at, updated_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
    "status = excluded.status, source = excluded.source, updated_at = excluded.updated_at, "
    "updated_by = excluded.updated_by, device_id = excluded.device_id"
)


def row_id(patient_id: str, effective_on: str) -> str:
    """The id of a patient's row for a day, the same on every laptop: str(uuid.uuid5(_NAMESPACE, name)), spelled
    out because the demo world and the back-fill make tens of thousands (the uuid module takes 10 times longer)."""
    h = hashlib.sha1(_NAMESPACE.bytes + f"{patient_id}:{effective_on}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


@dataclass(frozen=True)
class Change:
    """One patient's status moving from *before* to *after*."""

    patient_id: str
    locality_id: str
    before: str
    after: str


def record(db: sqlite_utils.Database, actor: Actor, changes: Sequence[Change], day: dt.date, step: Step) -> None:
    """Keep status changes made on *day*, inside the caller's transaction and undo *step*. A patient with no
    history yet first gets their status before the change, from their record's first day."""
    changes = [c for c in changes if c.before != c.after]
    if not changes:
        return
    ids = [c.patient_id for c in changes]
    begun = _first_days(db, ids)
    now, today = actor.now(), day.isoformat()
    rows: dict[str, tuple[Any, ...]] = {}
    for c in changes:
        if c.patient_id in begun:
            first = min(begun[c.patient_id], today)  # an edit dated before its record was made (a script's)
            # Known when the team's record began as "identified"; any other status there is an assumption.
            source = "recorded" if c.before == "identified" else "assumed"
            rows[row_id(c.patient_id, first)] = (c.patient_id, c.locality_id, c.before, first, source)
        rows[row_id(c.patient_id, today)] = (c.patient_id, c.locality_id, c.after, today, "recorded")
    step.touch(db, "caseload_history", list(rows))
    db.conn.executemany(_INSERT, [(key, *row, now, now, actor.user, actor.device_id) for key, row in rows.items()])


def _first_days(db: sqlite_utils.Database, patient_ids: list[str]) -> dict[str, str]:
    """The first day of the record of each patient who has no history yet."""
    out: dict[str, str] = {}
    for start in range(0, len(patient_ids), _CHUNK):
        chunk = patient_ids[start : start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for pid, created in db.execute(
            f"SELECT id, created_at FROM patients WHERE id IN ({marks}) AND NOT EXISTS (SELECT 1 FROM "
            "caseload_history h WHERE h.locality_id = patients.locality_id AND h.patient_id = patients.id)",
            chunk,
        ):
            out[pid] = local_day(created)
    return out


def backfill(db: sqlite_utils.Database) -> None:
    """Enter the history of a workspace made before the history was kept (migration 15).

    Each patient's status changes are read back from the audit log (edits, undo, redo, sync conflicts resolved),
    the status before the first one standing from the record's first day; a change the log did not see (a
    teammate's edit arriving by sync) is put on the day the record was last changed, as assumed. A patient with
    no change in the log keeps their current status from their record's first day, as assumed. A day's last
    change stands for that day. Set-based: one read of the patients, one of the log, one insert."""
    patients = {
        r[0]: r[1:]
        for r in db.execute(
            "SELECT id, locality_id, status, created_at, updated_at, updated_by, device_id FROM patients"
        )
    }
    events: dict[str, list[tuple[str, ...]]] = {}
    for pid, at, user, device, before, after in db.execute(_audited_sql()):
        if after is not None and pid in patients:
            events.setdefault(pid, []).append((at, user, device, before, after))
    rows = []
    for pid, (loc, status, created, updated, updated_by, device) in patients.items():
        first = local_day(created)
        made = (created, updated_by, device)
        days: dict[str, tuple[str, str, tuple[str, str, str]]] = {}
        trail = events.get(pid, [])
        if trail:
            at, user, dev, before, _ = trail[0]
            days[first] = (before or "identified", "audit", (at, user, dev))
        last = first
        for at, user, dev, _, after in trail:
            last = max(last, local_day(at))  # a change stamped before the record began took effect on its first day
            days[last] = (after, "audit", (at, user, dev))
        if not trail:
            days[first] = (status, "assumed", made)
        elif days[last][0] != status:
            last = max(last, local_day(updated))
            days[last] = (status, "assumed", (updated, updated_by, device))
        held = None
        for day in sorted(days):
            now, source, (at, user, dev) = days[day]
            if now != held:
                rows.append((row_id(pid, day), pid, loc, now, day, source, at, at, user, dev))
                held = now
    db.conn.executemany(_INSERT, rows)


def _audited_sql() -> str:
    before = " ".join(f"WHEN '{a}' THEN json_extract(detail, '{b}')" for a, (b, _) in _AUDITED.items())
    after = " ".join(f"WHEN '{a}' THEN json_extract(detail, '{c}')" for a, (_, c) in _AUDITED.items())
    actions = ", ".join(f"'{a}'" for a in _AUDITED)
    return (
        f"SELECT entity_id, at, user, device_id, CASE action {before} END, CASE action {after} END FROM audit "
        f"WHERE entity = 'patients' AND action IN ({actions}) ORDER BY seq"
    )


def status_as_of(db: sqlite_utils.Database, locality_id: str, day: dt.date) -> dict[str, str]:
    """Each of the locality's patients' status at the end of *day*."""
    return dict(
        db.execute(
            "SELECT p.id, CASE WHEN h.status IS NOT NULL THEN h.status WHEN EXISTS (SELECT 1 FROM caseload_history k "
            "WHERE k.locality_id = p.locality_id AND k.patient_id = p.id) THEN 'identified' ELSE p.status END "
            "FROM patients p LEFT JOIN (SELECT patient_id, status, ROW_NUMBER() OVER (PARTITION BY patient_id "
            "ORDER BY effective_on DESC) AS n FROM caseload_history WHERE locality_id = ? AND effective_on <= ?) h "
            "ON h.patient_id = p.id AND h.n = 1 WHERE p.locality_id = ?",
            [locality_id, day.isoformat(), locality_id],
        ).fetchall()
    )


OPEN = "9999-12-31"  # the end of a spell still under way


def spells(
    db: sqlite_utils.Database, locality_id: str, status: str, columns: dict[str, str] | None = None
) -> dict[str, list[Any]]:
    """The spells the locality's patients spent in *status*, as columns: `id`, `start` (the first day) and
    `until` (the day it ended, OPEN while under way), with *columns* (name: SQL over the patient's record `p`)
    from each patient's record as it is now. A patient is in the status on day D when start <= D < until: spells
    of one patient never overlap, so a day finds each patient once. One read, for any number of days."""
    extra = "".join(f", {sql}" for sql in (columns or {}).values())
    rows = db.execute(
        # Each spell's end is the patient's next row: one seek of the index (locality_id, patient_id,
        # effective_on) per spell, cheaper than a window over every row.
        f"SELECT p.id, h.effective_on, COALESCE((SELECT MIN(n.effective_on) FROM caseload_history n "
        "WHERE n.locality_id = h.locality_id AND n.patient_id = h.patient_id AND n.effective_on > h.effective_on), "
        f"'{OPEN}'), p.status = ?2{extra} FROM caseload_history h JOIN patients p ON p.id = h.patient_id "
        "AND p.locality_id = h.locality_id WHERE h.locality_id = ?1 AND h.status = ?2",
        [locality_id, status],
    ).fetchall()
    # The patients in the status with no history in the locality: none when every patient now in it is one whose
    # history ends in it (an open spell above, one a patient), as record() keeps them. One count through the index
    # (locality_id, status, id) tells, instead of a look into the history for each of the status's patients.
    current = sum(1 for r in rows if r[2] == OPEN and r[3])
    held = db.execute(
        "SELECT COUNT(*) FROM patients WHERE locality_id = ? AND status = ?", [locality_id, status]
    ).fetchone()[0]
    if held > current:
        rows += db.execute(
            f"SELECT p.id, '', '{OPEN}', 1{extra} FROM patients p WHERE p.locality_id = ? AND p.status = ? "
            "AND NOT EXISTS (SELECT 1 FROM caseload_history k WHERE k.locality_id = p.locality_id "
            "AND k.patient_id = p.id)",
            [locality_id, status],
        ).fetchall()
    names = ["id", "start", "until", "in it now", *(columns or {})]
    values = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    out = {name: list(v) for name, v in zip(names, values, strict=True)}
    del out["in it now"]
    return out
