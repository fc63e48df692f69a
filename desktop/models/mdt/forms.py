"""Saves that the MDT screens make in several steps, each as one transaction: all of it lands, or none.

The action form edits the details, the status and the escalation of an action at once; the agenda picker
adds patients from several sources at once. Each step is an existing audited operation (actions, meetings);
this module only makes them one unit, so a refusal at any step leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlite_utils

from ..changes import Changes
from ..clock import Actor
from ..dates import parse_date
from ..undo import UndoStack, recording
from . import actions, meetings


def save_action(
    db: sqlite_utils.Database,
    actor: Actor,
    action_id: str,
    details: Mapping[str, Any],
    status: str | None = None,
    completed_on: Any = None,
    outcome_note: str | None = None,
    escalated_to: str = "",
    escalation_reason: str = "",
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> Changes:
    """Apply the action form: details (actions.EDITABLE keys), then status, completion and outcome note when
    they differ from the stored ones, then an escalation when to-whom or why changed. All or nothing, and one
    undo step.

    *status* None leaves the status alone. ValidationError names the field at fault (exc.field)."""
    before = actions.get(db, action_id)
    note = before["outcome_note"] if outcome_note is None else outcome_note.strip()
    to, why = escalated_to.strip(), escalation_reason.strip()
    changed = False
    with recording(undo, db, f"Edit action {before['reference']}") as step:
        step.touch(db, "actions", [action_id])
        changed |= bool(actions.update(db, actor, action_id, dict(details), undo).tables)
        status = status or before["status"]
        completed = parse_date(completed_on, "The completion date", "completed_on")
        if (
            status != before["status"]
            or note != (before["outcome_note"] or "")
            or (status == "done" and completed != before["completed_on"])
        ):
            actions.set_status(db, actor, [action_id], status, completed, note, today, undo)
            changed = True
        if (to, why) != ((before["escalated_to"] or "").strip(), (before["escalation_reason"] or "").strip()):
            actions.escalate(db, actor, action_id, to, why, today=today)
            changed = True
    return Changes.of("actions") if changed else Changes()


def add_agenda_picks(
    db: sqlite_utils.Database,
    actor: Actor,
    meeting_id: str,
    picks: Mapping[str, Sequence[str]],
    undo: UndoStack | None = None,
) -> tuple[int, Changes]:
    """Put the patients picked under each agenda source (meetings.AGENDA_SOURCES) on the agenda, once each:
    a patient picked under several sources keeps the first. Returns how many were added; one undo step."""
    seen: set[str] = set()
    on_agenda = {i["patient_id"] for i in meetings.agenda(db, meeting_id) if i["kind"] == "patient"}
    before = len(on_agenda)
    coming = len({pid for ids in picks.values() for pid in ids} - on_agenda)
    with recording(undo, db, f"Add {f'{coming:,} patients' if coming != 1 else 'a patient'} to the agenda"):
        for source, ids in picks.items():
            fresh = [pid for pid in dict.fromkeys(ids) if pid not in seen]
            seen.update(fresh)
            if fresh:
                meetings.add_patients(db, actor, meeting_id, fresh, source, undo=undo)
    after = sum(1 for i in meetings.agenda(db, meeting_id) if i["kind"] == "patient")
    return after - before, (Changes.of("meeting_items", "patients") if after > before else Changes())
