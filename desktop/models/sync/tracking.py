"""What changed here, kept as it happens (issue 23): the ``_sync_rows`` ledger, the triggers that feed it, and the
capture that turns its marks into clocks.

Why triggers and not SQLite's session extension: a session records only the changes made through the connection it
is attached to, and the app writes through several (sqlite3 for the screens and imports, apsw for sync); a session
diff against a snapshot compares whole tables however little changed (5.3 s a day's bundle on all of LLR). A
trigger sees every write to the file, on any connection, for a few microseconds each.

The ledger holds one row per record of every synced table (``synced_tables``):

``dirty``
    the columns changed here since the last capture (bit *i* is the table's column *i*; -1 all of them), set by
    the triggers. A write that changes nothing marks nothing.
``gone``
    1 when the record was deleted here since the last capture; ``vals`` then holds its last values.
``clocks``
    JSON ``{column: [clock, previous clock]}``; the entry ``""`` stands for every column not named. A clock is
    ``"<UTC time> <counter> <device>"``, and clocks compare as strings (the empty clock first): the time, then the
    counter (a hybrid logical clock: an edit made here after seeing a teammate's clock from a fast laptop still
    comes after it), then the device. The previous clock tells a sequential edit (made on top of the other) from a
    concurrent one, which is a conflict.
``dead``
    ``[clock, latest column clock then]`` of the deletion in force, or NULL. A record is alive while some column's
    clock is later than its deletion's.
``vals``
    the record's values (JSON list in column order) while it is out of its table: deleted, or parked.
``parked``
    why a teammate's record waits outside its table (its reference clashes, or a record it needs is missing).
``version``
    this workspace's change number for the record's present state: a bundle carries the records whose version is
    above what its receivers are known to have (desktop.models.sync.bundle).
``src``
    the teammate whose bundle the record's present state came from, exactly; NULL when it was made or changed
    here. Such a record is not sent back to that teammate, only on to others who may lack it.

Clocks are made from the record itself where it can say (its ``updated_at`` and ``device_id``), so two copies of
one workspace capture an edit made before they were copied with the very same clock: they agree without
exchanging it and report no conflict over it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from ..clock import utc_now

LEDGER = "_sync_rows"
EXCLUDED = frozenset({"meta", "audit", "_sqlite_migrations"})
ALL = -1
ZERO = ""  # the earliest clock there is: a field at its default when its record was made
MAX_BITS = 62  # columns past this share the last bit: marking one marks them all (no table comes near)
TRIGGER_PREFIX = "_sync_"

LEDGER_SQL = f"""
CREATE TABLE IF NOT EXISTS {LEDGER} (
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,
    dirty INTEGER NOT NULL DEFAULT 0,
    gone INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 0,
    clocks TEXT,
    dead TEXT,
    vals TEXT,
    parked TEXT,
    src TEXT,
    PRIMARY KEY (tbl, pk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS {LEDGER}_dirty ON {LEDGER} (dirty) WHERE dirty <> 0;
CREATE INDEX IF NOT EXISTS {LEDGER}_version ON {LEDGER} (version);
CREATE INDEX IF NOT EXISTS {LEDGER}_parked ON {LEDGER} (tbl) WHERE parked IS NOT NULL
"""


# ---------------------------------------------------------------- tables


def synced_tables(conn) -> list[str]:
    """The tables that travel in bundles: every table with a primary key but the workspace's own."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    return [n for n in names if n not in EXCLUDED and not n.startswith("_sync") and pk_columns(conn, n)]


def columns(conn, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')]


def defaults(conn, table: str) -> list[tuple[str, str | None]]:
    """Each column and its default, as SQL (None where it has none)."""
    return [(r[1], r[4]) for r in conn.execute(f'PRAGMA table_info("{table}")')]


def pk_columns(conn, table: str) -> list[str]:
    info = [(r[5], r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")') if r[5]]
    return [name for _, name in sorted(info)]


def key_sql(pk: list[str], alias: str) -> str:
    """The ledger's key of a record, in SQL: a JSON array of its primary key."""
    return "json_array(" + ", ".join(f'{alias}."{c}"' for c in pk) + ")"


def match_sql(pk: list[str], alias: str, key: str) -> str:
    """SQL true when record *alias* is the one ledger key expression *key* names (uses the table's key index)."""
    return " AND ".join(f"{alias}.\"{c}\" = json_extract({key}, '$[{i}]')" for i, c in enumerate(pk))


def key_of(values: Iterable[Any]) -> str:
    return json.dumps(list(values), separators=(",", ":"))


# ---------------------------------------------------------------- triggers


def _value_sql(alias: str, column: str) -> str:
    # JSON cannot hold a BLOB: a blob is kept as {"$x": hex}.
    ref = f'{alias}."{column}"'
    return f"CASE typeof({ref}) WHEN 'blob' THEN json_object('$x', hex({ref})) ELSE {ref} END"


def trigger_sql(conn, table: str) -> dict[str, str]:
    """Name → CREATE TRIGGER of the three triggers that keep *table*'s ledger rows; the names carry a hash of the
    columns, so a migration that changes them leaves names that no longer match and ``install`` replaces them."""
    cols = columns(conn, table)
    pk = pk_columns(conn, table)
    tag = hashlib.sha1(json.dumps([table, cols, pk]).encode()).hexdigest()[:8]
    new_key, old_key = key_sql(pk, "NEW"), key_sql(pk, "OLD")
    changed = " OR ".join(f'OLD."{c}" IS NOT NEW."{c}"' for c in cols)
    mask = " | ".join(
        f'(CASE WHEN OLD."{c}" IS NOT NEW."{c}" THEN {1 << min(i, MAX_BITS)} ELSE 0 END)' for i, c in enumerate(cols)
    )
    vals = "json_array(" + ", ".join(_value_sql("OLD", c) for c in cols) + ")"
    name = f"{TRIGGER_PREFIX}{table}_{tag}"
    return {
        f"{name}_i": (
            f'CREATE TRIGGER "{name}_i" AFTER INSERT ON "{table}" BEGIN '
            f"INSERT INTO {LEDGER} (tbl, pk, dirty, gone) VALUES ('{table}', {new_key}, {ALL}, 0) "
            f"ON CONFLICT (tbl, pk) DO UPDATE SET dirty = {ALL}, gone = 0; END"
        ),
        f"{name}_u": (
            f'CREATE TRIGGER "{name}_u" AFTER UPDATE ON "{table}" WHEN {changed} BEGIN '
            f"INSERT INTO {LEDGER} (tbl, pk, dirty, gone) VALUES ('{table}', {new_key}, {mask}, 0) "
            f"ON CONFLICT (tbl, pk) DO UPDATE SET dirty = dirty | excluded.dirty, gone = 0; END"
        ),
        f"{name}_d": (
            f'CREATE TRIGGER "{name}_d" AFTER DELETE ON "{table}" BEGIN '
            f"INSERT INTO {LEDGER} (tbl, pk, dirty, gone, vals) VALUES ('{table}', {old_key}, {ALL}, 1, {vals}) "
            f"ON CONFLICT (tbl, pk) DO UPDATE SET dirty = {ALL}, gone = 1, vals = excluded.vals; END"
        ),
    }


def install(conn, check_only: bool = False) -> bool:
    """Make sure every synced table has its current triggers (and no stale ones are left); True when any changed
    (or, *check_only*, would change: nothing is written).

    Cheap when nothing changed (one look at sqlite_master), so it runs at every open."""
    have = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
            (TRIGGER_PREFIX.replace("_", "\\_") + "%",),
        )
    }
    if "src" not in columns(conn, LEDGER):  # a ledger made while issue 23 was being built, before the column
        if check_only:
            return True
        conn.execute(f"ALTER TABLE {LEDGER} ADD COLUMN src TEXT")
    want: dict[str, str] = {}
    for table in synced_tables(conn):
        want.update(trigger_sql(conn, table))
    if have == set(want):
        return False
    if check_only:
        return True
    for name in have - set(want):
        conn.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    for name in set(want) - have:
        conn.execute(want[name])
    return True


@contextlib.contextmanager
def untracked(conn) -> Iterator[None]:
    """Inside the caller's transaction: what is written within enters the ledger as the history every copy shares
    (``adopt``), not as changes to send. For a workspace filled from nothing (the demo world), whose marks would cost
    a fifth of the build and be captured as this laptop's own work; a failure rolls the triggers back with the rest."""
    pattern = TRIGGER_PREFIX.replace("_", "\\_") + "%"
    sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'"
    names = [r[0] for r in conn.execute(sql, (pattern,))]
    for name in names:
        conn.execute(f'DROP TRIGGER "{name}"')
    yield
    adopt(conn)
    install(conn)


def adopt(conn) -> None:
    """Enter every record not in the ledger yet, as captured at version 0 (the history copies share).

    Its clock comes from the record (``updated_at`` and ``device_id``, empty where the table has none), so two
    copies of one workspace adopt a record with the same clock."""
    for table in synced_tables(conn):
        pk = pk_columns(conn, table)
        cols = columns(conn, table)
        stamp = _stamp_sql(cols, "t")
        conn.execute(
            f"INSERT INTO {LEDGER} (tbl, pk, version, clocks) "
            f"SELECT '{table}', {key_sql(pk, 't')}, 0, json_object('', json_array({stamp}, '')) "
            f'FROM "{table}" t WHERE true ON CONFLICT (tbl, pk) DO NOTHING'
        )


def _stamp_sql(cols: list[str], alias: str) -> str:
    ts = f"coalesce({alias}.updated_at, '')" if "updated_at" in cols else "''"
    site = f"coalesce({alias}.device_id, '')" if "device_id" in cols else "''"
    return f"{ts} || ' 000000 ' || {site}"


# ---------------------------------------------------------------- clocks


def make(ts: str, n: int, site: str) -> str:
    # Spaces, which sort before every character of a time: a clock without one (" 000000 device") comes first.
    return f"{ts} {n:06d} {site}"


def split(clock: str) -> tuple[str, int, str]:
    ts, n, site = clock.split(" ", 2)
    return ts, int(n), site


def site_of(clock: str | None) -> str:
    return split(clock)[2] if clock else ""


def after(wall: str, latest: str | None, site: str) -> str:
    """A clock later than *latest*: at *wall* when that is later, else *latest*'s time with the counter moved on."""
    if not latest:
        return make(wall, 0, site)
    ts, n, _ = split(latest)
    if wall > ts:
        return make(wall, 0, site)
    return make(ts, n + 1, site)


def load(text: str | None) -> dict[str, list[str]]:
    return json.loads(text) if text else {}


def dump(clocks: dict[str, list[str]]) -> str:
    return json.dumps(clocks, sort_keys=True, separators=(",", ":"))


def entry(clocks: dict[str, list[str]], column: str) -> list[str]:
    return clocks.get(column) or clocks.get("") or ["", ""]


def latest(clocks: dict[str, list[str]]) -> str:
    return max((e[0] for e in clocks.values()), default="")


def alive(clocks: dict[str, list[str]], dead: list[str] | None) -> bool:
    return not dead or latest(clocks) > dead[0]


# ---------------------------------------------------------------- values


def encode(values: Iterable[Any]) -> list[Any]:
    return [{"$x": v.hex()} if isinstance(v, bytes) else v for v in values]


def decode(values: Iterable[Any]) -> list[Any]:
    return [bytes.fromhex(v["$x"]) if isinstance(v, dict) else v for v in values]


# ---------------------------------------------------------------- capture


def newest(conn) -> int:
    """The newest version of the records this workspace holds (0 when all are the shared history)."""
    return conn.execute(f"SELECT coalesce(max(version), 0) FROM {LEDGER}").fetchone()[0]


def next_version(conn) -> int:
    return newest(conn) + 1


def capture(conn, device: str, version: int | None = None) -> int:
    """Turn the triggers' marks into clocks at a new version; the number of records captured.

    Runs inside the caller's transaction (an export's or an import's), so it lands with what it describes."""
    tables = [r[0] for r in conn.execute(f"SELECT DISTINCT tbl FROM {LEDGER} WHERE dirty <> 0")]
    if not tables:
        return 0
    version = version or next_version(conn)
    now = utc_now()
    shapes: dict[str, tuple[list[str], list[str]]] = {t: (columns(conn, t), pk_columns(conn, t)) for t in tables}
    done = sum(_capture_new(conn, t, *shapes[t], device, version, now) for t in tables)
    pending = conn.execute(f"SELECT tbl, pk, dirty, gone, clocks, dead FROM {LEDGER} WHERE dirty <> 0").fetchall()
    for table, key, dirty, gone, clocks_text, dead_text in pending:
        cols, pk = shapes[table]
        clocks = load(clocks_text)
        dead = json.loads(dead_text) if dead_text else None
        newest = max(latest(clocks), dead[0] if dead else "")
        if gone and not clocks:  # made and deleted here before any bundle: the team never had it
            conn.execute(f"DELETE FROM {LEDGER} WHERE tbl = ? AND pk = ?", (table, key))
            continue
        if gone:
            # Just after the last edit this laptop knew of: an edit made elsewhere that it had not seen is later,
            # and wins (an edit outweighs a deletion it crossed), whenever either was captured.
            dead = [after("", newest, device), latest(clocks)]
            conn.execute(
                f"UPDATE {LEDGER} SET dirty = 0, gone = 0, dead = ?, version = ?, src = NULL WHERE tbl = ? AND pk = ?",
                (json.dumps(dead), version, table, key),
            )
            continue
        row = conn.execute(f'SELECT * FROM "{table}" t WHERE {match_sql(pk, "t", "?")}', [key] * len(pk)).fetchone()
        if row is None:  # deleted again since (its delete trigger marked it gone): nothing to say of it here
            conn.execute(f"UPDATE {LEDGER} SET dirty = 0 WHERE tbl = ? AND pk = ?", (table, key))
            continue
        # Records new since the last capture had theirs from _capture_new; this is an edit (or a record written
        # again after its deletion: the stamp comes after the deletion's clock too, so it is back).
        record = dict(zip(cols, row, strict=False))
        stamp = after(str(record.get("updated_at") or now), newest, str(record.get("device_id") or device))
        for i, column in enumerate(cols):
            if dirty == ALL or dirty & (1 << min(i, MAX_BITS)):
                clocks[column] = [stamp, entry(clocks, column)[0]]
        conn.execute(
            f"UPDATE {LEDGER} SET dirty = 0, gone = 0, clocks = ?, vals = NULL, version = ?, src = NULL "
            "WHERE tbl = ? AND pk = ?",
            (dump(compact(clocks, cols)), version, table, key),
        )
    return done + len(pending)


def _capture_new(conn, table: str, cols: list[str], pk: list[str], device: str, version: int, now: str) -> int:
    """Records made here since the last capture, all at once (an import makes thousands): one clock each, from the
    record's own stamp, as ``capture`` would give them one by one."""
    ts = "coalesce(nullif(t.updated_at, ''), :now)" if "updated_at" in cols else ":now"
    site = "coalesce(nullif(t.device_id, ''), :device)" if "device_id" in cols else ":device"
    found = f'SELECT {{}} FROM "{table}" t WHERE {match_sql(pk, "t", f"{LEDGER}.pk")}'
    # A field still at its default carries the earliest clock: two laptops that each make the same record (a
    # patient's record of work, made by the first edit on each) and set different fields keep both.
    unset = ", ".join(
        f"'{c}', CASE WHEN t.\"{c}\" IS ({default or 'NULL'}) THEN json_array('{ZERO}', '') END"
        for c, default in defaults(conn, table)
        if c not in pk
    )
    clocks = f"json_object('', json_array({ts} || ' 000000 ' || {site}, ''))"
    if unset:
        clocks = f"json_patch({clocks}, json_object({unset}))"
    stamp = found.format(clocks)
    before = conn.execute("SELECT total_changes()").fetchone()[0]
    conn.execute(
        f"UPDATE {LEDGER} SET dirty = 0, gone = 0, vals = NULL, src = NULL, version = :version, clocks = ({stamp}) "
        f"WHERE tbl = :table AND dirty <> 0 AND clocks IS NULL AND gone = 0 AND EXISTS ({found.format('1')})",
        {"now": now, "device": device, "version": version, "table": table},
    )
    return conn.execute("SELECT total_changes()").fetchone()[0] - before


def compact(clocks: dict[str, list[str]], cols: list[str]) -> dict[str, list[str]]:
    """The one way of writing a record's clocks: the commonest entry as the default, the others by name. Two
    laptops holding the same clocks write the same text, which is how a record already held is skipped quickly."""
    full = {c: tuple(entry(clocks, c)) for c in cols}
    tally: dict[tuple[str, ...], int] = {}
    for e in full.values():
        tally[e] = tally.get(e, 0) + 1
    default = max(tally, key=lambda e: (tally[e], e)) if tally else ("", "")
    return {"": list(default), **{c: list(e) for c, e in full.items() if e != default}}


def canonical(text: str | None, cols: list[str]) -> str | None:
    """Clocks as ``compact`` writes them, whoever wrote *text* (the bulk capture's SQL orders keys its own way)."""
    return None if text is None else dump(compact(load(text), cols))


__all__ = ["LEDGER", "LEDGER_SQL", "adopt", "capture", "install", "synced_tables"]
