"""Quarterly KPI returns (DESIGN §10): a draft recomputed on demand, signed off (values frozen, who and
when), exported as an aggregate JSON file with a digest; reopening makes a new revision. Every transition
is audited, and a return that cannot change says why. A quarter with no return yet can be looked at
(preview, check_figures) without starting one: only draft() starts it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import statistics
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import sqlite_utils

from ... import paths
from .. import audit, clock, free_text, roles
from ..changes import Changes
from ..clock import Actor, new_id
from ..errors import NotFound, ValidationError
from ..quarters import Quarter
from . import compute as kpi_compute
from . import return_outcomes, signing
from .catalogue import Kpi, by_code, catalogue

FORMAT, VERSION = "locality-desk/kpi-return", 1
# Version 2 adds the optional outcomes section (issue 27). A return without one is still written as version 1, so a
# commissioner whose app predates the section reads it; one with it says 2, and such an app then asks for an update
# instead of calling the section an unexpected field.
OUTCOMES_VERSION = 2
VERSIONS = (VERSION, OUTCOMES_VERSION)
RULES = paths.resources_dir() / "validation_rules.json"
_OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq, "!=": operator.ne}
PLAUSIBLE_SD = 3.0  # REFERENCE §5.3: |x - mean| / sd beyond this asks for a comment


@cache
def rules() -> tuple[dict[str, Any], ...]:
    with open(RULES, encoding="utf-8") as fh:
        loaded = json.load(fh)["rules"]
    known = by_code()
    for rule in loaded:
        for side in (rule["left"], rule["right"]):
            kpi = side.split(".")[0]
            if not _is_number(side) and (
                kpi not in known or side.split(".")[-1] not in ("numerator", "denominator", "value")
            ):
                raise ValidationError(f"Validation rule {rule['id']}: '{side}' is neither a number nor KPI.field.")
        if rule["operator"] not in _OPS:
            raise ValidationError(f"Validation rule {rule['id']}: unknown operator '{rule['operator']}'.")
    return tuple(loaded)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def current(db: sqlite_utils.Database, locality_id: str, quarter: Quarter) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT * FROM returns WHERE locality_id = ? AND period = ? ORDER BY revision DESC LIMIT 1",
            [locality_id, quarter.code],
        )
    )
    return rows[0] if rows else None


def get(db: sqlite_utils.Database, return_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM returns WHERE id = ?", [return_id]))
    if not rows:
        raise NotFound("That return no longer exists.")
    return rows[0]


def values(db: sqlite_utils.Database, return_id: str) -> dict[str, dict[str, Any]]:
    return {r["kpi"]: r for r in db.query("SELECT * FROM return_values WHERE return_id = ?", [return_id])}


def lock_reason(ret: dict[str, Any]) -> str | None:
    """Why the return cannot be edited, or None when it can (a draft)."""
    if ret["status"] == "draft":
        return None

    def day(stamp: str) -> str:
        return dt.date.fromisoformat(stamp[:10]).strftime("%d/%m/%Y")

    return (
        f"Signed off by {ret['signed_off_by']} on {day(ret['signed_off_at'])}"
        + (f" and exported on {day(ret['exported_at'])}" if ret["exported_at"] else "")
        + ". Reopen it to make a new revision."
    )


def _editable(db: sqlite_utils.Database, return_id: str) -> dict[str, Any]:
    ret = get(db, return_id)
    reason = lock_reason(ret)
    if reason:
        raise ValidationError(f"This return is locked: {reason}")
    return ret


def draft(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_id: str,
    quarter: Quarter,
    today: dt.date | None = None,
    shared: dict[Any, Any] | None = None,
) -> tuple[str, Changes]:
    """The quarter's latest return; a new draft (computed now) when there is none yet. Starting one is a write,
    audited: a screen calls it on the user's say-so, never to show a quarter (preview does that)."""
    found = current(db, locality_id, quarter)
    if found:
        return found["id"], Changes()
    return_id = new_id()
    with db.atomic():
        db["returns"].insert(
            {
                "id": return_id,
                "locality_id": locality_id,
                "period": quarter.code,
                "revision": 1,
                "status": "draft",
                "created_at": actor.now(),
                **actor.stamp(),
            }
        )
        _fill(db, actor, return_id, locality_id, quarter, today, keep={}, shared=shared)
        audit.record(db, actor, "create", "returns", return_id, f"Started the {quarter.label} return (revision 1)")
    return return_id, Changes.of("returns")


