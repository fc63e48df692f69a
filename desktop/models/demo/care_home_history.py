"""Two years of care-home life for the demo world: residents admitted (and re-admitted, and leaving), PCSPs
mostly within 7 working days and some late, weekly home rounds with gaps, reactive visits, new-resident
assessments, and follow-up actions. Written in bulk: tens of thousands of visits."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import replace
from typing import Any

from .. import audit
from ..identifiers import nhs_check_digit
from ..working_days import add_working_days
from .context import DEMO_ACTOR, DemoContext, history_start, insert_rows
from .reference_world import names
from .teams import action_lateness, team

OUTCOME_WEIGHTS = (("managed in the home", 88), ("referred on", 10), ("transferred to hospital", 2))
_OUTCOMES = [o for o, _ in OUTCOME_WEIGHTS]
_OUTCOME_CUMULATIVE = list(itertools.accumulate(w for _, w in OUTCOME_WEIGHTS))
FOLLOW_UPS = (
    "Update the PCSP after the hospital stay",
    "Request a structured medication review",
    "Refer to the tissue viability nurse",
    "Arrange a falls assessment",
    "Review the DNACPR and ReSPECT form",
)


def build_care_home_history(ctx: DemoContext) -> None:
    rng = ctx.rng("care homes")
    stamp = ctx.stamp()
    worked = {r[0]: r[1] for r in ctx.db.execute("SELECT nhs_number, id FROM patients")}
    cohort_residents = _cohort_residents(ctx)
    serial = [0]
    localities = list(ctx.db.query("SELECT id, code, name FROM localities ORDER BY code"))
    for n, loc in enumerate(localities):
        ctx.progress(n / len(localities), f"Two years of care-home rounds for {loc['name']}")
        homes = list(
            ctx.db.query(
                "SELECT h.*, s.name AS lead FROM care_homes h LEFT JOIN staff s ON "
                "s.id = h.clinical_lead_id WHERE h.locality_id = ? ORDER BY h.cqc_id",
                [loc["id"]],
            )
        )
        clinicians = list(
            ctx.db.query(
                "SELECT id, name FROM staff WHERE locality_id = ? AND role IN "
                "('GP', 'community matron', 'clinical pharmacist') ORDER BY name",
                [loc["id"]],
            )
        )
        people, visits, reviewed, follow = [], [], [], []
        for home in homes:
            residents = _residents(ctx, rng, home, cohort_residents.get(home["cqc_id"], []), worked, serial)
            people += residents
            _visits(ctx, rng, home, residents, clinicians, visits, reviewed, follow, loc["code"])
        insert_rows(ctx.db, "residents", [{**r, **stamp} for r in people])
        insert_rows(ctx.db, "visits", [{**v, **stamp} for v in visits])
        insert_rows(ctx.db, "visit_residents", [{**v, **stamp} for v in reviewed])
        _actions(ctx, rng, loc, follow, stamp)


def _cohort_residents(ctx: DemoContext) -> dict[str, list[dict[str, Any]]]:
    """Cohort patients the latest runs place in a care home, by CQC id: they become the homes' residents."""
    from ..cohort import store as risk_store

    out: dict[str, list[dict[str, Any]]] = {}
    for (run_id,) in ctx.db.execute(
        "SELECT r.id FROM risk_runs r WHERE r.extract_date = (SELECT MAX(extract_date) "
        "FROM risk_runs x WHERE x.locality_id = r.locality_id)"
    ):
        table = risk_store.run_cohort(ctx.db, run_id)
        for row in table.select(
            ["nhs_number", "given_name", "family_name", "date_of_birth", "care_home_id"]
        ).to_pylist():
            if row["care_home_id"]:
                out.setdefault(row["care_home_id"], []).append(row)
    return out


def _synthetic_nhs(serial: list[int]) -> str:
    """Numbers for residents outside the cohort, from the 999 block the populations never use."""
    while True:
        serial[0] += 1
        stem = 999_000_000 + serial[0]
        check = nhs_check_digit(str(stem))
        if check is not None:
            return f"{stem}{check}"


