"""Sync conflicts the user has not looked at yet, and resolving one by choice (issue 11, DESIGN §15).

An import keeps every conflict as a ``sync-conflict`` audit row with both versions and the one that won (the
later edit). The user may keep the other version instead: ``keep_version`` writes it back onto the record as a
*new* edit (stamped now, by the user), so it is the later edit on every laptop at the next exchange, and audits
it as ``sync-resolve``. That row names the conflict it resolves (``detail.conflict``), which is how a conflict
is known to be resolved; keeping the version that already won only records the decision.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from .. import audit, workspace
from ..changes import Changes
from ..clock import Actor
from ..errors import ValidationError
from .base import EXCLUDED, STATE_TABLE
from .state import COMMISSIONER_TABLES

CONFLICT, RESOLVE = "sync-conflict", "sync-resolve"
CHOICES = ("mine", "theirs")
STAMP = ("updated_at", "updated_by", "device_id")


def conflicts(db: sqlite_utils.Database, limit: int | None = 200) -> list[dict[str, Any]]:
    """Unresolved conflicts, newest first: seq, at, table, id, kind, winner, mine, theirs, who/when each side."""
    sql = (
        f"SELECT * FROM audit WHERE action = '{CONFLICT}' AND seq NOT IN (SELECT CAST(json_extract(detail, "
        f"'$.conflict') AS INTEGER) FROM audit WHERE action = '{RESOLVE}' AND json_extract(detail, "
        "'$.conflict') IS NOT NULL) ORDER BY seq DESC"
    )
    params: list[Any] = []
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_conflict(row) for row in db.query(sql, params)]


def get(db: sqlite_utils.Database, seq: int) -> dict[str, Any]:
    row = next(iter(db.query(f"SELECT * FROM audit WHERE seq = ? AND action = '{CONFLICT}'", [seq])), None)
    if row is None:
        raise ValidationError(f"There is no sync conflict {seq} in this workspace.")
    return _conflict(row)


def is_resolved(db: sqlite_utils.Database, seq: int) -> bool:
    return (
        db.execute(
            f"SELECT COUNT(*) FROM audit WHERE action = '{RESOLVE}' AND "
            "CAST(json_extract(detail, '$.conflict') AS INTEGER) = ?",
            [seq],
        ).fetchone()[0]
        > 0
    )


def differing(conflict: dict[str, Any], include_stamp: bool = False) -> list[str]:
    """The columns whose values differ between the two versions (all of them when one side is missing)."""
    mine, theirs = conflict["mine"] or {}, conflict["theirs"] or {}
    columns = list(dict.fromkeys([*mine, *theirs]))
    return [c for c in columns if (include_stamp or c not in STAMP) and mine.get(c) != theirs.get(c)]


def keep_version(db: sqlite_utils.Database, actor: Actor, seq: int, choice: str) -> Changes:
    """Resolve conflict *seq* by keeping *choice* ("mine" or "theirs"), in one audited transaction.

    Keeping the version that lost writes it back as a new edit; keeping the winner only records the decision.
    Keeping a side that deleted the record deletes it here (refused while other records still point at it).
    """
    if choice not in CHOICES:
        raise ValidationError(f"Keep 'mine' or 'theirs', not {choice!r}.")
    conflict = get(db, seq)
    if is_resolved(db, seq):
        raise ValidationError(f"The sync conflict on {conflict['table']} {conflict['id']} was already resolved.")
    table = conflict["table"]
    if table in EXCLUDED or table == STATE_TABLE or table not in db.table_names():
        raise ValidationError(f"{table} is not a synced table of this workspace.")
    if choice != conflict["winner"] and table not in COMMISSIONER_TABLES:
        workspace.require_patient_level(db)  # a conflict left by an older version must not write patients back
    chosen, other = conflict[choice], conflict["theirs" if choice == "mine" else "mine"]
    rewrite = choice != conflict["winner"]
    detail = {"conflict": seq, "kept": choice, "rewritten": rewrite, "kind": conflict["kind"]}
    changes = Changes.of("audit")
    with db.atomic():
        if rewrite:
            key_row = chosen or other or {}
            pk = [
                r[1]
                for r in sorted((r for r in db.execute(f'PRAGMA table_info("{table}")') if r[5]), key=lambda r: r[5])
            ]
            if not pk or any(c not in key_row for c in pk):
                raise ValidationError(f"The conflict on {table} {conflict['id']} does not name its record.")
            where = " AND ".join(f'"{c}" = ?' for c in pk)
            keys = [key_row[c] for c in pk]
            before = next(iter(db.query(f'SELECT * FROM "{table}" WHERE {where}', keys)), None)
            if chosen is None:
                try:
                    db.execute(f'DELETE FROM "{table}" WHERE {where}', keys)
                except sqlite3.IntegrityError as exc:  # a foreign key still points at it
                    raise ValidationError(
                        f"{table} {conflict['id']} cannot be deleted while other records "
                        f"point at it ({exc}); nothing was changed."
                    ) from exc
                after = None
            else:
                columns = set(_columns(db, table))
                after = {k: v for k, v in chosen.items() if k in columns}
                if before is not None:
                    # Only the fields in conflict: the record's other fields may have moved on since, by merges
                    # or edits of their own, and must stay as they are.
                    after = {**before, **{k: after[k] for k in differing(conflict) if k in after}}
                after.update({k: v for k, v in actor.stamp().items() if k in columns})
                try:
                    _upsert(db, table, pk, after)
                except sqlite3.IntegrityError as exc:  # e.g. the same practice code added on both laptops
                    raise ValidationError(
                        f"Another {table_label(table).lower().rstrip('s')} here has the same "
                        f"code, so the other version cannot be kept ({exc}). Change or delete one "
                        "of the two first; nothing was changed."
                    ) from exc
            detail.update({"before": before, "after": after})
            changes = Changes.of("audit", table)
        audit.record(
            db,
            actor,
            RESOLVE,
            table,
            conflict["id"],
            f"Sync conflict on {table} {conflict['id']} resolved: kept {choice}"
            + (" (written back as a new edit)" if rewrite else ""),
            detail,
        )
    return changes


def _columns(db: sqlite_utils.Database, table: str) -> list[str]:
    return [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]


def _upsert(db: sqlite_utils.Database, table: str, pk: list[str], row: dict[str, Any]) -> None:
    names = list(row)
    cols = ", ".join(f'"{c}"' for c in names)
    marks = ", ".join("?" for _ in names)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in names if c not in pk)
    conflict = ", ".join(f'"{c}"' for c in pk)
    action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
    db.execute(
        f'INSERT INTO "{table}" ({cols}) VALUES ({marks}) ON CONFLICT ({conflict}) {action}', [row[c] for c in names]
    )


def _conflict(row: dict[str, Any]) -> dict[str, Any]:
    detail = json.loads(row.get("detail") or "{}")
    mine, theirs = detail.get("mine"), detail.get("theirs")
    return {
        "seq": row["seq"],
        "at": row["at"],
        "table": row["entity"],
        "id": row["entity_id"],
        "kind": detail.get("kind"),
        "winner": detail.get("winner"),
        "mine": mine,
        "theirs": theirs,
        "my_by": (mine or {}).get("updated_by") or row.get("user"),
        "my_at": (mine or {}).get("updated_at"),
        "their_by": (theirs or {}).get("updated_by") or detail.get("from_user"),
        "their_at": (theirs or {}).get("updated_at"),
        "bundle_id": detail.get("bundle_id"),
    }


__all__ = ["conflicts", "differing", "get", "is_resolved", "keep_version"]


_NAMING = ("name", "reference", "description", "family_name")
_CODES = ("ods_code", "cqc_id", "code", "nhs_number")


def table_label(table: str) -> str:
    """'care_homes' -> 'Care homes', as the screens call them."""
    return {"pcns": "PCNs"}.get(table, table.replace("_", " ").capitalize())


def record_label(table: str, *versions: dict[str, Any] | None) -> str:
    """A record as a person knows it (a practice's name and ODS code), from whichever version is present; the
    start of its id when it has no name."""
    row = next((v for v in versions if v), None) or {}
    name = next((str(row[k]) for k in _NAMING if row.get(k)), "")
    code = next((str(row[k]) for k in _CODES if row.get(k)), "")
    if name and code:
        return f"{name} ({code})"
    return name or code or f"record {str(row.get('id', '?'))[:8]}"
