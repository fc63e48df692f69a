"""Care-home visits and the weekly home-round grid (DESIGN §8), and the register's EHCH gaps.

A visit, its residents' outcomes and its follow-up actions are saved in one transaction, and corrected in one
(update); either is one undo step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from .. import audit, clock
from ..changes import Changes
from ..clock import Actor, new_id
from ..dates import parse_date
from ..errors import NotFound, ValidationError
from ..mdt import actions
from ..quarters import Quarter
from ..undo import Step, UndoStack, recording
from .residents import listing as resident_listing

TYPES = ("weekly home round", "reactive visit", "new-resident assessment", "medication review", "MDT in the home")
OUTCOMES = ("managed in the home", "referred on", "transferred to hospital")
# What log_visit checks, field by field, in the words the visit form shows as help.
HELP = {
    "care_home_id": "Required: a home on the register; its current residents are listed below.",
    "visited_on": "Required: the day of the visit, not in the future (plan future visits in your diary).",
    "type": f"One of: {', '.join(TYPES)}. Weekly home rounds fill the home-round grid.",
    "clinician_id": "Someone on the staff list, or Not recorded.",
    "residents": f"Tick each resident reviewed and choose an outcome: {', '.join(OUTCOMES)}.",
    "follow_ups": "Each follow-up needs what is to be done, an owner and a due date; it goes into the "
    "locality's action log.",
    "notes": "Optional.",
}


def _home(db: sqlite_utils.Database, care_home_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM care_homes WHERE id = ?", [care_home_id]))
    if not rows:
        raise NotFound("That care home is no longer on the register.")
    return rows[0]


def _checked(
    db: sqlite_utils.Database,
    care_home_id: str,
    visited_on: Any,
    kind: str,
    clinician_id: str | None,
    reviewed: list[dict[str, Any]],
    today: dt.date,
) -> tuple[str, str]:
    """What log_visit and update both check; returns the ISO day and the clinician's name."""
    day = parse_date(visited_on, "The visit date", "visited_on", required=True)
    if day > today.isoformat():
        raise ValidationError("A visit cannot be logged in the future; plan it in your diary instead.", "visited_on")
    if kind not in TYPES:
        raise ValidationError(f"Visit type must be one of: {', '.join(TYPES)}.", "type")
    clinician_name = ""
    if clinician_id:
        staff = db.execute("SELECT name FROM staff WHERE id = ?", [clinician_id]).fetchone()
        if staff is None:
            raise ValidationError("The chosen clinician is no longer on the staff list.", "clinician_id")
        clinician_name = staff[0]
    seen: set[str] = set()
    for r in reviewed:
        row = db.execute("SELECT care_home_id FROM residents WHERE id = ?", [r.get("resident_id")]).fetchone()
        if row is None or row[0] != care_home_id:
            raise ValidationError("A resident reviewed is not a resident of this home.", "residents")
        if r["resident_id"] in seen:
            raise ValidationError("A resident is listed twice in this visit.", "residents")
        seen.add(r["resident_id"])
        if r.get("outcome") not in OUTCOMES:
            raise ValidationError(f"Choose an outcome for each resident: {', '.join(OUTCOMES)}.", "residents")
    return day, clinician_name


def _stamp(actor: Actor) -> dict[str, str]:
    now = actor.now()
    return {"created_at": now, "updated_at": now, "updated_by": actor.user, "device_id": actor.device_id}


def _raise_follow_ups(
    db: sqlite_utils.Database,
    actor: Actor,
    step: Step,
    home: dict[str, Any],
    visit_id: str,
    day: str,
    follow_ups: list[dict[str, Any]],
) -> None:
    """Put a visit's follow-ups into the locality's action log, linked to the visit, as part of *step*."""
    for follow in follow_ups:
        values = dict(follow)
        resident = values.pop("resident_id", None)
        if resident:
            who = db.execute(
                "SELECT patient_id, family_name, given_name FROM residents WHERE id = ?", [resident]
            ).fetchone()
            values["patient_id"] = who[0]
            if who[0] is None:  # not in the cohort: the action names the resident in its text instead
                values["description"] = f"{values.get('description', '')} ({who[1].upper()}, {who[2]})"
        step.touch(db, "patients", [values.get("patient_id")])  # creating the action may create its patient
        action_id, _ = actions.create(db, actor, home["locality_id"], values, today=dt.date.fromisoformat(day))
        step.created("actions", [action_id])
        db["actions"].update(action_id, {"visit_id": visit_id})