def _residents(
    ctx: DemoContext,
    rng: random.Random,
    home: dict[str, Any],
    known: list[dict[str, Any]],
    worked: dict[str, str],
    serial: list[int],
) -> list[dict[str, Any]]:
    pools = names()
    first_day, today = history_start(ctx.today), ctx.today
    current = max(1, round(home["beds"] * rng.uniform(0.8, 0.95)))
    departed = round(home["beds"] * rng.uniform(0.5, 0.8))
    out = []
    for i in range(current + departed):
        if i < len(known) and i < current:
            k = known[i]
            nhs, given, family, dob = str(k["nhs_number"]), k["given_name"], k["family_name"], k["date_of_birth"]
        else:
            nhs = _synthetic_nhs(serial)
            given = rng.choice(pools["given_female"] if rng.random() < 0.65 else pools["given_male"])
            family = rng.choice(pools["family"])
            # Care-home residents are mostly in their late 80s; a few have passed 100.
            dob = dt.date(ctx.today.year - round(rng.triangular(70, 102, 88)), rng.randint(1, 12), 1)
        leaving = i >= current
        admitted = first_day + dt.timedelta(days=rng.randint(-700, 700 if not leaving else 560))
        left_on = min(admitted + dt.timedelta(days=rng.randint(20, 400)), today) if leaving else None
        r = {
            "id": ctx.uuid(rng),
            "care_home_id": home["id"],
            "patient_id": worked.get(nhs),
            "nhs_number": nhs,
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob.isoformat(),
            "admitted_on": admitted.isoformat(),
            "readmitted_on": None,
            "left_on": left_on and left_on.isoformat(),
            "end_of_life": int(rng.random() < 0.15),
            "eol_plan_on": None,
            "notes": "",
        }
        if not leaving and rng.random() < 0.08:
            back = admitted + dt.timedelta(days=rng.randint(60, 500))
            r["readmitted_on"] = back.isoformat() if back < today - dt.timedelta(days=3) else None
        start = dt.date.fromisoformat(r["readmitted_on"] or r["admitted_on"])
        roll = rng.random()
        if roll < 0.82:
            plan = add_working_days(start, rng.randint(2, 7))
        elif roll < 0.95 or start < today - dt.timedelta(days=365):
            # A plan missed at admission is caught up within months: a home does not carry a resident without one
            # for years, so only this year's admissions are still waiting (My work lists them). The day comes
            # from the draw already made, so the rest of the world is drawn as before.
            plan = add_working_days(start, rng.randint(8, 20) if roll < 0.95 else 21 + int(roll * 10_000) % 40)
        else:
            plan = None
        if plan and plan <= today:
            r["pcsp_on"] = plan.isoformat()
            r["holistic_assessment_on"] = max(start, plan - dt.timedelta(days=rng.randint(0, 2))).isoformat()
        else:
            r["pcsp_on"] = r["holistic_assessment_on"] = None
        review = start + dt.timedelta(days=rng.randint(10, 60))
        r["medication_review_on"] = review.isoformat() if review <= today and rng.random() < 0.75 else None
        if r["end_of_life"] and rng.random() < 0.93:
            r["eol_plan_on"] = min(start + dt.timedelta(days=rng.randint(5, 90)), today).isoformat()
        out.append(r)
    return out


def _present(residents: list[dict[str, Any]], day: dt.date) -> list[dict[str, Any]]:
    iso = day.isoformat()
    return [r for r in residents if r["admitted_on"] <= iso and (r["left_on"] is None or r["left_on"] > iso)]


