"""Signed returns (issue 20, DESIGN §14): a return's digest shows it arrived whole, but anyone can recompute a
digest; a signature by the team's own key shows it came from the team's workspace, unchanged.

The locality side
-----------------
Each workspace makes an Ed25519 key pair the first time it needs one (the first export) and keeps it in its own
``meta`` table (``signing_key``, JSON). The key belongs to the workspace, not to the user's profile: the
commissioner trusts a team's *workspace* (the records its figures are computed from), whoever signs off; the key
moves with the workspace to a new laptop and comes back with a restored backup, where a profile's key would be lost
with the laptop and every change of account would look like a forgery; and a profile key would sign whatever
workspace its user opened, a demo or training copy included, as the real team. ``meta`` never travels in a sync
bundle (desktop.models.sync.base), so the private key never leaves the workspace file; the file's protection at
rest (the encrypted disk) is the key's. A team that exports from several laptops has a key on each: the
commissioner trusts each laptop's key file.

``sign`` adds to the return document ``public_key`` (base64 of the 32 raw bytes), ``key_fingerprint`` (the first
16 bytes of the SHA-256 of those bytes, in groups of four hex digits: what is read out over the phone) and
``signature``: the key's signature over ``message(doc)``, the canonical JSON (as the digest's) of everything in the
document but the signatures, the digest included. ``rotate_key`` makes a new pair and keeps the one before it:
the next returns are signed by the new key and *also* by the previous one (``previous_key_fingerprint``,
``previous_signature``), so the commissioner, who trusts the previous key, learns the new one from a file it can
already check.

The commissioner side
---------------------
Trusted keys live in the commissioner workspace's ``meta`` (``trusted_keys``, JSON): locality code -> list of
{fingerprint, public_key, trusted_at, by, how, retired_at}. ``verify`` says what a return's signature is worth:

- ``ok``: signed by a key trusted for the return's locality (or by a new key endorsed by one: a rotation);
- ``new-key``: no key is trusted for the locality yet. Trust on first use, but never silently: the caller shows
  the fingerprint, the user compares it with the team by phone, and ``admit`` (given the accepted fingerprint)
  or ``trust`` records it, audited;
- ``bad-signature``: the signature does not match the content, the fields are damaged, or the file was signed by
  a key other than the one trusted for that locality (a retired one included);
- ``unsigned``: the file carries no signature (an older Locality Desk made it, or the signature was removed).

A key file (``export_public_key``, ``import_key_file``) carries the public key to the commissioner by another
route (a team's second laptop, a new key after a lost laptop): importing one trusts it, audited.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import audit, workspace
from ..clock import Actor
from ..errors import ValidationError

# The signing fields a return file may carry beside its content; the digest leaves them out (it stays the digest
# of the content) and the signature covers all of them but the two signatures.
FIELDS = frozenset({"signature", "key_fingerprint", "public_key", "previous_signature", "previous_key_fingerprint"})
SIGNATURES = ("signature", "previous_signature")
# Names what is signed, so a signature over a return can never be passed off as one over anything else.
CONTEXT = b"locality-desk/kpi-return signature 1\n"
OWN_KEY = "signing_key"
TRUSTED = "trusted_keys"
KEY_FILE_FORMAT, KEY_FILE_VERSION = "locality-desk/public-key", 1
KEY_FILE_MAX_BYTES = 20_000  # a key file is ~400 bytes
ENTITY = "signing_keys"  # the audit trail's name for keys

STATUSES = ("ok", "new-key", "bad-signature", "unsigned")
_ASK_AGAIN = "Ask the team to export the return again."


@dataclass(frozen=True)
class Verdict:
    """What a return's signature is worth to this commissioner workspace (see the module's docstring)."""

    status: str  # one of STATUSES
    reason: str
    locality: str | None = None
    fingerprint: str | None = None  # the signing key's, as the file gives it
    public_key: str | None = None  # base64 of the raw key
    rotated_from: str | None = None  # the trusted key that endorsed a new one (status ok)


class _Bad(Exception):
    """A signature that cannot be right; the message says why."""


# -- keys, fingerprints, the signed bytes -----------------------------------------------------------------------
def fingerprint(public_raw: bytes) -> str:
    """The first 16 bytes of the key's SHA-256 as 8 groups of 4 hex digits ("3f2a 9c01 …"), to read by phone."""
    digits = hashlib.sha256(public_raw).hexdigest()[:32]
    return " ".join(digits[n : n + 4] for n in range(0, 32, 4))


