"""Whose work the My work screen shows: the user's own, found by name on the locality's staff list, unless they
chose someone on the screen ("Show the work of…"); the choice is remembered per workspace, locality and user,
so a matron whose name is spelt differently on the staff list chooses herself once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from ...models import my_work
from ...settings import Settings

REMEMBERED = 40  # choices kept, newest first


def _key(path: Path, locality_id: str, user: str) -> list[str]:
    return [str(Path(path).resolve()), locality_id, my_work.normal_name(user)]


def chosen(settings: Settings, path: Path, locality_id: str, user: str) -> str | None:
    """The staff id chosen on the screen for this workspace, locality and user, if any."""
    key = _key(path, locality_id, user)
    for entry in settings.state("my_work_staff"):
        parts = entry.split("\t")
        if len(parts) == 4 and parts[:3] == key:
            return parts[3]
    return None


def remember(settings: Settings, path: Path, locality_id: str, user: str, staff_id: str) -> None:
    key = _key(path, locality_id, user)
    others = [e for e in settings.state("my_work_staff") if e.split("\t")[:3] != key]
    settings.set_state("my_work_staff", ["\t".join([*key, staff_id]), *others][:REMEMBERED])


def resolve(
    db: sqlite_utils.Database, settings: Settings, path: Path, locality_id: str, user: str
) -> tuple[dict[str, Any] | None, bool]:
    """(the staff row whose work to show or None, whether it is the user's own by name)."""
    staff_id = chosen(settings, path, locality_id, user)
    if staff_id:
        row = next((s for s in my_work.staff_of(db, locality_id) if s["id"] == staff_id), None)
        if row is not None:
            return row, my_work.normal_name(row["name"]) == my_work.normal_name(user)
    row = my_work.match_staff(db, locality_id, user)
    return row, row is not None
