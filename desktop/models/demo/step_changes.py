"""Step changes a demo team's federation manager has recorded on its KPIs (kpi.rebases): the team's start-up,
and the dated changes teams.py tells of."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ..clock import reproducible_ids
from ..kpi import rebases as kpi_rebases
from .context import DemoContext, actor_on
from .teams import rebases


def record_step_changes(ctx: DemoContext, loc: dict, steady: dt.date | None) -> None:
    """The team's start-up and its dated changes, recorded by its federation manager as step changes, so SPC
    charts compute their limits from the steady process and not across the ramp; ids come from the seed."""
    manager = ctx.db.execute(
        "SELECT name FROM staff WHERE locality_id = ? AND role = 'federation manager' ORDER BY name LIMIT 1",
        [loc["id"]],
    ).fetchone()
    if steady is None or manager is None:
        return
    with reproducible_ids(ctx.rng(f"step changes:{loc['code']}")):
        for kpi, day, reason in rebases(loc["code"], steady, ctx.today):
            if day < ctx.today:
                actor = replace(actor_on(day, 16), user=manager[0], role="federation manager")
                kpi_rebases.record(ctx.db, actor, loc["id"], kpi, day, reason)
