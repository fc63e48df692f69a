"""A team member's week in one place (issue 25): her reviews due, her actions, the PCSPs due across the locality's
care homes, this week's home rounds not yet logged and the patients waiting for the MDT, each with its count.

"Me" is a staff row of the locality: the name given at start-up (File → Who is using this…) matched to the
staff list without regard to case, spacing or a title such as "Dr" (`match_staff`); the screen offers a
picker when nobody matches. The rules themselves live where they always did and are reused here: the PCSP due
date and status in care_homes.residents, the week's home rounds in care_homes.visits.round_grid, what an open
action is in mdt.actions, a flag still waiting in mdt.flags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from . import clock, quarters
from .care_homes import residents, visits
from .mdt import actions, flags
from .names import patient_name
from .working_days import working_days_until

REVIEW_WINDOW_DAYS = 14
TITLES = ("dr", "mr", "mrs", "ms", "miss", "mx", "prof")
OVERDUE, THIS_WEEK, LATER = "overdue", "due this week", "later"


def normal_name(name: str | None) -> str:
    """*name* as compared: case and spacing ignored, a leading title dropped ("Dr  Hannah DUNSMORE")."""
    words = " ".join((name or "").replace(".", " ").split()).casefold().split(" ")
    if len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return " ".join(words)


def staff_of(db: sqlite_utils.Database, locality_id: str) -> list[dict[str, Any]]:
    """The locality's staff by name: id, name, role."""
    return list(
        db.query("SELECT id, name, role FROM staff WHERE locality_id = ? ORDER BY name COLLATE NOCASE", [locality_id])
    )


def match_staff(db: sqlite_utils.Database, locality_id: str, user: str | None) -> dict[str, Any] | None:
    """The staff row of the locality called *user*, or None when no one (or more than one) is."""
    wanted = normal_name(user)
    if not wanted:
        return None
    found = [s for s in staff_of(db, locality_id) if normal_name(s["name"]) == wanted]
    return found[0] if len(found) == 1 else None


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """The Monday and Sunday of *today*'s week."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def _patient_label(family: str | None, given: str | None) -> str:
    return patient_name(family, given) or "(no name recorded)"


# -- the lists ---------------------------------------------------------------------------------------------------
def reviews(
    db: sqlite_utils.Database, locality_id: str, staff_id: str, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Caseload patients *staff_id* case-manages whose review is overdue or due in the next 14 days, soonest
    first; "days" is negative when overdue."""
    today = today or clock.today()
    limit = (today + dt.timedelta(days=REVIEW_WINDOW_DAYS)).isoformat()
    rows = db.query(
        "SELECT id, nhs_number, given_name, family_name, next_review_due, care_plan_date FROM patients "
        "WHERE locality_id = ? AND case_manager_id = ? AND status = 'on caseload' AND next_review_due IS NOT NULL "
        "AND next_review_due <= ? ORDER BY next_review_due, family_name COLLATE NOCASE",
        [locality_id, staff_id, limit],
    )
    out = []
    for r in rows:
        days = (dt.date.fromisoformat(r["next_review_due"]) - today).days
        out.append(
            {
                "id": r["id"],
                "patient_id": r["id"],
                "patient": _patient_label(r["family_name"], r["given_name"]),
                "nhs_number": r["nhs_number"],
                "due": r["next_review_due"],
                "days": days,
                "overdue": days < 0,
            }
        )
    return out


