"""Every user action that writes, as one small named function (STYLE practice 2).

Each calls one desktop.models operation with the session's actor and publishes what it changed.
Reference edits are single-row writes of a few milliseconds, so they run on the GUI thread; long work
(the demo world, later imports) goes through desktop.views.tasks instead.
"""

from __future__ import annotations

from typing import Any

from ..models import reference
from .session import Session


def save_record(session: Session, entity: str, values: dict[str, Any], row_id: str | None = None) -> str:
    """Add (row_id None) or change one reference record; ValidationError says which field is wrong."""
    row_id, changes = reference.save(session.db, session.actor, entity, values, row_id)
    session.publish(changes)
    return row_id


def delete_record(session: Session, entity: str, row_id: str) -> None:
    """Delete one reference record; ValidationError when other records still point at it."""
    session.publish(reference.delete(session.db, session.actor, entity, row_id))
