"""Every user action on the Reference data screen that writes, as one small named function (STYLE practice 2)."""

from __future__ import annotations

from typing import Any

from ...models import reference
from ..kit.session import Session


def save_record(session: Session, entity: str, values: dict[str, Any], row_id: str | None = None) -> str:
    """Add (row_id None) or change one reference record; ValidationError says which field is wrong."""
    row_id, changes = reference.save(session.db, session.actor, entity, values, row_id)
    session.publish(changes)
    return row_id


def delete_record(session: Session, entity: str, row_id: str) -> None:
    """Delete one reference record; ValidationError when other records still point at it."""
    session.publish(reference.delete(session.db, session.actor, entity, row_id))
