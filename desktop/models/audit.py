"""The audit trail: every import, sign-off, export, deletion, reference edit and opened patient record leaves a row.

Each row names who (the typed name, from schema 9 the role, from schema 10 the operating-system account), from
which device, did what to which record and when. `search` is the query behind the audit-log screen; `export_csv`
writes what it found, formula-safe and audited.

From schema 10 the log is a hash chain (issue 20): each entry stores the SHA-256 of its own fields and of the
entry before it (`prev_hash`, `hash`; the first follows GENESIS), and triggers refuse UPDATE and DELETE, so the
app cannot rewrite it and `verify` finds where anyone who went round the app (the sqlite3 shell) did. Every
writer goes through `append` (or `record`), which reads the newest entry inside the writer's own transaction.
The chain has no key: someone who can edit the file and recompute every hash after their change is caught only
by comparing `VerifyResult.head` with a value noted down earlier. Each workspace keeps its own chain: the audit
table is never synced (desktop.models.sync.base.EXCLUDED), so teammates' laptops never merge two chains.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
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
    ("os_account", "Computer account"),
    ("role", "Role"),
    ("device_id", "Device"),
    ("action", "Action"),
    ("entity", "Table"),
    ("entity_id", "Record id"),
    ("summary", "Summary"),
    ("detail", "Detail (JSON)"),
    ("hash", "Entry hash"),
)


GENESIS = "0" * 64  # what the first entry follows
# Inside every hashed payload, so a later change of what is hashed can never be mistaken for this one.
CHAIN_FORMAT = "locality-desk-audit-1"
# An entry's fields in the order they are hashed; `row` makes all but seq, `append` gives seq and the links.
FIELDS = ("at", "user", "os_account", "role", "device_id", "action", "entity", "entity_id", "summary", "detail")
INSERT = f"INSERT INTO audit (seq, {', '.join(FIELDS)}, prev_hash, hash) VALUES ({', '.join('?' * (len(FIELDS) + 3))})"
# The newest entry and the highest number ever handed out (SQLite keeps it in sqlite_sequence for an
# AUTOINCREMENT key, so it stays put when the last entries are deleted): the next entry takes the number after,
# and a gap shows the deletion.
_HEAD = (
    "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'audit'), a.seq, a.hash "
    "FROM (SELECT 1) LEFT JOIN (SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1) a"
)
# Made by migration m010; `verify` checks they are still there as written. Changing them needs a migration.
TRIGGERS = {
    "audit_no_update": "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'Audit log entries cannot be changed: the log keeps every entry as it was written.'); END",
    "audit_no_delete": "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'Audit log entries cannot be deleted: the log keeps every entry as it was written.'); END",
    # INSERT OR REPLACE deletes the entry it replaces without firing the DELETE trigger.
    "audit_no_replace": "CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit "
    "WHEN EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq) BEGIN "
    "SELECT RAISE(ABORT, 'Audit log entries cannot be replaced: the log keeps every entry as it was written.'); END",
}


def _text(value: Any) -> str | None:
    # The columns are TEXT, so SQLite would store 5 as '5': hash what will be read back.
    return None if value is None else str(value)


def row(
    actor: Actor, action: str, entity: str, entity_id: str | None, summary: str, detail: dict[str, Any] | None
) -> tuple:
    """One entry's fields (FIELDS, in order), for `append`: every writer of the log makes its entries here."""
    return tuple(
        _text(v)
        for v in (
            actor.now(),
            actor.user,
            actor.os_account,
            actor.role,
            actor.device_id,
            action,
            entity,
            entity_id,
            summary,
            json.dumps(detail or {}, sort_keys=True, default=str),
        )
    )


def entry_hash(seq: int, values: Sequence[Any], prev_hash: str) -> str:
    """SHA-256 over the entry's number, its FIELDS and the previous entry's hash, as canonical JSON (ASCII, no
    spaces, a fixed order), so the same entry always hashes the same on any machine."""
    payload = json.dumps([CHAIN_FORMAT, seq, *values, prev_hash], separators=(",", ":"))
    return hashlib.sha256(payload.encode("ascii")).hexdigest()


def append(conn: Any, values: Sequence[Any]) -> int:
    """Write one entry made by `row` through *conn* and return its number; see `append_many`."""
    return append_many(conn, [values])[-1]