def same_fingerprint(a: str, b: str) -> bool:
    """Fingerprints compared as a person types them: case, spaces and dashes do not matter."""
    return _bare(a) == _bare(b) and len(_bare(a)) == 32


def _bare(text: str) -> str:
    return re.sub(r"[\s:-]", "", str(text)).lower()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: Any, size: int, what: str) -> bytes:
    if not isinstance(text, str):
        raise _Bad(f"its {what} is not text")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise _Bad(f"its {what} is not valid base64") from None
    if len(raw) != size:
        raise _Bad(f"its {what} has {len(raw)} bytes, not {size}")
    return raw


_SHAPES = {
    "public_key": re.compile(r"[A-Za-z0-9+/]{43}="),  # base64 of 32 bytes
    "signature": re.compile(r"[A-Za-z0-9+/]{86}=="),  # base64 of 64 bytes
    "previous_signature": re.compile(r"[A-Za-z0-9+/]{86}=="),
    "key_fingerprint": re.compile(r"[0-9a-f]{4}(?: [0-9a-f]{4}){7}"),
    "previous_key_fingerprint": re.compile(r"[0-9a-f]{4}(?: [0-9a-f]{4}){7}"),
}


def is_signing_value(key: Any, value: Any) -> bool:
    """Whether *value* is what sign() writes under *key*. Random base64 looks like a postcode in about one
    signature in a few hundred (a run such as "GQ53zu" between a "+" and a "/"), so the import's patient-data
    check passes over these, and over nothing else (an NHS number typed into a signing field is still found)."""
    shape = _SHAPES.get(key) if isinstance(key, str) else None
    return shape is not None and isinstance(value, str) and shape.fullmatch(value) is not None


def message(doc: dict[str, Any]) -> bytes:
    """The bytes a return's signatures sign: CONTEXT, then the canonical JSON the digest uses (sorted keys, no
    spaces, UTF-8) of every field but the signatures themselves."""
    body = {k: v for k, v in doc.items() if k not in SIGNATURES}
    return CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_pair(private_raw: bytes | None = None) -> dict[str, str]:
    """A new random key pair (base64 private and public parts, and the fingerprint); or the pair of the 32-byte
    *private_raw*, which only tests give (a fixed key per team, for files that stay the same)."""
    private = Ed25519PrivateKey.generate() if private_raw is None else Ed25519PrivateKey.from_private_bytes(private_raw)
    public = private.public_key().public_bytes_raw()
    return {
        "private_key": _b64(private.private_bytes_raw()),
        "public_key": _b64(public),
        "fingerprint": fingerprint(public),
    }


def _private(pair: dict[str, Any]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(pair["private_key"]))


def _public(public_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(public_key, 32, "public key"))


# -- the locality side: this workspace's own key --------------------------------------------------------------
def _load(db: sqlite_utils.Database, key: str, what: str) -> Any:
    stored = workspace.get_meta(db, key)
    if not stored:
        return None
    try:
        return json.loads(stored)
    except ValueError:
        raise ValidationError(
            f"The workspace's {what} (meta '{key}') is damaged: it was edited by hand or by another program. "
            "Restore the workspace from a backup (File → Restore from backup)."
        ) from None


def own_key(db: sqlite_utils.Database) -> dict[str, Any] | None:
    """This workspace's key pair (with "previous", the pair before the last rotation), or None before any."""
    return _load(db, OWN_KEY, "signing key")


