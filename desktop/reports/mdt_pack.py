"""The MDT pack: the paper a chair hands out. Agenda, attendees, a summary of each patient to discuss (with a
line saying why they are discussed, and the reasons colleagues gave when they flagged them), the actions carried
forward (each with its last progress note and how long it has been open) and the locality's action log. Patients
are named once, in the NHS style (SURNAME, Given). Patient-identifiable, so OFFICIAL-SENSITIVE on every page, and
every export is audited."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from ..models import clock, names
from ..models.clock import Actor
from ..models.cohort import frame as cohort
from ..models.cohort.rules import CRITERIA, EFI_BANDS
from ..models.errors import NotFound
from ..models.mdt import actions, meetings
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from .styles import CONTENT_WIDTH, NHS_AMBER, NHS_RED, STYLES, build, escape, markup, p, table
from .writing import part_file, record_export, stage


def resolve_meeting(db: sqlite_utils.Database, locality_code: str, meeting: str) -> dict[str, Any]:
    """'latest' or a meeting id, for the locality with *locality_code*."""
    loc = db.execute("SELECT id FROM localities WHERE code = ?", [locality_code.upper()]).fetchone()
    if loc is None:
        raise NotFound(f"There is no locality '{locality_code}' in this workspace.")
    if meeting == "latest":
        found = meetings.latest(db, loc[0])
        if found is None:
            raise NotFound(f"{locality_code} has no MDT meetings yet; plan one on the MDT screen first.")
        return meetings.get(db, found["id"])
    row = meetings.get(db, meeting)
    if row["locality_id"] != loc[0]:
        raise NotFound(f"Meeting {meeting} is not one of {locality_code}'s.")
    return row


def nhs(number: str | None) -> str:
    n = str(number or "")
    return f"{n[:3]} {n[3:6]} {n[6:]}" if len(n) == 10 else n


def _date(iso: str | None) -> str:
    return dt.date.fromisoformat(iso[:10]).strftime("%d %b %Y") if iso else "—"


def patient_name(row: Mapping[str, Any]) -> str:
    """The NHS style, 'SURNAME, Given'; empty when the row names no patient."""
    return names.patient_name(row.get("family_name"), row.get("given_name"))


def action_text(action: Mapping[str, Any]) -> str:
    """The description without a closing '(SURNAME)' naming the action's own patient (the care-home rounds write
    one), because the pack prints the patient's name beside it: once, not twice."""
    text = str(action["description"]).rstrip()
    family = str(action.get("family_name") or "").strip()
    tail = f"({family})".upper()
    return text[: -len(tail)].rstrip() if family and text.upper().endswith(tail) else text


SOURCE_WORDS = {
    "new this run": "New to the cohort in the latest risk run",
    "review overdue": "Caseload review overdue",
    "flagged": "Flagged for MDT",
    "added": "Added to the agenda by the team",
}


def why_discussed(item: Mapping[str, Any]) -> str:
    """One line: the source the agenda item records, and every flag for MDT that came with the patient, with who
    gave it and when."""
    source = item["source"] or "added"
    line = SOURCE_WORDS.get(source, source.capitalize())
    if source == "review overdue" and item.get("next_review_due"):
        line += f" (due {_date(item['next_review_due'])})"
    given = "; ".join(
        f"{f['flagged_by']} on {_date(f['flagged_on'])}: {f['reason'] or 'no reason given'}"
        for f in item.get("flags") or []
    )
    if not given:
        return line
    return f"Flagged for MDT by {given}" if source == "flagged" else f"{line} · flagged for MDT by {given}"


def open_for(opened: str | None, today: dt.date) -> str:
    """How long an action has been open, in the unit a chair would say: days, then weeks, then months."""
    if not opened:
        return "—"
    days = max((today - dt.date.fromisoformat(opened[:10])).days, 0)
    if days < 14:
        return f"{days} day{'s' if days != 1 else ''}"
    if days < 16 * 7:
        return f"{days // 7} weeks"
    return f"{int(days / 30.44)} months"


