"""Step changes a demo team's federation manager has recorded on its KPIs (kpi.rebases): the team's start-up,
and the dated changes teams.py tells of."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from .. import audit
from .context import DemoContext, actor_on, insert_rows
from .teams import rebases


def record_step_changes(ctx: DemoContext, loc: dict, steady: dt.date | None) -> None:
    """The team's start-up and its dated changes, recorded by its federation manager as step changes, so SPC
    charts compute their limits from the steady process and not across the ramp.

    Written as kpi.rebases.record writes them (row and audit entry) but with ids from the seed and inside the
    world's one transaction: record() commits on its own and draws random ids, which would leave a cancelled
    build half-written and make two builds of the same seed differ."""
    manager = ctx.db.execute(
        "SELECT name FROM staff WHERE locality_id = ? AND role = 'federation manager' ORDER BY name LIMIT 1",
        [loc["id"]],
    ).fetchone()
    if steady is None or manager is None:
        return
    rng = ctx.rng(f"step changes:{loc['code']}")
    rows, entries = [], []
    for kpi, day, reason in rebases(loc["code"], steady, ctx.today):
        if day >= ctx.today:
            continue
        actor = replace(actor_on(day, 16), user=manager[0], role="federation manager")
        row = {
            "id": ctx.uuid(rng),
            "locality_id": loc["id"],
            "kpi": kpi,
            "effective_on": day.isoformat(),
            "reason": reason,
            "recorded_by": actor.user,
            "created_at": actor.now(),
            **actor.stamp(),
        }
        rows.append(row)
        summary = f"Step change on {kpi} from {day:%d/%m/%Y}: {reason}"
        entries.append(audit.row(actor, "record", "kpi_rebase", row["id"], summary, None))
    insert_rows(ctx.db, "kpi_rebases", rows)
    audit.append_many(ctx.db.conn, entries)
