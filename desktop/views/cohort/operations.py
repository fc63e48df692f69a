"""Every user action that writes, as one small named function (STYLE practice 2).

Each calls one desktop.models operation with the session's actor and publishes what it changed.
Single-record edits take a few milliseconds, so they run on the GUI thread; work that grows with the
data (an import, a bulk change, an export) goes through desktop.views.kit.tasks, on its own connection, and
hands what it did to a callback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from ...models import audit
from ...models.changes import Changes
from ...models.cohort import caseload, worklists
from ...models.cohort import rules as cohort_rules
from ...models.cohort.frame import CohortFrame
from ...models.progress import check_cancel
from ..kit.session import Session
from ..kit.tasks import Failed, Task, start_task

if TYPE_CHECKING:  # the import's machinery is imported when an import is first asked for, not with the screen
    from ...models.cohort import rollback
    from ...models.cohort.extract_rules import CheckedExtract, Rejection
    from ...models.cohort.risk_import import ImportResult


def check_extract(
    parent: QWidget,
    session: Session,
    locality_code: str,
    path: Path,
    extract_date: dt.date,
    mapping: dict[str, str],
    done: Callable[[CheckedExtract], None],
    failed: Failed,
    cancelled: Callable[[], None],
    sheet: str | None = None,
) -> Task:
    """Read and check every row of an extract (of a workbook, its *sheet*), writing nothing; what it found goes to
    *done*."""
    from ...models.cohort import risk_import

    def job(db, _progress, cancel):
        # Only the counts, the rejections and the cohort are shown: the rest of the population is not kept.
        checked = risk_import.check_extract(
            db, locality_code, path, extract_date, mapping, sheet=sheet, cohort_only=True
        )
        check_cancel(cancel)
        if checked.rows:  # what Import would ask about, said now
            found = risk_import.assess(db, locality_code, checked)
            checked.notes = [*checked.notes, *(f.text for f in found.findings)]
        return checked

    return start_task(parent, f"Checking {path.name}…", session.path, job, done, failed, cancelled)


def import_extract(
    parent: QWidget,
    session: Session,
    locality_code: str,
    path: Path,
    extract_date: dt.date,
    mapping: dict[str, str],
    done: Callable[[ImportResult], None],
    failed: Failed,
    cancelled: Callable[[], None],
    sheet: str | None = None,
    accept: bool = False,
) -> Task:
    """Import an extract as a new run, published before *done* hears of it; a Cancel (rolled back) or a
    ValidationError (refused; ImplausibleExtract when the file does not look whole and *accept* is False) leaves
    no trace. Edit → Undo then offers to roll the import back."""
    actor = session.actor

    from ...models.cohort import risk_import

    def job(db, progress, cancel):
        return risk_import.import_extract(
            db, actor, locality_code, path, extract_date, mapping, progress, cancel, sheet=sheet, accept=accept
        )

    def published(result: ImportResult) -> None:
        run_id = result.run_id
        session.undo.push(
            f"Import of {path.name}",
            lambda db, actor: _rolled_back(db, actor, locality_code, run_id),
        )
        session.publish(result.changes)
        done(result)

    return start_task(parent, f"Importing {path.name}…", session.path, job, published, failed, cancelled)


def roll_back_import(session: Session, locality_code: str) -> rollback.LastImport:
    """Undo the locality's last import (a few hundred rows at most are written back, so on the GUI thread)."""
    from ...models.cohort import rollback

    undone = rollback.roll_back(session.db, session.actor, locality_code)
    session.publish(rollback.changes())
    return undone


def _rolled_back(db, actor, locality_code: str, run_id: str) -> Changes:
    from ...models.cohort import rollback

    rollback.roll_back(db, actor, locality_code, run_id)
    return rollback.changes()


def save_rejections(
    session: Session, rejections: Sequence[Rejection], out: Path, locality_name: str, extract_name: str | None
) -> int:
    """Write an extract's rejected rows to *out*, marked and audited (a few thousand rows at most: on the GUI
    thread); returns how many."""
    from ...models.cohort import rejections_export

    written = rejections_export.write_rejections(
        session.db, session.actor, rejections, out, locality_name, extract_name
    )
    session.publish(Changes.of("audit"))
    return written


def view_patient(session: Session, patient: dict[str, Any]) -> None:
    """Note in the audit trail that the user opened *patient*'s record (one write, well under a millisecond)."""
    audit.record_view(session.db, session.actor, patient)
    session.publish(Changes.of("audit"))


def update_patient(session: Session, patient_id: str, changes: dict[str, Any], origin: object = None) -> None:
    """Save one patient's caseload edits (undoable); ValidationError names the field (exc.field)."""
    written = caseload.update_patients(session.db, session.actor, [patient_id], changes, undo=session.undo)
    session.publish(written, origin=origin)


def update_patients(
    parent: QWidget,
    session: Session,
    patient_ids: list[str],
    changes: dict[str, Any],
    done: Callable[[], None],
    failed: Failed,
    cancelled: Callable[[], None],
) -> Task:
    """The same edit to many patients at once, all or none and one undo step, off the GUI thread (it grows with
    the selection); published before *done* is called. The progress dialog is application-modal, so nothing
    else touches the stack meanwhile."""
    actor, undo = session.actor, session.undo

    def job(db, _progress, cancel):
        # update_patients takes no cancel check, so a Cancel pressed meanwhile undoes the lot at the end; the
        # recording encloses the check, so a cancelled change leaves no undo step behind either.
        with undo.recording(db):
            changed = caseload.update_patients(db, actor, patient_ids, changes, undo=undo)
            check_cancel(cancel)
        return changed

    def published(changed) -> None:
        session.publish(changed)
        done()

    return start_task(
        parent, f"Updating {len(patient_ids):,} patients…", session.path, job, published, failed, cancelled
    )


def add_intervention(
    session: Session, patient_id: str, kind: str, delivered_on: dt.date, delivered_by_id: str | None, note: str
) -> str:
    """Record an intervention (undoable: a care-plan review's new review date goes back with it)."""
    row_id, changes = caseload.add_intervention(
        session.db, session.actor, patient_id, kind, delivered_on, delivered_by_id, note, undo=session.undo
    )
    session.publish(changes)
    return row_id


def save_cohort_rules(session: Session, rules: cohort_rules.CohortRules) -> None:
    session.publish(cohort_rules.save(session.db, session.actor, rules))


def export_worklist(
    parent: QWidget,
    session: Session,
    frame: CohortFrame,
    key: str,
    out: Path,
    locality_name: str,
    done: Callable[[int], None],
    failed: Failed,
) -> Task:
    """Write a worklist to .xlsx or .csv (audited); *done* hears how many patients it holds. A Cancel leaves no
    file and a note in the status bar."""
    actor = session.actor

    def job(db, _progress, cancel):
        with db.atomic():
            written = worklists.export(db, actor, frame, key, out, locality_name)
            if cancel():  # a file the user gave up on is not left behind, nor is its audit entry
                out.unlink(missing_ok=True)
                check_cancel(cancel)
        return written

    return start_task(
        parent,
        f"Writing {out.name}…",
        session.path,
        job,
        done,
        failed,
        failure_title="Worklist not exported",  # the note a Cancel leaves in the status bar
    )
