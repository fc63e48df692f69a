"""The commissioner's import of the teams' return files (DESIGN §10, REFERENCE §5.6, modelled on DHIS2's
import summary): every file is checked whole before it writes, and reported as imported, superseded,
ignored or rejected with a stable code and a reason a person understands.

A rejected file changes nothing; the good files of a batch are still imported. A dry run makes the very same
checks and writes inside a transaction that is then rolled back, so it cannot disagree with the real run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from .. import audit, clock, free_text, workspace
from ..changes import Changes
from ..clock import Actor, new_id
from ..cohort.caseload import INTERVENTION_TYPES
from ..errors import ValidationError
from ..outcomes.evaluation import FOLLOW_UP_QUARTERS
from ..outcomes.periods import joining_quarter
from ..outcomes.records import OUTCOMES
from ..quarters import Quarter, parse
from . import return_outcomes, returns, signing
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
OPTIONAL_FIELDS = {returns.OUTCOMES_VERSION: {"outcomes"}}  # by the version that brought them in
# Keys that only patient-level data would have, compared without case, spaces or punctuation ("NHS Number",
# "date-of-birth"). "name" is not one: the locality has a name.
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
_PATIENT_KEYS = {re.sub(r"[^a-z0-9]", "", key) for key in PATIENT_KEYS}
# How far a revision may run ahead of the latest one held for its team and quarter (none held counts as 0).
# Revisions go up by one at each reopening, but not every revision reaches the commissioner: only a quarter's
# current revision can be exported, so one signed off and reopened before it was sent never arrives, and a new
# commissioner workspace first sees a team's current revision. "At most one more than held" would refuse those
# genuine files for good; no limit at all let a revision 99999 (a typo, a hand-edited file) stand above every
# revision the team could ever send. A few unsent reopenings in a row is the most a real quarter sees.
# Revisions are also ordered by sign-off time: a team signs off each revision after the one it reopens, so a
# higher revision signed off before the one held had its number or its date changed.
MAX_AHEAD = 5

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
    "impossible-value": "A figure or a date is impossible",
    "older-revision": "A later revision is already held",
    "revision-conflict": "The revision does not follow the one held (the same revision with different figures, "
    "one too far ahead, or one signed off before the one it would replace)",
    "cancelled": "The import was cancelled before it finished",
    "unsigned": "The file is not signed with the team's key (an older version made it, or the signature was removed)",
    "bad-signature": "The signature does not match the file, or a key other than the team's trusted one signed it",
    "new-key": "Signed with a key not trusted for the team yet: compare its fingerprint with the team, then accept it",
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
    accept_keys: Collection[str] = (),
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
                outcomes.append(_one(db, actor, Path(path), accept_keys))
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
    changed = Changes.of("returns", "return_values", "return_outcomes")
    return outcomes, (changed if written and not dry_run else Changes())


def _one(db: sqlite_utils.Database, actor: Actor, path: Path, accept_keys: Collection[str] = ()) -> Outcome:
    try:
        doc = read(path)
        status = _store(db, actor, doc, path.name, accept_keys)
    except Rejected as exc:
        return Outcome(str(path), "rejected", exc.code, exc.reason)
    return Outcome(str(path), status, locality=doc["locality"]["code"], period=doc["period"], revision=doc["revision"])


def read(path: Path) -> dict[str, Any]:
    """The file's return, checked on its own (without the workspace): readable, ours, no patient data, no key
    written twice, well-typed, intact, signed off by someone after its quarter ended, possible figures."""
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
    repeated: list[tuple[str, Any]] = []
    try:
        doc = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_keeping_repeats(repeated))
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
        # A repeated key's earlier value is dropped by the parser: it is read here, so nothing hides in it.
        for key, value in repeated:
            if key != "sha256" and not signing.is_signing_value(key, value):
                _refuse_patient_data(value, f" (in {key})")
    except RecursionError:  # nesting the parser took may still be too deep for this walk on a deeper stack
        raise Rejected("unreadable", _TOO_DEEP) from None
    if repeated:
        key = repeated[0][0]
        raise Rejected(
            "bad-field",
            f"The field {_short(key)} appears twice in one place in the file: readers disagree on which one "
            "counts, so the file does not say one thing. Locality Desk never writes a field twice; the file was "
            "edited by hand or made by another program. Ask the team to export the return again.",
        )
    if doc.get("format") != returns.FORMAT:
        raise Rejected("unknown-format", f"The file's format is {doc.get('format')!r}, not a Locality Desk KPI return.")
    if doc.get("version") not in returns.VERSIONS or isinstance(doc.get("version"), bool):
        newest = max(returns.VERSIONS)
        raise Rejected(
            "unknown-format",
            f"Return file version {_short(doc.get('version'))}: this app reads versions "
            f"{' and '.join(map(str, returns.VERSIONS))}. Update Locality Desk, or ask for a version "
            f"{newest} file.",
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
    _check_sign_off(doc)
    _check_dates(doc)
    _check_values(doc)
    _check_outcomes(doc)
    # Last, so a file with a plainer fault is named by it: a signed file changed anywhere (its signing fields too)
    # is refused by the file alone; whether its key is trusted here is for the import (signing.admit).
    damaged = signing.damage(doc)
    if damaged:
        raise Rejected("bad-signature", damaged)
    return doc


_TOO_DEEP = (
    "The file nests its JSON far too deep to be a return; it may be damaged or made to break readers. "
    "Ask for it to be sent again."
)


def _no_constant(name: str) -> None:
    raise ValueError(f"The file holds {name}, which is not a figure.")


def _keeping_repeats(repeated: list[tuple[str, Any]]) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An object_pairs_hook that builds the dict as json does (the last of a repeated key wins) and notes the
    keys it saw twice, with the values it dropped, in *repeated*."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                repeated.append((key, out[key]))
            out[key] = value
        return out

    return hook


def _refuse_patient_data(node: Any, where: str = "") -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _refuse_patient_data(key, where)  # a key can carry a number as well as a value can
            if re.sub(r"[^a-z0-9]", "", str(key).casefold()) in _PATIENT_KEYS:
                raise Rejected(
                    "patient-data",
                    f"The file has a '{key}' field{where}: returns are aggregate and "
                    "must never carry patient data. Nothing was imported from it; "
                    "tell the team and your IG lead.",
                )
            # Hex digits can look like a 10-digit number by chance, and base64 like a postcode.
            if key != "sha256" and not signing.is_signing_value(key, value):
                _refuse_patient_data(value, where or f" (in {key})")
    elif isinstance(node, list):
        for item in node:
            _refuse_patient_data(item, where)
    elif isinstance(node, str):
        # A commissioner workspace holds no patients: only what is an identifier anywhere can be found here.
        found = _kinds_in(node)
        if found:
            raise Rejected(
                "patient-data",
                f"The file holds what looks like {free_text.listed(found)}{where}: returns are aggregate and must "
                "never carry patient data. Nothing was imported from it; tell the team and your IG lead.",
            )


@functools.lru_cache(maxsize=8192)
def _kinds_in(text: str) -> tuple[str, ...]:
    # Field names and short values (statuses, quarters, intervention types) repeat in every file and every outcome:
    # each is looked at once. Without a patient list, what free_text finds in a text does not depend on the day.
    return tuple(free_text.kinds_in(text))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_fields(doc: dict[str, Any]) -> None:
    def bad(message: str) -> Rejected:
        return Rejected("bad-field", message)

    optional = set().union(*(f for v, f in OPTIONAL_FIELDS.items() if v <= doc["version"]))
    extra = set(doc) - TOP_FIELDS - signing.FIELDS - optional
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


def _check_sign_off(doc: dict[str, Any]) -> None:
    """A signed-off return says who signed it off and when (the lock reason and the audit trail name them)."""
    for key, what in (("signed_off_by", "by whom"), ("signed_off_at", "when")):
        if not (doc[key] or "").strip():
            raise Rejected(
                "bad-field",
                f"The return says it is signed off, but not {what} (its {key} is empty): Locality Desk records "
                "both at sign-off, so the file was edited or made by another program. Ask the team to export "
                "the signed-off return again.",
            )


def _instant(doc: dict[str, Any], key: str) -> dt.datetime:
    """The field's date and time, aware: one without an offset is read as UTC, which is what the app writes."""
    try:
        stamp = dt.datetime.fromisoformat(doc[key].strip())
    except ValueError:
        raise Rejected(
            "bad-field",
            f"The field {key!r} must be a date and time like 2026-01-12T16:00:00+00:00, not {_short(doc[key])}.",
        ) from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def _day(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def _check_dates(doc: dict[str, Any]) -> None:
    """A return reports a whole quarter that is over (returns.check_figures will not sign one off sooner):
    its year has begun, its quarter has ended by today, and it was signed off after that end."""
    quarter = parse(doc["period"])
    today = clock.today()
    first = Quarter(quarter.year, 1).start
    if today < first:
        raise Rejected(
            "impossible-value",
            f"The file is a return for {quarter.label}, but the financial year {quarter.label[:7]} begins on "
            f"{_day(first)}, after today ({_day(today)}): no team can have made it yet. Check the file's period "
            "with the team, and this computer's date.",
        )
    if today < quarter.start:
        raise Rejected(
            "impossible-value",
            f"The file is a return for {quarter.label}, which begins on {_day(quarter.start)}, after today "
            f"({_day(today)}): no team can have made it yet. Check the file's period with the team.",
        )
    if today <= quarter.end:
        raise Rejected(
            "impossible-value",
            f"{quarter.label} is still under way (it runs until {_day(quarter.end)}): a return reports the whole "
            f"quarter, so it can be signed off from {_day(quarter.end + dt.timedelta(days=1))}. Import the "
            "return the team signs off after that.",
        )
    signed = _instant(doc, "signed_off_at")
    # The quarter ends at midnight UK time; British Summer Time puts that midnight an hour before UTC's, and a
    # stamp is UTC, so an hour's grace keeps a sign-off in the first hour of the next quarter.
    ended = dt.datetime.combine(quarter.end + dt.timedelta(days=1), dt.time(0), dt.UTC) - dt.timedelta(hours=1)
    if signed < ended:
        raise Rejected(
            "impossible-value",
            f"The return says it was signed off on {_day(signed.date())}, before {quarter.label} ended on "
            f"{_day(quarter.end)}: figures signed off early stop short of the quarter's end. Ask the team for "
            "a return signed off after the quarter ended (reopen it, check the figures and sign it off again).",
        )
    # A day's grace: the team's clock and this one may disagree by hours, but not by days.
    if signed.astimezone(dt.UTC).date() > today + dt.timedelta(days=1):
        raise Rejected(
            "impossible-value",
            f"The return says it was signed off on {_day(signed.date())}, which is after today ({_day(today)}): "
            "the clock of the computer it was signed off on (or of this one) may be wrong. Ask the team to "
            "check it and export the return again.",
        )


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
    # A team still on an older Locality Desk sends the KPIs of its catalogue; the ones added since are absent.
    missing = [code for code, kpi in known.items() if code not in seen and kpi.added_in <= 1]
    if missing:
        raise Rejected("bad-field", f"{missing[0]} is missing from the return ({len(missing)} KPI(s) missing).")


def _check_outcomes(doc: dict[str, Any]) -> None:
    """The outcomes section (version 2, optional): aggregates a team's app could have made, each outcome once, its
    interval holding its estimate, its counts whole and never negative, for the joiners whose follow-up ends with
    the return's quarter."""
    if "outcomes" not in doc:
        return
    section = doc["outcomes"]
    again = "The file was edited or made by another program: ask the team to export the return again."
    if not isinstance(section, list) or not section:
        raise Rejected("bad-field", f"The outcomes section must be a list of outcomes, not {_short(section)}. {again}")
    period = parse(doc["period"])
    seen: set[str] = set()
    for entry in section:
        if not isinstance(entry, dict) or set(entry) != set(return_outcomes.FIELDS):
            odd = sorted(set(entry) ^ set(return_outcomes.FIELDS))[0] if isinstance(entry, dict) else None
            raise Rejected(
                "bad-field",
                "Each outcome of the outcomes section must give "
                + ", ".join(return_outcomes.FIELDS)
                + (f"; one {'has an unexpected' if odd in entry else 'has no'} field {odd!r}" if odd else "")
                + f". {again}",
            )
        outcome = entry["outcome"]
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise Rejected(
                "bad-field",
                f"The outcomes section names {_short(outcome)}, not an outcome this app knows "
                f"({', '.join(OUTCOMES)}); the file may come from a newer Locality Desk.",
            )
        name = f"The outcome {return_outcomes.label(outcome).lower()}"
        if outcome in seen:
            raise Rejected("bad-field", f"{name} appears twice in the outcomes section. {again}")
        seen.add(outcome)
        follow_up = entry["follow_up_quarters"]
        if follow_up not in FOLLOW_UP_QUARTERS or isinstance(follow_up, bool):
            raise Rejected(
                "bad-field", f"{name}: the follow-up must be 2, 3 or 4 quarters, not {_short(follow_up)}. {again}"
            )
        joining = joining_quarter(period, follow_up)
        if entry["joining_quarter"] != joining.code:
            raise Rejected(
                "impossible-value",
                f"{name}: a {period.label} return evaluates the joiners of {joining.code} ({follow_up} quarters of "
                f"follow-up ending with its quarter), not {_short(entry['joining_quarter'])}. {again}",
            )
        _check_outcome_figures(entry, name, return_outcomes.STATUSES, again)
        groups = entry["by_intervention"]
        if not isinstance(groups, list):
            raise Rejected("bad-field", f"{name}: by_intervention must be a list, not {_short(groups)}. {again}")
        if groups and entry["status"] == "not measured":
            raise Rejected(
                "impossible-value", f"{name} is not measured, yet the file gives it per intervention. {again}"
            )
        kinds: set[str] = set()
        for group in groups:
            if not isinstance(group, dict) or set(group) != set(return_outcomes.GROUP_FIELDS):
                raise Rejected(
                    "bad-field",
                    f"{name}: each intervention must give " + ", ".join(return_outcomes.GROUP_FIELDS) + f". {again}",
                )
            kind = group["intervention"]
            if kind not in INTERVENTION_TYPES or kind in kinds:
                raise Rejected(
                    "bad-field",
                    f"{name}: {_short(kind)} is "
                    + ("given twice" if kind in kinds else "not an intervention type this app knows")
                    + f" in by_intervention. {again}",
                )
            kinds.add(kind)
            _check_outcome_figures(group, f"{name}, {kind}", return_outcomes.GROUP_STATUSES, again)
            for count in ("matched", "unmatched"):
                if group[count] > entry[count]:
                    raise Rejected(
                        "impossible-value",
                        f"{name}, {kind}: {group[count]} joiners {count}, more than the {entry[count]} of the "
                        f"whole caseload it is part of. {again}",
                    )


def _check_outcome_figures(entry: dict[str, Any], name: str, statuses: Sequence[str], again: str) -> None:
    status = entry["status"]
    if status not in statuses:
        raise Rejected(
            "bad-field", f"{name}: the status must be {' or '.join(map(repr, statuses))}, not {_short(status)}. {again}"
        )
    for count in ("matched", "unmatched"):
        n = entry[count]
        if not isinstance(n, int) or isinstance(n, bool):
            raise Rejected("bad-field", f"{name}: {count} must be a whole number of joiners, not {_short(n)}. {again}")
        if not 0 <= n <= 1e9:
            raise Rejected("impossible-value", f"{name}: {count} is {_short(n)}, not a number of joiners. {again}")
    for key in return_outcomes.NUMBERS:
        x = entry[key]
        if x is None:
            continue
        if not _is_number(x):
            raise Rejected("bad-field", f"{name}: {key} must be a number or empty, not {_short(x)}. {again}")
        # Range first: math.isfinite raises OverflowError on an integer of hundreds of digits.
        if abs(x) > 1e9 or not math.isfinite(x):
            raise Rejected("impossible-value", f"{name}: {key} is {_short(x)}, beyond any change in use. {again}")
    figures = [entry[k] for k in ("estimate", "ci_low", "ci_high")]
    if status == "estimated":
        if any(x is None for x in [*figures, entry["naive_estimate"]]):
            raise Rejected(
                "bad-field",
                f"{name} is estimated but lacks its estimate, interval or naive figure. {again}",
            )
        low, estimate, high = entry["ci_low"], entry["estimate"], entry["ci_high"]
        if not low <= estimate <= high:
            raise Rejected(
                "impossible-value",
                f"{name}: the interval {_short(low)} to {_short(high)} does not hold the estimate "
                f"{_short(estimate)}. {again}",
            )
        if entry["matched"] < 2:
            raise Rejected(
                "impossible-value",
                f"{name}: an estimate from {entry['matched']} matched joiner(s); it needs at least two. {again}",
            )
    elif any(x is not None for x in figures):
        raise Rejected("impossible-value", f"{name} is marked {status}, yet the file gives it an estimate. {again}")
    if status == "not measured" and (entry["naive_estimate"] is not None or entry["matched"] or entry["unmatched"]):
        raise Rejected("impossible-value", f"{name} is not measured, yet the file gives it figures. {again}")


def _store(
    db: sqlite_utils.Database, actor: Actor, doc: dict[str, Any], file_name: str, accept_keys: Collection[str] = ()
) -> str:
    loc = db.execute("SELECT id, name FROM localities WHERE code = ?", [doc["locality"]["code"]]).fetchone()
    if loc is None:
        raise Rejected(
            "unknown-locality",
            f"No locality has the code {doc['locality']['code']!r} "
            f"({doc['locality']['name']}); the LLR teams are in Reference data → "
            "Localities.",
        )
    _check_name(db, doc, loc[1])
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
    _check_revision(doc, held, label)
    return_id = new_id()
    with db.atomic():
        # The last check, so a file refused for its content or its revision says so whatever its signature;
        # in this savepoint, so a key trusted (or a rotation recorded) for the file lands with it or not at all.
        verdict = signing.admit(db, actor, doc, accept_keys)
        if verdict.status != "ok":
            raise Rejected(verdict.status, verdict.reason)
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
        if doc.get("outcomes"):
            return_outcomes.store(db, actor, return_id, doc["outcomes"])
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


def _name_key(name: str) -> str:
    """A locality's name as compared: case, spacing, punctuation and "&" for "and" do not tell teams apart."""
    return re.sub(r"[\W_]+", "", name.casefold().replace("&", " and "))


def _check_name(db: sqlite_utils.Database, doc: dict[str, Any], own: str) -> None:
    """The code and the name must not name two different teams. A name that is no team's is let through: teams
    and the commissioner may spell a name their own way, or one side may have renamed a locality in Reference
    data, and the code is what files the return; a name that is another team's says the file is mislabelled,
    and its figures would go to the wrong team."""
    code, name = doc["locality"]["code"], doc["locality"]["name"]
    if _name_key(name) == _name_key(own):
        return
    for other_code, other_name in db.execute("SELECT code, name FROM localities WHERE code != ?", [code]):
        if _name_key(other_name) == _name_key(name):
            raise Rejected(
                "unknown-locality",
                f"The file is for locality {code} ({own} here) but names {other_name}, the name of {other_code}: "
                "it is not clear whose return it is, so its figures could land on the wrong team. Ask the team "
                "to check their locality in Reference data → Localities and export the return again.",
            )


def _check_revision(doc: dict[str, Any], held: dict[str, Any] | None, label: str) -> None:
    """A later revision than the one held: at most MAX_AHEAD further on, and signed off after it."""
    latest = held["revision"] if held else 0
    if doc["revision"] > latest + MAX_AHEAD:
        holding = f"the latest held is revision {latest}" if held else "no revision of it is held yet"
        raise Rejected(
            "revision-conflict",
            f"{label}: this file is revision {doc['revision']}, but {holding}. A return's revision goes up by "
            f"one each time the team reopens it, so {doc['revision']} is too far ahead to be real (at most "
            f"{latest + MAX_AHEAD} can follow); the number was probably edited. Ask the team to export the "
            "return again; if they really reopened it that often, import their earlier revision files first.",
        )
    if held is None or not held.get("signed_off_at"):
        return
    try:
        before = _instant(held, "signed_off_at")
    except Rejected:  # held from before this check was made; the file's own stamp was checked in read()
        return
    signed = _instant(doc, "signed_off_at")
    # Strictly earlier only: stamps are to the second, and a file made by hand may share its predecessor's.
    if signed < before:
        raise Rejected(
            "revision-conflict",
            f"{label}: this file is revision {doc['revision']}, signed off {signed:%d/%m/%Y %H:%M}, but revision "
            f"{held['revision']} held was signed off later, {before:%d/%m/%Y %H:%M}. A team signs off each "
            "revision after the one it reopens, so this file's revision number or date was changed. Ask the team "
            "to export their current return again.",
        )


def _same(db: sqlite_utils.Database, held: dict[str, Any], doc: dict[str, Any]) -> bool:
    if held.get("sha256") == doc["sha256"]:
        return True
    values = returns.values(db, held["id"])
    for row in doc["values"]:
        mine = values.get(row["kpi"])
        if mine is None or any(mine[k] != row[k] for k in ("numerator", "denominator", "value", "rag", "comment")):
            return False
    return len(values) == len(doc["values"]) and return_outcomes.held(db, held["id"]) == doc.get("outcomes")
