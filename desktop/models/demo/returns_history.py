"""Signed-off quarterly returns for the demo world: every locality's last eight quarters, made through the
returns workflow with entered outcome and Better Care Fund figures and the comments a federation manager writes
for the reds."""

from __future__ import annotations

import datetime as dt
import math
import random

from .. import quarters
from ..clock import Actor, reproducible_ids
from ..kpi import returns
from ..mdt import actions
from .comments import write as write_comment
from .context import DEMO_ACTOR, DemoContext
from .reference_world import locality_table


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
    entered.update(_better_care_fund(rng, loc["code"]))
    for kpi, (num, den) in entered.items():
        returns.enter(ctx.db, actor, return_id, kpi, num, den)
    figures = returns.values(ctx.db, return_id)
    explained = set()
    for issue in returns.check(ctx.db, return_id, signed):
        kpi = issue["kpi"]
        if issue["blocking"] and issue["kind"] != "missing" and kpi not in explained:
            explained.add(kpi)
            text = write_comment(rng, loc["code"], kpi, figures[kpi]["value"], q.end, ctx.today)
            returns.comment(ctx.db, actor, return_id, kpi, text)
    returns.sign_off(ctx.db, actor, return_id, signed)
    _recovery_actions(ctx, rng, loc, return_id, signed, shared)


def _better_care_fund(rng: random.Random, code: str) -> dict[str, tuple[float, float]]:
    """The council's and trusts' Better Care Fund figures for the quarter, from the locality's own population:
    its 65+ (the locality's share of its list) and its 18+."""
    info = next(loc for loc in locality_table() if loc["code"] == code)
    older = round(info["population"] * info["pct_65_plus"])
    adults = round(info["population"] * 0.78)
    # Each locality has its own level, drawn once; quarters wander a little around it.
    level = random.Random(f"bcf:{code}")
    care_homes, at_home, delays, falls = (level.uniform(lo, hi) for lo, hi in _BCF_LEVELS)
    discharged = max(20, round(older * rng.uniform(0.0025, 0.0035)))
    return {
        "BCF-01": (_count(older, _around(rng, care_homes), 120e-5, 170e-5), older),
        "BCF-02": (_count(discharged, _around(rng, at_home), 0.8, 0.9), discharged),
        "BCF-03": (round(adults * min(12, max(6, _around(rng, delays))) / 100_000, 1), adults),
        "BCF-04": (_count(older, _around(rng, falls), 450e-5, 560e-5), older),
    }


# Per 100,000 65+ a quarter, share at home, delayed days a day per 100,000 18+, per 100,000 65+ a quarter.
_BCF_LEVELS = ((130e-5, 160e-5), (0.82, 0.88), (7, 11), (470e-5, 540e-5))


def _around(rng: random.Random, level: float) -> float:
    return level * rng.uniform(0.94, 1.06)


def _count(of: int, rate: float, low: float, high: float) -> int:
    """Whole people at *rate* of *of*, kept within the range the measure is plausible in (a figure rounded to
    whole people can otherwise fall just outside it)."""
    return min(math.floor(of * high), max(math.ceil(of * low), round(of * rate)))


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
