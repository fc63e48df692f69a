"""Writing a planned ODS import: one transaction, one undo step, every record's change audited.

What it never does: delete a record, or change a record's locality (the team's choice). A practice the file lists
as closed is marked closed (with its closing date) and a care home gone from the CQC register is marked
deregistered: the team's patients, residents and visits still point at them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import sqlite_utils

from .. import audit
from ..changes import Changes
from ..clock import Actor
from ..undo import UndoStack, recording
from ..workspace import set_meta
from .cqc import CQC_META_KEY
from .ods import read_files
from .plan import META_KEY, Plan, plan

STEP_NAME = "Update from NHS files"


# Every laptop that imports the same NHS file makes the same record under the same id, so two team members who
# each loaded the files still sync records that point at them (a random id per laptop would not match).
NHS_IDS = uuid.UUID("6f1d3c52-2a7e-4d1b-9a51-0c0ffee0d5a1")


def nhs_id(kind: str, code: str) -> str:
    return str(uuid.uuid5(NHS_IDS, f"{kind}:{code.strip().upper()}"))


def apply(db: sqlite_utils.Database, actor: Actor, planned: Plan, undo: UndoStack | None = None) -> Changes:
    """Write *planned*; a plan with nothing to change writes nothing, not even an audit entry."""
    if not planned.writes and not planned.store_commissioners and not planned.store_authorities:
        return Changes()
    stamp = actor.stamp()
    now = stamp["updated_at"]
    entries = []
    with recording(undo, db, STEP_NAME) as step:
        pcn_ids = {r["code"]: r["id"] for r in db.query("SELECT id, code FROM pcns")}
        for p in planned.new_pcns:
            row_id = nhs_id("pcn", p["code"])
            step.touch(db, "pcns", [row_id])
            db["pcns"].insert(
                {
                    "id": row_id,
                    "code": p["code"],
                    "name": p["name"],
                    "locality_id": p["locality_id"],
                    "created_at": now,
                    **stamp,
                }
            )
            pcn_ids[p["code"]] = row_id
            entries.append(("create", "pcns", row_id, f"Added PCN {p['code']} from the NHS file", p))
        for p in planned.renamed_pcns:
            step.touch(db, "pcns", [p["id"]])
            db["pcns"].update(p["id"], {"name": p["after"], **stamp})
            entries.append(("update", "pcns", p["id"], f"Renamed PCN {p['code']} from the NHS file", p))
        for p in planned.new_practices:
            row_id = nhs_id("practice", p["code"])
            step.touch(db, "practices", [row_id])
            db["practices"].insert(
                {
                    "id": row_id,
                    "ods_code": p["code"],
                    "name": p["name"],
                    "locality_id": p["locality_id"],
                    "pcn_id": pcn_ids.get(p["pcn"]) if p["pcn"] else None,
                    # Neither is in the NHS files: the team fills them in.
                    "list_size": 0,
                    "clinical_system": "",
                    "postcode": p["postcode"],
                    "created_at": now,
                    **stamp,
                }
            )
            entries.append(("create", "practices", row_id, f"Added practice {p['code']} from the NHS file", p))
        updates: dict[str, dict] = {}
        for kind, column in (("renamed", "name"), ("changed", "postcode")):
            for p in getattr(planned, kind):
                updates.setdefault(p["id"], {})[column] = p["after"]
        for p in planned.moved:
            updates.setdefault(p["id"], {})["pcn_id"] = pcn_ids[p["after"]]
        details = {p["id"]: p for kind in ("renamed", "changed", "moved") for p in getattr(planned, kind)}
        for row_id, values in updates.items():
            step.touch(db, "practices", [row_id])
            db["practices"].update(row_id, {**values, **stamp})
            code = details[row_id]["code"]
            entries.append(
                (
                    "update",
                    "practices",
                    row_id,
                    f"Changed practice {code} from the NHS file: {', '.join(values)}",
                    {"changes": values},
                )
            )
        for p in planned.to_close:
            step.touch(db, "practices", [p["id"]])
            db["practices"].update(p["id"], {"status": "closed", "closed_on": p["closed_on"], **stamp})
            entries.append(
                ("update", "practices", p["id"], f"Marked practice {p['code']} closed, as the NHS file says", p)
            )
        for h in planned.new_homes:
            row_id = nhs_id("care home", h["cqc_id"])
            step.touch(db, "care_homes", [row_id])
            columns = {k: v for k, v in h.items() if k not in ("locality", "basis")}
            db["care_homes"].insert({"id": row_id, **columns, "created_at": now, **stamp})
            entries.append(("create", "care_homes", row_id, f"Added care home {h['cqc_id']} from the CQC file", h))
        for h in planned.changed_homes:
            step.touch(db, "care_homes", [h["id"]])
            db["care_homes"].update(h["id"], {**{k: v[1] for k, v in h["changes"].items()}, **stamp})
            entries.append(
                (
                    "update",
                    "care_homes",
                    h["id"],
                    f"Changed care home {h['cqc_id']} from the CQC file: {', '.join(h['changes'])}",
                    h,
                )
            )
        for h in planned.deregistered_homes:
            step.touch(db, "care_homes", [h["id"]])
            db["care_homes"].update(
                h["id"], {"status": "deregistered", "deregistered_on": h["deregistered_on"], **stamp}
            )
            entries.append(
                (
                    "update",
                    "care_homes",
                    h["id"],
                    f"Marked care home {h['cqc_id']} deregistered: it is no longer in the CQC directory",
                    h,
                )
            )
        if planned.store_commissioners:
            set_meta(db, **{META_KEY: ",".join(planned.commissioners)})
        if planned.store_authorities:
            set_meta(db, **{CQC_META_KEY: ",".join(planned.local_authorities)})
        counts = {k: v for k, v in planned.counts().items() if v}
        entries.append(
            (
                "import",
                "reference",
                None,
                f"Updated reference data from the NHS and CQC files {', '.join(planned.files)}",
                {
                    "files": planned.files,
                    "commissioners": planned.commissioners,
                    "local_authorities": planned.local_authorities,
                    "counts": counts,
                },
            )
        )
        audit.append_many(db.conn, [audit.row(actor, *e) for e in entries])
    return Changes.of("pcns", "practices", "care_homes", "meta")


def import_files(
    db: sqlite_utils.Database,
    actor: Actor,
    files: Iterable[str | Path],
    *,
    dry_run: bool = False,
    commissioners: tuple[str, ...] | None = None,
    all_settings: bool = False,
    pcn_localities: dict[str, str] | None = None,
    local_authorities: tuple[str, ...] | None = None,
    undo: UndoStack | None = None,
) -> Plan:
    """Read, plan and (unless *dry_run*) apply; every refusal happens before anything is written."""
    planned = plan(
        db,
        read_files(files),
        commissioners=commissioners,
        all_settings=all_settings,
        pcn_localities=pcn_localities,
        local_authorities=local_authorities,
    )
    if not dry_run:
        apply(db, actor, planned, undo)
    return planned
