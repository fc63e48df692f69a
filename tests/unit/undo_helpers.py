"""What the undo tests share: a snapshot of whole tables and patient ids by number (their Charnwood is
tests/unit/conftest.py's `undo_world`)."""

from __future__ import annotations

from extract_helpers import synthetic_nhs

from desktop.models.clock import Actor
from desktop.models.identifiers import patient_id
from desktop.models.undo import STAMP

ACTOR = Actor(user="matron.a", device_id="laptop-7", fixed_time="2026-10-20T09:00:00+00:00")


def snapshot(db, tables: tuple[str, ...]) -> dict[str, dict[str, dict]]:
    """Every row of *tables*, keyed by id, without the stamp columns."""
    return {
        t: {r["id"]: {k: v for k, v in r.items() if k not in STAMP} for r in db.query(f"SELECT * FROM {t}")}
        for t in tables
    }


def pid(n: int) -> str:
    return patient_id(int(synthetic_nhs(n)))
