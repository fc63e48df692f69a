"""Every write the MDT screens make, as one small named function (STYLE practice 2).

Each calls one desktop.models operation with the session's actor and publishes what it changed. These
touch one meeting or a few hundred actions at most (milliseconds), so they run on the GUI thread; the MDT
pack takes about a second to draw, which a busy cursor covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...models.mdt import actions, meetings
from ...models.mdt import forms as mdt_forms
from ..kit.pdf_export import PdfJob
from ..kit.session import Session


def plan_meeting(session: Session, locality_id: str, values: Mapping[str, Any]) -> tuple[str, int]:
    """Plan a meeting; returns its id and how many open actions were carried onto its agenda."""
    meeting_id, changes = meetings.create(
        session.db,
        session.actor,
        locality_id,
        values.get("held_on"),
        values.get("type", "locality MDT"),
        values.get("chair_id"),
        list(values.get("attendees", [])),
        values.get("location", ""),
    )
    session.publish(changes)
    carried = sum(1 for item in meetings.agenda(session.db, meeting_id) if item["kind"] == "action")
    return meeting_id, carried


def update_meeting(session: Session, meeting_id: str, values: Mapping[str, Any]) -> None:
    """Change a meeting's details, status ('held') or attendees, as one undo step; ValidationError names the
    field."""
    session.publish(meetings.update(session.db, session.actor, meeting_id, dict(values), undo=session.undo))


def add_to_agenda(session: Session, meeting_id: str, picks: Mapping[str, Sequence[str]]) -> int:
    """Put the patients picked under each source on the agenda, all at once and one undo step; returns how many
    were added."""
    added, changes = mdt_forms.add_agenda_picks(session.db, session.actor, meeting_id, picks, undo=session.undo)
    session.publish(changes)
    return added


def record_outcome(session: Session, item_id: str, outcome: str) -> None:
    session.publish(meetings.record_outcome(session.db, session.actor, item_id, outcome, undo=session.undo))


def remove_agenda_item(session: Session, item_id: str) -> None:
    session.publish(meetings.remove_item(session.db, session.actor, item_id, undo=session.undo))


def flag_for_mdt(session: Session, patient_id: str, note: str, flagged: bool = True) -> None:
    """Ask for a patient to be discussed at the next MDT (for the Cohort screen's patient panel)."""
    session.publish(meetings.flag_for_mdt(session.db, session.actor, patient_id, note, flagged))


def create_action(session: Session, locality_id: str, values: Mapping[str, Any], meeting_id: str | None = None) -> str:
    action_id, changes = actions.create(session.db, session.actor, locality_id, dict(values), meeting_id)
    session.publish(changes)
    return action_id


def save_action(
    session: Session,
    action_id: str,
    details: Mapping[str, Any],
    status: str,
    completed_on: Any,
    outcome_note: str,
    escalated_to: str,
    escalation_reason: str,
) -> None:
    """The action form: details, status and escalation in one transaction (all or nothing), one undo step."""
    session.publish(
        mdt_forms.save_action(
            session.db,
            session.actor,
            action_id,
            details,
            status,
            completed_on,
            outcome_note,
            escalated_to,
            escalation_reason,
            undo=session.undo,
        )
    )


def set_action_status(
    session: Session, action_ids: Sequence[str], status: str, completed_on: Any = None, outcome_note: str | None = None
) -> None:
    """One status for many actions, all or none and one undo step; 'done' needs a completion date no later
    than today."""
    session.publish(
        actions.set_status(
            session.db, session.actor, list(action_ids), status, completed_on, outcome_note, undo=session.undo
        )
    )


def pack_job(session: Session, meeting_id: str, today: dt.date | None = None) -> PdfJob:
    """The export of a meeting's OFFICIAL-SENSITIVE MDT pack (audited), as a task's job (pdf_export.export_pdf
    runs it off the GUI thread, with Cancel)."""
    actor = session.actor

    def job(db, progress, cancel, out: Path) -> Path:
        from ...reports import mdt_pack  # reportlab is imported when a PDF is made, not at start-up

        return mdt_pack.export(db, actor, meeting_id, out, today, progress=progress, cancel=cancel)

    return job
