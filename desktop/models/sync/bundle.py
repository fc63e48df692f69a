"""Offline sync between the laptops of one team (issue 11, DESIGN §15): encrypted change bundles.

How a bundle is made
--------------------
Each workspace keeps a *sync base* beside it (``<workspace>.sync-base``, an ordinary SQLite file): the synced
tables as this laptop last knew the team's state, plus a small ``_sync_state`` table (this copy's replica id,
its export sequence and the highest sequence seen from each teammate). The base starts empty and absorbs every
teammate bundle this workspace imports; it is never advanced by an export. So
``diff(base → workspace)`` — computed by SQLite's session extension (``apsw.Session.diff``), not a hand-written
log — is exactly what was changed *on this laptop* and not yet superseded by a teammate's newer version, and every
bundle carries all of it. A bundle lost in transit therefore costs nothing: the next one carries the same changes.

The base also keeps, in ``_sync_sent``, each row this laptop made and sent that no teammate has sent back yet (the
base proper lacks those). When such a row is deleted here, the base gets it back from there for the diff, so the
deletion travels like any other, in every later bundle.

Before diffing, rows that exist on both sides but differ are removed from the base (inside a transaction that is
rolled back after the diff), so an edit travels as the *whole row* (an INSERT in the changeset) rather than as an
UPDATE of a few columns: a teammate who never saw the intermediate version can still apply it, and the conflict
rule sees both complete versions.
Deletions travel as DELETEs carrying the row as this laptop last knew it.

Applying (``apsw.Changeset.apply`` with a conflict handler), in one transaction:

* same id on both sides, different content → the later ``updated_at`` wins (ties: device id, then the row's
  values, so every laptop picks the same winner whatever the order bundles arrive in). When this laptop had
  changed the row itself since the last exchange, it is reported as a conflict and an audit row
  ``sync-conflict`` keeps both versions (the losing one is never lost from the record's history);
* deleted there, edited here (the row no longer matches what the sender deleted) → **the edit wins**: the delete
  is skipped, and this laptop's next bundle restores the row on the sender's laptop;
* deleted there, still pointed at by a record here (a visit logged at a care home the teammate removed) → kept
  here, like an edit, and given back to the teammate by this laptop's next bundle; rows the same bundle deletes
  too do not count as a use;
* deleted there, already gone here → nothing to do; identical content → nothing to do;
* two new actions with the same number (each laptop numbered its own CHA-2026-0043) → the later-made one is
  renumbered, by the laptop that made it (audited ``sync-renumber``), so every laptop ends with the same numbers;
* another clash on a unique column (two laptops each added the same practice code) → refused and shown as a
  conflict; the row stays out of the base too, so it is offered again once one of the two is removed.

Refused, with nothing changed (ValidationError): a file that is not a bundle, a wrong passphrase, a bundle altered
after it was made (AES-GCM authenticates header and content), another team's bundle, a different schema version,
this workspace's own bundle, and a bundle whose sequence number this workspace has already applied (a replay, or an
older bundle a newer one from the same laptop has superseded).

Not synced: ``meta`` (this workspace's settings, including the team id), ``audit`` (each laptop's own trail; its
integer keys would collide) and SQLite's and the migrations' bookkeeping tables.

Limits: bundles carry the changes made on the sending laptop, not changes it received, so every laptop imports
every teammate's latest bundle (a shared folder works); deletions made before a workspace's first exchange are not
carried (its base starts empty, so its first bundle is the whole workspace and nothing made before it is lost);
a bundle that would still leave a dangling reference (a chain of deletions where a middle record is kept) is
refused whole, with a message.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import apsw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..clock import Actor, utc_now
from ..errors import ValidationError

FORMAT = "locality-desk-sync"
FORMAT_VERSION = 1
MAGIC = b"LOCALITY-DESK-SYNC 1\n"
EXCLUDED = {"meta", "audit", "_sqlite_migrations"}
STATE_TABLE = "_sync_state"
SENT_TABLE = "_sync_sent"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_SCRYPT_N = 2**20
BUSY_TIMEOUT_MS = 5000
PASSPHRASE_ENV = "LOCALITY_DESK_PASSPHRASE"


@dataclass
class Conflict:
    """One record both sides changed (or one side deleted), with both versions, for a side-by-side view."""

    table: str
    id: str
    kind: str  # "edited on both" | "deleted there, edited here" | "refused by a constraint"
    mine: dict[str, Any] | None
    theirs: dict[str, Any] | None
    winner: str  # "mine" | "theirs"
    my_by: str | None = None
    my_at: str | None = None
    their_by: str | None = None
    their_at: str | None = None


@dataclass
class SyncSummary:
    direction: str  # "export" | "import"
    file: str
    bundle_id: str
    sender: str
    seq: int
    team_id: str
    dry_run: bool = False
    changes: dict[str, int] = field(default_factory=dict)  # per table, what the bundle carries
    applied: dict[str, int] = field(default_factory=dict)  # added / updated / deleted / unchanged / kept mine
    by_table: dict[str, dict[str, int]] = field(default_factory=dict)  # the same counts, per table
    conflicts: list[Conflict] = field(default_factory=list)
    renumbered: list[dict[str, str]] = field(default_factory=list)  # actions given a new reference here

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- identity, base and tables


def base_path(db_path: str | Path) -> Path:
    path = Path(db_path)
    return path.with_name(path.name + ".sync-base")


def ensure_team_id(db_path: str | Path) -> str:
    """The team id of the workspace, made once; copies of the workspace share it (copy before the first sync)."""
    from ..workspace import get_meta, set_meta

    db = _open_checked(db_path)
    try:
        team = get_meta(db, "team_id")
        if not team:
            team = str(uuid.uuid4())
            with db.atomic():
                set_meta(db, team_id=team)
        return team
    finally:
        db.close()


def _open_checked(db_path: str | Path):
    """The workspace through open_workspace: refuses a missing, too-new or damaged file and applies migrations."""
    from ..db import open_workspace

    return open_workspace(db_path, create=False)


def _connect(path: str | Path) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    return conn


def synced_tables(conn: apsw.Connection, schema: str = "main") -> dict[str, str]:
    """Name → CREATE TABLE statement of every table that travels in bundles (those with a primary key)."""
    rows = conn.execute(f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    out = {}
    for name, sql in rows:
        if name in EXCLUDED or name in (STATE_TABLE, SENT_TABLE):
            continue
        if _pk_columns(conn, name, schema):
            out[name] = sql
    return out


def _columns(conn: apsw.Connection, table: str, schema: str = "main") -> list[str]:
    return [r[1] for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")')]


def _pk_columns(conn: apsw.Connection, table: str, schema: str = "main") -> list[str]:
    info = [(r[5], r[1]) for r in conn.execute(f'PRAGMA {schema}.table_info("{table}")') if r[5]]
    return [name for _, name in sorted(info)]


def _schema_version(conn: apsw.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def _identity(db_path: str | Path) -> tuple[str, str]:
    from ... import paths

    return str(Path(db_path).resolve()), paths.device_id()


def _open_base(db_path: str | Path, ws: apsw.Connection) -> tuple[apsw.Connection, dict[str, Any]]:
    """The sync base beside the workspace, made (empty) when missing or when it belongs to another copy.

    A base records the workspace path and device it was made for: a workspace file copied to another laptop or
    folder (with or without its base) starts afresh with a replica id of its own.
    """
    path = base_path(db_path)
    where, device = _identity(db_path)
    version = _schema_version(ws)
    if path.exists():
        conn = _connect(path)
        state = _read_state(conn)
        if state and state.get("workspace") == where and state.get("device") == device \
                and state.get("schema_version") == version:
            conn.execute(SENT_SQL)  # bases made before the table existed gain it
            return conn, state
        conn.close()
        path.unlink()
    conn = _connect(path)
    with conn:
        for sql in synced_tables(ws).values():
            conn.execute(sql)
        conn.execute(f"CREATE TABLE {STATE_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute(SENT_SQL)
        state = {"replica": str(uuid.uuid4()), "workspace": where, "device": device, "schema_version": version,
                 "export_seq": 0, "seen": {}}
        _write_state(conn, state)
    return conn, state


# Rows this laptop made and sent that no teammate has sent back yet: the base (the team's state as last heard)
# lacks them, so without this a later deletion of one here would never travel.
SENT_SQL = (f"CREATE TABLE IF NOT EXISTS {SENT_TABLE} (tbl TEXT NOT NULL, pk TEXT NOT NULL, row TEXT NOT NULL, "
            "PRIMARY KEY (tbl, pk))")


def _encode(values) -> str:
    return json.dumps([{"$b": _b64(v)} if isinstance(v, bytes) else v for v in values])


def _decode(text: str) -> list[Any]:
    return [base64.b64decode(v["$b"]) if isinstance(v, dict) else v for v in json.loads(text)]


def _remember_sent(base: apsw.Connection, changeset: bytes) -> None:
    """Keep the rows this bundle carried that the base lacks, so their deletion here can travel later."""
    pks = {t: _pk_columns(base, t) for t in synced_tables(base)}
    cols = {t: _columns(base, t) for t in pks}
    for change in apsw.Changeset.iter(changeset):
        if change.op != "INSERT" or change.name not in pks:
            continue
        row = dict(zip(cols[change.name], change.new, strict=False))
        key = [row[c] for c in pks[change.name]]
        where = " AND ".join(f'"{c}" IS ?' for c in pks[change.name])
        if base.execute(f'SELECT 1 FROM "{change.name}" WHERE {where}', key).fetchone() is None:
            base.execute(f"INSERT OR REPLACE INTO {SENT_TABLE} (tbl, pk, row) VALUES (?, ?, ?)",
                         (change.name, _encode(key), _encode(change.new)))


def _forget_sent(base: apsw.Connection) -> None:
    """Rows a teammate has sent back (so now in the base) need remembering no longer."""
    for table in synced_tables(base):
        pk = _pk_columns(base, table)
        for key_text, in base.execute(f"SELECT pk FROM {SENT_TABLE} WHERE tbl = ?", (table,)).fetchall():
            where = " AND ".join(f'"{c}" IS ?' for c in pk)
            if base.execute(f'SELECT 1 FROM "{table}" WHERE {where}', _decode(key_text)).fetchone() is not None:
                base.execute(f"DELETE FROM {SENT_TABLE} WHERE tbl = ? AND pk = ?", (table, key_text))


def _read_state(conn: apsw.Connection) -> dict[str, Any] | None:
    try:
        return {k: json.loads(v) for k, v in conn.execute(f"SELECT key, value FROM {STATE_TABLE}")}
    except apsw.SQLError:
        return None


def _write_state(conn: apsw.Connection, state: dict[str, Any]) -> None:
    for key, value in state.items():
        conn.execute(f"INSERT INTO {STATE_TABLE} (key, value) VALUES (?, ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, json.dumps(value)))


# ---------------------------------------------------------------- encryption


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, str]:
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return material[:32], hashlib.sha256(b"locality-desk passphrase check" + material[32:]).hexdigest()


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _seal(header: dict[str, Any], payload: bytes, passphrase: str) -> bytes:
    salt, nonce = os.urandom(16), os.urandom(12)
    key, check = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    sealed = AESGCM(key).encrypt(nonce, zlib.compress(payload, 6), _canonical(header))
    envelope = {"header": header, "kdf": {"name": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
                                          "salt": _b64(salt)},
                "check": check, "cipher": "AES-256-GCM", "nonce": _b64(nonce), "ciphertext": _b64(sealed)}
    return MAGIC + json.dumps(envelope, sort_keys=True).encode("utf-8")


def read_header(bundle: str | Path) -> dict[str, Any]:
    """The bundle's header (readable without the passphrase; authenticated when the bundle is opened)."""
    return _envelope(Path(bundle))["header"]


