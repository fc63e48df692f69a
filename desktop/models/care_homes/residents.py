"""Care-home residents (EHCH): admission, holistic assessment, the personalised care and support plan (PCSP)
within 7 working days of admission or re-admission, medication review, end of life and its plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlite_utils

from .. import audit, clock, workspace
from ..changes import Changes
from ..clock import Actor, new_id
from ..dates import parse_date
from ..errors import NotFound, ValidationError
from ..identifiers import is_valid_nhs_number, normalise_nhs_number, patient_id
from ..working_days import add_working_days

PCSP_WORKING_DAYS = 7
PCSP_MAX_CALENDAR_DAYS = 21  # 7 working days never span more (Christmas with a weekend and substitutes: 13)
DATES = (
    "admitted_on",
    "readmitted_on",
    "left_on",
    "holistic_assessment_on",
    "pcsp_on",
    "medication_review_on",
    "eol_plan_on",
)
LABELS = {
    "admitted_on": "The admission date",
    "readmitted_on": "The re-admission date",
    "left_on": "The date they left",
    "holistic_assessment_on": "The holistic assessment date",
    "pcsp_on": "The PCSP date",
    "medication_review_on": "The medication review date",
    "eol_plan_on": "The care management plan date",
}
EDITABLE = ("nhs_number", "given_name", "family_name", "date_of_birth", *DATES, "end_of_life", "notes")
_NOT_FUTURE = "not in the future and not before the admission"
# What _clean checks, field by field, in the words the resident form shows as help.
HELP = {
    "nhs_number": "Required: 10 digits, spaces allowed. The last digit is a modulus-11 check digit, so a "
    "mistyped number is refused.",
    "given_name": "Optional.",
    "family_name": "Required.",
    "date_of_birth": "Optional: a date such as 25/12/1940, not after the admission.",
    "admitted_on": "Required: the day they moved in, not in the future. The PCSP is due "
    f"{PCSP_WORKING_DAYS} working days later.",
    "readmitted_on": f"Optional, {_NOT_FUTURE}. A re-admission starts the {PCSP_WORKING_DAYS}-working-day PCSP "
    "clock again.",
    "left_on": f"Optional, {_NOT_FUTURE}. A resident who has left drops off the home's list.",
    "holistic_assessment_on": f"Optional, {_NOT_FUTURE}.",
    "pcsp_on": f"Optional, {_NOT_FUTURE}. On time when within {PCSP_WORKING_DAYS} working days of the "
    "(re-)admission, weekends and England bank holidays skipped.",
    "medication_review_on": f"Optional, {_NOT_FUTURE}.",
    "eol_plan_on": f"Optional, {_NOT_FUTURE}; only for a resident at the end of life.",
    "end_of_life": "Tick for a resident at the end of life; needed before a care management plan date.",
    "notes": "Optional.",
}


def pcsp_due(resident: dict[str, Any]) -> dt.date:
    """7 working days after the latest admission (England bank holidays and weekends skipped)."""
    start = resident.get("readmitted_on") or resident["admitted_on"]
    return add_working_days(dt.date.fromisoformat(start), PCSP_WORKING_DAYS)


def pcsp_status(resident: dict[str, Any], today: dt.date | None = None) -> str:
    """'on time', 'late', 'overdue' (none yet, past due) or 'due' (none yet, still in time)."""
    today = today or clock.today()
    due = pcsp_due(resident)
    start = resident.get("readmitted_on") or resident["admitted_on"]
    plan = resident.get("pcsp_on")
    if plan and plan >= start:
        return "on time" if plan <= due.isoformat() else "late"
    return "overdue" if today > due else "due"


def get(db: sqlite_utils.Database, resident_id: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM residents WHERE id = ?", [resident_id]))
    if not rows:
        raise NotFound("That resident is no longer recorded.")
    return rows[0]


def listing(
    db: sqlite_utils.Database, care_home_id: str, include_left: bool = False, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """A home's residents by name, each with PCSP due date and status and whether they are in the cohort."""
    where = "" if include_left else " AND (left_on IS NULL OR left_on > ?)"
    params: list[Any] = [care_home_id] + ([] if include_left else [(today or clock.today()).isoformat()])
    rows = list(
        db.query(
            f"SELECT * FROM residents WHERE care_home_id = ?{where} "
            "ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE",
            params,
        )
    )
    for r in rows:
        r["pcsp_due"] = pcsp_due(r).isoformat()
        r["pcsp_status"] = pcsp_status(r, today)
    return rows


def _clean(values: dict[str, Any], today: dt.date) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    number = normalise_nhs_number(str(values.get("nhs_number") or ""))
    if not is_valid_nhs_number(number):
        raise ValidationError(
            "Enter the resident's 10-digit NHS number (it fails the check digit as typed).", "nhs_number"
        )
    clean["nhs_number"] = number
    clean["given_name"] = str(values.get("given_name") or "").strip()
    clean["family_name"] = str(values.get("family_name") or "").strip()
    if not clean["family_name"]:
        raise ValidationError("Enter the resident's family name.", "family_name")
    clean["date_of_birth"] = parse_date(values.get("date_of_birth"), "The date of birth", "date_of_birth")
    for key in DATES:
        clean[key] = parse_date(values.get(key), LABELS[key], key, required=key == "admitted_on")
        if clean[key] and clean[key] > today.isoformat():
            raise ValidationError(f"{LABELS[key]} cannot be in the future.", key)
    admitted = clean["admitted_on"]
    for key in DATES[1:]:
        if clean[key] and clean[key] < admitted:
            raise ValidationError(f"{LABELS[key]} is before the admission ({admitted}).", key)
    if clean["date_of_birth"] and clean["date_of_birth"] > admitted:
        raise ValidationError("The date of birth is after the admission.", "date_of_birth")
    clean["end_of_life"] = int(bool(values.get("end_of_life")))
    if clean["eol_plan_on"] and not clean["end_of_life"]:
        raise ValidationError("A care management plan date is for residents at the end of life.", "eol_plan_on")
    clean["notes"] = str(values.get("notes") or "")
    return clean


