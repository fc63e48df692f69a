"""A workspace's sync state, kept in its own ``meta`` (issue 19): who this copy is, its team, what it has sent
and what it has applied.

Why in the workspace and not in the sync base beside it: the state must travel with the file and change only
with the work it describes. Moving the folder, or the workspace without its base, must not make an old bundle
look new (it would bring back a record deleted since); a refused or interrupted import or export must leave
nothing of itself behind. So every change to these keys is written in the same transaction as the changes it
describes, and the base (desktop.models.sync.base) is only a cache of the team's rows, keyed by the identity
below and rebuilt when it does not match.

The keys (``meta`` never travels in a bundle):

``team_id``
    The team, made by the first export or taken from the first bundle applied (see ``merge``).
``workspace_id``
    This copy's identity: the sender id its bundles carry and the key of the replay protection. Made on first
    need, in the transaction of that first export or import.
``sync_state``
    JSON: the device and path where that identity was last used, this copy's last bundle number
    (``export_seq``) and, per teammate, the highest bundle number applied (``seen``).

Moved or copied? A file cannot tell, so the device and path it was last used at decide: on the same device,
a workspace whose recorded path no longer exists was moved, and keeps its identity. When that path still exists
(this is a second copy beside the first) or the device differs (copied to another laptop), the workspace is a
copy: it takes an identity of its own, so two copies never send bundles under one name, and counts every
bundle its former identity had sent as already applied (their content is in the copy). When in doubt it is
treated as a copy, which costs only a fuller next bundle; treating a copy as moved would make two laptops one.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw

from .. import audit
from ..clock import Actor
from ..errors import translate_sqlite_error
from . import tracking
from .base import STATE_TABLE, base_path, connect

TEAM_KEY, ID_KEY, STATE_KEY, ORIGIN_KEY = "team_id", "workspace_id", "sync_state", "sync_origin"
START_KEY = "sync_start"  # where this copy started: device, path, and the newest version it held then
FORMAT = 2  # what "seen" and "acks" count: the senders' record versions (issue 23)

# What a commissioner workspace holds (reference data and the returns it receives, DESIGN §5, §14): a bundle
# touching any other table is refused there. A list of what is allowed, not of what is not, so that a table a
# later issue adds stays out of commissioner workspaces until someone decides it belongs there.
COMMISSIONER_TABLES = frozenset(
    {"localities", "pcns", "practices", "staff", "care_homes", "returns", "return_values", "return_outcomes"}
)

# The localities whose team work a workspace holds, as far as its records show.
_TEAM_LOCALITIES_SQL = """
SELECT code FROM localities WHERE id IN (
    SELECT locality_id FROM risk_runs UNION SELECT locality_id FROM patients
    UNION SELECT locality_id FROM meetings UNION SELECT locality_id FROM actions
    UNION SELECT locality_id FROM returns
    UNION SELECT h.locality_id FROM care_homes h JOIN visits v ON v.care_home_id = h.id
    UNION SELECT h.locality_id FROM care_homes h JOIN residents r ON r.care_home_id = h.id
) ORDER BY code
"""


@dataclass
class SyncState:
    workspace_id: str
    team_id: str | None
    kind: str
    device: str
    path: str
    export_seq: int = 0
    seen: dict[str, int] = field(default_factory=dict)
    acks: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)  # per teammate, the number of its last bundle applied
    origin: str = ""  # the workspace this one is a copy of, at any remove (meta sync_origin, made by migration 13)
    # The newest version held when this copy started (history shared with copies of the same workspace), or None
    # for the workspace copies were made from, whose versions all belong to that shared line.
    base: int | None = 0
    minted: bool = False  # the identity was made (or renewed) by this read: write_state must record it
    stored: tuple[str | None, ...] = field(default=(), repr=False, compare=False)  # meta as read

    def seen_from(self, sender: str) -> int:
        """The newest version of *sender*'s that this workspace is known to hold all of; -1 for none."""
        return int(self.seen.get(sender, -1))

    def since(self) -> int:
        """The version a new bundle carries changes after: what the least caught-up known teammate has; -1 (all
        of it) while no teammate is known."""
        return min(self.acks.values(), default=-1)

    def holds_of(self, sender: str, header: dict[str, Any]) -> int:
        """The newest of *sender*'s versions this workspace holds all of: what it has applied, or, before it has
        applied any, the history both were copied with when they are copies of one workspace."""
        if sender in self.seen:
            return self.seen[sender]
        if self.origin and header.get("origin") == self.origin:
            return _shared(self.base, header.get("base"))
        return -1

    def heard(self, sender: str, header: dict[str, Any]) -> None:
        """A teammate's bundle says what it holds of each laptop's changes: keep what it holds of ours. One that
        has never heard of this laptop holds, if it is a copy of the same workspace, the history both were copied
        with: the versions up to the older of the two identities' starting points."""
        have = header.get("have")
        mine = have.get(self.workspace_id) if isinstance(have, dict) else None
        if mine is None and self.origin and header.get("origin") == self.origin:
            mine = _shared(self.base, header.get("base"))
        self.acks[sender] = max(self.acks.get(sender, -1), _version(mine))

    def unchanged(self, ws: apsw.Connection) -> bool:
        """True when meta still holds what this state was read from (no other sync has run since)."""
        return _stored(ws) == self.stored


