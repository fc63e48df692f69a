"""Two years of monthly MDT meetings per locality, made through the same model functions a user's clicks
call: attendance, patients discussed with outcomes, and actions that are mostly done, some late, a few
escalated or still overdue."""

from __future__ import annotations

import datetime as dt
import random

from ..clock import Actor, reproducible_ids
from ..mdt import actions, flags, meetings
from .context import DemoContext, actor_on
from .reference_world import person_name
from .teams import action_lateness

MONTHS = 24
OUTCOMES = (
    "Care plan reviewed; no change. Continue current support.",
    "Refer to falls service; matron to visit within two weeks.",
    "Medication review by clinical pharmacist; consider deprescribing.",
    "Carer under strain: social worker to arrange carer's assessment.",
    "Advance care plan discussed with family; ReSPECT form to be completed.",
    "Step down to intermediate stream; six-monthly review.",
    "Frequent A&E attender: crisis response plan shared with the out-of-hours service.",
    "Memory concerns: refer to memory service; MH practitioner to follow up.",
    "Housing issues: voluntary sector link worker to support.",
    "Stable; discharge from caseload at next review if no change.",
)
ACTIONS = (
    "Arrange a structured medication review",
    "Complete a falls risk assessment at home",
    "Refer for a carer's assessment",
    "Agree and upload the advance care plan",
    "Update the care plan after the hospital discharge",
    "Contact the family to arrange a joint visit",
    "Refer to social prescribing link worker",
    "Chase the outstanding OT equipment order",
    "Share the crisis plan with the out-of-hours service",
    "Book a review with the heart failure nurse",
)
FLAG_REASONS = (
    "Two falls in the last month; family worried about managing at home.",
    "Carer exhausted and asking about respite.",
    "Three A&E attendances since the last review.",
    "Not eating well since a bereavement; low mood.",
    "Confused about new medicines after the hospital discharge.",
    "Declining district nurse visits; capacity question.",
    "Wants to talk about where they would prefer to die.",
    "Home no longer safe on the stairs; OT assessment awaited.",
)
VISITORS = (
    ("care home manager", "care home"),
    ("link worker", "voluntary sector"),
    ("dementia adviser", "voluntary sector"),
)


def _second_wednesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(2 - first.weekday()) % 7 + 7)


def build_mdt_history(ctx: DemoContext) -> None:
    localities = list(ctx.db.query("SELECT id, code, name FROM localities ORDER BY code"))
    for n, loc in enumerate(localities):
        ctx.progress(n / len(localities), f"Two years of MDT meetings for {loc['name']}")
        rng = ctx.rng(f"mdt:{loc['code']}")
        with reproducible_ids(rng):
            _locality(ctx, loc["id"], rng, loc["code"])


