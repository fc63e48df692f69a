"""The audit trail: every import, sign-off, export, deletion and reference edit leaves a row.

Each row names who (user and, from schema 9, role), from which device, did what to which record and when.
`search` is the query behind the audit-log screen; `export_csv` writes what it found, formula-safe and audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from .cells import formula_safe
from .clock import Actor
from .errors import ValidationError

SEARCH_LIMIT = 1000  # rows the screen lists at once; the demo world's log holds ~17,500
EXPORT_COLUMNS = (
    ("seq", "Entry"),
    ("at", "When (UTC)"),
    ("user", "User"),
    ("role", "Role"),
    ("device_id", "Device"),
    ("action", "Action"),
    ("entity", "Table"),
    ("entity_id", "Record id"),
    ("summary", "Summary"),
    ("detail", "Detail (JSON)"),
)


INSERT = (
    "INSERT INTO audit (at, user, role, device_id, action, entity, entity_id, summary, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def row(
    actor: Actor, action: str, entity: str, entity_id: str | None, summary: str, detail: dict[str, Any] | None
) -> tuple:
    """The values of INSERT for one entry: every writer of the log (the sync writes through its own apsw
    connection, so its entry commits with the sync) makes its rows here."""
    return (
        actor.now(),
        actor.user,
        actor.role,
        actor.device_id,
        action,
        entity,
        entity_id,
        summary,
        json.dumps(detail or {}, sort_keys=True, default=str),
    )


def record(
    db: sqlite_utils.Database,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    db.execute(INSERT, row(actor, action, entity, entity_id, summary, detail))


def entries(
    db: sqlite_utils.Database, entity: str | None = None, entity_id: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
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


@dataclass(frozen=True)
class AuditFilter:
    """What the audit-log screen asks for; every field optional. *since* and *until* are whole days, inclusive."""

    text: str | None = None
    action: str | None = None
    user: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def where(self) -> tuple[str, list[Any]]:
        where, params = ["1"], []
        if self.action:
            where.append("action = ?")
            params.append(self.action)
        if self.user:
            where.append("user = ?")
            params.append(self.user)
        if self.since:  # `at` is ISO 8601 in UTC, so text order is time order
            where.append("at >= ?")
            params.append(self.since.isoformat())
        if self.until:
            where.append("at < ?")
            params.append((self.until + dt.timedelta(days=1)).isoformat())
        text = (self.text or "").strip()
        if text:
            like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            searched = ("summary", "entity", "entity_id", "user", "role", "detail")
            where.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in searched) + ")")
            params.extend([like] * len(searched))
        return " AND ".join(where), params


def search(
    db: sqlite_utils.Database,
    text: str | None = None,
    action: str | None = None,
    user: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int | None = SEARCH_LIMIT,
) -> list[dict[str, Any]]:
    """Audit rows matching every filter given, newest first; at most *limit* (None: all)."""
    where, params = AuditFilter(text, action, user, since, until).where()
    sql = f"SELECT * FROM audit WHERE {where} ORDER BY seq DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return list(db.query(sql, params))


def count(
    db: sqlite_utils.Database,
    text: str | None = None,
    action: str | None = None,
    user: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> int:
    """How many rows `search` would find without a limit."""
    where, params = AuditFilter(text, action, user, since, until).where()
    return db.execute(f"SELECT COUNT(*) FROM audit WHERE {where}", params).fetchone()[0]


def actions(db: sqlite_utils.Database) -> list[str]:
    """The actions the log holds (import, export, create, update, delete, sign-off, reopen…), sorted."""
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit ORDER BY action")]


def users(db: sqlite_utils.Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT user FROM audit ORDER BY user")]


def export_csv(
    db: sqlite_utils.Database,
    actor: Actor,
    out: str | Path,
    text: str | None = None,
    action: str | None = None,
    user: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> int:
    """Write every entry matching the filters (no limit) to a CSV file, formula-safe, and audit the export.

    Summaries can name patients and residents, so the log is OFFICIAL-SENSITIVE like the worklists.
    Returns the number of entries written."""
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise ValidationError("Export the audit log to a .csv file.")
    found = search(db, text, action, user, since, until, limit=None)
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow([heading for _, heading in EXPORT_COLUMNS])
        writer.writerows([formula_safe(row.get(key)) for key, _ in EXPORT_COLUMNS] for row in found)
    filters = {k: v for k, v in AuditFilter(text, action, user, since, until).__dict__.items() if v}
    with db.atomic():
        record(
            db,
            actor,
            "export",
            "audit",
            None,
            f"Exported {len(found):,} audit log entries to {out.name}",
            {"file": str(out), "entries": len(found), "filters": filters},
        )
    return len(found)
