"""What the sync tests share: who made a change and when, whether a workspace holds a row, a care home nobody uses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from desktop.models.clock import Actor
from desktop.models.db import open_workspace


def actor(user: str, at: str = "2026-07-01T09:00:00+00:00") -> Actor:
    return Actor(user, f"laptop-{user}", fixed_time=at)


def has(path: Path, table: str, row_id: str) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM {table} WHERE id = ?", [row_id]).fetchone()[0] == 1
    finally:
        conn.close()


def edit_first_practice(path: Path, who: Actor, **values) -> str:
    """Edit the first practice (by ODS code) as *who*; its id."""
    from desktop.models import reference

    db = open_workspace(path)
    try:
        p = next(iter(db.query("SELECT * FROM practices ORDER BY ods_code LIMIT 1")))
        reference.save(db, who, "practices", {**p, **values}, p["id"])
        return p["id"]
    finally:
        db.close()


def unused_home(path: Path) -> dict:
    """A care home with no visits and no residents, so a test may change or delete it freely."""
    db = open_workspace(path)
    try:
        return next(
            iter(
                db.query(
                    "SELECT * FROM care_homes WHERE id NOT IN (SELECT care_home_id FROM visits) "
                    "AND id NOT IN (SELECT care_home_id FROM residents) ORDER BY cqc_id LIMIT 1"
                )
            )
        )
    finally:
        db.close()