def action_progress(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each action: when it was opened (its first audit entry, else its created stamp) and its last progress
    note with the day it was written: the newest status change that carried a note, or escalation, from the audit
    trail (the action's history); else the outcome note on the action itself."""
    ids = [a["id"] for a in rows]
    out = {a["id"]: {"opened": clock.local_day(a["created_at"]), "note": "", "noted_on": None} for a in rows}
    if not ids:
        return out
    marks = ", ".join("?" * len(ids))
    for aid, at in db.execute(
        "SELECT entity_id, MIN(at) FROM audit WHERE entity = 'actions' AND action = 'create' "
        f"AND entity_id IN ({marks}) GROUP BY entity_id",
        ids,
    ):
        out[aid]["opened"] = clock.local_day(at)
    for aid, at, kind, detail in db.execute(
        "SELECT entity_id, at, action, detail FROM audit WHERE entity = 'actions' AND action IN ('status', 'escalate') "
        f"AND entity_id IN ({marks}) ORDER BY seq DESC",
        ids,
    ):
        if out[aid]["noted_on"]:
            continue
        extra = json.loads(detail or "{}")
        note = extra.get("note") if kind == "status" else f"Escalated: {extra.get('why') or ''}".strip()
        if note:
            out[aid].update(note=note, noted_on=clock.local_day(at))
    for a in rows:
        if not out[a["id"]]["noted_on"] and (a.get("outcome_note") or "").strip():
            out[a["id"]].update(note=a["outcome_note"].strip(), noted_on=clock.local_day(a["updated_at"]))
    return out


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    meeting_id: str,
    out: str | Path,
    today: dt.date | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> Path:
    """Write the pack for *meeting_id* to *out* and record the export (patient data leaving the workspace).
    Cancelled from *cancel* leaves neither a file nor an audit entry."""
    out = Path(out)
    meeting = meetings.get(db, meeting_id)
    with part_file(out) as part:
        build_pack(db, meeting, part.path, today, progress, cancel)
        record_export(
            db,
            part,
            actor,
            "meetings",
            meeting_id,
            f"Exported the MDT pack for {meeting['held_on']} to {out.name} (OFFICIAL-SENSITIVE)",
            {"file": str(out)},
            progress,
            cancel,
        )
    return out


def build_pack(
    db: sqlite_utils.Database,
    meeting: dict[str, Any],
    out: Path,
    today: dt.date | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> None:
    today = today or clock.today()
    stage(progress, cancel, 0.0, "Reading the cohort, the agenda and the action log…")
    locality = db.execute("SELECT name, code FROM localities WHERE id = ?", [meeting["locality_id"]]).fetchone()
    frame = cohort.load(db, meeting["locality_id"])
    risk = {frame.columns["id"][i]: frame.row(i) for i in range(len(frame))}
    items = meetings.agenda(db, meeting["id"])
    patients = [i for i in items if i["kind"] == "patient"]
    carried = [i for i in items if i["kind"] == "action"]
    people = meetings.attendees(db, meeting["id"])
    log = actions.listing(db, meeting["locality_id"], actions.ActionFilter(status="open or in progress"), today)
    agreed = actions.listing(db, meeting["locality_id"], actions.ActionFilter(meeting_id=meeting["id"]), today)

    title = f"{locality[0]} · {meeting['type']} · {_date(meeting['held_on'])}"
    story: list = [
        Paragraph(f"{locality[0]} {meeting['type']}", STYLES["title"]),
        markup(
            f"{_date(meeting['held_on'])}"
            + (f" · {meeting['location']}" if meeting["location"] else "")
            + f" · Chair: {meeting['chair'] or 'not set'} · {_count(len(patients), 'patient')} · "
            f"{_count(len(carried), 'action')} carried forward",
            "subtitle",
        ),
        _summary_band(patients, carried, log),
        Paragraph("Attendees", STYLES["h1"]),
    ]
    if people:
        story.append(
            table(
                ["Name", "Role", "Organisation", "Present"],
                [[a["name"], a["role"], a["organisation"], "yes" if a["present"] else "apologies"] for a in people],
                [0.32 * CONTENT_WIDTH, 0.28 * CONTENT_WIDTH, 0.25 * CONTENT_WIDTH, 0.15 * CONTENT_WIDTH],
            )
        )
    else:
        story.append(p("No attendees recorded yet.", "body"))
    story += [Paragraph("Agenda", STYLES["h1"])]
    agenda_rows = [
        [str(n), patient_name(i), nhs(i["nhs_number"]), why_discussed(i)] for n, i in enumerate(patients, start=1)
    ]
    agenda_rows.append(
        [str(len(patients) + 1), f"Review of {_count(len(carried), 'open action')} carried forward", "", ""]
    )
    story.append(
        table(
            ["#", "Item", "NHS number", "Why discussed"],
            agenda_rows,
            [0.05 * CONTENT_WIDTH, 0.3 * CONTENT_WIDTH, 0.17 * CONTENT_WIDTH, 0.48 * CONTENT_WIDTH],
        )
    )
    story.append(Paragraph("Patients to discuss", STYLES["h1"]))
    if not patients:
        story.append(p("No patients on the agenda yet.", "body"))
    for n, item in enumerate(patients, start=1):
        stage(progress, cancel, 0.3 + 0.3 * n / len(patients), f"Writing patient {n} of {len(patients)}…")
        story.append(_patient_block(db, n, item, risk.get(item["patient_id"]), today))
    stage(progress, cancel, 0.6, "Writing the actions…")
    story.append(Paragraph("Actions carried forward for review", STYLES["h1"]))
    if carried:
        rows = carried_rows(db, carried, today)
        story.append(_carried_table(rows, action_progress(db, rows), today))
    else:
        story.append(p("No open actions to carry forward.", "body"))
    if agreed:
        story += [Paragraph("Actions agreed at this meeting", STYLES["h1"]), _action_table(agreed, today)]
    story += [
        Paragraph("Open actions of the locality", STYLES["h1"]),
        _action_table(log, today) if log else p("No open actions.", "body"),
    ]
    build(
        out,
        story,
        title=title,
        subject=f"MDT pack, {locality[0]}",
        sensitive=True,
        progress=progress,
        cancel=cancel,
    )


def _summary_band(patients: list, carried: list, log: list) -> Any:
    overdue = sum(1 for a in log if a["overdue"])
    cells = [
        (str(len(patients)), "patients to discuss"),
        (str(len(carried)), "actions to review"),
        (str(len(log)), "open actions"),
        (str(overdue), "overdue"),
    ]
    band = table(
        [label for _, label in cells],
        [[markup(f"<font size=16><b>{v}</b></font>", "cell") for v, _ in cells]],
        [CONTENT_WIDTH / 4] * 4,
    )
    return KeepTogether([band, Spacer(1, 2 * mm)])


def _patient_block(
    db: sqlite_utils.Database, n: int, item: dict[str, Any], risk: dict[str, Any] | None, today: dt.date
) -> Any:
    name = f"{n}. {patient_name(item)}"
    practice = f"{risk['practice']} ({item['practice_code']})" if risk else item["practice_code"]
    risk = risk if risk and risk["in_cohort"] else None  # left the cohort: no current risk figures
    born = dt.date.fromisoformat(item["date_of_birth"]) if item["date_of_birth"] else None
    age = (today - born).days // 365 if born else None
    reasons = ", ".join(CRITERIA[c] for c in (risk or {}).get("criteria", "")) or "not in the current cohort"
    band = EFI_BANDS[int(risk["efi_band"])] if risk else "—"
    review = item["next_review_due"]
    review_text = _date(review) + (" (OVERDUE)" if review and review < today.isoformat() else "")
    open_for_patient = [
        a
        for a in actions.listing(
            db,
            _locality_of(db, item),
            actions.ActionFilter(patient_id=item["patient_id"], status="open or in progress"),
            today,
        )
    ]
    facts = [
        ["Why discussed", why_discussed(item), "", ""],
        ["NHS number", nhs(item["nhs_number"]), "Born", f"{_date(item['date_of_birth'])} (age {age})"],
        ["Practice", practice, "Why in the cohort", reasons],
        [
            "eFI",
            f"{band} ({risk['efi_deficits']} deficits)" if risk else "—",
            "LTCs",
            str(risk["ltc_count"]) if risk else "—",
        ],
        ["Caseload", item["caseload_status"] or "identified", "Case manager", item["case_manager"] or "none named"],
        ["Care plan", _date(item["care_plan_date"]), "Next review", review_text],
        ["Open actions", "; ".join(f"{a['reference']} {action_text(a)}" for a in open_for_patient) or "none", "", ""],
        ["Outcome", item["outcome"] or "", "", ""],
    ]
    w = CONTENT_WIDTH
    t = table(
        [name, "", "", ""],
        facts,
        [0.16 * w, 0.34 * w, 0.16 * w, 0.34 * w],
        row_styles=[("SPAN", (0, 0), (-1, 0)), *(("SPAN", (1, r), (-1, r)) for r in (1, 7, 8))],
    )
    return KeepTogether([t, Spacer(1, 3 * mm)])


def _locality_of(db: sqlite_utils.Database, item: dict[str, Any]) -> str:
    return db.execute("SELECT locality_id FROM meetings WHERE id = ?", [item["meeting_id"]]).fetchone()[0]


def carried_rows(db: sqlite_utils.Database, carried: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    wanted = {i["action_id"] for i in carried}
    rows = [a for a in actions.listing(db, _locality_of(db, carried[0]), today=today) if a["id"] in wanted]
    return rows


def _status(a: Mapping[str, Any]) -> str:
    return (
        ("OVERDUE · " if a["overdue"] else "")
        + a["status"]
        + (f" · escalated to {a['escalated_to']}" if a["escalated_to"] else "")
    )


def _status_colours(rows: list[dict[str, Any]], column: int) -> list[tuple]:
    styles = []
    for r, a in enumerate(rows, start=1):
        if a["overdue"]:
            styles.append(("TEXTCOLOR", (column, r), (column, r), NHS_RED))
        elif a["escalated_to"]:
            styles.append(("TEXTCOLOR", (column, r), (column, r), NHS_AMBER))
    return styles


def _action_cell(a: Mapping[str, Any], progress: Mapping[str, Any] | None = None) -> Any:
    """The description, the patient named once below it, and (for an action under review) its last progress."""
    text = escape(action_text(a))
    if patient_name(a):
        text += f"<br/><b>{escape(patient_name(a))}</b>"
    if progress is not None:
        last = (
            f"Last progress, {_date(progress['noted_on'])}: {escape(progress['note'])}"
            if progress["noted_on"]
            else "No progress recorded yet"
        )
        text += f"<br/><font color='#425563'><i>{last}</i></font>"
    return markup(text, "cell")


def _action_table(rows: list[dict[str, Any]], today: dt.date) -> Any:
    w = CONTENT_WIDTH
    body = [
        [
            a["reference"],
            _action_cell(a),
            f"{a['owner_name']}\n{a['owner_organisation']}",
            _date(a["due_date"]),
            _status(a),
        ]
        for a in rows
    ]
    return table(
        ["Reference", "Action", "Owner", "Due", "Status"],
        body,
        [0.15 * w, 0.39 * w, 0.18 * w, 0.12 * w, 0.16 * w],
        row_styles=_status_colours(rows, 4),
    )


def _carried_table(rows: list[dict[str, Any]], progress: Mapping[str, Mapping[str, Any]], today: dt.date) -> Any:
    """The actions under review: as the action table, with the last progress note and how long each has been
    open (since the day it was opened)."""
    w = CONTENT_WIDTH
    body = [
        [
            a["reference"],
            _action_cell(a, progress[a["id"]]),
            f"{a['owner_name']}\n{a['owner_organisation']}",
            _date(a["due_date"]),
            f"{open_for(progress[a['id']]['opened'], today)}\nsince {_date(progress[a['id']]['opened'])}",
            _status(a),
        ]
        for a in rows
    ]
    return table(
        ["Reference", "Action and last progress", "Owner", "Due", "Open for", "Status"],
        body,
        [0.14 * w, 0.37 * w, 0.15 * w, 0.1 * w, 0.11 * w, 0.13 * w],
        row_styles=_status_colours(rows, 5),
    )


def _count(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")
