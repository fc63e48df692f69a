"""The commissioner's import of the teams' return files (DESIGN §10, REFERENCE §5.6, modelled on DHIS2's
import summary): every file is checked whole before it writes, and reported as imported, superseded,
ignored or rejected with a stable code and a reason a person understands.

A rejected file changes nothing; the good files of a batch are still imported. A dry run makes the very same
checks and writes inside a transaction that is then rolled back, so it cannot disagree with the real run.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from .. import audit, workspace
from ..changes import Changes
from ..clock import Actor, new_id
from ..errors import ValidationError
from ..identifiers import is_valid_nhs_number
from ..quarters import parse
from . import returns
from .catalogue import by_code

MAX_BYTES = 2_000_000  # a return is ~5 kB; anything this size is not one
TOP_FIELDS = {
    "format",
    "version",
    "locality",
    "period",
    "revision",
    "status",
    "signed_off_by",
    "signed_off_at",
    "generated_at",
    "app_version",
    "values",
    "sha256",
}
VALUE_FIELDS = {"kpi", "numerator", "denominator", "value", "rag", "comment"}
# Keys that only patient-level data would have. "name" is not one: the locality has a name.
PATIENT_KEYS = {
    "nhs_number",
    "nhsnumber",
    "nhs_no",
    "patient",
    "patients",
    "patient_id",
    "given_name",
    "family_name",
    "forename",
    "surname",
    "date_of_birth",
    "dob",
    "postcode",
    "address",
}
_NHS = re.compile(r"(?<!\d)(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
_POSTCODE = re.compile(r"\b(?:LE|NN|CV|DE|NG|PE|[A-Z]{1,2})\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}\b")

# The stable codes, for scripts and for the people reading the summary.
CODES = {
    "unreadable": "The file is not readable as a return",
    "unknown-format": "Not a Locality Desk return of a version this app reads",
    "bad-field": "A field is missing, unexpected or of the wrong type",
    "patient-data": "The file carries patient-identifiable data",
    "digest-mismatch": "The file's digest does not match its content",
    "draft": "The return is a draft",
    "unknown-locality": "The locality is not one of the LLR teams",
    "unknown-kpi": "A KPI is not in the catalogue",
    "impossible-value": "A figure is impossible",
    "older-revision": "A later revision is already held",
    "revision-conflict": "The same revision is held with different figures",
    "cancelled": "The import was cancelled before it finished",
}


class Rejected(Exception):
    def __init__(self, code: str, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class _DryRun(Exception):
    """Raised to roll the whole batch back after a dry run."""


@dataclass
class Outcome:
    file: str
    status: str  # imported | superseded | ignored | rejected
    code: str | None = None
    reason: str | None = None
    locality: str | None = None
    period: str | None = None
    revision: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "status": self.status, "code": self.code, "reason": self.reason}


def import_returns(
    db: sqlite_utils.Database,
    actor: Actor,
    files: Sequence[str | Path],
    dry_run: bool = False,
    progress: Callable[[int, int], bool] | None = None,
) -> tuple[list[Outcome], Changes]:
    """Check and import each file in order; a later file of the batch sees what the earlier ones imported.
    *progress(done, total)* may return False to cancel: then nothing of the batch is kept."""
    if workspace.kind(db) != "commissioner":
        raise ValidationError(
            "Returns are imported into a commissioner workspace; a locality workspace makes its "
            "own. Create one with File → New (or `locality-desk new --kind commissioner`)."
        )
    outcomes: list[Outcome] = []
    try:
        with db.atomic():
            for n, path in enumerate(files):
                outcomes.append(_one(db, actor, Path(path)))
                if progress is not None and progress(n + 1, len(files)) is False:
                    raise _DryRun
            if dry_run:
                raise _DryRun
    except _DryRun:
        if not dry_run:  # cancelled
            return [
                Outcome(str(p), "rejected", "cancelled", "The import was cancelled; nothing of it was kept.")
                for p in files
            ], Changes()
    written = any(o.status in ("imported", "superseded") for o in outcomes)
    return outcomes, (Changes.of("returns", "return_values") if written and not dry_run else Changes())


def _one(db: sqlite_utils.Database, actor: Actor, path: Path) -> Outcome:
    try:
        doc = read(path)
        status = _store(db, actor, doc, path.name)
    except Rejected as exc:
        return Outcome(str(path), "rejected", exc.code, exc.reason)
    return Outcome(str(path), status, locality=doc["locality"]["code"], period=doc["period"], revision=doc["revision"])


def read(path: Path) -> dict[str, Any]:
    """The file's return, checked on its own (without the workspace): readable, ours, no patient data,
    well-typed, intact, signed off, possible figures."""
    try:
        raw = path.read_bytes()[: MAX_BYTES + 1]
    except OSError as exc:
        raise Rejected("unreadable", f"Cannot read the file: {exc.strerror or exc}.") from None
    if len(raw) > MAX_BYTES:
        raise Rejected("unreadable", "The file is far too large to be a return (over 2 MB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Rejected("unreadable", "The file is not UTF-8 text; it may be a different kind of file.") from None
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise Rejected(
            "unreadable",
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}); it may be truncated or damaged. Ask for it to be sent again.",
        ) from None
    except ValueError as exc:
        raise Rejected("impossible-value", str(exc)) from None
    except RecursionError:
        # Thousands of nested brackets exhaust the parser's stack; no return nests more than three deep.
        raise Rejected("unreadable", _TOO_DEEP) from None
    if not isinstance(doc, dict):
        raise Rejected("unknown-format", "The file holds JSON, but not a return (no format, locality or values).")
    try:
        _refuse_patient_data(doc)
    except RecursionError:  # nesting the parser took may still be too deep for this walk on a deeper stack
        raise Rejected("unreadable", _TOO_DEEP) from None
    if doc.get("format") != returns.FORMAT:
        raise Rejected("unknown-format", f"The file's format is {doc.get('format')!r}, not a Locality Desk KPI return.")
    if doc.get("version") != returns.VERSION:
        raise Rejected(
            "unknown-format",
            f"Return file version {doc.get('version')!r}: this app reads version "
            f"{returns.VERSION}. Update Locality Desk, or ask for a version "
            f"{returns.VERSION} file.",
        )
    _check_fields(doc)
    try:
        digest = returns.digest(doc)
    except UnicodeEncodeError:
        # A JSON escape such as \ud800 (half of a character) decodes to text that cannot be encoded again.
        raise Rejected(
            "unreadable",
            "The file holds broken text (half of a character, a \\ud800-style escape); "
            "it was damaged or not written by Locality Desk. Ask for it to be sent again.",
        ) from None
    if doc["sha256"] != digest:
        raise Rejected(
            "digest-mismatch",
            "The file's digest does not match its content: it was changed after it "
            "was exported, or damaged. Ask the team to export it again.",
        )
    if doc["status"] != "signed_off":
        raise Rejected(
            "draft",
            f"This is a {doc['status']} working copy of the {doc['period']} return of "
            f"{doc['locality']['code']}, not a signed-off return. Wait for the signed-off file.",
        )
    _check_values(doc)
    return doc


_TOO_DEEP = (
    "The file nests its JSON far too deep to be a return; it may be damaged or made to break readers. "
    "Ask for it to be sent again."
)


def _no_constant(name: str) -> None:
    raise ValueError(f"The file holds {name}, which is not a figure.")


def _refuse_patient_data(node: Any, where: str = "") -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in PATIENT_KEYS:
                raise Rejected(
                    "patient-data",
                    f"The file has a '{key}' field{where}: returns are aggregate and "
                    "must never carry patient data. Nothing was imported from it; "
                    "tell the team and your IG lead.",
                )
            if key != "sha256":  # hex digits can look like a 10-digit number by chance
                _refuse_patient_data(value, where or f" (in {key})")
    elif isinstance(node, list):
        for item in node:
            _refuse_patient_data(item, where)
    elif isinstance(node, str):
        for match in _NHS.finditer(node):
            if is_valid_nhs_number("".join(match.groups())):
                raise Rejected(
                    "patient-data",
                    f"The file holds what looks like an NHS number{where}: returns "
                    "are aggregate and must never carry patient data. Nothing was "
                    "imported from it; tell the team and your IG lead.",
                )
        if _POSTCODE.search(node.upper()):
            raise Rejected(
                "patient-data",
                f"The file holds what looks like a postcode{where}: returns are "
                "aggregate and must never carry patient data. Nothing was imported "
                "from it; tell the team and your IG lead.",
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_fields(doc: dict[str, Any]) -> None:
    def bad(message: str) -> Rejected:
        return Rejected("bad-field", message)

    extra = set(doc) - TOP_FIELDS
    if extra:
        raise bad(f"Unexpected field {sorted(extra)[0]!r}: the file is not as Locality Desk writes it.")
    missing = TOP_FIELDS - set(doc)
    if missing:
        raise bad(f"The field {sorted(missing)[0]!r} is missing.")
    loc = doc["locality"]
    if not isinstance(loc, dict) or not isinstance(loc.get("code"), str) or not isinstance(loc.get("name"), str):
        raise bad("The locality must be given as a code and a name.")
    if not isinstance(doc["period"], str):
        raise bad("The period must be text like 2025-26-Q3.")
    try:
        parse(doc["period"])
    except ValidationError as exc:
        raise bad(str(exc)) from None
    # The upper bound keeps the number within SQLite's integer (a larger one raised OverflowError on insert).
    if not isinstance(doc["revision"], int) or isinstance(doc["revision"], bool) or not 1 <= doc["revision"] <= 99_999:
        raise bad(f"The revision must be a whole number from 1 to 99,999, not {_short(doc['revision'])}.")
    for key in ("status", "generated_at", "app_version", "sha256"):
        if not isinstance(doc[key], str):
            raise bad(f"The field {key!r} must be text.")
    for key in ("signed_off_by", "signed_off_at"):
        if doc[key] is not None and not isinstance(doc[key], str):
            raise bad(f"The field {key!r} must be text.")
    if not isinstance(doc["values"], list) or not doc["values"]:
        raise bad("The return has no values.")
    for row in doc["values"]:
        if not isinstance(row, dict):
            raise bad("Each value must be an object with kpi, numerator, denominator, value, rag and comment.")
        if set(row) != VALUE_FIELDS:
            odd = sorted(set(row) ^ VALUE_FIELDS)[0]
            raise bad(f"A value of {row.get('kpi', '?')} has {'an unexpected' if odd in row else 'no'} field {odd!r}.")
        if not isinstance(row["kpi"], str) or not isinstance(row["comment"], str):
            raise bad("A value's kpi and comment must be text.")
        for key in ("numerator", "denominator", "value"):
            if row[key] is not None and not _is_number(row[key]):
                raise bad(f"{row['kpi']} {key} must be a number, not {row[key]!r}.")
        if row["rag"] not in ("G", "A", "R", None):
            raise bad(f"{row['kpi']} RAG must be G, A, R or empty, not {row['rag']!r}.")


def _short(value: Any) -> str:
    """A figure for a message: :g for numbers, and a huge integer by its size rather than its digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 1e15:
        return f"a {len(str(abs(value)))}-digit number"
    if _is_number(value):
        return f"{value:g}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_values(doc: dict[str, Any]) -> None:
    known = by_code()
    seen: set[str] = set()
    for row in doc["values"]:
        code = row["kpi"]
        kpi = known.get(code)
        if kpi is None:
            raise Rejected(
                "unknown-kpi",
                f"{code} is not a KPI of the catalogue this app holds; the file may come from a newer catalogue.",
            )
        if code in seen:
            raise Rejected("bad-field", f"{code} appears twice.")
        seen.add(code)
        num, den = row["numerator"], row["denominator"]
        for label, number in (("numerator", num), ("denominator", den), ("value", row["value"])):
            # Range first: math.isfinite and :g raise OverflowError on an integer of hundreds of digits.
            if number is not None and (number < 0 or number > 1e9 or not math.isfinite(number)):
                raise Rejected(
                    "impossible-value",
                    f"{code} {label} is {_short(number)}: figures are counts between 0 and a billion.",
                )
        if kpi.unit == "percent" and num is not None and den is not None and num > den:
            raise Rejected(
                "impossible-value", f"{code} has {num:g} out of {den:g}: a numerator cannot exceed its denominator."
            )
        expected = kpi.value(num, den)
        if (expected is None) != (row["value"] is None) or (
            expected is not None and abs(expected - row["value"]) > 0.051
        ):
            raise Rejected("impossible-value", f"{code} value {row['value']!r} does not follow from {num!r} / {den!r}.")
    missing = [code for code in known if code not in seen]
    if missing:
        raise Rejected("bad-field", f"{missing[0]} is missing from the return ({len(missing)} KPI(s) missing).")


