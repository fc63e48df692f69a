"""Every write the Care homes screen makes, as one small named function (STYLE practice 2).

Each calls one desktop.models operation with the session's actor and publishes what it changed. A visit or a
resident is a handful of rows (milliseconds), so these run on the GUI thread; the visit report takes about a
second to draw, which a busy cursor covers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...models.care_homes import residents, visits
from ...models.quarters import Quarter
from ..kit.pdf_export import PdfJob
from ..kit.session import Session


def log_visit(session: Session, values: Mapping[str, Any]) -> str:
    """Record a visit with its residents' outcomes and follow-up actions, all or nothing, as one undo step."""
    visit_id, changes = visits.log_visit(
        session.db,
        session.actor,
        values.get("care_home_id"),
        values.get("visited_on"),
        values.get("type"),
        values.get("clinician_id") or None,
        list(values.get("residents", [])),
        list(values.get("follow_ups", [])),
        values.get("notes", ""),
        undo=session.undo,
    )
    session.publish(changes)
    return visit_id


def edit_visit(session: Session, visit_id: str, values: Mapping[str, Any]) -> None:
    """Correct a logged visit (its date, type, clinician, notes and residents; new follow-ups are added), all or
    nothing, as one undo step."""
    session.publish(visits.update(session.db, session.actor, visit_id, dict(values), undo=session.undo))


def save_resident(
    session: Session, care_home_id: str, values: Mapping[str, Any], resident_id: str | None = None
) -> str:
    """Admit (resident_id None) or update a resident; ValidationError names the field."""
    resident_id, changes = residents.save(session.db, session.actor, care_home_id, dict(values), resident_id)
    session.publish(changes)
    return resident_id


def report_job(session: Session, cqc_id: str, quarter: Quarter, today: dt.date | None = None) -> PdfJob:
    """The export of one home's OFFICIAL-SENSITIVE visit report for a quarter (audited), as a task's job
    (pdf_export.export_pdf runs it off the GUI thread, with Cancel)."""
    actor = session.actor

    def job(db, progress, cancel, out: Path) -> Path:
        from ...reports import care_home_report  # reportlab is imported when a PDF is made, not at start-up

        return care_home_report.export(db, actor, cqc_id, quarter, out, today, progress=progress, cancel=cancel)

    return job