def _identity_here(db_path: str | Path) -> tuple[str, str]:
    from ... import paths

    return paths.device_id(), str(Path(db_path).resolve())


def _meta(ws: apsw.Connection, key: str) -> str | None:
    row = ws.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def _stored(ws: apsw.Connection) -> tuple[str | None, ...]:
    return tuple(_meta(ws, key) for key in (TEAM_KEY, ID_KEY, STATE_KEY, "kind"))


def read_state(ws: apsw.Connection, db_path: str | Path) -> SyncState:
    """The workspace's sync state as it stands now, including an identity made or renewed in memory (written
    only by ``write_state``, in the caller's transaction)."""
    device, where = _identity_here(db_path)
    stored = _stored(ws)
    team, workspace_id, recorded_text, kind = stored
    team, kind = team or None, kind or "locality"
    recorded = load_object(recorded_text)
    origin = _meta(ws, ORIGIN_KEY) or ""
    if not workspace_id:
        state = _from_legacy_base(db_path, device, where, team, kind)
        base, first = _start(ws, device, where)
        state.stored, state.origin, state.base, state.minted = stored, origin, None if first else base, True
        return state
    # Before issue 23 "seen" counted bundles, not versions; those bundles no longer open, so it starts afresh.
    current = recorded.get("format") == FORMAT
    seen = recorded.get("seen") if current and isinstance(recorded.get("seen"), dict) else {}
    acks = recorded.get("acks") if current and isinstance(recorded.get("acks"), dict) else {}
    applied = recorded.get("applied") if current and isinstance(recorded.get("applied"), dict) else {}
    state = SyncState(
        workspace_id,
        team,
        kind,
        device,
        where,
        export_seq=_whole(recorded.get("export_seq")),
        seen={str(k): _version(v) for k, v in seen.items()},
        acks={str(k): _version(v) for k, v in acks.items()},
        applied={str(k): _whole(v) for k, v in applied.items()},
        origin=origin,
        base=None if recorded.get("base", 0) is None else _version(recorded.get("base")),
        stored=stored,
    )
    was_at = str(recorded.get("path") or "")
    here_or_moved = was_at == where or not was_at or not Path(was_at).exists()
    if recorded.get("device") == device and here_or_moved:
        return state
    # A copy: a name of its own; it holds everything its former self had, and its former self everything it has.
    held, _ = _start(ws, device, where)
    state.seen[workspace_id] = max(state.seen_from(workspace_id), held)
    state.acks[workspace_id] = held
    state.applied[workspace_id] = max(state.applied.get(workspace_id, 0), state.export_seq)
    state.workspace_id, state.export_seq, state.base, state.minted = str(uuid.uuid4()), 0, held, True
    return state


def _start(ws, device: str, where: str) -> tuple[int, bool]:
    """The newest version this copy held when it was first used here (what it shares with the copy it came from),
    and whether it is the workspace itself, first used here, rather than a copy of one used elsewhere.

    A connection that wrote captures its changes when it closes (desktop.models.db), before this copy may have an
    identity of its own; ``note_start`` records the point first, so later captures do not move it."""
    birth = load_object(_meta(ws, START_KEY))
    if birth.get("device") == device and birth.get("path") == where:
        return _version(birth.get("base")), bool(birth.get("first"))
    return _held(ws), False


def _shared(mine: int | None, theirs: Any) -> int:
    """What two copies of one workspace hold in common: the versions up to the later-made copy's starting point
    (None: the workspace they were copied from)."""
    points = [p for p in (mine, None if theirs is None else _version(theirs)) if p is not None]
    return min(points) if points else -1


def note_start(ws, db_path: str | Path) -> None:
    """Record where this copy starts (``_start``), once per copy, before anything is captured in it."""
    device, where = _identity_here(db_path)
    birth = load_object(_meta(ws, START_KEY))
    if birth.get("device") != device or birth.get("path") != where:
        value = json.dumps({"device": device, "path": where, "base": _held(ws), "first": not birth}, sort_keys=True)
        ws.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (START_KEY, value),
        )


def _held(ws) -> int:
    """The newest version of the records this workspace holds (desktop.models.sync.tracking)."""
    try:
        return tracking.newest(ws)
    except (apsw.SQLError, sqlite3.OperationalError):  # before the ledger existed (migration 13 adds it)
        return 0


def prepare(ws, db_path: str | Path, device: str, *, record: bool = True) -> SyncState:
    """The state, with this laptop's marked changes captured, in the caller's transaction. An identity this read
    made is recorded when *record* (an export or import); a bare capture (a connection closing) records only
    where the copy starts, so its identity, made later, starts there."""
    state = read_state(ws, db_path)
    if state.minted:
        note_start(ws, db_path)
        if record:
            write_state(ws, state)
            state.minted = False
            state.stored = _stored(ws)
    tracking.capture(ws, device)
    return state