def save(
    db: sqlite_utils.Database,
    actor: Actor,
    care_home_id: str,
    values: dict[str, Any],
    resident_id: str | None = None,
    today: dt.date | None = None,
) -> tuple[str, Changes]:
    """Admit (resident_id None) or update a resident, validated, in one audited transaction. A resident
    who is in the locality's cohort is linked to their cohort record."""
    workspace.require_patient_level(db)
    today = today or clock.today()
    home = db.execute("SELECT name, locality_id FROM care_homes WHERE id = ?", [care_home_id]).fetchone()
    if home is None:
        raise NotFound("That care home is no longer on the register.")
    clean = _clean(values, today)
    pid = patient_id(int(clean["nhs_number"]))
    # The cohort frame (pyarrow) and the caseload: only admitting a resident needs them, My work never.
    from ..cohort import frame as cohort
    from ..cohort.caseload import ensure_rows

    with db.atomic():
        linked = db.execute("SELECT 1 FROM patients WHERE id = ?", [pid]).fetchone() or cohort.member(db, pid)
        if linked:
            ensure_rows(db, actor, [pid])
        clean["patient_id"] = pid if linked else None
        stamp = actor.stamp()
        if resident_id is None:
            clash = db.execute(
                "SELECT 1 FROM residents WHERE nhs_number = ? AND care_home_id = ? AND left_on IS NULL",
                [clean["nhs_number"], care_home_id],
            ).fetchone()
            if clash:
                raise ValidationError("This NHS number is already a resident of this home.", "nhs_number")
            resident_id = new_id()
            db["residents"].insert(
                {"id": resident_id, "care_home_id": care_home_id, **clean, "created_at": actor.now(), **stamp}
            )
            audit.record(
                db,
                actor,
                "create",
                "residents",
                resident_id,
                f"Admitted {clean['family_name'].upper()} to {home[0]} on {clean['admitted_on']}",
            )
        else:
            before = get(db, resident_id)
            moved = {k: {"before": before[k], "after": v} for k, v in clean.items() if before.get(k) != v}
            if not moved:
                return resident_id, Changes()
            db["residents"].update(resident_id, {**clean, **stamp})
            audit.record(
                db,
                actor,
                "update",
                "residents",
                resident_id,
                f"{clean['family_name'].upper()}: changed {', '.join(k.replace('_', ' ') for k in moved)}",
                {"changes": moved},
            )
    return resident_id, Changes.of("residents")


COUNTED = ("on time", "late", "overdue")
PENDING = "not yet due"


def pcsp_standing(resident: dict[str, Any], start: dt.date, end: dt.date, today: dt.date) -> str | None:
    """Where an admission (or re-admission) stands in the PCSP measure (KPI CH-03) of the period [start, end].

    The one rule, for CH-03 and every report of PCSP timeliness: an admission counts in the one period its PCSP
    falls due in, and only once that day has come ("on time", "late" or "overdue", as pcsp_status says today);
    one admitted late in March is judged in Q1. An admission of the period that does not count in it yet is
    PENDING: still within its 7 working days, or (the period over) due in the next one. None: neither.
    """
    due = pcsp_due(resident)
    admitted = dt.date.fromisoformat(resident.get("readmitted_on") or resident["admitted_on"])
    if due < start or admitted > end:
        return None
    status = pcsp_status(resident, today)
    if due <= min(end, today) and status in COUNTED:
        return status
    return PENDING


def pcsp_candidates(
    db: sqlite_utils.Database, start: dt.date, end: dt.date, care_home_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """The residents whose latest admission pcsp_standing may place in [start, end] (those of *care_home_ids*,
    or of every home), oldest admission first, each with its home's locality_id."""
    since = start - dt.timedelta(days=PCSP_MAX_CALENDAR_DAYS)
    where, params = "", [since.isoformat(), end.isoformat()]
    if care_home_ids is not None:
        where = f" AND r.care_home_id IN ({','.join('?' * len(care_home_ids))})"
        params += care_home_ids
    return list(
        db.query(
            "SELECT r.*, h.locality_id FROM residents r JOIN care_homes h ON h.id = r.care_home_id "
            f"WHERE COALESCE(r.readmitted_on, r.admitted_on) BETWEEN ? AND ?{where} "
            "ORDER BY COALESCE(r.readmitted_on, r.admitted_on), r.family_name COLLATE NOCASE",
            params,
        )
    )


def pcsp_timeliness(
    db: sqlite_utils.Database, care_home_ids: list[str], start: dt.date, end: dt.date, today: dt.date | None = None
) -> dict[str, Any]:
    """PCSP timeliness of the homes *care_home_ids* over [start, end], by CH-03's rule (pcsp_standing).

    "admissions" are those that count in the period (the denominator), "on_time" the numerator; "pending" the
    period's admissions whose PCSP is not yet due. "residents" and "statuses" list both, status by status.
    """
    today = today or clock.today()
    rows, statuses = [], []
    for r in pcsp_candidates(db, start, end, care_home_ids):
        standing = pcsp_standing(r, start, end, today)
        if standing is not None:
            rows.append(r)
            statuses.append(standing)
    return {
        "admissions": sum(s in COUNTED for s in statuses),
        "on_time": statuses.count("on time"),
        "late": statuses.count("late"),
        "overdue": statuses.count("overdue"),
        "pending": statuses.count(PENDING),
        "residents": rows,
        "statuses": statuses,
    }
