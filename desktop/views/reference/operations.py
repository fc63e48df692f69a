"""Every user action on the Reference data screen that writes, as one small named function (STYLE practice 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QWidget

from ...models import reference, reference_import
from ...models.changes import Changes
from ...models.progress import check_cancel
from ..kit.session import Session
from ..kit.tasks import Failed, Task, start_task


def save_record(session: Session, entity: str, values: dict[str, Any], row_id: str | None = None) -> str:
    """Add (row_id None) or change one reference record; ValidationError says which field is wrong."""
    row_id, changes = reference.save(session.db, session.actor, entity, values, row_id)
    session.publish(changes)
    return row_id


def delete_record(session: Session, entity: str, row_id: str) -> None:
    """Delete one reference record; ValidationError when other records still point at it."""
    session.publish(reference.delete(session.db, session.actor, entity, row_id))


def plan_update(
    parent: QWidget,
    session: Session,
    files: list[str],
    done: Callable[[reference_import.Plan], None],
    failed: Failed,
) -> Task:
    """Read the NHS files and compare them with the workspace, off the GUI thread, writing nothing: the preview.
    A file that is not an NHS file, or holds nothing for the area, is a ValidationError for *failed*."""

    def job(db, progress, cancel):
        progress(0.1, "Reading the NHS files…")
        ods = reference_import.read_files(files)
        check_cancel(cancel)
        progress(0.7, "Comparing them with this workspace…")
        planned = reference_import.plan(db, ods)
        check_cancel(cancel)
        return planned

    return start_task(
        parent,
        "Reading the NHS files…",
        session.path,
        job,
        done,
        failed,
        failure_title="Reference data not updated",
    )


def apply_update(session: Session, planned: reference_import.Plan) -> Changes:
    """Write a previewed update: one transaction, audited, one step Edit → Undo takes back. A few hundred rows at
    most, so it runs on the GUI thread; the preview dialog is modal, so nothing was written since the plan."""
    changes = reference_import.apply(session.db, session.actor, planned, session.undo)
    session.publish(changes)
    return changes
