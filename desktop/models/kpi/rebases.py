"""Step changes recorded on a KPI (issue 24): from the date of a real change to the process (a new matron, a
home-round rota, the team's start-up), SPC limits are recalculated from that date's points only, as
NHSRplotthedots' `rebase` dates do, so the icons describe the process now and not its history.

Recording one is a judgement about the process, so it is for those who sign the figures off; the reason is
printed under the chart in reports that leave the workspace, so it is checked for patient identifiers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from .. import audit, free_text, roles
from ..changes import Changes
from ..clock import Actor, new_id
from ..errors import NotFound, ValidationError
from .catalogue import by_code

REASON_MAX = 200


def listing(db: sqlite_utils.Database, locality_id: str, kpi_code: str | None = None) -> list[dict[str, Any]]:
    """The locality's step changes (of one KPI, or all), oldest first."""
    where, params = "locality_id = ?", [locality_id]
    if kpi_code is not None:
        where, params = where + " AND kpi = ?", [*params, kpi_code]
    return list(db.query(f"SELECT * FROM kpi_rebases WHERE {where} ORDER BY kpi, effective_on", params))


def record(
    db: sqlite_utils.Database, actor: Actor, locality_id: str, kpi_code: str, on: dt.date, reason: str
) -> dict[str, Any]:
    """Record a step change on *kpi_code* from *on*; one audited transaction. ValidationError, writing nothing,
    for a role that may not, an unknown KPI, a missing or identifying reason, or a date already recorded."""
    roles.require_sign_off(actor, "record", "a step change")
    kpi = by_code().get(kpi_code)
    if kpi is None:
        raise ValidationError(f"There is no KPI {kpi_code} in the catalogue.", "kpi")
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationError('Say what changed, e.g. "New home-round rota from 1 June".', "reason")
    if len(text) > REASON_MAX:
        raise ValidationError(f"Keep the reason to {REASON_MAX} characters: it is printed under the chart.", "reason")
    free_text.refuse(
        db,
        {f"reason for the step change on {kpi_code}": text},
        "the step change cannot be recorded",
        "the reason is printed in reports that leave the workspace",
        "Describe the change to the service, not a patient.",
    )
    day = on.isoformat()
    clash = db.execute(
        "SELECT 1 FROM kpi_rebases WHERE locality_id = ? AND kpi = ? AND effective_on = ?",
        [locality_id, kpi_code, day],
    ).fetchone()
    if clash:
        raise ValidationError(f"A step change on {kpi_code} from {on:%d/%m/%Y} is already recorded.", "effective_on")
    row = {
        "id": new_id(),
        "locality_id": locality_id,
        "kpi": kpi_code,
        "effective_on": day,
        "reason": text,
        "recorded_by": actor.user,
        **actor.stamp(),
    }
    row["created_at"] = row["updated_at"]
    with db.atomic():
        db["kpi_rebases"].insert(row)
        audit.record(
            db, actor, "record", "kpi_rebase", row["id"], f"Step change on {kpi_code} from {on:%d/%m/%Y}: {text}"
        )
    return row


def remove(db: sqlite_utils.Database, actor: Actor, rebase_id: str) -> Changes:
    """Take a recorded step change away (the limits run on across its date again); audited."""
    found = db.execute("SELECT kpi, effective_on FROM kpi_rebases WHERE id = ?", [rebase_id]).fetchone()
    if found is None:
        raise NotFound("That step change is no longer recorded.")
    roles.require_sign_off(actor, "remove", "a step change")
    with db.atomic():
        db.execute("DELETE FROM kpi_rebases WHERE id = ?", [rebase_id])
        audit.record(db, actor, "delete", "kpi_rebase", rebase_id, f"Step change on {found[0]} from {found[1]} removed")
    return Changes.of("kpi_rebases")


def starts(recorded: Sequence[dict[str, Any]], period_starts: Sequence[dt.date]) -> list[tuple[int, dict[str, Any]]]:
    """Where each step change starts a new period of the series: the first period that begins on or after its
    date (a change in mid-month leaves that month mixed, so it belongs to neither level). Changes that would
    leave a period of fewer than two points (the first point, the last, or next to another) are left out, as
    are changes outside the series."""
    out: list[tuple[int, dict[str, Any]]] = []
    n = len(period_starts)
    for r in sorted(recorded, key=lambda r: r["effective_on"]):
        on = dt.date.fromisoformat(r["effective_on"])
        index = next((i for i, s in enumerate(period_starts) if s >= on), None)
        if index is None or index < 2 or index > n - 2 or (out and index - out[-1][0] < 2):
            continue
        out.append((index, r))
    return out
