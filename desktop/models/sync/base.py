"""The sync base of a workspace (issue 11, DESIGN §15): the snapshot a bundle's diff is taken against.

Each workspace keeps a *sync base* beside it (``<workspace>.sync-base``, an ordinary SQLite file): the synced
tables as this laptop last knew the team's state, plus a small ``_sync_state`` table naming the workspace identity
it was made for. Beside it, never in the user's profile, because it holds the same patient records: on the same
volume it has the same disk encryption (issue 20; desktop.models.at_rest).
What this copy has sent and applied is kept in the workspace itself, never here
(desktop.models.sync.state), so the base is a cache: losing it costs a fuller next bundle, as a first exchange
does, and its lagging one import behind costs only rows sent again. The base starts empty and absorbs every
teammate bundle this workspace imports; it is never advanced by an export. So ``diff(base → workspace)`` —
computed by SQLite's session extension (``apsw.Session.diff``), not a hand-written log — is exactly what was
changed *on this laptop* and not yet superseded by a teammate's newer version, and every bundle carries all of it.
A bundle lost in transit therefore costs nothing: the next one carries the same changes.

The base also keeps, in ``_sync_sent``, each row this laptop made and sent that no teammate has sent back yet (the
base proper lacks those). When such a row is deleted here, the base gets it back from there for the diff, so the
deletion travels like any other, in every later bundle.

Before diffing, rows that exist on both sides but differ are removed from the base (inside a transaction that is
rolled back after the diff), so an edit travels as the *whole row* (an INSERT in the changeset) rather than as an
UPDATE of a few columns: a teammate who never saw the intermediate version can still apply it, and the conflict
rule sees both complete versions.
Deletions travel as DELETEs carrying the row as this laptop last knew it.

Not synced: ``meta`` (this workspace's settings, including the team id), ``audit`` (each laptop's own trail; its
integer keys would collide) and SQLite's and the migrations' bookkeeping tables.

Limit: deletions made before a workspace's first exchange are not carried (its base starts empty, so its first
bundle is the whole workspace and nothing made before it is lost).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import apsw

EXCLUDED = {"meta", "audit", "_sqlite_migrations"}
STATE_TABLE = "_sync_state"
SENT_TABLE = "_sync_sent"
BUSY_TIMEOUT_MS = 5000

# Rows this laptop made and sent that no teammate has sent back yet: the base (the team's state as last heard)
# lacks them, so without this a later deletion of one here would never travel.
SENT_SQL = (
    f"CREATE TABLE IF NOT EXISTS {SENT_TABLE} (tbl TEXT NOT NULL, pk TEXT NOT NULL, row TEXT NOT NULL, "
    "PRIMARY KEY (tbl, pk))"
)


# ---------------------------------------------------------------- files and tables


def base_path(db_path: str | Path) -> Path:
    """<workspace>.sync-base, in the workspace's own folder."""
    path = Path(db_path)
    return path.with_name(path.name + ".sync-base")


def connect(path: str | Path) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    return conn


def synced_tables(conn: apsw.Connection, schema: str = "main") -> dict[str, str]:
    """Name → CREATE TABLE statement of every table that travels in bundles (those with a primary key)."""
    rows = conn.execute(
        f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    out = {}
    for name, sql in rows:
        if name in EXCLUDED or name in (STATE_TABLE, SENT_TABLE):
            continue
        if pk_columns(conn, name, schema):
            out[name] = sql
    return out


def columns(conn: apsw.Connection, table: str, schema: str = "main") -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]


