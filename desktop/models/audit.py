"""The audit trail: every import, sign-off, export, deletion and reference edit leaves a row."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from .clock import Actor


def record(
    db: sqlite_utils.Database,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(
        "INSERT INTO audit (at, user, device_id, action, entity, entity_id, summary, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            actor.now(),
            actor.user,
            actor.device_id,
            action,
            entity,
            entity_id,
            summary,
            json.dumps(detail or {}, sort_keys=True, default=str),
        ],
    )


def entries(db: sqlite_utils.Database, entity: str | None = None, entity_id: str | None = None,
            limit: int = 500) -> list[dict[str, Any]]:
    """Newest first, optionally for one record."""
    where, params = ["1"], []
    if entity:
        where.append("entity = ?")
        params.append(entity)
    if entity_id:
        where.append("entity_id = ?")
        params.append(entity_id)
    sql = f"SELECT * FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?"
    return list(db.query(sql, [*params, limit]))