def ensure_key(db: sqlite_utils.Database, actor: Actor) -> dict[str, Any]:
    """This workspace's key pair, made (and audited) on first need, in the caller's transaction if any."""
    key = own_key(db)
    if key is not None:
        return key
    key = {**new_pair(), "made_at": actor.now(), "made_by": actor.user, "previous": None}
    with db.atomic():
        workspace.set_meta(db, **{OWN_KEY: json.dumps(key, sort_keys=True)})
        audit.record(
            db,
            actor,
            "create",
            ENTITY,
            key["fingerprint"],
            f"Made this workspace's signing key {key['fingerprint']}: returns exported from here are signed with it",
        )
    return key


def public_summary(key: dict[str, Any]) -> dict[str, Any]:
    """A key pair's public facts: never its private part."""
    previous = key.get("previous")
    return {
        "fingerprint": key["fingerprint"],
        "public_key": key["public_key"],
        "made_at": key.get("made_at"),
        "made_by": key.get("made_by"),
        "previous": None
        if not previous
        else {"fingerprint": previous["fingerprint"], "retired_at": previous.get("retired_at")},
    }


def sign(db: sqlite_utils.Database, actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    """Sign the return document *doc* in place (and return it) with this workspace's key, made on first need;
    after a rotation the previous key signs too. Any signing fields it held are replaced."""
    key = ensure_key(db, actor)
    return sign_with(doc, key, key.get("previous"))


def sign_with(doc: dict[str, Any], key: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sign *doc* in place (and return it) with the pair *key* (as new_pair gives it), endorsed by the pair
    *previous* when given; any signing fields it held are replaced."""
    for name in FIELDS:
        doc.pop(name, None)
    doc["public_key"], doc["key_fingerprint"] = key["public_key"], key["fingerprint"]
    if previous:
        doc["previous_key_fingerprint"] = previous["fingerprint"]
    signed = message(doc)
    doc["signature"] = _b64(_private(key).sign(signed))
    if previous:
        doc["previous_signature"] = _b64(_private(previous).sign(signed))
    return doc


def rotate_key(db: sqlite_utils.Database, actor: Actor) -> dict[str, Any]:
    """A new key pair for this workspace, audited. The one it replaces is kept to co-sign the next returns (until
    the next rotation), so the commissioner takes the new key from a file signed by the key it trusts."""
    if workspace.kind(db) == "commissioner":
        raise ValidationError("A commissioner workspace signs no returns, so it has no signing key to rotate.")
    with db.atomic():
        old = own_key(db)
        if old is None:
            return ensure_key(db, actor)
        retired = {k: old[k] for k in ("private_key", "public_key", "fingerprint", "made_at")}
        key = {
            **new_pair(),
            "made_at": actor.now(),
            "made_by": actor.user,
            "previous": {**retired, "retired_at": actor.now()},
        }
        workspace.set_meta(db, **{OWN_KEY: json.dumps(key, sort_keys=True)})
        audit.record(
            db,
            actor,
            "rotate",
            ENTITY,
            key["fingerprint"],
            f"Replaced this workspace's signing key {old['fingerprint']} by {key['fingerprint']}; the next returns "
            "are signed by both, so the commissioner can take the new key on",
            {"old": old["fingerprint"], "new": key["fingerprint"]},
        )
    return key


def _default_code(db: sqlite_utils.Database) -> str:
    codes = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT l.code FROM returns r JOIN localities l ON l.id = r.locality_id ORDER BY l.code"
        )
    ]
    if len(codes) == 1:
        return codes[0]
    held = f"holds the returns of {', '.join(codes)}" if codes else "holds no return yet"
    raise ValidationError(
        f"This workspace {held}: say which locality the key file is for (--locality CODE), as the commissioner "
        "trusts a key for one locality at a time."
    )


def export_public_key(db: sqlite_utils.Database, actor: Actor, path: str | Path, code: str | None = None) -> Path:
    """Write the key file: the locality, this workspace's public key and its fingerprint (never the private
    key). *code* may be left out when the workspace holds one locality's returns. Audited."""
    if workspace.kind(db) == "commissioner":
        raise ValidationError("A commissioner workspace signs no returns: it has no key to export.")
    locality = workspace.locality_by_code(db, code or _default_code(db))
    path = Path(path)
    with db.atomic():
        key = ensure_key(db, actor)
        content = {
            "format": KEY_FILE_FORMAT,
            "version": KEY_FILE_VERSION,
            "locality": {"code": locality["code"], "name": locality["name"]},
            "public_key": key["public_key"],
            "key_fingerprint": key["fingerprint"],
            "made_at": key["made_at"],
            "exported_at": actor.now(),
        }
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")
        audit.record(
            db,
            actor,
            "export",
            ENTITY,
            key["fingerprint"],
            f"Exported the public key {key['fingerprint']} for {locality['code']} to {path.name}",
        )
    return path


# -- the commissioner side: the keys it trusts ------------------------------------------------------------------
def trusted(db: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
    """Every key this workspace has trusted, by locality code, retired ones included (retired_at set)."""
    return _load(db, TRUSTED, "list of trusted keys") or {}


def active(db: sqlite_utils.Database, code: str) -> list[dict[str, Any]]:
    """The keys trusted for *code* now."""
    return [k for k in trusted(db).get(code, []) if not k.get("retired_at")]


def locality_of(db: sqlite_utils.Database, fp: str) -> str | None:
    """The locality for which the key *fp* is trusted now; None when it is not."""
    for code, keys in trusted(db).items():
        if any(same_fingerprint(k["fingerprint"], fp) and not k.get("retired_at") for k in keys):
            return code
    return None


def _save(db: sqlite_utils.Database, keys: dict[str, list[dict[str, Any]]]) -> None:
    workspace.set_meta(db, **{TRUSTED: json.dumps(keys, sort_keys=True)})


def _require_commissioner(db: sqlite_utils.Database) -> None:
    if workspace.kind(db) != "commissioner":
        raise ValidationError(
            "Keys are trusted in a commissioner workspace, which imports the teams' returns; this is a locality "
            "workspace."
        )


def _find(keys: list[dict[str, Any]], fp: str) -> dict[str, Any] | None:
    return next((k for k in keys if same_fingerprint(k["fingerprint"], fp)), None)


def _add(
    db: sqlite_utils.Database, actor: Actor, code: str, public_raw: bytes, how: str, summary: str
) -> dict[str, Any]:
    keys = trusted(db)
    entry = {
        "fingerprint": fingerprint(public_raw),
        "public_key": _b64(public_raw),
        "trusted_at": actor.now(),
        "by": actor.user,
        "how": how,
        "retired_at": None,
    }
    keys.setdefault(code, []).append(entry)
    with db.atomic():
        _save(db, keys)
        audit.record(db, actor, "trust", ENTITY, entry["fingerprint"], summary, {"locality": code, "how": how})
    return entry


def _retire(db: sqlite_utils.Database, actor: Actor, code: str, fp: str, why: str) -> None:
    keys = trusted(db)
    entry = _find(keys.get(code, []), fp)
    if entry is None or entry.get("retired_at"):
        return
    entry["retired_at"] = actor.now()
    with db.atomic():
        _save(db, keys)
        audit.record(
            db,
            actor,
            "retire",
            ENTITY,
            entry["fingerprint"],
            f"Retired {code}'s key {entry['fingerprint']}: {why}",
            {"locality": code},
        )


def trust(db: sqlite_utils.Database, actor: Actor, code: str, public_key: str) -> dict[str, Any]:
    """Trust *public_key* (base64, as a return carries it) for locality *code*, after the user compared its
    fingerprint with the team. Audited; a key already trusted is left as it is."""
    _require_commissioner(db)
    code = workspace.locality_by_code(db, code)["code"]
    try:
        raw = _unb64(public_key, 32, "public key")
    except _Bad as exc:
        raise ValidationError(f"That is not a signing key: {exc}.") from None
    fp = fingerprint(raw)
    held = _find(trusted(db).get(code, []), fp)
    if held is not None:
        if held.get("retired_at"):
            raise ValidationError(_retired_message(code, held))
        return held
    return _add(db, actor, code, raw, "first use", f"Trusted {code}'s signing key {fp} on first use")


def retire(db: sqlite_utils.Database, actor: Actor, code: str, fp: str) -> None:
    """Stop trusting one of *code*'s keys (a laptop lost, a key thought compromised). Audited."""
    _require_commissioner(db)
    code = workspace.locality_by_code(db, code)["code"]
    entry = _find(active(db, code), fp)
    if entry is None:
        raise ValidationError(
            f"{code} has no trusted key {fp}. Its trusted keys: "
            + (", ".join(k["fingerprint"] for k in active(db, code)) or "none")
            + "."
        )
    _retire(db, actor, code, entry["fingerprint"], "retired by hand")


def _retired_message(code: str, entry: dict[str, Any]) -> str:
    return (
        f"{code}'s key {entry['fingerprint']} was retired on {entry['retired_at'][:10]} and is not trusted again. "
        "Ask the team for the key file of the key they sign with now."
    )


def verify(db: sqlite_utils.Database, doc: dict[str, Any]) -> Verdict:
    """What the signature of return *doc* (already read and checked as a return) is worth here. Writes nothing."""
    code = doc["locality"]["code"]
    if not FIELDS & set(doc):
        return Verdict(
            "unsigned",
            "The file is not signed. Locality Desk now signs every return with the team's own key, so that nobody "
            "can change its figures on the way; this file was exported by an older version, or its signature was "
            "removed. Ask the team to update Locality Desk and export the return again (a signed-off return can be "
            "exported again without reopening it).",
            code,
        )
    try:
        public_raw, signer, signature = _signer(doc)
    except _Bad as exc:
        return Verdict(
            "bad-signature",
            f"The file's signature is damaged: {exc}. It was changed after it was exported. {_ASK_AGAIN}",
            code,
        )
    fp, public_key = fingerprint(public_raw), doc["public_key"]
    held = trusted(db).get(code, [])
    mine = _find(held, fp)

    def bad(reason: str) -> Verdict:
        return Verdict("bad-signature", reason, code, fp, public_key)

    if mine is not None and mine.get("retired_at"):
        return bad(
            f"This file is signed with {code}'s key {fp}, which was retired on {mine['retired_at'][:10]}: the team "
            f"now signs with another key. {_ASK_AGAIN} If they did, and it is still signed with this key, tell your "
            "IG lead."
        )
    try:
        signer.verify(signature, message(doc))
    except (InvalidSignature, UnicodeEncodeError):
        return bad(
            f"The file's signature does not match its content: its figures, its sign-off or another field were "
            f"changed after it was signed, or the signature was copied from another file. Nothing was imported. "
            f"{_ASK_AGAIN} If the file did not come straight from the team, tell your IG lead."
        )
    if mine is not None:
        return Verdict("ok", f"Signed with {code}'s trusted key {fp}.", code, fp, public_key)
    current = [k for k in held if not k.get("retired_at")]
    if not current:
        return Verdict(
            "new-key",
            f"{code} has no trusted signing key here yet; this file is signed with the key {fp}. Phone the team and "
            "ask them to read out their key's fingerprint (Locality Desk shows it: `locality-desk key show`). If it "
            "matches, accept the key and import again (in the import dialog, or with --accept-key "
            f"'{fp}'); if it does not, do not import the file, and tell your IG lead.",
            code,
            fp,
            public_key,
        )
    endorser = _find(current, doc.get("previous_key_fingerprint") or "") if "previous_signature" in doc else None
    if endorser is not None:
        try:
            _public(endorser["public_key"]).verify(
                _unb64(doc["previous_signature"], 64, "previous signature"), message(doc)
            )
        except (_Bad, InvalidSignature):
            return bad(
                f"The file says {code} moved to a new key {fp}, endorsed by its trusted key {endorser['fingerprint']}, "
                f"but that endorsement does not match the file: it was changed after it was signed. {_ASK_AGAIN}"
            )
        return Verdict(
            "ok",
            f"Signed with {code}'s new key {fp}, endorsed by its trusted key {endorser['fingerprint']}: the new key "
            "is trusted from now on and the old one retired.",
            code,
            fp,
            public_key,
            rotated_from=endorser["fingerprint"],
        )
    trusted_fps = ", ".join(k["fingerprint"] for k in current)
    return bad(
        f"{code}'s returns are signed with the key {trusted_fps}, trusted here since {current[0]['trusted_at'][:10]}, "
        f"but this file is signed with another key, {fp}: it may not come from the team. Phone the team. If they "
        "really sign with a new key (a new laptop, a workspace made again), import the key file they send "
        "(Commissioner → Trusted keys → Import key file…, or `locality-desk key import`); otherwise tell your IG lead."
    )


def _signer(doc: dict[str, Any]) -> tuple[bytes, Ed25519PublicKey, bytes]:
    """The public key a signed return names (raw, and as a key), checked against its fingerprint, and its
    signature; _Bad when the fields are not a complete, well-formed signature."""
    for name in ("public_key", "key_fingerprint", "signature"):
        if name not in doc:
            raise _Bad(f"it has no {name.replace('_', ' ')}")
    if ("previous_signature" in doc) != ("previous_key_fingerprint" in doc):
        raise _Bad("it has half of a previous key's endorsement")
    for name in ("key_fingerprint", "previous_key_fingerprint"):
        if name in doc and not isinstance(doc[name], str):
            raise _Bad(f"its {name.replace('_', ' ')} is not text")
    raw = _unb64(doc["public_key"], 32, "public key")
    if not same_fingerprint(doc["key_fingerprint"], fingerprint(raw)):
        raise _Bad("its key fingerprint is not that of the public key it carries")
    signature = _unb64(doc["signature"], 64, "signature")
    if "previous_signature" in doc:
        _unb64(doc["previous_signature"], 64, "previous signature")
    return raw, Ed25519PublicKey.from_public_bytes(raw), signature


def damage(doc: dict[str, Any]) -> str | None:
    """Why a signed return is not whole, judged by the file alone (its signature against the key it names; nothing
    here needs to be trusted): a byte changed anywhere in a signed file, its signing fields included, shows here
    when the file is read. None for a whole signed file, and for an unsigned one (verify() says "unsigned")."""
    if not FIELDS & set(doc):
        return None
    try:
        _public_raw, signer, signature = _signer(doc)
        signer.verify(signature, message(doc))
    except _Bad as exc:
        return f"The file's signature is damaged: {exc}. It was changed after it was exported. {_ASK_AGAIN}"
    except (InvalidSignature, UnicodeEncodeError):
        return (
            "The file's signature does not match its content: it was changed after it was signed. Nothing was "
            f"imported. {_ASK_AGAIN}"
        )
    return None


def admit(db: sqlite_utils.Database, actor: Actor, doc: dict[str, Any], accept: Collection[str] = ()) -> Verdict:
    """verify(), and what follows from it here, in the caller's transaction: a new key whose fingerprint is in
    *accept* (the user compared it with the team) is trusted; a rotation endorsed by a trusted key is recorded
    (the new key trusted, the old one retired). Audited. The verdict is then ok, or says why the file is refused."""
    verdict = verify(db, doc)
    code, fp = verdict.locality, verdict.fingerprint
    if verdict.status == "new-key" and any(same_fingerprint(fp, a) for a in accept):
        _add(
            db,
            actor,
            code,
            base64.b64decode(verdict.public_key),
            "first use",
            f"Trusted {code}'s signing key {fp} on first use, its fingerprint confirmed by {actor.user}",
        )
        return replace(verdict, status="ok", reason=f"Signed with {code}'s key {fp}, trusted now.")
    if verdict.status == "ok" and verdict.rotated_from:
        _add(
            db,
            actor,
            code,
            base64.b64decode(verdict.public_key),
            f"rotation from {verdict.rotated_from}",
            f"Trusted {code}'s new signing key {fp}, endorsed by its trusted key {verdict.rotated_from}",
        )
        _retire(db, actor, code, verdict.rotated_from, f"the team moved to its new key {fp}")
    return verdict


def key_in_file(path: str | Path) -> dict[str, str] | None:
    """The locality and signing key a return file names ({code, name, fingerprint}), for a screen that asks the
    user to compare a new key; None when the file names none."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
        raw = _unb64(doc["public_key"], 32, "public key")
        return {"code": doc["locality"]["code"], "name": doc["locality"]["name"], "fingerprint": fingerprint(raw)}
    except (OSError, ValueError, KeyError, TypeError, _Bad):
        return None


# -- key files --------------------------------------------------------------------------------------------------
def read_key_file(path: str | Path) -> dict[str, Any]:
    """A key file's content, checked: ValidationError saying what is wrong otherwise."""
    path = Path(path)
    wrong = f"{path.name} is not a Locality Desk key file"
    try:
        raw = path.read_bytes()[: KEY_FILE_MAX_BYTES + 1]
    except OSError as exc:
        raise ValidationError(f"Cannot read {path.name}: {exc.strerror or exc}.") from None
    if len(raw) > KEY_FILE_MAX_BYTES:
        raise ValidationError(f"{wrong}: it is far too large for one. Ask the team for the file `key export` writes.")
    try:
        content = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValidationError(f"{wrong}: it is not JSON text. Ask the team for the file `key export` writes.") from None
    if not isinstance(content, dict) or content.get("format") != KEY_FILE_FORMAT:
        raise ValidationError(
            f"{wrong} (no {KEY_FILE_FORMAT!r} format). Ask the team for the file `key export` writes."
        )
    if content.get("version") != KEY_FILE_VERSION:
        raise ValidationError(
            f"{path.name} is a key file of version {content.get('version')!r}; this app reads version "
            f"{KEY_FILE_VERSION}. Update Locality Desk."
        )
    loc = content.get("locality")
    if not isinstance(loc, dict) or not isinstance(loc.get("code"), str):
        raise ValidationError(
            f"{path.name} does not say which locality the key is for; ask the team to export it again."
        )
    try:
        public_raw = _unb64(content.get("public_key"), 32, "public key")
    except _Bad as exc:
        raise ValidationError(f"{path.name} holds no usable key: {exc}. Ask the team to export it again.") from None
    if not same_fingerprint(str(content.get("key_fingerprint", "")), fingerprint(public_raw)):
        raise ValidationError(
            f"{path.name}'s fingerprint is not that of the key it holds: it was changed after it was exported. Ask "
            "the team to export it again, and compare the fingerprint by phone."
        )
    return {**content, "key_fingerprint": fingerprint(public_raw), "_raw": public_raw}


def import_key_file(
    db: sqlite_utils.Database, actor: Actor, path: str | Path, replace_others: bool = False
) -> tuple[dict[str, Any], bool]:
    """Trust the key in a team's key file for its locality, audited: (the trusted entry, whether it is new).
    *replace_others* retires the locality's other keys (a lost laptop, a key thought compromised)."""
    _require_commissioner(db)
    content = read_key_file(path)
    code = workspace.locality_by_code(db, content["locality"]["code"])["code"]
    fp = content["key_fingerprint"]
    with db.atomic():
        entry = _find(trusted(db).get(code, []), fp)
        if entry is not None and entry.get("retired_at"):
            raise ValidationError(_retired_message(code, entry))
        new = entry is None
        if new:
            entry = _add(
                db,
                actor,
                code,
                content["_raw"],
                "key file",
                f"Trusted {code}'s signing key {fp} from the key file {Path(path).name}",
            )
        if replace_others:
            for other in active(db, code):
                if not same_fingerprint(other["fingerprint"], fp):
                    _retire(db, actor, code, other["fingerprint"], f"replaced by the key {fp} from {Path(path).name}")
    return entry, new


def describe(db: sqlite_utils.Database, actor: Actor | None = None) -> dict[str, Any]:
    """What `key show` prints: a locality workspace's own key (public facts), made now when *actor* is given and
    there is none yet (it is shown to be read out by phone, which may come before the first export); or the keys
    a commissioner workspace trusts."""
    if workspace.kind(db) == "commissioner":
        return {"kind": "commissioner", "trusted": trusted(db)}
    key = ensure_key(db, actor) if actor is not None else own_key(db)
    return {"kind": "locality", "key": public_summary(key) if key else None}