def _visits(
    ctx: DemoContext,
    rng: random.Random,
    home: dict[str, Any],
    residents: list[dict[str, Any]],
    clinicians: list[dict[str, Any]],
    visits: list,
    reviewed: list,
    follow: list,
    code: str,
) -> None:
    first_day, today = history_start(ctx.today), ctx.today
    miss_rate = min(0.6, team(code).round_miss * rng.choice([0.4, 0.7, 1.0, 1.3, 1.6]))
    weekday = rng.randint(0, 4)
    lead = next((c for c in clinicians if c["name"] == home["lead"]), None) or (clinicians[0] if clinicians else None)
    plan = []
    monday = first_day - dt.timedelta(days=first_day.weekday())
    while monday + dt.timedelta(days=weekday) <= today:
        if rng.random() >= miss_rate:
            plan.append((monday + dt.timedelta(days=weekday), "weekly home round", rng.randint(2, 6)))
        if rng.random() < 0.18:
            plan.append((monday + dt.timedelta(days=rng.randint(0, 4)), "reactive visit", 1))
        monday += dt.timedelta(days=7)
    for r in residents:
        start = dt.date.fromisoformat(r["admitted_on"])
        if first_day <= start <= today - dt.timedelta(days=5):
            plan.append((start + dt.timedelta(days=rng.randint(1, 5)), "new-resident assessment", r))
    for day, kind, who in sorted(plan, key=lambda p: (p[0], p[1])):
        if day > today:
            continue
        # A new-resident assessment sees that resident; other visits see a few of those living there.
        if isinstance(who, dict):
            chosen = [who] if _present([who], day) else []
        else:
            here = _present(residents, day)
            chosen = rng.sample(here, min(len(here), who))
        clinician = (
            lead
            if kind == "weekly home round" and lead and rng.random() < 0.8
            else (rng.choice(clinicians) if clinicians else None)
        )
        visit_id = ctx.uuid(rng)
        visits.append(
            {
                "id": visit_id,
                "care_home_id": home["id"],
                "visited_on": day.isoformat(),
                "type": kind,
                "clinician_id": clinician and clinician["id"],
                "clinician_name": clinician and clinician["name"] or "",
                "notes": "",
            }
        )
        for r in chosen:
            outcome = rng.choices(_OUTCOMES, cum_weights=_OUTCOME_CUMULATIVE)[0]
            reviewed.append(
                {"id": ctx.uuid(rng), "visit_id": visit_id, "resident_id": r["id"], "outcome": outcome, "note": ""}
            )
            if outcome != "managed in the home" and rng.random() < 0.35:
                follow.append((visit_id, day, r, clinician))


def _actions(ctx: DemoContext, rng: random.Random, loc: dict[str, Any], follow: list, stamp: dict[str, str]) -> None:
    """Follow-up actions from visits, numbered on from the locality's MDT actions of the same year."""
    next_seq = {
        year: seq
        for year, seq in ctx.db.execute(
            "SELECT year, MAX(seq) FROM actions WHERE locality_id = ? GROUP BY year", [loc["id"]]
        )
    }
    rows = []
    for visit_id, day, resident, clinician in follow:
        seq = next_seq.get(day.year, 0) + 1
        next_seq[day.year] = seq
        due = day + dt.timedelta(days=rng.choice([7, 14, 21]))
        slip = action_lateness(loc["code"], due, ctx.today) - team(loc["code"]).action_lateness
        done = due + dt.timedelta(days=int(rng.gauss(-4 + slip, 6)))
        if rng.random() >= 0.96:  # a few wait for another service, and are done months late
            done += dt.timedelta(days=rng.randint(30, 150))
        finished = done <= ctx.today
        rows.append(
            {
                "id": ctx.uuid(rng),
                "reference": f"{loc['code']}-{day.year}-{seq:04d}",
                "locality_id": loc["id"],
                "year": day.year,
                "seq": seq,
                "meeting_id": None,
                "patient_id": resident["patient_id"],
                "description": rng.choice(FOLLOW_UPS) + f" ({resident['family_name'].upper()})",
                "owner_name": clinician["name"] if clinician else "Home manager",
                "owner_staff_id": clinician and clinician["id"],
                "owner_organisation": "primary care" if clinician else "care home",
                "due_date": due.isoformat(),
                "status": "done" if finished else "open",
                "completed_on": done.isoformat() if finished else None,
                "outcome_note": "Done at the next round" if finished else "",
                "escalated_to": "",
                "escalated_on": None,
                "escalation_reason": "",
                "visit_id": visit_id,
                **stamp,
            }
        )
    insert_rows(ctx.db, "actions", rows)
    # Each action's history is its audit trail, as for actions made through the screens.
    audit.append_many(
        ctx.db.conn,
        [
            audit.row(
                replace(DEMO_ACTOR, user=user, device_id=device, fixed_time=at), action, "actions", eid, summary, None
            )
            for r in rows
            for at, user, device, action, eid, summary in _trail(r)
        ],
    )


def _trail(action: dict[str, Any]) -> list[tuple]:
    raised = dt.date.fromisoformat(action["due_date"]) - dt.timedelta(days=7)
    out = [
        (
            f"{raised.isoformat()}T15:00:00+00:00",
            DEMO_ACTOR.user,
            DEMO_ACTOR.device_id,
            "create",
            action["id"],
            f"Opened {action['reference']}: {action['description'][:80]}",
        )
    ]
    if action["completed_on"]:
        out.append(
            (
                f"{action['completed_on']}T15:00:00+00:00",
                DEMO_ACTOR.user,
                DEMO_ACTOR.device_id,
                "status",
                action["id"],
                f"{action['reference']}: open → done on {action['completed_on']}",
            )
        )
    return out
