"""The care-home visit report for one home and quarter: a facts table, findings, the round coverage, the
visits, residents reviewed, follow-up actions, PCSP timeliness, and numbered recommendations with
responses. It names residents, so it is OFFICIAL-SENSITIVE and every export is audited."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import sqlite_utils
from reportlab.platypus import Paragraph, Spacer

from ..models import clock
from ..models.care_homes import residents, visits
from ..models.clock import Actor
from ..models.errors import NotFound
from ..models.progress import CancelCheck, Progress, never_cancel, no_progress
from ..models.quarters import Quarter
from .mdt_pack import nhs
from .styles import CONTENT_WIDTH, NHS_GREEN, NHS_RED, STYLES, build, markup, p, table
from .writing import part_file, record_export, stage


def find_home(db: sqlite_utils.Database, cqc_id: str) -> dict[str, Any]:
    rows = list(
        db.query(
            "SELECT h.*, l.name AS locality, p.name AS practice, s.name AS lead FROM care_homes h "
            "JOIN localities l ON l.id = h.locality_id LEFT JOIN practices p ON p.id = h.aligned_practice_id "
            "LEFT JOIN staff s ON s.id = h.clinical_lead_id WHERE h.cqc_id = ?",
            [cqc_id.strip()],
        )
    )
    if not rows:
        raise NotFound(f"No care home with CQC location id {cqc_id} is on this workspace's register.")
    return rows[0]


def export(
    db: sqlite_utils.Database,
    actor: Actor,
    cqc_id: str,
    quarter: Quarter,
    out: str | Path,
    today: dt.date | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> Path:
    """Write the visit report of the home *cqc_id* for *quarter* to *out* and audit the export. Cancelled from
    *cancel* leaves neither a file nor an audit entry."""
    out = Path(out)
    home = find_home(db, cqc_id)
    with part_file(out) as part:
        build_report(db, home, quarter, part.path, today or clock.today(), progress, cancel)
        record_export(
            db,
            part,
            actor,
            "care_homes",
            home["id"],
            f"Exported the {quarter.label} visit report for {home['name']} to {out.name} (OFFICIAL-SENSITIVE)",
            {"file": str(out), "quarter": quarter.code},
            progress,
            cancel,
        )
    return out


def _d(iso: str | None) -> str:
    return dt.date.fromisoformat(iso).strftime("%d %b %Y") if iso else "—"


def build_report(
    db: sqlite_utils.Database,
    home: dict[str, Any],
    quarter: Quarter,
    out: Path,
    today: dt.date,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
) -> None:
    end = min(quarter.end, today)
    stage(progress, cancel, 0.0, "Reading the visits and the weekly rounds…")
    seen = visits.listing(db, home["id"], quarter.start, quarter.end)
    grid = visits.round_grid(db, home["locality_id"], quarter, today)
    row = next(h for h in grid["homes"] if h["id"] == home["id"])
    missed = [w for w, cell in zip(grid["weeks"][: row["due"]], row["cells"], strict=False) if not cell]
    details = []
    for n, v in enumerate(reversed(seen)):
        stage(progress, cancel, 0.1 + 0.4 * n / len(seen), f"Reading visit {n + 1} of {len(seen)}…")
        details.append(visits.get(db, v["id"]))
    stage(progress, cancel, 0.5, "Reading the residents and their care plans…")
    reviews = [r for v in details for r in v["residents"]]
    outcomes = Counter(r["outcome"] for r in reviews)
    follow = [a for v in details for a in v["actions"]]
    pcsp = residents.pcsp_timeliness(db, [home["id"]], quarter.start, quarter.end, today)  # CH-03's rule
    waiting = _pending_text(pcsp["pending"], quarter.end < today)
    living = residents.listing(db, home["id"], today=end)
    eol = [r for r in living if r["end_of_life"]]
    eol_planned = [r for r in eol if r["eol_plan_on"]]
    kinds = Counter(v["type"] for v in seen)

    facts = [
        ["CQC location id", home["cqc_id"], "Type and beds", f"{home['home_type']}, {home['beds']} beds"],
        ["Locality", home["locality"], "Aligned practice", home["practice"] or "NOT ALIGNED"],
        ["Named clinical lead", home["lead"] or "NONE NAMED", "Residents at quarter end", str(len(living))],
        [
            "Visits",
            ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "none",
            "Weekly rounds",
            f"{row['covered']} of {row['due']} weeks",
        ],
        [
            "Residents reviewed",
            f"{len(reviews)} reviews of {len({r['resident_id'] for r in reviews})} residents",
            "Transferred to hospital",
            f"{outcomes['transferred to hospital']} ({_pct(outcomes['transferred to hospital'], len(reviews))})",
        ],
        [
            "PCSP within 7 working days",
            f"{pcsp['on_time']} of {pcsp['admissions']} admissions ({_pct(pcsp['on_time'], pcsp['admissions'])})"
            + (f"; {waiting}" if waiting else ""),
            "End of life with a plan",
            f"{len(eol_planned)} of {len(eol)}",
        ],
    ]
    findings, recommendations = _findings(
        home, row, missed, pcsp, waiting, outcomes, len(reviews), eol, eol_planned, follow
    )
    stage(progress, cancel, 0.6, "Writing the findings, the visits and the residents reviewed…")
    w = CONTENT_WIDTH
    story: list = [
        Paragraph(home["name"], STYLES["title"]),
        markup(
            f"Care-home visit report · {quarter.label} ({_d(quarter.start.isoformat())} to "
            f"{_d(quarter.end.isoformat())}) · Enhanced Health in Care Homes",
            "subtitle",
        ),
        table(
            ["Facts", "", "", ""], facts, [0.2 * w, 0.3 * w, 0.2 * w, 0.3 * w], row_styles=[("SPAN", (0, 0), (-1, 0))]
        ),
        Paragraph("Findings", STYLES["h1"]),
        *[markup(f"• {f}", "body") for f in findings],
        Paragraph("Weekly home rounds", STYLES["h1"]),
        _coverage(grid, row),
        Paragraph("Recommendations and responses", STYLES["h1"]),
        table(
            ["#", "Recommendation", "Response"],
            [[str(i), r, resp] for i, (r, resp) in enumerate(recommendations, start=1)] or [["—", "None", ""]],
            [0.06 * w, 0.54 * w, 0.4 * w],
        ),
        Paragraph("Visits", STYLES["h1"]),
        table(
            ["Date", "Type", "Clinician", "Reviewed", "To hospital", "Actions"],
            [
                [
                    _d(v["visited_on"]),
                    v["type"],
                    v["clinician_name"] or "—",
                    v["reviewed"],
                    v["transferred"],
                    v["actions"],
                ]
                for v in seen
            ]
            or [["—", "No visits this quarter", "", "", "", ""]],
            [0.14 * w, 0.24 * w, 0.26 * w, 0.12 * w, 0.12 * w, 0.12 * w],
        ),
        Paragraph("Residents reviewed", STYLES["h1"]),
        _reviewed_table(reviews),
        Paragraph("Follow-up actions", STYLES["h1"]),
        table(
            ["Reference", "Action", "Owner", "Due", "Status"],
            [
                [
                    a["reference"],
                    a["description"],
                    a["owner_name"],
                    _d(a["due_date"]),
                    a["status"] + (f" {_d(a['completed_on'])}" if a["completed_on"] else ""),
                ]
                for a in follow
            ]
            or [["—", "No follow-up actions this quarter", "", "", ""]],
            [0.16 * w, 0.4 * w, 0.18 * w, 0.12 * w, 0.14 * w],
        ),
        Paragraph("Admissions and PCSP timeliness", STYLES["h1"]),
        _pcsp_table(pcsp, quarter.end < today),
        Spacer(1, 4),
        p(
            "PCSP: personalised care and support plan, due within 7 working days of admission or re-admission "
            "(weekends and England bank holidays excluded). As in KPI CH-03, an admission counts in the quarter "
            "its PCSP falls due in, once that day has come; one admitted late in the previous quarter may count "
            "in this one.",
            "small",
        ),
    ]
    build(
        out,
        story,
        title=f"{home['name']} · {quarter.label}",
        subject=f"Care-home visit report, {home['locality']}",
        sensitive=True,
        progress=progress,
        cancel=cancel,
    )


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}%" if d else "n/a"


def _pending_text(pending: int, quarter_over: bool) -> str:
    """The admissions the PCSP figure leaves out for now (residents.PENDING), in words."""
    if not pending:
        return ""
    if quarter_over:
        return f"{pending} more admitted at the quarter's end, PCSP due (and counted) next quarter"
    return f"{pending} more admitted recently, PCSP not yet due"


def _findings(home, row, missed, pcsp, waiting, outcomes, reviews, eol, eol_planned, follow) -> tuple[list[str], list]:
    findings, recs = [], []
    if not home["lead"]:
        findings.append("The home has <b>no named clinical lead</b>.")
        recs.append(("Name a clinical lead for the home (EHCH).", "Response awaited from the locality lead."))
    if not home["practice"]:
        findings.append("The home is <b>not aligned</b> to a practice.")
        recs.append(("Align the home to one practice or PCN.", "Response awaited from the locality lead."))
    if missed:
        weeks = ", ".join(m.strftime("%d %b") for m in missed)
        findings.append(
            f"Weekly home round held in {row['covered']} of {row['due']} weeks; <b>missed</b> the weeks of {weeks}."
        )
        recs.append(
            (
                "Restore a weekly home round on a fixed day, with cover arranged for leave.",
                f"Response awaited from {home['lead'] or 'the practice'}.",
            )
        )
    else:
        findings.append(f"A weekly home round was held in every one of the {row['due']} weeks so far.")
    late = pcsp["late"] + pcsp["overdue"]
    if pcsp["admissions"]:
        findings.append(
            f"{pcsp['on_time']} of {pcsp['admissions']} new or returning residents whose PCSP fell due had one "
            f"within 7 working days; {pcsp['late']} late, {pcsp['overdue']} still without one"
            + (f"; {waiting}." if waiting else ".")
        )
    elif waiting:
        findings.append(f"No PCSP fell due this quarter; {waiting}.")
    if late:
        recs.append(
            (
                "Book the new-resident assessment and PCSP within the first week of every admission.",
                "Response awaited from the home manager.",
            )
        )
    transfers = outcomes["transferred to hospital"]
    if reviews:
        findings.append(
            f"{reviews} resident reviews: {outcomes['managed in the home']} managed in the home, "
            f"{outcomes['referred on']} referred on, {transfers} transferred to hospital."
        )
    if eol and len(eol_planned) < len(eol):
        findings.append(
            f"{len(eol) - len(eol_planned)} of {len(eol)} residents at the end of life have "
            "<b>no care management plan</b>."
        )
        recs.append(
            (
                "Agree a care management plan with every resident at the end of life and their family.",
                "Response awaited from the clinical lead.",
            )
        )
    open_actions = [a for a in follow if a["status"] in ("open", "in progress")]
    if follow:
        findings.append(f"{len(follow)} follow-up actions raised; {len(open_actions)} still open.")
    return findings, recs


def _coverage(grid: dict[str, Any], row: dict[str, Any]) -> Any:
    """The quarter's weeks (Quarter.weeks, as CH-02 counts them): held, missed, or not over yet."""
    weeks = grid["weeks"]
    header = [w.strftime("%d %b") for w in weeks]
    cells = []
    styles = []
    for i, cell in enumerate(row["cells"]):
        if i >= grid["started"]:
            cells.append("")
        elif not cell and i >= grid["finished"]:
            cells.append("this week")  # under way: not a miss until it is over
        elif cell:
            cells.append("✓ held" if len(cell) == 1 else f"✓ ×{len(cell)}")
            styles.append(("TEXTCOLOR", (i, 1), (i, 1), NHS_GREEN))
        else:
            cells.append("✗ missed")
            styles.append(("TEXTCOLOR", (i, 1), (i, 1), NHS_RED))
    return table(header, [cells], [CONTENT_WIDTH / len(weeks)] * len(weeks), row_styles=styles)