def _locality(ctx: DemoContext, locality_id: str, rng: random.Random, code: str) -> None:
    db = ctx.db
    staff = list(
        db.query("SELECT id, name, role, organisation FROM staff WHERE locality_id = ? ORDER BY name", [locality_id])
    )
    gps = [s for s in staff if s["role"] == "GP"]
    core = [
        s
        for s in staff
        if s["role"]
        in (
            "community matron",
            "district nurse",
            "social worker",
            "mental health practitioner",
            "federation manager",
            "care coordinator",
            "clinical pharmacist",
        )
    ]
    visitors = [{"name": person_name(rng), "role": role, "organisation": org} for role, org in VISITORS]
    candidates = list(
        db.query(
            "SELECT p.id, r.extract_date FROM patients p JOIN risk_runs r ON r.id = p.joined_run_id "
            "WHERE p.locality_id = ? AND p.status IN ('contacted', 'on caseload', 'discharged') ORDER BY p.id",
            [locality_id],
        )
    )
    today = ctx.today
    start = today.replace(day=1)
    # Flags draw on their own generator (and their own ids), so the meetings, outcomes and actions stay as before.
    flag_rng = random.Random(f"{ctx.seed}:flags:{code}")
    for back in range(MONTHS - 1, -1, -1):
        month = (start.month - 1 - back) % 12 + 1
        year = start.year + (start.month - 1 - back) // 12
        day = _second_wednesday(year, month)
        if day > today:
            continue
        actor = actor_on(day, 14)
        chair = rng.choice(gps)
        members = [chair, *rng.sample(core, min(len(core), rng.randint(5, 8)))]
        people = [
            {
                "name": s["name"],
                "role": s["role"],
                "organisation": s["organisation"],
                "staff_id": s["id"],
                "present": rng.random() < 0.85,
            }
            for s in members
        ]
        people += [dict(v, present=True) for v in rng.sample(visitors, rng.randint(0, 2))]
        kind = "care-home MDT" if rng.random() < 0.15 else "locality MDT"
        meeting_id, _ = meetings.create(
            db,
            actor,
            locality_id,
            day,
            kind,
            chair["id"],
            people,
            location=rng.choice(["Health centre meeting room", "Teams", "Council offices"]),
            today=day,
        )
        eligible = [c["id"] for c in candidates if c["extract_date"] <= day.isoformat()]
        discussed = rng.sample(eligible, min(len(eligible), rng.randint(5, 10)))
        _flag(db, flag_rng, core, discussed[:2], day - dt.timedelta(days=flag_rng.randint(3, 12)))
        meetings.add_patients(
            db, actor, meeting_id, discussed, rng.choice(["new this run", "review overdue", "flagged", "added"])
        )
        for item in meetings.agenda(db, meeting_id):
            if item["kind"] == "patient":
                meetings.record_outcome(db, actor, item["id"], rng.choice(OUTCOMES))
        for _ in range(rng.randint(3, 7)):
            owner = rng.choice(core)
            patient = rng.choice(discussed) if discussed and rng.random() < 0.7 else None
            due = day + dt.timedelta(days=rng.choice([14, 21, 28, 42]))
            action_id, _ = actions.create(
                db,
                actor,
                locality_id,
                {
                    "description": rng.choice(ACTIONS),
                    "owner_name": owner["name"],
                    "owner_staff_id": owner["id"],
                    "owner_organisation": owner["organisation"],
                    "due_date": due,
                    "patient_id": patient,
                },
                meeting_id=meeting_id,
                today=day,
            )
            _progress(db, rng, action_id, due, today, action_lateness(code, due, today))
        meetings.update(db, actor, meeting_id, {"status": "held"})
    waiting = [c["id"] for c in candidates if c["extract_date"] <= today.isoformat()]
    # A few wait for the next meeting: flagged in the last week.
    later = flag_rng.sample(waiting, min(len(waiting), 3))
    _flag(db, flag_rng, core, later, today - dt.timedelta(days=flag_rng.randint(1, 6)))


def _flag(db, rng: random.Random, staff: list[dict], patient_ids: list[str], day: dt.date) -> None:
    """Colleagues flag patients for the next MDT, each with a reason, in the days before it."""
    with reproducible_ids(rng):
        for pid in patient_ids:
            who = rng.choice(staff)
            hour = rng.randint(8, 17)
            flags.flag(
                db,
                Actor(who["name"], "demo", f"{day.isoformat()}T{hour:02d}:00:00+00:00"),
                pid,
                rng.choice(FLAG_REASONS),
            )


def _progress(db, rng: random.Random, action_id: str, due: dt.date, today: dt.date, lateness: float) -> None:
    """What became of an action: done (often a little late), cancelled, or still open and perhaps escalated."""
    roll = rng.random()
    finish = due + dt.timedelta(days=int(rng.gauss(lateness, 12)))
    if roll < 0.88 and finish <= today:
        if rng.random() < 0.3:
            actions.set_status(
                db,
                actor_on(due - dt.timedelta(days=7), 14),
                [action_id],
                "in progress",
                today=due - dt.timedelta(days=7),
            )
        actions.set_status(
            db,
            actor_on(finish, 14),
            [action_id],
            "done",
            completed_on=finish,
            outcome_note=rng.choice(["Completed", "Done; see care record", "Completed at home visit"]),
            today=finish,
        )
    elif roll < 0.94 and finish <= today:
        actions.set_status(
            db, actor_on(finish, 14), [action_id], "cancelled", outcome_note="No longer needed", today=finish
        )
    else:
        when = min(due + dt.timedelta(days=21), today)
        if due < today - dt.timedelta(days=21) and rng.random() < 0.4:
            actions.escalate(
                db,
                actor_on(when, 14),
                action_id,
                "Locality clinical lead",
                "Overdue after two reminders",
                on=when,
                today=when,
            )
        # Stuck actions are cleared in the end, months late, so the overdue list does not grow without limit.
        cleared = when + dt.timedelta(days=rng.randint(14, 120))
        if cleared <= today and rng.random() < 0.85:
            actions.set_status(
                db,
                actor_on(cleared, 14),
                [action_id],
                "done",
                completed_on=cleared,
                outcome_note="Done late, after chasing",
                today=cleared,
            )
