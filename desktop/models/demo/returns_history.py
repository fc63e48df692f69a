"""Signed-off quarterly returns for the demo world: every locality's last eight quarters, made through the
returns workflow with entered outcome figures and the comments a federation manager writes for the reds."""

from __future__ import annotations

import datetime as dt
import random

from .. import quarters
from ..clock import Actor, reproducible_ids
from ..kpi import returns
from ..mdt import actions
from .context import DEMO_ACTOR, DemoContext

COMMENTS = (
    "Matron vacancy covered by agency staff since the start of the quarter; recruitment under way.",
    "Two practices joined the home-round rota late; cover agreed from next quarter.",
    "Data lag: reviews recorded in the practice system not yet reconciled.",
    "Winter pressures: reviews deferred in favour of crisis response; recovery plan agreed with the ICB.",
    "New care homes aligned in the quarter; clinical leads being confirmed.",
)


def build_returns_history(ctx: DemoContext) -> None:
    span = [quarters.of(ctx.today).previous()]
    while len(span) < 8:
        span.append(span[-1].previous())
    span.reverse()
    shared: dict = {}
    localities = list(
        ctx.db.query(
            "SELECT l.id, l.code, l.name, (SELECT name FROM staff s WHERE s.locality_id = l.id "
            "AND s.role = 'federation manager') AS manager FROM localities l ORDER BY l.code"
        )
    )
    for n, loc in enumerate(localities):
        ctx.progress(n / len(localities), f"Signed-off returns for {loc['name']}")
        rng = ctx.rng(f"returns:{loc['code']}")
        with reproducible_ids(rng):
            for q in span:
                _one(ctx, rng, loc, q, shared)


def _one(ctx: DemoContext, rng: random.Random, loc: dict, q: quarters.Quarter, shared: dict) -> None:
    # Never after the demo's today: a return signed off in the future is one the commissioner's import refuses.
    signed = min(q.end + dt.timedelta(days=rng.randint(10, 25)), ctx.today)
    actor = Actor(
        user=loc["manager"] or DEMO_ACTOR.user,
        device_id=DEMO_ACTOR.device_id,
        fixed_time=f"{signed.isoformat()}T16:00:00+00:00",
        role="federation manager",  # sign-off is the federation manager's (models/roles.py)
    )
    return_id, _ = returns.draft(ctx.db, actor, loc["id"], q, signed, shared)
    cohort = returns.values(ctx.db, return_id)["COH-01"]["numerator"] or 5000
    beds = ctx.db.execute("SELECT SUM(beds) FROM care_homes WHERE locality_id = ?", [loc["id"]]).fetchone()[0] or 1
    entered = {
        "OUT-01": (round(cohort * rng.uniform(0.055, 0.085)), cohort),
        "OUT-02": (round(cohort * rng.uniform(0.14, 0.2)), cohort),
        "OUT-03": (round(beds * rng.uniform(0.025, 0.045)), beds),
        "OUT-04": (rng.randint(15, 60), None),
    }
    for kpi, (num, den) in entered.items():
        returns.enter(ctx.db, actor, return_id, kpi, num, den)
    for issue in returns.check(ctx.db, return_id, signed):
        if issue["blocking"] and issue["kind"] != "missing":
            returns.comment(ctx.db, actor, return_id, issue["kpi"], rng.choice(COMMENTS))
    returns.sign_off(ctx.db, actor, return_id, signed)
    _recovery_actions(ctx, rng, loc, return_id, signed, shared)


RECOVERY = {
    "CH-01": "Name a clinical lead for every aligned care home",
    "CH-02": "Agree cover for missed weekly home rounds with the aligned practices",
    "CH-05": "Review the hospital transfers from care homes with the home managers",
    "CH-06": "Offer a care management plan to every end-of-life resident",
    "MDT-03": "Chase the overdue MDT actions with their owners before each meeting",
    "MDT-04": "Clear the backlog of overdue MDT actions: escalate the stuck ones",
    "COH-03": "Book the overdue care-plan reviews into the matrons' diaries",
    "COH-04": "Set review dates for every caseload patient without one",
    "COH-05": "Allocate a case manager to every caseload patient without one",
}


def _recovery_actions(
    ctx: DemoContext, rng: random.Random, loc: dict, return_id: str, day: dt.date, shared: dict
) -> None:
    """Most reds get an action raised against the KPI, owned by the federation manager."""
    owner = ctx.db.execute(
        "SELECT id, name, organisation FROM staff WHERE locality_id = ? AND role = 'federation "
        "manager' ORDER BY name LIMIT 1",
        [loc["id"]],
    ).fetchone()
    if owner is None:
        return
    actor = Actor(user=owner[1], device_id=DEMO_ACTOR.device_id, fixed_time=f"{day.isoformat()}T17:00:00+00:00")
    raised = False
    for code, row in returns.values(ctx.db, return_id).items():
        if row["rag"] != "R" or code not in RECOVERY or rng.random() > 0.7:
            continue
        due = day + dt.timedelta(days=rng.choice([28, 42, 56]))
        action_id, _ = actions.create(
            ctx.db,
            actor,
            loc["id"],
            {
                "description": RECOVERY[code],
                "owner_name": owner[1],
                "owner_staff_id": owner[0],
                "owner_organisation": owner[2],
                "due_date": due,
                "kpi": code,
            },
            today=day,
        )
        finish = due + dt.timedelta(days=rng.randint(-14, 10))
        if finish <= ctx.today and rng.random() < 0.75:
            actions.set_status(
                ctx.db,
                actor,
                [action_id],
                "done",
                completed_on=finish,
                outcome_note="Done; see the next return",
                today=finish,
            )
        raised = True
    if raised:  # the MDT action KPIs of later quarters must see these actions
        for key in [k for k in shared if isinstance(k, tuple) and k[0] in ("MDT-03", "MDT-04")]:
            del shared[key]
