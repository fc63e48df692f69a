"""The MDT pack: the paper a chair hands out. Agenda, attendees, a summary of each patient to discuss, the
actions carried forward and the locality's action log. Patient-identifiable, so OFFICIAL-SENSITIVE on every
page, and every export is audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer

from ..models import clock
from ..models.clock import Actor
from ..models.cohort import frame as cohort
from ..models.cohort.rules import CRITERIA, EFI_BANDS
from ..models.errors import NotFound
from ..models.mdt import actions, meetings
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from .styles import CONTENT_WIDTH, NHS_AMBER, NHS_RED, STYLES, build, markup, p, table
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
            + f" · Chair: {meeting['chair'] or 'not set'} · {len(patients)} patients · "
            f"{len(carried)} actions carried forward",
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
        [str(n), f"{(i['family_name'] or '').upper()}, {i['given_name']}", nhs(i["nhs_number"]), i["source"]]
        for n, i in enumerate(patients, start=1)
    ]
    agenda_rows.append([str(len(patients) + 1), f"Review of {len(carried)} open actions carried forward", "", ""])
    story.append(
        table(
            ["#", "Item", "NHS number", "Why on the agenda"],
            agenda_rows,
            [0.06 * CONTENT_WIDTH, 0.46 * CONTENT_WIDTH, 0.2 * CONTENT_WIDTH, 0.28 * CONTENT_WIDTH],
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
    story.append(
        _action_table(carried_rows(db, carried, today), today)
        if carried
        else p("No open actions to carry forward.", "body")
    )
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
    name = f"{n}. {(item['family_name'] or '').upper()}, {item['given_name']}"
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
        [
            "Open actions",
            "; ".join(f"{a['reference']} {a['description']}" for a in open_for_patient) or "none",
            "Why on the agenda",
            item["source"],
        ],
        ["Outcome", item["outcome"] or "", "", ""],
    ]
    w = CONTENT_WIDTH
    t = table(
        [name, "", "", ""],
        facts,
        [0.16 * w, 0.34 * w, 0.16 * w, 0.34 * w],
        row_styles=[("SPAN", (0, 0), (-1, 0)), ("SPAN", (1, 7), (-1, 7)), ("SPAN", (1, 6), (1, 6))],
    )
    return KeepTogether([t, Spacer(1, 3 * mm)])


def _locality_of(db: sqlite_utils.Database, item: dict[str, Any]) -> str:
    return db.execute("SELECT locality_id FROM meetings WHERE id = ?", [item["meeting_id"]]).fetchone()[0]


def carried_rows(db: sqlite_utils.Database, carried: list[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    wanted = {i["action_id"] for i in carried}
    rows = [a for a in actions.listing(db, _locality_of(db, carried[0]), today=today) if a["id"] in wanted]
    return rows


def _action_table(rows: list[dict[str, Any]], today: dt.date) -> Any:
    w = CONTENT_WIDTH
    styles = []
    for r, a in enumerate(rows, start=1):
        if a["overdue"]:
            styles.append(("TEXTCOLOR", (4, r), (4, r), NHS_RED))
        elif a["escalated_to"]:
            styles.append(("TEXTCOLOR", (4, r), (4, r), NHS_AMBER))
    body = [
        [
            a["reference"],
            a["description"] + (f" ({(a['family_name'] or '').upper()})" if a["family_name"] else ""),
            f"{a['owner_name']}\n{a['owner_organisation']}",
            _date(a["due_date"]),
            ("OVERDUE · " if a["overdue"] else "")
            + a["status"]
            + (f" · escalated to {a['escalated_to']}" if a["escalated_to"] else ""),
        ]
        for a in rows
    ]
    return table(
        ["Reference", "Action", "Owner", "Due", "Status"],
        body,
        [0.15 * w, 0.39 * w, 0.18 * w, 0.12 * w, 0.16 * w],
        row_styles=styles,
    )