def _envelope(path: Path) -> dict[str, Any]:
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {name}: {exc.strerror or exc}.") from exc
    if not raw.startswith(MAGIC):
        raise ValidationError(f"{name} is not a Locality Desk sync bundle.")
    try:
        envelope = json.loads(raw[len(MAGIC):])
        header = envelope["header"]
        if not isinstance(header, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{name} is damaged or was altered after it was made; nothing was changed.") from exc
    if header.get("format") != FORMAT:
        raise ValidationError(f"{name} is not a Locality Desk sync bundle.")
    if header.get("version") != FORMAT_VERSION:
        raise ValidationError(f"{name} uses sync format {header.get('version')}; this Locality Desk reads format "
                              f"{FORMAT_VERSION}. Install the same version on both laptops; nothing was changed.")
    return envelope


def _open_sealed(path: Path, passphrase: str) -> tuple[dict[str, Any], bytes]:
    envelope = _envelope(path)
    damaged = f"{path.name} is damaged or was altered after it was made, so it was refused; nothing was changed."
    try:
        kdf = envelope["kdf"]
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if kdf["name"] != "scrypt" or not (2 <= n <= MAX_SCRYPT_N) or not (1 <= r <= 32) or not (1 <= p <= 16):
            raise ValueError
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        sealed = base64.b64decode(envelope["ciphertext"], validate=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValidationError(damaged) from exc
    key, check = _derive(passphrase, salt, n, r, p)
    if check != envelope.get("check"):
        raise ValidationError(f"The passphrase does not open {path.name}. Use the team's sync passphrase; "
                              "nothing was changed.")
    try:
        payload = zlib.decompress(AESGCM(key).decrypt(nonce, sealed, _canonical(envelope["header"])))
    except (InvalidTag, ValueError, zlib.error) as exc:
        raise ValidationError(damaged) from exc
    return envelope["header"], payload


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _require_passphrase(passphrase: str | None) -> str:
    if not passphrase:
        raise ValidationError(f"Enter the team's sync passphrase (or set {PASSPHRASE_ENV}).")
    return passphrase


# ---------------------------------------------------------------- export


def export_bundle(db_path: str | Path, out: str | Path, passphrase: str, actor: Actor | None = None) -> SyncSummary:
    """Write, encrypted with *passphrase*, everything this workspace changed that its teammates may not have."""
    passphrase = _require_passphrase(passphrase)
    out = Path(out)
    actor = actor or _default_actor()
    team = ensure_team_id(db_path)
    ws = _connect(db_path)
    base, state = _open_base(db_path, ws)
    try:
        changeset = _diff(ws, base_path(db_path))
        changes = _count(changeset)
        seq = int(state["export_seq"]) + 1
        header = {"format": FORMAT, "version": FORMAT_VERSION, "schema_version": _schema_version(ws),
                  "team_id": team, "sender": state["replica"], "device_id": actor.device_id, "user": actor.user,
                  "seq": seq, "bundle_id": str(uuid.uuid4()), "created_at": utc_now(), "changes": changes}
        data = _seal(header, changeset, passphrase)
        partial = out.with_name(out.name + ".partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise ValidationError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        with base:
            state["export_seq"] = seq
            _write_state(base, state)
            _remember_sent(base, changeset)
    finally:
        base.close()
        ws.close()
    summary = SyncSummary("export", str(out), header["bundle_id"], header["sender"], seq, team, changes=changes)
    _audit_export(db_path, actor, summary)
    return summary


def _diff(ws: apsw.Connection, base_file: Path) -> bytes:
    """diff(base → workspace) by the session extension, edits travelling as whole rows (see the module docstring).

    The base is shaped for the diff inside a transaction that is rolled back, so it is never copied or changed.
    """
    ws.execute("ATTACH ? AS base", (str(base_file),))
    try:
        tables = synced_tables(ws)
        ws.execute("BEGIN")  # deferred: only the base takes a write lock; the team's app can go on writing meanwhile
        try:
            for table in tables:
                pk = ", ".join(f'"{c}"' for c in _pk_columns(ws, table))
                ws.execute(f'DELETE FROM base."{table}" WHERE ({pk}) IN (SELECT {pk} FROM (SELECT * FROM '
                           f'base."{table}" EXCEPT SELECT * FROM main."{table}")) '
                           f'AND ({pk}) IN (SELECT {pk} FROM main."{table}")')
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
    pk = _pk_columns(ws, table)
    cols = _columns(ws, table)
    where = " AND ".join(f'"{c}" IS ?' for c in pk)
    marks = ", ".join("?" for _ in cols)
    for row_text, in ws.execute(f"SELECT row FROM base.{SENT_TABLE} WHERE tbl = ?", (table,)).fetchall():
        row = _decode(row_text)
        key = [row[cols.index(c)] for c in pk]
        if ws.execute(f'SELECT 1 FROM main."{table}" WHERE {where}', key).fetchone() is None:
            ws.execute(f'INSERT OR IGNORE INTO base."{table}" VALUES ({marks})', row)


def _count(changeset: bytes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in apsw.Changeset.iter(changeset):
        counts[change.name] = counts.get(change.name, 0) + 1
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------- import


def import_bundle(db_path: str | Path, bundle: str | Path, passphrase: str, dry_run: bool = False,
                  actor: Actor | None = None) -> SyncSummary:
    """Apply a teammate's bundle in one transaction (or, *dry_run*, report what it would do and change nothing)."""
    from ..workspace import get_meta, set_meta

    passphrase = _require_passphrase(passphrase)
    bundle = Path(bundle)
    actor = actor or _default_actor()
    header, changeset = _open_sealed(bundle, passphrase)
    db = _open_checked(db_path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if header.get("schema_version") != version:
            raise ValidationError(
                f"{bundle.name} was made by a workspace of schema {header.get('schema_version')}; this one is schema "
                f"{version}. Install the same Locality Desk version on both laptops first; nothing was changed.")
        team = get_meta(db, "team_id")
        if team and header.get("team_id") != team:
            raise ValidationError(f"{bundle.name} comes from another team's workspace, so it was refused; "
                                  "nothing was changed.")
        if not team and not dry_run:
            with db.atomic():
                set_meta(db, team_id=str(header["team_id"]))
    finally:
        db.close()
    ws = _connect(db_path)
    base, state = _open_base(db_path, ws)
    try:
        sender, seq = str(header.get("sender")), int(header.get("seq", 0))
        if sender == state["replica"]:
            raise ValidationError(f"{bundle.name} was made by this workspace; import your teammates' bundles.")
        seen = int(state["seen"].get(sender, 0))
        if seq <= seen:
            raise ValidationError(
                f"{bundle.name} (bundle {seq} from that laptop) was already applied here, or a newer bundle from the "
                f"same laptop (up to {seen}) has replaced it; nothing was changed.")
        summary = SyncSummary("import", str(bundle), str(header.get("bundle_id")), sender, seq,
                              str(header.get("team_id")), dry_run=dry_run, changes=_count(changeset))
        _apply(ws, base, changeset, header, summary, actor, state, dry_run)
    finally:
        base.close()
        ws.close()
    return summary


class _Merge:
    """The conflict handler of one import: later updated_at wins; an edit wins over a delete."""

    def __init__(self, ws: apsw.Connection, base: apsw.Connection, header: dict[str, Any], summary: SyncSummary,
                 changeset: bytes):
        self.ws, self.base, self.header, self.summary = ws, base, header, summary
        self.columns = {t: _columns(ws, t) for t in synced_tables(ws)}
        self.pks = {t: _pk_columns(ws, t) for t in self.columns}
        self.error: str | None = None
        self.skipped: set[tuple[str, str]] = set()  # (table, pk) kept out of the base too: they come again
        self.renumber: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (local action, incoming action)
        # Who points at whom, and what the bundle itself deletes: a row is "in use" only by rows that stay.
        self.referrers: dict[str, list[tuple[str, str, str]]] = {}
        for child in self.columns:
            for fk in ws.execute(f'PRAGMA foreign_key_list("{child}")'):
                self.referrers.setdefault(fk[2], []).append((child, fk[3], fk[4]))
        self.deleting: dict[str, set[tuple[Any, ...]]] = {}
        for change in apsw.Changeset.iter(changeset):
            if change.op == "DELETE":
                row = self._row(change.name, change.old)
                self.deleting.setdefault(change.name, set()).add(tuple(row[c] for c in self.pks[change.name]))

    def count(self, what: str, table: str) -> None:
        self.summary.applied[what] = self.summary.applied.get(what, 0) + 1
        per = self.summary.by_table.setdefault(table, {})
        per[what] = per.get(what, 0) + 1

    def see(self, change: apsw.TableChange) -> bool:
        if change.op == "DELETE":
            row = self._row(change.name, change.old)
            if self._in_use(change.name, row):
                # Like an edit, a use here outweighs the deletion there: kept, and this laptop's next bundle
                # gives the record back to the teammate (their base no longer has it), so the team converges.
                self.count("kept mine", change.name)
                self._record(change.name, row, "deleted there, still in use here", row, None, "mine")
                return False
        self.count({"INSERT": "added", "DELETE": "deleted", "UPDATE": "updated"}[change.op], change.name)
        return True

    def _number_clash(self, theirs: dict[str, Any]) -> bool:
        """Two laptops numbered a new action alike (CHA-2026-0043 twice): the later-made one is renumbered by the
        laptop that made it, so every laptop ends with the same two numbers. True when that is what happened."""
        found = self.ws.execute("SELECT * FROM actions WHERE id <> ? AND (reference = ? OR (locality_id = ? AND "
                                "year = ? AND seq = ?))", (theirs["id"], theirs["reference"], theirs["locality_id"],
                                                           theirs["year"], theirs["seq"])).fetchone()
        if found is None:
            return False
        mine = self._row("actions", found)
        made_here = self.base.execute("SELECT 1 FROM actions WHERE id = ?", (mine["id"],)).fetchone() is None
        if made_here and _made_order(mine) > _made_order(theirs):
            self.renumber.append((mine, theirs))
            self.count("added", "actions")
        else:  # theirs is renumbered on the laptop that made it and arrives again, renumbered, in a later bundle
            self.count("waiting", "actions")
        return True

    def renumber_mine(self, actor: Actor) -> None:
        """After the changeset: give each clashing action made here the next free number, then add theirs."""
        from ..mdt.actions import next_reference

        for mine, theirs in self.renumber:
            reference, seq = next_reference(self.ws, mine["locality_id"], mine["year"])
            stamp = actor.stamp()
            # The renumbering must win wherever the old number went, even against a laptop clock that runs fast.
            stamp["updated_at"] = max(stamp["updated_at"], _just_after(mine.get("updated_at")))
            self.ws.execute("UPDATE actions SET reference = ?, seq = ?, updated_at = ?, updated_by = ?, "
                            "device_id = ? WHERE id = ?", (reference, seq, stamp["updated_at"],
                                                           stamp["updated_by"], stamp["device_id"], mine["id"]))
            columns = list(theirs)
            self.ws.execute(f"INSERT INTO actions ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                            [theirs[c] for c in columns])
            self.skipped.discard(("actions", self._pk("actions", theirs)))
            self.summary.renumbered.append({"id": mine["id"], "from": mine["reference"], "to": reference,
                                            "clashed_with": theirs["id"]})

    def into_base(self, change: apsw.TableChange) -> bool:
        """The base takes every change the workspace took; one it refused or deferred would read as deleted here."""
        values = change.new if change.op == "INSERT" else change.old
        return (change.name, self._pk(change.name, self._row(change.name, values) or {})) not in self.skipped

    def _in_use(self, table: str, row: dict[str, Any]) -> bool:
        for child, column, parent_column in self.referrers.get(table, []):
            pk = self.pks[child]
            cols = ", ".join(f'"{c}"' for c in pk)
            going = self.deleting.get(child, set())
            for found in self.ws.execute(f'SELECT {cols} FROM "{child}" WHERE "{column}" = ?', (row[parent_column],)):
                if tuple(found) not in going:
                    return True
        return False

    def _row(self, table: str, values) -> dict[str, Any] | None:
        return None if values is None else dict(zip(self.columns[table], values, strict=False))

    def _pk(self, table: str, row: dict[str, Any]) -> str:
        return "/".join(str(row[c]) for c in self.pks[table])

    def _changed_here(self, table: str, mine: dict[str, Any]) -> bool:
        pk = self.pks[table]
        where = " AND ".join(f'"{c}" IS ?' for c in pk)
        row = self.base.execute(f'SELECT * FROM "{table}" WHERE {where}', [mine[c] for c in pk]).fetchone()
        return row is None or self._row(table, row) != mine

    def conflict(self, reason: int, change: apsw.TableChange) -> int:
        table = change.name
        if reason == apsw.SQLITE_CHANGESET_FOREIGN_KEY:
            self.error = (f"The bundle would leave {change.fk_conflicts} record(s) here pointing at records it "
                          "deletes (a teammate deleted something still in use on this laptop). Nothing was "
                          "changed; remove or move those links, or ask the teammate to restore it.")
            return apsw.SQLITE_CHANGESET_ABORT
        if reason == apsw.SQLITE_CHANGESET_NOTFOUND:  # deleted there, already gone here
            self._uncount(change)
            self.count("unchanged", table)
            return apsw.SQLITE_CHANGESET_OMIT
        mine = self._row(table, change.conflict)
        if reason == apsw.SQLITE_CHANGESET_CONSTRAINT:
            self._uncount(change)
            theirs = self._row(table, change.new)
            self.skipped.add((table, self._pk(table, theirs or {})))
            if table == "actions" and change.op == "INSERT" and self._number_clash(theirs):
                return apsw.SQLITE_CHANGESET_OMIT
            self.count("refused", table)
            self._record(table, theirs or {}, "refused by a constraint", None, theirs, "mine")
            return apsw.SQLITE_CHANGESET_OMIT
        if change.op == "DELETE":  # DATA: the row here is not the one they deleted → the edit wins
            self._uncount(change)
            self.count("kept mine", table)
            self._record(table, mine, "deleted there, edited here", mine, None, "mine")
            return apsw.SQLITE_CHANGESET_OMIT
        theirs = self._row(table, change.new)
        if theirs == mine:
            self._uncount(change)
            self.count("unchanged", table)
            return apsw.SQLITE_CHANGESET_OMIT
        winner = "theirs" if _rank(theirs) > _rank(mine) else "mine"
        self._uncount(change)
        self.count("updated" if winner == "theirs" else "kept mine", table)
        if self._changed_here(table, mine):
            self._record(table, mine, "edited on both", mine, theirs, winner)
        return apsw.SQLITE_CHANGESET_REPLACE if winner == "theirs" else apsw.SQLITE_CHANGESET_OMIT

    def _uncount(self, change: apsw.TableChange) -> None:
        key = {"INSERT": "added", "DELETE": "deleted", "UPDATE": "updated"}[change.op]
        self.summary.applied[key] -= 1
        if not self.summary.applied[key]:
            del self.summary.applied[key]
        per = self.summary.by_table[change.name]
        per[key] -= 1
        if not per[key]:
            del per[key]

    def _record(self, table: str, key_row: dict[str, Any], kind: str, mine: dict[str, Any] | None,
                theirs: dict[str, Any] | None, winner: str) -> None:
        self.summary.conflicts.append(Conflict(
            table, self._pk(table, key_row), kind, mine, theirs, winner,
            my_by=(mine or {}).get("updated_by"), my_at=(mine or {}).get("updated_at"),
            their_by=(theirs or {}).get("updated_by") or self.header.get("user"),
            their_at=(theirs or {}).get("updated_at") or self.header.get("created_at")))


def _rank(row: dict[str, Any]) -> tuple[str, str, str]:
    """The order that picks the winner: updated_at, then device, then the values — the same on every laptop."""
    values = json.dumps([row[k] for k in sorted(row)], default=repr)
    return str(row.get("updated_at") or ""), str(row.get("device_id") or ""), values


def _just_after(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    except ValueError:
        return stamp


def _made_order(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("created_at") or ""), str(row.get("id"))


def _into_base(reason: int, change: apsw.TableChange) -> int:
    """The base takes the teammate's version whatever the workspace kept, so a winning local edit is sent again."""
    if reason in (apsw.SQLITE_CHANGESET_DATA, apsw.SQLITE_CHANGESET_CONFLICT):
        return apsw.SQLITE_CHANGESET_REPLACE
    return apsw.SQLITE_CHANGESET_OMIT


def _apply(ws: apsw.Connection, base: apsw.Connection, changeset: bytes, header: dict[str, Any],
           summary: SyncSummary, actor: Actor, state: dict[str, Any], dry_run: bool) -> None:
    merge = _Merge(ws, base, header, summary, changeset)
    ws.execute("PRAGMA foreign_keys = ON")
    ws.execute("BEGIN IMMEDIATE")
    base.execute("BEGIN IMMEDIATE")
    committed = False
    try:
        try:
            apsw.Changeset.apply(changeset, ws, filter_change=merge.see, conflict=merge.conflict,
                                 flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION)
        except apsw.Error as exc:
            raise ValidationError(merge.error or f"The bundle could not be applied ({exc}); nothing was "
                                                 "changed.") from exc
        if not dry_run:
            merge.renumber_mine(actor)
        if dry_run:
            return
        apsw.Changeset.apply(changeset, base, filter_change=merge.into_base, conflict=_into_base,
                             flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION)
        state["seen"][summary.sender] = summary.seq
        _write_state(base, state)
        _forget_sent(base)
        _audit_import(ws, actor, summary, header)
        # The workspace commits first: if the laptop stops between the two commits, the base merely lacks the
        # teammate's rows, so this workspace re-sends identical rows (a no-op) and may re-apply the same bundle.
        ws.execute("COMMIT")
        committed = True
        base.execute("COMMIT")
    finally:
        if not committed:
            with contextlib.suppress(apsw.Error):
                ws.execute("ROLLBACK")
        if base.in_transaction:
            with contextlib.suppress(apsw.Error):
                base.execute("ROLLBACK")


# ---------------------------------------------------------------- audit


def _default_actor() -> Actor:
    from ... import paths

    return Actor.local(paths.device_id())


def _audit_row(conn, actor: Actor, action: str, entity: str, entity_id: str | None, summary: str,
               detail: dict[str, Any]) -> None:
    conn.execute("INSERT INTO audit (at, user, role, device_id, action, entity, entity_id, summary, detail) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 (actor.now(), actor.user, actor.role, actor.device_id, action, entity, entity_id, summary,
                  json.dumps(detail, sort_keys=True, default=str)))


def _audit_import(ws: apsw.Connection, actor: Actor, summary: SyncSummary, header: dict[str, Any]) -> None:
    for c in summary.conflicts:
        _audit_row(ws, actor, "sync-conflict", c.table, c.id,
                   f"Sync conflict on {c.table} {c.id} ({c.kind}): {c.winner} kept",
                   {"kind": c.kind, "winner": c.winner, "mine": c.mine, "theirs": c.theirs,
                    "bundle_id": summary.bundle_id, "from_user": header.get("user")})
    for r in summary.renumbered:
        _audit_row(ws, actor, "sync-renumber", "actions", r["id"],
                   f"Action {r['from']} renumbered {r['to']}: a teammate's new action had the same number",
                   {**r, "bundle_id": summary.bundle_id, "from_user": header.get("user")})
    total = sum(summary.changes.values())
    _audit_row(ws, actor, "sync-import", "sync", summary.bundle_id,
               f"Imported sync bundle {summary.seq} from {header.get('user')} ({total:,} changes, "
               f"{len(summary.conflicts)} conflicts)",
               {"file": summary.file, "sender": summary.sender, "seq": summary.seq, "applied": summary.applied,
                "changes": summary.changes, "made_at": header.get("created_at")})


def _audit_export(db_path: str | Path, actor: Actor, summary: SyncSummary) -> None:
    from .. import audit

    db = _open_checked(db_path)
    try:
        with db.atomic():
            audit.record(db, actor, "sync-export", "sync", summary.bundle_id,
                         f"Exported sync bundle {summary.seq} ({sum(summary.changes.values()):,} changes) to "
                         f"{Path(summary.file).name}", {"file": summary.file, "changes": summary.changes,
                                                        "seq": summary.seq})
    finally:
        db.close()


__all__ = ["Conflict", "SyncSummary", "base_path", "ensure_team_id", "export_bundle", "import_bundle",
           "read_header", "synced_tables", "PASSPHRASE_ENV"]

