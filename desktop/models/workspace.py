"""What a workspace is: its kind, its summary (`info`), and how a new one is made."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import sqlite_utils

from .clock import Actor
from .db import open_workspace, schema_version
from .errors import ValidationError

KINDS = ("locality", "commissioner")
# What a new workspace starts with: only the 11 localities (real), or the demo's invented reference data too.
LOCALITIES_ONLY, DEMO_REFERENCE = "localities", "demo"
REFERENCES = (LOCALITIES_ONLY, DEMO_REFERENCE)
# Who the localities of a new real workspace are written by: not the demo generator, whose name marks invented data.
SETUP_ACTOR = Actor(user="new workspace", device_id="setup-00000000")
STALE_AFTER_DAYS = 7  # a demo whose history stopped a week or more ago shows rounds nobody missed
# Tables `info` counts; later issues append theirs.
MAIN_TABLES = [
    "localities",
    "pcns",
    "practices",
    "care_homes",
    "staff",
    "audit",
    "risk_runs",
    "patients",
    "cohort_changes",
    "interventions",
    "meetings",
    "meeting_attendees",
    "meeting_items",
    "actions",
    "residents",
    "visits",
    "visit_residents",
    "returns",
    "return_values",
]


def get_meta(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db: sqlite_utils.Database, **values: str) -> None:
    for key, value in values.items():
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def kind(db: sqlite_utils.Database) -> str:
    return get_meta(db, "kind", "locality") or "locality"


def require_patient_level(db: sqlite_utils.Database) -> None:
    """Refuse to write patient-identifiable data into a commissioner workspace (DESIGN §14)."""
    if kind(db) == "commissioner":
        raise ValidationError(
            "This is a commissioner workspace, which never holds patient-identifiable data. "
            "Open the team's locality workspace (File → Open) to work with patients."
        )


def data_ends(db: sqlite_utils.Database) -> dt.date | None:
    """The day a demo workspace's made-up history stops; None for a real workspace, whose data goes on.

    Demo worlds record it when built; one built before they did ends on its last recorded visit.
    """
    if get_meta(db, "demo_seed") is None:
        return None
    recorded = get_meta(db, "demo_data_ends")
    if recorded is None:
        recorded = db.execute("SELECT MAX(visited_on) FROM visits").fetchone()[0]
    return dt.date.fromisoformat(recorded) if recorded else None


def data_ends_note(db: sqlite_utils.Database, today: dt.date) -> str:
    """What to tell the user when a demo workspace's history stops well before *today*; "" when it does not."""
    ends = data_ends(db)
    if ends is None or (today - ends).days < STALE_AFTER_DAYS:
        return ""
    return (
        f"This demo workspace's data ends on {ends:%d/%m/%Y}: the weeks since show as missed rounds and "
        "overdue work that nobody missed. It shows what was true then. For a team as it stands today, build "
        "a new demo workspace (File → New workspace)."
    )


def locality_by_code(db: sqlite_utils.Database, code: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM localities WHERE code = ?", [code.upper()]))
    if not rows:
        known = ", ".join(r["code"] for r in db.query("SELECT code FROM localities ORDER BY code"))
        raise ValidationError(f"There is no locality '{code}' in this workspace. Known: {known}.")
    return rows[0]


def localities(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, code, name, ccg FROM localities ORDER BY name COLLATE NOCASE"))


def info(db: sqlite_utils.Database) -> dict[str, Any]:
    """The workspace summary that `locality-desk info --json` prints."""
    practices: dict[str, list[str]] = {}
    for r in db.query("SELECT locality_id, ods_code FROM practices ORDER BY ods_code"):
        practices.setdefault(r["locality_id"], []).append(r["ods_code"])
    homes: dict[str, list[str]] = {}
    for r in db.query("SELECT locality_id, cqc_id FROM care_homes ORDER BY cqc_id"):
        homes.setdefault(r["locality_id"], []).append(r["cqc_id"])
    return {
        "schema_version": schema_version(db),
        "kind": kind(db),
        "data_ends": (ends := data_ends(db)) and ends.isoformat(),
        "localities": [
            {
                "code": loc["code"],
                "name": loc["name"],
                "practices": practices.get(loc["id"], []),
                "care_homes": homes.get(loc["id"], []),
            }
            for loc in db.query("SELECT id, code, name FROM localities ORDER BY code")
        ],
        "counts": {t: db.execute(f"SELECT COUNT(*) FROM [{t}]").fetchone()[0] for t in MAIN_TABLES},
    }


def create_workspace(
    path: str | Path, workspace_kind: str, *, reference: str = LOCALITIES_ONLY
) -> sqlite_utils.Database:
    """A new workspace: with *reference* "localities" (the default) it holds only the 11 localities, which are real,
    ready for the practices and PCNs from the NHS's own files; with "demo" also the demo's invented practices, PCNs,
    care homes and staff, for tests and tools that need a world without building the whole demo.

    The default is the empty one so that no way of making a workspace, present or future, hands a real team
    invented reference data it did not ask for.
    """
    from .demo.context import DEFAULT_SEED, DemoContext
    from .demo.reference_world import build_localities, build_reference

    if workspace_kind not in KINDS:
        raise ValidationError(f"Kind must be one of {', '.join(KINDS)}, not '{workspace_kind}'.")
    if reference not in REFERENCES:
        raise ValidationError(f"Reference must be one of {', '.join(REFERENCES)}, not '{reference}'.")
    path = Path(path)
    if path.exists() and path.stat().st_size:
        raise ValidationError(f"{path} already exists; choose a new file name so nothing is overwritten.")
    db = open_workspace(path)
    with db.atomic():
        ctx = DemoContext(db=db, seed=DEFAULT_SEED, small=False)
        if reference == DEMO_REFERENCE:
            build_reference(ctx)
        else:
            build_localities(replace(ctx, actor=SETUP_ACTOR))
        set_meta(db, kind=workspace_kind)
    return db