def my_actions(
    db: sqlite_utils.Database, locality_id: str, staff: dict[str, Any], today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The open actions *staff* owns (by staff id, or by name where the owner was typed in), overdue first, then by
    due date; each with "when": overdue, due this week (to Sunday) or later."""
    today = today or clock.today()
    _monday, sunday = week_of(today)
    mine = normal_name(staff["name"])
    open_ = ", ".join("?" * len(actions.OPEN))
    rows = db.query(
        "SELECT a.id, a.reference, a.description, a.owner_name, a.owner_staff_id, a.due_date, a.status, "
        "a.patient_id, p.family_name, p.given_name FROM actions a LEFT JOIN patients p ON p.id = a.patient_id "
        f"WHERE a.locality_id = ? AND a.status IN ({open_}) AND (a.owner_staff_id = ? OR a.owner_staff_id IS NULL) "
        "ORDER BY a.due_date, a.reference",
        [locality_id, *actions.OPEN, staff["id"]],
    )
    out = []
    for r in rows:
        if r["owner_staff_id"] is None and normal_name(r["owner_name"]) != mine:
            continue
        overdue = actions.is_overdue(r, today)
        when = OVERDUE if overdue else THIS_WEEK if r["due_date"] <= sunday.isoformat() else LATER
        out.append(
            {
                "id": r["id"],
                "reference": r["reference"],
                "description": r["description"],
                "patient_id": r["patient_id"],
                "patient": _patient_label(r["family_name"], r["given_name"]) if r["family_name"] else "",
                "due": r["due_date"],
                "status": r["status"],
                "when": when,
                "overdue": overdue,
            }
        )
    return out


def _homes(db: sqlite_utils.Database, locality_id: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT h.id, h.name, h.clinical_lead_id, s.name AS clinical_lead FROM care_homes h "
            "LEFT JOIN staff s ON s.id = h.clinical_lead_id WHERE h.locality_id = ? ORDER BY h.name COLLATE NOCASE",
            [locality_id],
        )
    )


def pcsps_due(
    db: sqlite_utils.Database, locality_id: str, staff_id: str | None = None, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """Every current resident of the locality's homes still without a PCSP for their latest admission, the
    homes *staff_id* leads first, then by home and due date; "working_days" left is negative once overdue."""
    today = today or clock.today()
    homes = {h["id"]: h for h in _homes(db, locality_id)}
    # Only residents with no plan since their latest admission can be due; pcsp_status says whether they are.
    candidates = db.query(
        "SELECT r.* FROM residents r JOIN care_homes h ON h.id = r.care_home_id WHERE h.locality_id = ? "
        "AND (r.left_on IS NULL OR r.left_on > ?) "
        "AND (r.pcsp_on IS NULL OR r.pcsp_on < COALESCE(r.readmitted_on, r.admitted_on))",
        [locality_id, today.isoformat()],
    )
    out = []
    for r in candidates:
        status = residents.pcsp_status(r, today)
        if status not in ("due", "overdue"):
            continue
        home, due = homes[r["care_home_id"]], residents.pcsp_due(r)
        out.append(
            {
                "id": r["id"],
                "resident_id": r["id"],
                "care_home_id": home["id"],
                "home": home["name"],
                "mine": bool(staff_id) and home["clinical_lead_id"] == staff_id,
                "resident": _patient_label(r["family_name"], r["given_name"]),
                "nhs_number": r["nhs_number"],
                "admitted": r["readmitted_on"] or r["admitted_on"],
                "due": due.isoformat(),
                "working_days": working_days_until(today, due),
                "overdue": status == "overdue",
            }
        )
    out.sort(key=lambda r: (not r["mine"], r["home"].casefold(), r["due"]))
    return out


def rounds_not_logged(
    db: sqlite_utils.Database, locality_id: str, staff_id: str | None = None, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The locality's homes with no weekly home round logged in *today*'s week (the round grid's own week, which
    belongs to the quarter holding its Sunday), the homes *staff_id* leads first."""
    today = today or clock.today()
    monday, sunday = week_of(today)
    grid = visits.round_grid(db, locality_id, quarters.of(sunday), today)
    column = grid["weeks"].index(monday)
    leads = {h["id"]: h for h in _homes(db, locality_id)}
    out = [
        {
            "id": h["id"],
            "care_home_id": h["id"],
            "home": h["name"],
            "week_of": monday.isoformat(),
            "clinical_lead": leads[h["id"]]["clinical_lead"] or "",
            "mine": bool(staff_id) and leads[h["id"]]["clinical_lead_id"] == staff_id,
        }
        for h in grid["homes"]
        if not h["cells"][column]
    ]
    out.sort(key=lambda r: (not r["mine"], r["home"].casefold()))
    return out


def flagged(db: sqlite_utils.Database, locality_id: str) -> list[dict[str, Any]]:
    """Patients waiting for an MDT agenda (flags.waiting_in), one row each with every waiting reason, longest
    waiting first."""
    waiting = flags.waiting_in(db, locality_id)
    marks = ", ".join("?" * len(waiting))
    people = {
        r["id"]: r
        for r in db.query(
            f"SELECT id, nhs_number, given_name, family_name FROM patients WHERE id IN ({marks})", list(waiting)
        )
    }
    out = []
    for patient_id, given in waiting.items():
        p = people[patient_id]
        out.append(
            {
                "id": patient_id,
                "patient_id": patient_id,
                "patient": _patient_label(p["family_name"], p["given_name"]),
                "nhs_number": p["nhs_number"],
                "reason": "; ".join(f["reason"].strip() for f in given if f["reason"].strip()) or "(no reason given)",
                "flagged_by": ", ".join(dict.fromkeys(f["flagged_by"] for f in given)),
                "since": given[0]["flagged_on"],
            }
        )
    return out


# -- the whole screen --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MyWork:
    staff: dict[str, Any] | None  # None: nobody chosen, so only the team's lists are filled
    today: dt.date
    reviews: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    pcsps: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "reviews": len(self.reviews),
            "reviews_overdue": sum(1 for r in self.reviews if r["overdue"]),
            "actions": len(self.actions),
            "actions_overdue": sum(1 for a in self.actions if a["when"] == OVERDUE),
            "actions_this_week": sum(1 for a in self.actions if a["when"] == THIS_WEEK),
            "pcsps": len(self.pcsps),
            "pcsps_overdue": sum(1 for p in self.pcsps if p["overdue"]),
            "pcsps_mine": sum(1 for p in self.pcsps if p["mine"]),
            "rounds": len(self.rounds),
            "rounds_mine": sum(1 for r in self.rounds if r["mine"]),
            "flags": len(self.flags),
        }

    @property
    def to_do(self) -> int:
        """What the navigation shows: what is hers and due now. Her reviews, her actions overdue or due by Sunday,
        and the PCSPs and rounds of the homes she leads; the team's lists (every home's PCSPs and rounds, the
        patients waiting for the MDT) are on the screen but not in her count, which would otherwise never be calm."""
        c = self.counts()
        return c["reviews"] + c["actions_overdue"] + c["actions_this_week"] + c["pcsps_mine"] + c["rounds_mine"]


def my_work(
    db: sqlite_utils.Database, locality_id: str, staff: dict[str, Any] | None, today: dt.date | None = None
) -> MyWork:
    """Every list of the screen for *staff* (a staff row: id and name) in the locality on *today*."""
    today = today or clock.today()
    staff_id = staff["id"] if staff else None
    return MyWork(
        staff=staff,
        today=today,
        reviews=reviews(db, locality_id, staff_id, today) if staff else [],
        actions=my_actions(db, locality_id, staff, today) if staff else [],
        pcsps=pcsps_due(db, locality_id, staff_id, today),
        rounds=rounds_not_logged(db, locality_id, staff_id, today),
        flags=flagged(db, locality_id),
    )
