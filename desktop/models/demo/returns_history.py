"""Signed-off quarterly returns for the demo world: every locality's last eight quarters, made through the
returns workflow with entered outcome figures and the comments a federation manager writes for the reds."""

from __future__ import annotations

import datetime as dt
import random

from .. import quarters, returns
from ..clock import Actor, reproducible_ids
from . import DEMO_ACTOR, DemoContext
from .history import DEMO_TODAY

COMMENTS = (
    "Matron vacancy covered by agency staff since the start of the quarter; recruitment under way.",
    "Two practices joined the home-round rota late; cover agreed from next quarter.",
    "Data lag: reviews recorded in the practice system not yet reconciled.",
    "Winter pressures: reviews deferred in favour of crisis response; recovery plan agreed with the ICB.",
    "New care homes aligned in the quarter; clinical leads being confirmed.",
)


def build_returns_history(ctx: DemoContext) -> None:
    span = [quarters.of(DEMO_TODAY).previous()]
    while len(span) < 8:
        span.append(span[-1].previous())
    span.reverse()
    shared: dict = {}
    localities = list(ctx.db.query("SELECT l.id, l.code, l.name, (SELECT name FROM staff s WHERE s.locality_id = l.id "
                                   "AND s.role = 'federation manager') AS manager FROM localities l ORDER BY l.code"))
    for n, loc in enumerate(localities):
        ctx.progress(n / len(localities), f"Signed-off returns for {loc['name']}")
        rng = ctx.rng(f"returns:{loc['code']}")
        with reproducible_ids(rng):
            for q in span:
                _one(ctx, rng, loc, q, shared)


def _one(ctx: DemoContext, rng: random.Random, loc: dict, q: quarters.Quarter, shared: dict) -> None:
    signed = q.end + dt.timedelta(days=rng.randint(10, 25))
    actor = Actor(user=loc["manager"] or DEMO_ACTOR.user, device_id=DEMO_ACTOR.device_id,
                  fixed_time=f"{signed.isoformat()}T16:00:00+00:00")
    day = min(signed, DEMO_TODAY)
    return_id, _ = returns.draft(ctx.db, actor, loc["id"], q, day, shared)
    cohort = returns.values(ctx.db, return_id)["COH-01"]["numerator"] or 5000
    beds = ctx.db.execute("SELECT SUM(beds) FROM care_homes WHERE locality_id = ?", [loc["id"]]).fetchone()[0] or 1
    entered = {"OUT-01": (round(cohort * rng.uniform(0.055, 0.085)), cohort),
               "OUT-02": (round(cohort * rng.uniform(0.14, 0.2)), cohort),
               "OUT-03": (round(beds * rng.uniform(0.025, 0.045)), beds),
               "OUT-04": (rng.randint(15, 60), None)}
    for kpi, (num, den) in entered.items():
        returns.enter(ctx.db, actor, return_id, kpi, num, den)
    for issue in returns.check(ctx.db, return_id, day):
        if issue["blocking"] and issue["kind"] != "missing":
            returns.comment(ctx.db, actor, return_id, issue["kpi"], rng.choice(COMMENTS))
    returns.sign_off(ctx.db, actor, return_id, day)
