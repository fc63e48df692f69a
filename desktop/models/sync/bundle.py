"""The sync bundle file (issue 11, DESIGN §15): what a bundle carries, its format and encryption, writing one
(``export_bundle``) and reading one back; the team id every bundle names; what an exchange reports (``SyncSummary``).

What a bundle carries
---------------------
One SQLite changeset: everything changed on this laptop that its teammates may not have, as the diff against the
workspace's sync base (desktop.models.sync.base explains the base and why edits travel as whole rows). Bundles carry
the changes made on the sending laptop, not changes it received, so every laptop imports every teammate's latest
bundle (a shared folder works). Applying one is desktop.models.sync.merge.

The file
--------
``MAGIC``, then a JSON envelope: the header in clear (format and schema versions, team id, the sending workspace's
kind and the localities whose records it holds, its identity and bundle sequence number, who and when, the number
of changes per table), so a bundle can be described before the passphrase is asked for; the Scrypt parameters and
salt; a passphrase check; and the changeset, zlib-compressed and sealed with AES-256-GCM, the header being the
associated data so that it is authenticated with the content.

The passphrase (issue 20, point 6)
----------------------------------
A bundle carries patient records, and anyone who finds the file can try passphrases against it offline as fast as
Scrypt lets them: so a new bundle needs a passphrase of at least 12 characters, or four words (``passphrase_problem``),
and its key is derived with N = 2^17 (r 8, p 1: 128 MiB and a third of a second per try). Each bundle records its
own Scrypt parameters, and a bundle is opened with the ones it records, so bundles made before (N = 2^15, any
passphrase) still open; the rule is for making bundles, never for reading them.

Refused when read, with nothing changed (ValidationError): a file that is not a bundle, a bundle of another format
version, a wrong passphrase, a bundle altered after it was made.
"""

from __future__ import annotations

import base64
import contextlib
import functools
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
from . import tracking
from .base import base_path, connect, schema_version
from .state import audit_row, prepare, storage_errors, team_localities, write_state

FORMAT = "locality-desk-sync"
FORMAT_VERSION = 2
MAGIC = b"LOCALITY-DESK-SYNC 1\n"
# Scrypt's cost for a new bundle. Tests that make many bundles may lower SCRYPT_N by monkeypatching it; a bundle
# always records the parameters it was made with, and is opened with those.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
LEGACY_SCRYPT_N = 2**15  # what bundles made before issue 20 record
MAX_SCRYPT_N = 2**20
# Scrypt needs 128 * r * (N + p + 2) bytes; a bundle asking for more (at most one doubling of N beyond today's) is
# refused before any is allocated, so a crafted file cannot make the laptop run out of memory.
MAX_KDF_MEMORY = 2**28 + 2**20
PASSPHRASE_ENV = "LOCALITY_DESK_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 12
MIN_PASSPHRASE_WORDS, MIN_WORD_LETTERS = 4, 3
PASSPHRASE_RULE = "at least 12 characters, or four words of three letters or more"


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
    fields: list[str] = field(default_factory=list)  # the fields both changed ("edited on both")


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
    joined_team: bool = False  # an import that made this workspace, never synced before, part of the sender's team

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- the team, the workspace, the caller


def ensure_team_id(db_path: str | Path) -> str:
    """The team id of the workspace, made once; copies of the workspace share it (copy after making it).

    Otherwise the first export makes one, in the transaction that records the export; a workspace without one
    takes the team of the first bundle it applies, within limits (desktop.models.sync.merge).
    """
    from ..workspace import get_meta, set_meta

    db = open_checked(db_path)
    try:
        team = get_meta(db, "team_id")
        if not team:
            team = str(uuid.uuid4())
            with db.atomic():
                set_meta(db, team_id=team)
        return team
    finally:
        db.close()


def open_checked(db_path: str | Path):
    """The workspace through open_workspace: refuses a missing, too-new or damaged file and applies migrations."""
    from ..db import open_workspace

    return open_workspace(db_path, create=False)


def default_actor() -> Actor:
    from ... import paths

    return Actor.local(paths.device_id())