def _store(db: sqlite_utils.Database, actor: Actor, doc: dict[str, Any], file_name: str) -> str:
    loc = db.execute("SELECT id, name FROM localities WHERE code = ?", [doc["locality"]["code"]]).fetchone()
    if loc is None:
        raise Rejected(
            "unknown-locality",
            f"No locality has the code {doc['locality']['code']!r} "
            f"({doc['locality']['name']}); the LLR teams are in Reference data → "
            "Localities.",
        )
    held = returns.current(db, loc[0], parse(doc["period"]))
    label = f"{doc['locality']['code']} {doc['period']}"
    if held is not None:
        if held["revision"] > doc["revision"]:
            raise Rejected(
                "older-revision",
                f"{label}: revision {held['revision']} is already held; this file is "
                f"revision {doc['revision']}, an older one.",
            )
        if held["revision"] == doc["revision"]:
            if _same(db, held, doc):
                return "ignored"
            raise Rejected(
                "revision-conflict",
                f"{label}: revision {doc['revision']} is already held with "
                "different figures. The team should reopen the return and send "
                "the next revision.",
            )
    return_id = new_id()
    with db.atomic():
        db["returns"].insert(
            {
                "id": return_id,
                "locality_id": loc[0],
                "period": doc["period"],
                "revision": doc["revision"],
                "status": "signed_off",
                "signed_off_by": doc["signed_off_by"],
                "signed_off_at": doc["signed_off_at"],
                "received_at": actor.now(),
                "source_file": file_name,
                "sha256": doc["sha256"],
                "generated_at": doc["generated_at"],
                "created_at": actor.now(),
                **actor.stamp(),
            }
        )
        db["return_values"].insert_all(
            {"id": new_id(), "return_id": return_id, **row, "created_at": actor.now(), **actor.stamp()}
            for row in doc["values"]
        )
        verb = "Superseded" if held else "Imported"
        audit.record(
            db,
            actor,
            "import",
            "returns",
            return_id,
            f"{verb} the {doc['period']} return of {doc['locality']['code']} (revision {doc['revision']}) "
            f"from {file_name}",
        )
    return "superseded" if held else "imported"


def _same(db: sqlite_utils.Database, held: dict[str, Any], doc: dict[str, Any]) -> bool:
    if held.get("sha256") == doc["sha256"]:
        return True
    values = returns.values(db, held["id"])
    for row in doc["values"]:
        mine = values.get(row["kpi"])
        if mine is None or any(mine[k] != row[k] for k in ("numerator", "denominator", "value", "rag", "comment")):
            return False
    return len(values) == len(doc["values"])