def _reviewed_table(reviews: list[dict[str, Any]]) -> Any:
    per: dict[str, dict[str, Any]] = {}
    for r in reviews:
        entry = per.setdefault(
            r["resident_id"],
            {
                "name": f"{r['family_name'].upper()}, {r['given_name']}",
                "nhs": nhs(r["nhs_number"]),
                "outcomes": Counter(),
            },
        )
        entry["outcomes"][r["outcome"]] += 1
    rows = [
        [
            e["name"],
            e["nhs"],
            sum(e["outcomes"].values()),
            ", ".join(f"{n} {o}" for o, n in e["outcomes"].most_common()),
        ]
        for e in sorted(per.values(), key=lambda e: e["name"])
    ]
    w = CONTENT_WIDTH
    return table(
        ["Resident", "NHS number", "Reviews", "Outcomes"],
        rows or [["—", "", "", ""]],
        [0.3 * w, 0.18 * w, 0.1 * w, 0.42 * w],
    )


def _pcsp_table(pcsp: dict[str, Any], quarter_over: bool) -> Any:
    rows, styles = [], []
    for i, (r, status) in enumerate(zip(pcsp["residents"], pcsp["statuses"], strict=True), start=1):
        start = r["readmitted_on"] or r["admitted_on"]
        rows.append(
            [
                f"{r['family_name'].upper()}, {r['given_name']}",
                _d(start) + (" (re-admission)" if r["readmitted_on"] else ""),
                _d(residents.pcsp_due(r).isoformat()),
                _d(r["pcsp_on"]),
                ("due next quarter" if quarter_over else "not yet due") if status == residents.PENDING else status,
            ]
        )
        if status in ("late", "overdue"):
            styles.append(("TEXTCOLOR", (4, i), (4, i), NHS_RED))
    w = CONTENT_WIDTH
    return table(
        ["Resident", "Admitted", "PCSP due", "PCSP agreed", "Timeliness"],
        rows or [["No PCSPs due this quarter", "", "", "", ""]],
        [0.3 * w, 0.22 * w, 0.16 * w, 0.16 * w, 0.16 * w],
        row_styles=styles,
    )