def require_passphrase(passphrase: str | None) -> str:
    if not passphrase:
        raise ValidationError(f"Enter the team's sync passphrase (or set {PASSPHRASE_ENV}).")
    return passphrase


def passphrase_problem(passphrase: str) -> str | None:
    """Why *passphrase* may not seal a new bundle, or None: it needs PASSPHRASE_RULE.

    Spaces at either end do not count, and a word is a run of letters between spaces ("four" counts, "4" and "a"
    do not). Bundles made before the rule still open with whatever passphrase made them.
    """
    length = len(passphrase.strip())
    words = [w for w in passphrase.split() if len(w) >= MIN_WORD_LETTERS and w.isalpha()]
    if length >= MIN_PASSPHRASE_LENGTH or len(words) >= MIN_PASSPHRASE_WORDS:
        return None
    return (
        f"The sync passphrase is too short for a new bundle: it needs {PASSPHRASE_RULE}, and the one given has "
        f"{length} character{'s' if length != 1 else ''}. A bundle carries patient records, and anyone who finds "
        "the file can try passphrases against it. Choose a longer one (four unrelated words are easy to remember "
        "and hard to guess) and tell your teammates in person. Nothing was written."
    )


def check_new_passphrase(passphrase: str | None) -> str:
    """*passphrase*, when it may seal a new bundle; ValidationError saying the rule when not."""
    passphrase = require_passphrase(passphrase)
    problem = passphrase_problem(passphrase)
    if problem:
        raise ValidationError(problem)
    return passphrase


# ---------------------------------------------------------------- encryption


def kdf_memory(n: int, r: int, p: int) -> int:
    """The bytes Scrypt needs for these parameters, as OpenSSL reckons them: a bundle whose parameters ask for more
    than MAX_KDF_MEMORY is refused before any key is derived."""
    return 128 * r * (n + p + 2)


# One process opens the bundle it has just made, or one bundle twice (a preview, then the apply): each derivation
# costs a third of a second, so the keys are kept per passphrase, salt and cost for the life of the process.
@functools.lru_cache(maxsize=32)
def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, str]:
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return material[:32], hashlib.sha256(b"locality-desk passphrase check" + material[32:]).hexdigest()