def append_many(conn: Any, rows: Iterable[Sequence[Any]]) -> list[int]:
    """Chain *rows* (each made by `row`) onto the log through *conn* and return their numbers.

    *conn* is the writer's own connection (sqlite3, or apsw for the sync), so the entries commit or roll back
    with the writer's change. The newest entry is read on that connection inside its transaction: inside one that
    has already written, no other connection can append meanwhile; outside one, a transaction taken with the
    write lock up front (BEGIN IMMEDIATE) holds the read and the write together and commits the entries."""
    if conn.in_transaction:
        return _append(conn, rows)
    conn.execute("BEGIN IMMEDIATE")
    try:
        seqs = _append(conn, rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return seqs


def _append(conn: Any, rows: Iterable[Sequence[Any]]) -> list[int]:
    numbered, last_seq, prev = conn.execute(_HEAD).fetchone()
    seq = max(numbered or 0, last_seq or 0)
    prev = prev or GENESIS
    linked = []
    for values in rows:
        seq += 1
        digest = entry_hash(seq, values, prev)
        linked.append((seq, *values, prev, digest))
        prev = digest
    conn.executemany(INSERT, linked)
    return [r[0] for r in linked]


def record(
    db: sqlite_utils.Database,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None,
    summary: str,
    detail: dict[str, Any] | None = None,
) -> None:
    append(db.conn, row(actor, action, entity, entity_id, summary, detail))


def record_view(db: sqlite_utils.Database, actor: Actor, patient: dict[str, Any]) -> None:
    """Note that *actor* opened *patient*'s record (a row of desktop.models.cohort.caseload.get_patient).

    The summary gives initials only: the record id names the patient exactly for whoever may look them up, and the
    log, itself OFFICIAL-SENSITIVE, is exported and read far more widely than the record it points at."""
    whom = "".join(
        f"{part.strip()[0].upper()}." for part in (patient["given_name"], patient["family_name"]) if part.strip()
    )
    summary = f"Viewed the record of {whom}" if whom else "Viewed a patient's record"
    record(db, actor, "view", "patients", patient["id"], summary)


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
            searched = ("summary", "entity", "entity_id", "user", "os_account", "role", "detail")
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


# -- checking the chain ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VerifyResult:
    """What `verify` found: intact, or the first entry where the chain breaks and why.

    *code* is stable for scripts: "missing" (entries deleted), "unchained" (an entry written without its hash, by
    something other than Locality Desk), "relinked" (an entry that does not follow the one before it: inserted,
    or the one before it replaced), "altered" (an entry changed after it was written), "unprotected" (the chain
    holds but the triggers that guard it were removed)."""

    entries: int
    head: str  # the newest entry's hash (GENESIS for an empty log): noted down, it shows a later rewrite
    broken_at: int | None = None
    code: str | None = None
    problem: str | None = None
    protected: bool = True

    @property
    def intact(self) -> bool:
        return self.code is None

    def verdict(self, name: str = "The audit log") -> str:
        """One line: intact with how many entries and the head, or where and why it breaks."""
        if self.intact and not self.entries:
            return f"{name} is intact: it holds no entries yet."
        if self.intact:
            held = "1 entry" if self.entries == 1 else f"{self.entries:,} entries, each following the one before"
            return f"{name} is intact: {held} (head {self.head[:16]})."
        where = f" at entry {self.broken_at}" if self.broken_at is not None else ""
        return f"{name} is broken{where}: {self.problem}. Keep the workspace as it is and tell your IG lead."

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "entries": self.entries,
            "head": self.head,
            "broken_at": self.broken_at,
            "code": self.code,
            "problem": self.problem,
            "protected": self.protected,
        }


def _numbers(first: int, last: int) -> str:
    return f"entry {first} is" if first == last else f"entries {first} to {last} are"


def verify(db: sqlite_utils.Database) -> VerifyResult:
    """Walk the chain oldest first and report the first entry that breaks it, or that it is intact.

    Read in one transaction, so entries the app appends meanwhile are not mistaken for a break."""
    conn = db.conn
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        return _walk(conn)
    finally:
        if own:
            conn.execute("ROLLBACK")


def _walk(conn: Any) -> VerifyResult:
    entries = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    found = {
        name: " ".join(sql.split())
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'"
        )
    }
    protected = all(found.get(name) == " ".join(sql.split()) for name, sql in TRIGGERS.items())
    expected, prev = 1, GENESIS

    def broken(seq: int | None, code: str, problem: str) -> VerifyResult:
        return VerifyResult(entries, prev, seq, code, problem, protected)

    columns = ", ".join(FIELDS)
    for seq, *values, prev_hash, digest in conn.execute(
        f"SELECT seq, {columns}, prev_hash, hash FROM audit ORDER BY seq"
    ):
        if seq != expected:
            return broken(expected, "missing", f"{_numbers(expected, seq - 1)} missing (deleted)")
        if digest is None or prev_hash is None:
            return broken(seq, "unchained", f"entry {seq} has no hash (written by something other than Locality Desk)")
        if prev_hash != prev:
            return broken(
                seq,
                "relinked",
                f"entry {seq} does not follow entry {seq - 1} (one of them was put in or replaced later)",
            )
        if entry_hash(seq, values, prev_hash) != digest:
            return broken(
                seq, "altered", f"entry {seq} was changed after it was written (it no longer matches its hash)"
            )
        expected, prev = seq + 1, digest
    numbered = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
    if numbered and numbered[0] >= expected:
        return broken(
            expected, "missing", f"{_numbers(expected, numbered[0])} missing (deleted from the end of the log)"
        )
    if not protected:
        return broken(
            None,
            "unprotected",
            "the triggers that stop entries being changed or deleted were removed (every entry is still in place)",
        )
    return VerifyResult(entries, prev)