def log_visit(
    db: sqlite_utils.Database,
    actor: Actor,
    care_home_id: str,
    visited_on: Any,
    kind: str,
    clinician_id: str | None = None,
    residents: list[dict[str, Any]] | None = None,
    follow_ups: list[dict[str, Any]] | None = None,
    notes: str = "",
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> tuple[str, Changes]:
    """Record a visit: residents reviewed (resident_id, outcome, note) and follow-up actions (action values,
    optionally with resident_id) that go straight into the locality's action log.

    One undo step takes all of it back: the visit, its residents' outcomes, its follow-up actions and any
    patient record a follow-up created."""
    today = today or clock.today()
    home = _home(db, care_home_id)
    reviewed = residents or []
    day, clinician_name = _checked(db, care_home_id, visited_on, kind, clinician_id, reviewed, today)
    visit_id = new_id()
    stamp = _stamp(actor)
    outcomes = [
        {
            "id": new_id(),
            "visit_id": visit_id,
            "resident_id": r["resident_id"],
            "outcome": r["outcome"],
            "note": r.get("note", ""),
            **stamp,
        }
        for r in reviewed
    ]
    with recording(undo, db, f"Log {kind} at {home['name']}") as step:
        step.touch(db, "visits", [visit_id])
        step.touch(db, "visit_residents", [o["id"] for o in outcomes])
        db["visits"].insert(
            {
                "id": visit_id,
                "care_home_id": care_home_id,
                "visited_on": day,
                "type": kind,
                "clinician_id": clinician_id or None,
                "clinician_name": clinician_name,
                "notes": notes,
                **stamp,
            }
        )
        db["visit_residents"].insert_all(outcomes)
        _raise_follow_ups(db, actor, step, home, visit_id, day, follow_ups or [])
        audit.record(
            db,
            actor,
            "create",
            "visits",
            visit_id,
            f"Logged a {kind} at {home['name']} on {day}: {len(reviewed)} residents reviewed, "
            f"{len(follow_ups or [])} actions",
        )
    return visit_id, Changes.of("visits", "visit_residents", "actions")


def edit_name(visit: dict[str, Any], home_name: str) -> str:
    """The undo step's name: "Edit visit to Oak House on 07/12/2026" (the visit as it was before the edit)."""
    return f"Edit visit to {home_name} on {dt.date.fromisoformat(visit['visited_on']):%d/%m/%Y}"


def update(
    db: sqlite_utils.Database,
    actor: Actor,
    visit_id: str,
    values: dict[str, Any],
    today: dt.date | None = None,
    undo: UndoStack | None = None,
) -> Changes:
    """Correct a logged visit: the keys of *values* present are changed (visited_on, type, clinician_id, notes;
    residents, the whole list reviewed as log_visit takes it; follow_ups, new actions to add). Checked as
    log_visit checks; the home stays (a visit logged at the wrong home is undone and logged again).

    A resident still reviewed keeps their outcome row, one no longer ticked loses it and a new one gains one,
    so a visit's history stays row by row. One undo step puts the visit back as it was, with any action or
    patient record the edit created gone; the follow-ups raised before are edited in the action log."""
    today = today or clock.today()
    visit = get(db, visit_id)
    home = _home(db, visit["care_home_id"])
    if values.get("care_home_id") not in (None, visit["care_home_id"]):
        raise ValidationError(
            "A visit stays at its home: undo it, or remove it, and log it again at the right home.", "care_home_id"
        )
    kind = values.get("type", visit["type"])
    clinician_id = values.get("clinician_id", visit["clinician_id"]) or None
    old = {r["resident_id"]: r for r in visit["residents"]}
    reviewed = list(values["residents"]) if "residents" in values else [dict(r) for r in old.values()]
    day, clinician_name = _checked(
        db, visit["care_home_id"], values.get("visited_on", visit["visited_on"]), kind, clinician_id, reviewed, today
    )
    clean = {
        "visited_on": day,
        "type": kind,
        "clinician_id": clinician_id,
        "clinician_name": clinician_name if clinician_id != visit["clinician_id"] else visit["clinician_name"],
        "notes": str(values.get("notes", visit["notes"]) or ""),
    }
    moved = {k: {"before": visit[k], "after": v} for k, v in clean.items() if visit[k] != v}
    new_ids = {r["resident_id"]: old[r["resident_id"]]["id"] if r["resident_id"] in old else new_id() for r in reviewed}
    kept = {r["resident_id"]: r for r in reviewed}
    added = [rid for rid in kept if rid not in old]
    removed = [rid for rid in old if rid not in kept]
    changed = [
        rid
        for rid in kept
        if rid in old and (kept[rid]["outcome"], kept[rid].get("note", "")) != (old[rid]["outcome"], old[rid]["note"])
    ]
    follow_ups = list(values.get("follow_ups") or [])
    if not (moved or added or removed or changed or follow_ups):
        return Changes()
    with recording(undo, db, edit_name(visit, home["name"])) as step:
        step.touch(db, "visits", [visit_id])
        step.touch(db, "visit_residents", [r["id"] for r in old.values()] + [new_ids[rid] for rid in added])
        if moved:
            db["visits"].update(visit_id, {**{k: m["after"] for k, m in moved.items()}, **actor.stamp()})
        else:  # the visit's own stamp says it was corrected, though only its residents or actions changed
            db["visits"].update(visit_id, actor.stamp())
        for rid in removed:
            db.execute("DELETE FROM visit_residents WHERE id = ?", [old[rid]["id"]])
        for rid in changed:
            db["visit_residents"].update(
                old[rid]["id"], {"outcome": kept[rid]["outcome"], "note": kept[rid].get("note", ""), **actor.stamp()}
            )
        stamp = _stamp(actor)
        db["visit_residents"].insert_all(
            [
                {
                    "id": new_ids[rid],
                    "visit_id": visit_id,
                    "resident_id": rid,
                    "outcome": kept[rid]["outcome"],
                    "note": kept[rid].get("note", ""),
                    **stamp,
                }
                for rid in added
            ]
        )
        _raise_follow_ups(db, actor, step, home, visit_id, day, follow_ups)
        what = [k.replace("_id", "").replace("_", " ") for k in moved if k != "clinician_name"]
        what += ["residents reviewed"] if added or removed or changed else []
        what += [f"{len(follow_ups)} actions added"] if follow_ups else []
        audit.record(
            db,
            actor,
            "update",
            "visits",
            visit_id,
            f"Edited the {visit['type']} at {home['name']} of {visit['visited_on']}: {', '.join(what)}",
            {
                "changes": moved,
                "residents": {
                    "added": [{"resident_id": rid, **_outcome(kept[rid])} for rid in added],
                    "removed": [{"resident_id": rid, **_outcome(old[rid])} for rid in removed],
                    "changed": [
                        {"resident_id": rid, "before": _outcome(old[rid]), "after": _outcome(kept[rid])}
                        for rid in changed
                    ],
                },
            },
        )
    return Changes.of("visits", "visit_residents", "actions")


def _outcome(row: dict[str, Any]) -> dict[str, str]:
    return {"outcome": row["outcome"], "note": row.get("note", "")}


def get(db: sqlite_utils.Database, visit_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM visits WHERE id = ?", [visit_id]))
    if not rows:
        raise NotFound("That visit is no longer recorded.")
    visit = rows[0]
    visit["residents"] = list(
        db.query(
            "SELECT v.*, r.given_name, r.family_name, r.nhs_number FROM visit_residents v "
            "JOIN residents r ON r.id = v.resident_id WHERE v.visit_id = ? ORDER BY r.family_name",
            [visit_id],
        )
    )
    visit["actions"] = list(db.query("SELECT * FROM actions WHERE visit_id = ? ORDER BY seq", [visit_id]))
    return visit


def pick_list(db: sqlite_utils.Database, visit_id: str, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The residents the visit form offers when a visit is corrected: the home's current residents and anyone
    the visit reviewed who has left since (unticking them is a choice, never a side effect of their leaving)."""
    visit = get(db, visit_id)
    seen = {r["resident_id"] for r in visit["residents"]}
    today_iso = (today or clock.today()).isoformat()
    return [
        r
        for r in resident_listing(db, visit["care_home_id"], include_left=True, today=today)
        if r["id"] in seen or not r["left_on"] or r["left_on"] > today_iso
    ]


def listing(
    db: sqlite_utils.Database, care_home_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    where, params = ["v.care_home_id = ?"], [care_home_id]
    if start:
        where.append("v.visited_on >= ?")
        params.append(start.isoformat())
    if end:
        where.append("v.visited_on <= ?")
        params.append(end.isoformat())
    return list(
        db.query(
            "SELECT v.*, (SELECT COUNT(*) FROM visit_residents r WHERE r.visit_id = v.id) AS reviewed, "
            "(SELECT COUNT(*) FROM visit_residents r WHERE r.visit_id = v.id "
            "AND r.outcome = 'transferred to hospital') AS transferred, "
            "(SELECT COUNT(*) FROM actions a WHERE a.visit_id = v.id) AS actions FROM visits v "
            f"WHERE {' AND '.join(where)} ORDER BY v.visited_on DESC",
            params,
        )
    )


def round_grid(
    db: sqlite_utils.Database, locality_id: str, quarter: Quarter, today: dt.date | None = None
) -> dict[str, Any]:
    """Homes down, the quarter's weeks across: for each cell the weekly home rounds held that week.

    The quarter's weeks are Quarter.weeks: a week (Monday to Sunday) belongs to the quarter holding its Sunday,
    so a week that straddles two quarters is in one grid only, and so in one CH-02 figure only.

    Returns {"weeks": [monday, ...], "homes": [{"id", "name", "cqc_id", "cells": [[visit ids], ...],
    "covered": n, "due": n}], "started": n, "finished": n}; "due" counts the finished weeks, and this week
    once its round is held; "started" and "finished" count the weeks begun and over by *today*.
    """
    today = today or clock.today()
    weeks = quarter.weeks()
    homes = list(
        db.query(
            "SELECT id, name, cqc_id, beds FROM care_homes WHERE locality_id = ? ORDER BY name COLLATE NOCASE",
            [locality_id],
        )
    )
    rounds = db.execute(
        "SELECT v.care_home_id, v.visited_on, v.id FROM visits v JOIN care_homes h ON h.id = v.care_home_id "
        "WHERE h.locality_id = ? AND v.type = 'weekly home round' AND v.visited_on BETWEEN ? AND ?",
        [locality_id, weeks[0].isoformat(), (weeks[-1] + dt.timedelta(days=6)).isoformat()],
    ).fetchall()
    by_home: dict[str, list[list[str]]] = {h["id"]: [[] for _ in weeks] for h in homes}
    for home_id, day, visit_id in rounds:
        d = dt.date.fromisoformat(day)
        by_home[home_id][(d - weeks[0]).days // 7].append(visit_id)
    started, finished = week_progress(weeks, today)
    for h in homes:
        h["cells"] = by_home[h["id"]]
        h["covered"], h["due"] = round_coverage({i for i, cell in enumerate(h["cells"]) if cell}, started, finished)
    return {"weeks": weeks, "homes": homes, "started": started, "finished": finished}


def week_progress(weeks: list[dt.date], today: dt.date) -> tuple[int, int]:
    """(weeks started, weeks finished) of a quarter's weeks by *today*."""
    return (sum(1 for w in weeks if w <= today), sum(1 for w in weeks if w + dt.timedelta(days=7) <= today))


def round_coverage(held: set[int], started: int, finished: int) -> tuple[int, int]:
    """(weeks covered, weeks due) for one home, given the indexes of the weeks its round was held."""
    covered = sum(1 for week in held if week < started)
    # The week under way counts only once its round has happened: it is not a miss yet.
    return covered, finished + (1 if started > finished and finished in held else 0)


def register_gaps(db: sqlite_utils.Database, locality_id: str) -> list[dict[str, Any]]:
    """EHCH: every home aligned to one practice of this team, with one named clinical lead of this team."""
    gaps = []
    for h in db.query(
        "SELECT h.id, h.name, h.aligned_practice_id, h.clinical_lead_id, p.locality_id AS practice_locality, "
        "s.locality_id AS lead_locality FROM care_homes h LEFT JOIN practices p ON p.id = h.aligned_practice_id "
        "LEFT JOIN staff s ON s.id = h.clinical_lead_id WHERE h.locality_id = ? ORDER BY h.name",
        [locality_id],
    ):
        problems = []
        if not h["clinical_lead_id"]:
            problems.append("no named clinical lead")
        elif h["lead_locality"] != locality_id:
            problems.append("clinical lead works in another locality")
        if not h["aligned_practice_id"]:
            problems.append("not aligned to a practice")
        elif h["practice_locality"] != locality_id:
            problems.append("aligned practice is in another locality")
        if problems:
            gaps.append({"id": h["id"], "name": h["name"], "problems": problems})
    return gaps