def _canonical(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _seal(
    header: dict[str, Any],
    payload: bytes,
    passphrase: str,
    salt: bytes | None = None,
    nonce: bytes | None = None,
    *,
    n: int | None = None,
) -> bytes:
    """The bundle file's bytes. *salt* and *nonce* are for the test corpus, whose files must be reproducible;
    a real bundle always takes fresh random ones (a nonce used twice with one key breaks AES-GCM). *n* is Scrypt's
    cost, SCRYPT_N unless given (the corpus makes bundles as earlier versions did)."""
    salt, nonce = salt or os.urandom(16), nonce or os.urandom(12)
    n = n or SCRYPT_N
    key, check = _derive(passphrase, salt, n, SCRYPT_R, SCRYPT_P)
    # A first bundle of all of LLR is ~0.5 GB of JSON: level 1 compresses it in a fifth of level 6's time.
    level = 6 if len(payload) < 8 * 2**20 else 1
    sealed = AESGCM(key).encrypt(nonce, zlib.compress(payload, level), _canonical(header))
    envelope = {
        "header": header,
        "kdf": {"name": "scrypt", "n": n, "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)},
        "check": check,
        "cipher": "AES-256-GCM",
        "nonce": _b64(nonce),
        "ciphertext": _b64(sealed),
    }
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
        envelope = json.loads(raw[len(MAGIC) :])
        header = envelope["header"]
        if not isinstance(header, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"{name} is damaged or was altered after it was made; nothing was changed.") from exc
    if header.get("format") != FORMAT:
        raise ValidationError(f"{name} is not a Locality Desk sync bundle.")
    if header.get("version") != FORMAT_VERSION:
        raise ValidationError(
            f"{name} uses sync format {header.get('version')}; this Locality Desk reads format "
            f"{FORMAT_VERSION}. Install the same version on both laptops; nothing was changed."
        )
    return envelope


def open_sealed(path: Path, passphrase: str) -> tuple[dict[str, Any], bytes]:
    """The bundle's header and changeset, once the passphrase and the seal over both have been checked."""
    envelope = _envelope(path)
    damaged = f"{path.name} is damaged or was altered after it was made, so it was refused; nothing was changed."
    try:
        kdf = envelope["kdf"]
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        power_of_two = n >= 2 and n & (n - 1) == 0
        if kdf["name"] != "scrypt" or not power_of_two or not (1 <= r <= 32) or not (1 <= p <= 16):
            raise ValueError
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        sealed = base64.b64decode(envelope["ciphertext"], validate=True)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValidationError(damaged) from exc
    if n > MAX_SCRYPT_N or kdf_memory(n, r, p) > MAX_KDF_MEMORY:
        raise ValidationError(
            f"{path.name} asks for a stronger key derivation (Scrypt N = {n}, r = {r}) than this Locality Desk "
            "allows. Install the same version on both laptops; nothing was changed."
        )
    key, check = _derive(passphrase, salt, n, r, p)
    if check != envelope.get("check"):
        raise ValidationError(
            f"The passphrase does not open {path.name}. Use the team's sync passphrase; nothing was changed."
        )
    try:
        payload = zlib.decompress(AESGCM(key).decrypt(nonce, sealed, _canonical(envelope["header"])))
    except (InvalidTag, ValueError, zlib.error) as exc:
        raise ValidationError(damaged) from exc
    return envelope["header"], payload


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ---------------------------------------------------------------- export


def export_bundle(db_path: str | Path, out: str | Path, passphrase: str, actor: Actor | None = None) -> SyncSummary:
    """Write, encrypted with *passphrase*, everything this workspace changed that its teammates may not have.

    The bundle's number, the team id (made by the first export) and the audit row are written in one transaction
    that commits just after the bundle lands at *out*: an export that is refused or fails leaves neither the file
    nor any of them, and one stopped before that instant leaves none of them (a killed one may leave
    ``<out>.partial``, never a bundle). Stopped in the instant between the two, the file is there unrecorded,
    and the next bundle takes the same number: a teammate who applied the first refuses the second as applied
    already and takes the one after, which carries everything again.

    A passphrase short of PASSPHRASE_RULE is refused (ValidationError) before anything is read or written.
    """
    passphrase = check_new_passphrase(passphrase)
    out = Path(out)
    actor = actor or default_actor()
    _check_out(db_path, out)
    open_checked(db_path).close()  # refuses a missing, too-new or damaged file; brings the schema up to date
    with storage_errors(db_path):
        ws = connect(db_path)
        try:
            ws.execute("PRAGMA foreign_keys = ON")
            return _export(ws, Path(db_path), out, passphrase, actor)
        finally:
            ws.close()


def _export(ws: apsw.Connection, db_path: Path, out: Path, passphrase: str, actor: Actor) -> SyncSummary:
    partial = out.with_name(out.name + ".partial")
    placed = False
    ws.execute("BEGIN IMMEDIATE")  # the capture and the bundle's record land together, or neither does
    try:
        state = prepare(ws, db_path, actor.device_id)
        team = state.team_id or str(uuid.uuid4())
        since = state.since()
        upto = tracking.newest(ws)
        payload, changes = gather(ws, since, state.acks)
        seq = state.export_seq + 1
        header = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "schema_version": schema_version(ws),
            "team_id": team,
            "kind": state.kind,
            "localities": team_localities(ws),
            "sender": state.workspace_id,
            "device_id": actor.device_id,
            "user": actor.user,
            "seq": seq,
            "since": since,
            "upto": upto,
            "have": state.seen,
            "origin": state.origin,
            "base": state.base,
            "bundle_id": str(uuid.uuid4()),
            "created_at": utc_now(),
            "changes": changes,
        }
        _write(partial, _seal(header, payload, passphrase), out)
        summary = SyncSummary("export", str(out), header["bundle_id"], header["sender"], seq, team, changes=changes)
        state.team_id, state.export_seq = team, seq
        write_state(ws, state)
        audit_row(
            ws,
            actor,
            "sync-export",
            "sync",
            summary.bundle_id,
            f"Exported sync bundle {seq} ({sum(changes.values()):,} changes) to {out.name}",
            {"file": str(out), "changes": changes, "seq": seq, "since": since, "upto": upto},
        )
        try:
            os.replace(partial, out)
        except OSError as exc:
            raise ValidationError(f"Cannot write {out}: {exc.strerror or exc}; nothing was changed.") from exc
        placed = True
        ws.execute("COMMIT")
        return summary
    except BaseException:
        if ws.in_transaction:
            with contextlib.suppress(apsw.Error):
                ws.execute("ROLLBACK")
        if placed:  # the bundle says what the workspace did not record: it must not reach a teammate
            out.unlink(missing_ok=True)
        raise
    finally:
        partial.unlink(missing_ok=True)


def gather(ws: apsw.Connection, since: int, acks: dict[str, int] | None = None) -> tuple[bytes, dict[str, int]]:
    """The payload of a bundle: every record whose version is above *since*, with its clocks (JSON), and the
    number per table. A record whose state came whole from one teammate's bundle is left out unless another known
    teammate (*acks*: what each holds of ours) may lack it: its sender has it already."""
    acks = acks or {}
    tables: dict[str, Any] = {}
    changes: dict[str, int] = {}
    for table in tracking.synced_tables(ws):
        cols, pk = tracking.columns(ws, table), tracking.pk_columns(ws, table)
        first_key = cols.index(pk[0])
        picked = ", ".join(f't."{c}"' for c in cols)
        rows = []
        for key, clocks, dead, vals, version, src, *values in ws.execute(
            f"SELECT s.pk, s.clocks, s.dead, s.vals, s.version, s.src, {picked} FROM {tracking.LEDGER} s "
            f'LEFT JOIN "{table}" t ON {tracking.match_sql(pk, "t", "s.pk")} '
            "WHERE s.tbl = ? AND s.version > ? AND s.clocks IS NOT NULL ORDER BY s.pk",
            (table, since),
        ):
            if src is not None and not any(held < version for who, held in acks.items() if who != src):
                continue
            if vals is not None:
                rows.append([key, clocks, dead, json.loads(vals)])
            elif values[first_key] is not None:  # else neither in its table nor kept: nothing to say of it
                rows.append([key, clocks, dead, tracking.encode(values)])
        if rows:
            tables[table] = {"columns": cols, "rows": rows}
            changes[table] = len(rows)
    return json.dumps({"tables": tables}, separators=(",", ":")).encode("utf-8"), changes


def _check_out(db_path: str | Path, out: Path) -> None:
    """Refuse an output path that would overwrite the workspace, its journal files or its base, or cannot be a file.

    desktop.cli guards every command's --out; this guard is the model's own, for every caller.
    """
    workspace = Path(db_path)
    family = [workspace, *(workspace.with_name(workspace.name + s) for s in ("-wal", "-shm", "-journal"))]
    family.append(base_path(workspace))
    target = out.resolve()
    for path in family:
        if target == path.resolve() or (out.exists() and path.exists() and os.path.samefile(out, path)):
            raise ValidationError(
                f"{out} is the workspace or one of its own files; choose another name for the bundle. "
                "Nothing was written."
            )
    if out.is_dir():
        raise ValidationError(f"{out} is a folder; give the bundle a file name in it. Nothing was written.")
    if not out.parent.is_dir():
        raise ValidationError(f"The folder {out.parent} does not exist; choose another. Nothing was written.")


def _write(partial: Path, data: bytes, out: Path) -> None:
    try:
        partial.write_bytes(data)
    except OSError as exc:
        raise ValidationError(f"Cannot write {out}: {exc.strerror or exc}; nothing was changed.") from exc


__all__ = [
    "PASSPHRASE_ENV",
    "PASSPHRASE_RULE",
    "Conflict",
    "SyncSummary",
    "check_new_passphrase",
    "ensure_team_id",
    "export_bundle",
    "passphrase_problem",
    "read_header",
]