def pk_columns(conn: apsw.Connection, table: str, schema: str = "main") -> list[str]:
    info = [(r[5], r[1]) for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")') if r[5]]
    return [name for _, name in sorted(info)]


def schema_version(conn: apsw.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


# ---------------------------------------------------------------- the base and its owner


def open_base(db_path: str | Path, ws: apsw.Connection, workspace_id: str, create: bool = True) -> apsw.Connection:
    """The sync base beside the workspace, made (empty) when missing or when it belongs to another identity.

    A base records the workspace identity it was made for (desktop.models.sync.state): a workspace copied with
    its base takes an identity of its own and so starts afresh, while a moved one keeps both. With *create*
    false (a dry run) a base that would have to be made is made in memory, so nothing is written beside the
    workspace.
    """
    path = base_path(db_path)
    version = schema_version(ws)
    if path.exists():
        conn = connect(path)
        state = _owner(conn)
        # Bases made before the identity moved into the workspace name it "replica"; state.read_state adopts
        # that id only when the base was made for this very file.
        owner = state.get("workspace_id", state.get("replica"))
        whole = owner == workspace_id and set(synced_tables(ws)) <= set(synced_tables(conn))
        if whole and state.get("schema_version") == version:
            if create:
                conn.execute(SENT_SQL)  # bases made before the table existed gain it
                if "workspace_id" not in state:
                    with conn:
                        _stamp(conn, workspace_id, version)
            return conn
        conn.close()
        if create:
            path.unlink()
    conn = connect(path if create else ":memory:")
    with conn:
        for sql in synced_tables(ws).values():
            conn.execute(sql)
        conn.execute(f"CREATE TABLE {STATE_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(SENT_SQL)
        _stamp(conn, workspace_id, version)
    return conn


def _owner(conn: apsw.Connection) -> dict[str, Any]:
    try:
        return {k: json.loads(v) for k, v in conn.execute(f"SELECT key, value FROM {STATE_TABLE}")}
    except (apsw.SQLError, apsw.NotADBError, apsw.CorruptError, ValueError):  # not a base, or a damaged one
        return {}


def _stamp(conn: apsw.Connection, workspace_id: str, version: int) -> None:
    conn.execute(f"DELETE FROM {STATE_TABLE}")
    for key, value in (("workspace_id", workspace_id), ("schema_version", version)):
        conn.execute(f"INSERT INTO {STATE_TABLE} (key, value) VALUES (?, ?)", (key, json.dumps(value)))


# ---------------------------------------------------------------- rows sent and not yet sent back


def _encode(values) -> str:
    return json.dumps([{"$b": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v for v in values])


def _decode(text: str) -> list[Any]:
    return [base64.b64decode(v["$b"]) if isinstance(v, dict) else v for v in json.loads(text)]


def remember_sent(base: apsw.Connection, changeset: bytes) -> None:
    """Keep the rows this bundle carried that the base lacks, so their deletion here can travel later."""
    pks = {t: pk_columns(base, t) for t in synced_tables(base)}
    cols = {t: columns(base, t) for t in pks}
    for change in apsw.Changeset.iter(changeset):
        if change.op != "INSERT" or change.name not in pks:
            continue
        row = dict(zip(cols[change.name], change.new, strict=False))
        key = [row[c] for c in pks[change.name]]
        where = " AND ".join(f'"{c}" IS ?' for c in pks[change.name])
        if base.execute(f'SELECT 1 FROM "{change.name}" WHERE {where}', key).fetchone() is None:
            base.execute(
                f"INSERT OR REPLACE INTO {SENT_TABLE} (tbl, pk, row) VALUES (?, ?, ?)",
                (change.name, _encode(key), _encode(change.new)),
            )


def forget_sent(base: apsw.Connection) -> None:
    """Rows a teammate has sent back (so now in the base) need remembering no longer."""
    for table in synced_tables(base):
        pk = pk_columns(base, table)
        for (key_text,) in base.execute(f"SELECT pk FROM {SENT_TABLE} WHERE tbl = ?", (table,)).fetchall():
            where = " AND ".join(f'"{c}" IS ?' for c in pk)
            if base.execute(f'SELECT 1 FROM "{table}" WHERE {where}', _decode(key_text)).fetchone() is not None:
                base.execute(f"DELETE FROM {SENT_TABLE} WHERE tbl = ? AND pk = ?", (table, key_text))


# ---------------------------------------------------------------- the diff


def diff(ws: apsw.Connection, base_file: Path) -> bytes:
    """diff(base → workspace) by the session extension, edits travelling as whole rows (see the module docstring).

    The base is shaped for the diff inside a transaction that is rolled back, so it is never copied or changed.
    """
    ws.execute("ATTACH ? AS base", (str(base_file),))
    try:
        tables = synced_tables(ws)
        ws.execute("BEGIN")  # deferred: only the base takes a write lock; the team's app can go on writing meanwhile
        try:
            for table in tables:
                pk = ", ".join(f'"{c}"' for c in pk_columns(ws, table))
                ws.execute(
                    f'DELETE FROM base."{table}" WHERE ({pk}) IN (SELECT {pk} FROM (SELECT * FROM '
                    f'base."{table}" EXCEPT SELECT * FROM main."{table}")) '
                    f'AND ({pk}) IN (SELECT {pk} FROM main."{table}")'
                )
                _put_back_deleted_sent(ws, table)
            session = apsw.Session(ws, "main")
            try:
                for table in tables:
                    session.attach(table)
                    session.diff("base", table)
                return session.changeset()
            finally:
                session.close()
        finally:
            ws.execute("ROLLBACK")
    finally:
        ws.execute("DETACH base")


def _put_back_deleted_sent(ws: apsw.Connection, table: str) -> None:
    """A row sent earlier and deleted here since goes back into the base for the diff, so it carries its DELETE."""
    pk = pk_columns(ws, table)
    cols = columns(ws, table)
    where = " AND ".join(f'"{c}" IS ?' for c in pk)
    marks = ", ".join("?" for _ in cols)
    for (row_text,) in ws.execute(f"SELECT row FROM base.{SENT_TABLE} WHERE tbl = ?", (table,)).fetchall():
        row = _decode(row_text)
        key = [row[cols.index(c)] for c in pk]
        if ws.execute(f'SELECT 1 FROM main."{table}" WHERE {where}', key).fetchone() is None:
            ws.execute(f'INSERT OR IGNORE INTO base."{table}" VALUES ({marks})', row)


__all__ = ["EXCLUDED", "STATE_TABLE", "base_path", "open_base", "synced_tables"]