def has_sent(conn) -> bool:
    """True once this workspace (or the one it was copied from) has sent a bundle: its team has a passphrase."""
    return _whole(load_object(_meta(conn, STATE_KEY)).get("export_seq")) > 0


def write_state(ws: apsw.Connection, state: SyncState) -> None:
    """Record *state* in meta; the caller's transaction makes it land with the work it describes, or not at all."""
    values = {
        ID_KEY: state.workspace_id,
        STATE_KEY: json.dumps(
            {
                "device": state.device,
                "path": state.path,
                "export_seq": state.export_seq,
                "seen": state.seen,
                "acks": state.acks,
                "applied": state.applied,
                "base": state.base,
                "format": FORMAT,
            },
            sort_keys=True,
        ),
    }
    if state.team_id:
        values[TEAM_KEY] = state.team_id
    for key, value in values.items():
        ws.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def _from_legacy_base(db_path: str | Path, device: str, where: str, team: str | None, kind: str) -> SyncState:
    """A workspace that synced before its state moved into meta keeps its replica id and what it had applied,
    when the base beside it was made for this path and device (as that version checked); otherwise it starts
    afresh with a new identity."""
    fresh = SyncState(str(uuid.uuid4()), team, kind, device, where)
    path = base_path(db_path)
    if not path.exists():
        return fresh
    try:
        conn = connect(path)
        try:
            old = {k: json.loads(v) for k, v in conn.execute(f"SELECT key, value FROM {STATE_TABLE}")}
        finally:
            conn.close()
    except (apsw.Error, ValueError):
        return fresh
    if not old.get("replica") or old.get("workspace") != where or old.get("device") != device:
        return fresh
    return SyncState(
        str(old["replica"]),
        team,
        kind,
        device,
        where,
        export_seq=_whole(old.get("export_seq")),
    )


def load_object(text: str | None) -> dict[str, Any]:
    """A JSON object kept in meta, or {} for none, a damaged one or anything else."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _version(value: Any) -> int:
    """A record version as a bundle or the state names it: -1 (none) or more."""
    try:
        return max(int(value), -1)
    except (TypeError, ValueError):
        return -1


def _whole(value: Any) -> int:
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def team_localities(ws: apsw.Connection) -> list[str]:
    """Codes of the localities whose team work (cohort, meetings, actions, visits, returns) the workspace holds."""
    return [r[0] for r in ws.execute(_TEAM_LOCALITIES_SQL)]


def locality_names(ws: apsw.Connection, codes: list[str]) -> str:
    names = dict(ws.execute("SELECT code, name FROM localities").fetchall())
    return ", ".join(f"{names.get(c, c)} ({c})" for c in codes)


# ---------------------------------------------------------------- storage errors


# apsw's classes for SQLite's storage problems, for an exception that carries no result code of its own (one made
# by hand, as a test's or a VFS shim's is).
_CODES_BY_CLASS = {
    "BusyError": sqlite3.SQLITE_BUSY,
    "LockedError": sqlite3.SQLITE_LOCKED,
    "FullError": sqlite3.SQLITE_FULL,
    "ReadOnlyError": sqlite3.SQLITE_READONLY,
    "NotADBError": sqlite3.SQLITE_NOTADB,
    "CorruptError": sqlite3.SQLITE_CORRUPT,
    "IOError": sqlite3.SQLITE_IOERR,
    "CantOpenError": sqlite3.SQLITE_CANTOPEN,
}


def storage_error(exc: apsw.Error, path: object = None) -> Exception | None:
    """The StorageError (a message the user reads) for an apsw error that is a storage problem (busy, full,
    read-only, damaged, I/O), classified as desktop.models.errors classifies the sqlite3 module's; else None."""
    code = getattr(exc, "extendedresult", None) or getattr(exc, "result", None)
    if not isinstance(code, int):
        code = next((c for cls, c in _CODES_BY_CLASS.items() if type(exc).__name__ == cls), None)
    if code is None:
        return None
    shaped = sqlite3.OperationalError(str(exc))
    shaped.sqlite_errorcode = code
    shaped.sqlite_errorname = type(exc).__name__
    translated = translate_sqlite_error(shaped, path)
    return None if translated is shaped else translated


@contextlib.contextmanager
def storage_errors(path: object) -> Iterator[None]:
    """Storage problems apsw reports inside the block arrive as StorageError; anything else as it was."""
    try:
        yield
    except apsw.Error as exc:
        translated = storage_error(exc, path)
        if translated is None:
            raise
        raise translated from exc


# ---------------------------------------------------------------- audit, in the sync's own transaction


def audit_row(
    ws: apsw.Connection,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str | None,
    summary: str,
    detail: dict[str, Any],
) -> None:
    """desktop.models.audit.record's entry, chained and written through the sync's apsw connection so it commits
    with the sync (the audit table itself never travels: each laptop keeps its own chain)."""
    audit.append(ws, audit.row(actor, action, entity, entity_id, summary, detail))


__all__ = [
    "COMMISSIONER_TABLES",
    "SyncState",
    "audit_row",
    "read_state",
    "storage_errors",
    "team_localities",
    "write_state",
]