def preview(
    db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date | None = None
) -> dict[str, dict[str, Any]]:
    """The values a draft started now would hold, by KPI code (as values() gives them, without the row's
    ids): computed from the records, the entered KPIs empty. Nothing is written."""
    return {row["kpi"]: row for row in _figures(db, locality_id, quarter, today, keep={})}


def _figures(
    db: sqlite_utils.Database,
    locality_id: str,
    quarter: Quarter,
    today: dt.date | None,
    keep: dict[str, dict[str, Any]],
    shared: dict[Any, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every KPI's figures: the computed ones from the records, the entered ones and comments from *keep*."""
    computed = {f.kpi: f for f in kpi_compute.compute(db, locality_id, quarter, today, shared)}
    rows = []
    for kpi in catalogue():
        held = keep.get(kpi.code, {})
        if kpi.source == "computed":
            f = computed[kpi.code]
            numerator, denominator, value, rag = f.numerator, f.denominator, f.value, f.rag
        else:
            numerator, denominator = held.get("numerator"), held.get("denominator")
            value = kpi.value(numerator, denominator)
            rag = kpi.rag(value)
        rows.append(
            {
                "kpi": kpi.code,
                "numerator": numerator,
                "denominator": denominator,
                "value": value,
                "rag": rag,
                "comment": held.get("comment", ""),
            }
        )
    return rows


def _fill(
    db: sqlite_utils.Database,
    actor: Actor,
    return_id: str,
    locality_id: str,
    quarter: Quarter,
    today: dt.date | None,
    keep: dict[str, dict[str, Any]],
    shared: dict[Any, Any] | None = None,
) -> None:
    rows = [
        {"id": new_id(), "return_id": return_id, **row, "created_at": actor.now(), **actor.stamp()}
        for row in _figures(db, locality_id, quarter, today, keep, shared)
    ]
    db.execute("DELETE FROM return_values WHERE return_id = ?", [return_id])
    db["return_values"].insert_all(rows)


def recompute(db: sqlite_utils.Database, actor: Actor, return_id: str, today: dt.date | None = None) -> Changes:
    """Refresh a draft's computed KPIs from the records; entered figures and comments are kept."""
    ret = _editable(db, return_id)
    with db.atomic():
        _fill(db, actor, return_id, ret["locality_id"], _quarter(ret), today, keep=values(db, return_id))
        audit.record(db, actor, "update", "returns", return_id, f"Recomputed the {ret['period']} draft")
    return Changes.of("returns")


def _quarter(ret: dict[str, Any]) -> Quarter:
    from ..quarters import parse

    return parse(ret["period"])


# What enter() and check() ask of the figures and comments typed into a draft, for the grid's tooltips.
ENTER_HELP = (
    "Typed in from secondary-care data: the numerator and denominator, e.g. 12 / 4500. Each is a number "
    "from 0 to a billion, and a denominator cannot be 0."
)
COMMENT_HELP = "Needed before sign-off for a red KPI, a failed validation rule or a change far from the last quarters'."


def enter(
    db: sqlite_utils.Database, actor: Actor, return_id: str, kpi_code: str, numerator: Any, denominator: Any = None
) -> Changes:
    """Type in an entered KPI (figures from secondary-care data)."""
    _editable(db, return_id)
    kpi, clean = _kpi_and_entry(kpi_code, numerator, denominator)
    value = kpi.value(clean[0], clean[1])
    with db.atomic():
        db.execute(
            "UPDATE return_values SET numerator = ?, denominator = ?, value = ?, rag = ?, updated_at = ?, "
            "updated_by = ?, device_id = ? WHERE return_id = ? AND kpi = ?",
            [clean[0], clean[1], value, kpi.rag(value), actor.now(), actor.user, actor.device_id, return_id, kpi_code],
        )
        audit.record(
            db,
            actor,
            "update",
            "returns",
            return_id,
            f"Entered {kpi_code}: {clean[0]:g}" + (f" / {clean[1]:g}" if clean[1] is not None else ""),
        )
    return Changes.of("returns")


def check_entry(kpi_code: str, numerator: Any, denominator: Any = None) -> tuple[float, float | None]:
    """The figures enter() would store, as numbers; ValidationError when it would refuse them."""
    return _kpi_and_entry(kpi_code, numerator, denominator)[1]


def _kpi_and_entry(kpi_code: str, numerator: Any, denominator: Any) -> tuple[Kpi, tuple[float, float | None]]:
    kpi = by_code().get(kpi_code)
    if kpi is None or kpi.source != "entered":
        raise ValidationError(f"{kpi_code} is computed from the records, not typed in.", "numerator")
    clean = []
    for label, raw, needed in (("numerator", numerator, True), ("denominator", denominator, bool(kpi.denominator))):
        if raw in (None, ""):
            if needed:
                raise ValidationError(f"Enter the {label} of {kpi_code}.", label)
            clean.append(None)
            continue
        try:
            number = float(str(raw).replace(",", ""))
        except ValueError:
            raise ValidationError(f"The {label} of {kpi_code} must be a number, not '{raw}'.", label) from None
        if number < 0 or number > 1e9:
            raise ValidationError(f"The {label} of {kpi_code} must be between 0 and a billion.", label)
        clean.append(number)
    if kpi.denominator and clean[1] == 0:
        raise ValidationError(f"The denominator of {kpi_code} cannot be 0.", "denominator")
    return kpi, (clean[0], clean[1])


def comment(db: sqlite_utils.Database, actor: Actor, return_id: str, kpi_code: str, text: str) -> Changes:
    """Write a KPI's comment. What any workspace can tell is an identifier (an NHS number, a postcode, a date
    said to be a birth: what the commissioner's import refuses) is refused here. A patient's name or birth date
    from this workspace's list is kept in the draft, since only the team can tell a patient from a namesake:
    the screen warns at the field (comment_identifiers), and sign-off and export refuse it."""
    _editable(db, return_id)
    found = free_text.kinds_in(text)
    if found:
        raise ValidationError(
            f"The comment on {kpi_code} holds what looks like {free_text.listed(found)}. A return is aggregate "
            "and goes to the commissioner, so it must never identify a patient: describe the issue without it.",
            "comment",
        )
    with db.atomic():
        db.execute(
            "UPDATE return_values SET comment = ?, updated_at = ?, updated_by = ?, device_id = ? "
            "WHERE return_id = ? AND kpi = ?",
            [text.strip(), actor.now(), actor.user, actor.device_id, return_id, kpi_code],
        )
        audit.record(db, actor, "update", "returns", return_id, f"Commented on {kpi_code}")
    return Changes.of("returns")


def comment_identifiers(db: sqlite_utils.Database, text: str) -> list[str]:
    """The kinds of patient identifier a comment holds, this workspace's patients' names and birth dates
    included: what the screen warns of as the comment is typed, and what sign-off and export refuse."""
    return free_text.kinds_in(text, free_text.patients_of(db))


LEAVES = "a return leaves the workspace for the commissioner and must never identify a patient"


def refuse_identifiers(
    db: sqlite_utils.Database,
    comments: Mapping[str, str | None],
    refused: str,
    next_step: str,
    why: str = LEAVES,
) -> None:
    """ValidationError (field "comment") when any of *comments*, by KPI code, holds a patient identifier: the
    message names each KPI and the kind found, never the identifier. *refused* says what cannot be done ("the
    return cannot be signed off"), *next_step* what to do about it."""
    free_text.refuse(db, {f"comment on {code}": text for code, text in comments.items()}, refused, next_step, why)


def _comments(db: sqlite_utils.Database, return_id: str) -> dict[str, str | None]:
    return {code: row["comment"] for code, row in values(db, return_id).items()}


def history(
    db: sqlite_utils.Database, locality_id: str, kpi_code: str, quarter: Quarter, count: int = 4
) -> list[tuple[str, float | None]]:
    """(period, value) of the KPI in the last *count* signed-off returns before *quarter*, oldest first."""
    out = []
    q = quarter.previous()
    for _ in range(count):
        row = db.execute(
            "SELECT v.value FROM returns r JOIN return_values v ON v.return_id = r.id WHERE r.locality_id = ? "
            "AND r.period = ? AND r.status != 'draft' AND v.kpi = ? ORDER BY r.revision DESC LIMIT 1",
            [locality_id, q.code, kpi_code],
        ).fetchone()
        out.append((q.code, row[0] if row else None))
        q = q.previous()
    return list(reversed(out))


def check(db: sqlite_utils.Database, return_id: str, today: dt.date | None = None) -> list[dict[str, Any]]:
    """What the federation manager must look at: a quarter not yet over, failed rules, reds and implausible
    changes (each needs a comment), and entered KPIs still empty. Items with blocking=True stop the sign-off."""
    ret = get(db, return_id)
    return check_figures(db, ret["locality_id"], _quarter(ret), values(db, return_id), today)


def check_figures(
    db: sqlite_utils.Database,
    locality_id: str,
    quarter: Quarter,
    held: dict[str, dict[str, Any]],
    today: dt.date | None = None,
) -> list[dict[str, Any]]:
    """check() of a quarter's figures by KPI code, held in a return or not (those of preview)."""
    issues: list[dict[str, Any]] = []
    under_way = (today or clock.today()) <= quarter.end
    if under_way:
        # A return reports a whole quarter: signed off early, its counts would stop short and be frozen so.
        issues.append(
            {
                "kpi": None,
                "kind": "open quarter",
                "importance": "high",
                "blocking": True,
                "message": f"{quarter.label} runs until {quarter.end:%d/%m/%Y}: the return can be signed "
                f"off from {quarter.end + dt.timedelta(days=1):%d/%m/%Y}, once its figures are "
                "complete.",
            }
        )

    def side(text: str) -> float | None:
        if _is_number(text):
            return float(text)
        code, field = text.split(".")
        return held.get(code, {}).get(field)

    for rule in rules():
        left, right = side(rule["left"]), side(rule["right"])
        if left is None or right is None:
            continue
        if not _OPS[rule["operator"]](left, right):
            kpi = rule["left"].split(".")[0] if not _is_number(rule["left"]) else rule["right"].split(".")[0]
            issues.append(
                {
                    "kpi": kpi,
                    "kind": "rule",
                    "importance": rule["importance"],
                    "message": f"{rule['id']}: {rule['message']}",
                    "blocking": rule["importance"] == "high" or not held.get(kpi, {}).get("comment"),
                }
            )
    for kpi in catalogue():
        row = held.get(kpi.code, {})
        if kpi.source == "entered" and row.get("numerator") is None:
            issues.append(
                {
                    "kpi": kpi.code,
                    "kind": "missing",
                    "importance": "high" if kpi.required else "low",
                    "blocking": kpi.required,
                    "message": f"{kpi.code} is typed in from secondary-care data and is still empty"
                    + ("." if kpi.required else " (optional: the Better Care Fund figures the council returns)."),
                }
            )
        if row.get("rag") == "R" and not row.get("comment"):
            issues.append(
                {
                    "kpi": kpi.code,
                    "kind": "red",
                    "importance": "medium",
                    "blocking": True,
                    "message": f"{kpi.code} is red: say why in a comment.",
                }
            )
        past = [v for _, v in history(db, locality_id, kpi.code, quarter) if v is not None]
        value = row.get("value")
        # Part of a quarter is bound to look unlike whole ones: plausibility waits for the quarter's end.
        if value is not None and len(past) >= 2 and not row.get("comment") and not under_way:
            mean, sd = statistics.fmean(past), statistics.pstdev(past)
            if sd and abs(value - mean) / sd > PLAUSIBLE_SD:
                issues.append(
                    {
                        "kpi": kpi.code,
                        "kind": "implausible",
                        "importance": "medium",
                        "blocking": True,
                        "message": f"{kpi.code} is {value:g}, far from the last quarters' {mean:.1f} "
                        f"(± {sd:.1f}): check it and comment.",
                    }
                )
    return issues


def sign_off(db: sqlite_utils.Database, actor: Actor, return_id: str, today: dt.date | None = None) -> Changes:
    """Freeze the draft's figures and comments, in the actor's name: only a federation manager or a locality
    lead may, only with nothing blocking, and never with a comment that identifies a patient."""
    roles.require_sign_off(actor, "sign off")
    ret = _editable(db, return_id)
    blocking = [i for i in check(db, return_id, today) if i["blocking"]]
    if blocking:
        raise ValidationError(f"{len(blocking)} item(s) still block sign-off, first: {blocking[0]['message']}")
    refuse_identifiers(
        db,
        _comments(db, return_id),
        "the return cannot be signed off",
        "Edit the comment (describe the issue without it), then sign off again.",
    )
    # Frozen with the figures: the commissioner sees the estimate the team signed off, whatever later extracts add.
    outcomes = return_outcomes.evaluate(db, ret["locality_id"], _quarter(ret))
    with db.atomic():
        db["returns"].update(
            return_id,
            {"status": "signed_off", "signed_off_by": actor.user, "signed_off_at": actor.now(), **actor.stamp()},
        )
        if outcomes:
            return_outcomes.store(db, actor, return_id, outcomes)
        audit.record(
            db,
            actor,
            "sign-off",
            "returns",
            return_id,
            f"Signed off the {ret['period']} return (revision {ret['revision']})",
        )
    return Changes.of("returns")


def reopen(
    db: sqlite_utils.Database, actor: Actor, return_id: str, reason: str, today: dt.date | None = None
) -> tuple[str, Changes]:
    """A new draft revision of a signed-off return, its figures and comments carried over. Only a federation
    manager or a locality lead may."""
    roles.require_sign_off(actor, "reopen")
    ret = get(db, return_id)
    if ret["status"] == "draft":
        raise ValidationError("This return is still a draft; there is nothing to reopen.")
    if not reason.strip():
        raise ValidationError("Say why the return is reopened.", "reason")
    latest = current(db, ret["locality_id"], _quarter(ret))
    if latest["id"] != return_id:
        raise ValidationError(f"Revision {latest['revision']} is newer; reopen that one.")
    new = new_id()
    with db.atomic():
        db["returns"].insert(
            {
                "id": new,
                "locality_id": ret["locality_id"],
                "period": ret["period"],
                "revision": ret["revision"] + 1,
                "status": "draft",
                "reopened_reason": reason.strip(),
                "created_at": actor.now(),
                **actor.stamp(),
            }
        )
        _fill(db, actor, new, ret["locality_id"], _quarter(ret), today, keep=values(db, return_id))
        audit.record(
            db,
            actor,
            "reopen",
            "returns",
            new,
            f"Reopened the {ret['period']} return as revision {ret['revision'] + 1}: {reason.strip()}",
        )
    return new, Changes.of("returns")


def revisions(db: sqlite_utils.Database, locality_id: str, quarter: Quarter) -> list[dict[str, Any]]:
    """Every revision of the quarter's return, newest first, each with what changed from the one before:
    "changes" lists (kpi, before, after) for each figure or comment that differs."""
    held = list(
        db.query(
            "SELECT * FROM returns WHERE locality_id = ? AND period = ? ORDER BY revision", [locality_id, quarter.code]
        )
    )
    out, before = [], None
    for ret in held:
        now = values(db, ret["id"])
        changes = []
        if before is not None:
            for kpi in catalogue():
                old, new = before.get(kpi.code, {}), now.get(kpi.code, {})
                for field in ("numerator", "denominator", "value", "comment"):
                    if old.get(field) != new.get(field):
                        changes.append((kpi.code, field, old.get(field), new.get(field)))
        out.append({**ret, "changes": changes})
        before = now
    return list(reversed(out))


def document(db: sqlite_utils.Database, return_id: str, generated_at: str, app_version: str) -> dict[str, Any]:
    """The return file's content (DESIGN §10): aggregate figures only, with its digest. The outcomes section is
    the one frozen at sign-off; a draft's is worked out now, as its figures were."""
    ret = get(db, return_id)
    if ret["status"] == "draft":
        outcomes = return_outcomes.evaluate(db, ret["locality_id"], _quarter(ret))
    else:
        outcomes = return_outcomes.held(db, return_id)
    loc = db.execute("SELECT code, name FROM localities WHERE id = ?", [ret["locality_id"]]).fetchone()
    held = values(db, return_id)
    doc = {
        "format": FORMAT,
        "version": OUTCOMES_VERSION if outcomes else VERSION,
        "locality": {"code": loc[0], "name": loc[1]},
        "period": ret["period"],
        "revision": ret["revision"],
        "status": "draft" if ret["status"] == "draft" else "signed_off",
        "signed_off_by": ret["signed_off_by"],
        "signed_off_at": ret["signed_off_at"],
        "generated_at": generated_at,
        "app_version": app_version,
        "values": [
            {
                "kpi": k.code,
                "numerator": held[k.code]["numerator"],
                "denominator": held[k.code]["denominator"],
                "value": held[k.code]["value"],
                "rag": held[k.code]["rag"],
                "comment": held[k.code]["comment"],
            }
            for k in catalogue()
            if k.code in held
        ],
    }
    if outcomes:
        doc["outcomes"] = outcomes
    doc["sha256"] = digest(doc)
    return doc


def digest(doc: dict[str, Any]) -> str:
    # The signing fields are left out: the digest stays that of the content, as it was before returns were
    # signed, and the signature covers the digest.
    body = {k: v for k, v in doc.items() if k != "sha256" and k not in signing.FIELDS}
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    return_id: str,
    out: str | Path,
    app_version: str,
    allow_draft: bool = False,
) -> Path:
    """Write the return file; a draft only when asked (and it says so). Exporting a signed-off return marks
    it exported. Audited."""
    ret = get(db, return_id)
    if ret["status"] == "draft" and not allow_draft:
        raise ValidationError(
            f"The {ret['period']} return is a draft: sign it off first, or export it as a "
            "draft working copy (the file then says it is a draft)."
        )
    out = Path(out)
    doc = document(db, return_id, actor.now(), app_version)
    # Again at export: a comment signed off before its patient joined the list, arrived by sync from a laptop
    # that did not know the name, or typed before comment() knew this way of writing one.
    refuse_identifiers(
        db,
        {row["kpi"]: row["comment"] for row in doc["values"]},
        "the return cannot be exported",
        "Edit the comment, then export again."
        if ret["status"] == "draft"
        else "Reopen the return, edit the comment and sign it off again.",
    )
    with db.atomic():
        # With the workspace's key, made on first need in this transaction: a failed write keeps no new key.
        signing.sign(db, actor, doc)
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        out.write_text(text, encoding="utf-8")
        if ret["status"] == "signed_off":
            db["returns"].update(return_id, {"status": "exported", "exported_at": actor.now(), **actor.stamp()})
        audit.record(
            db,
            actor,
            "export",
            "returns",
            return_id,
            f"Exported the {ret['period']} return ({doc['status']}, revision {ret['revision']}) to {out.name}",
        )
    return out
