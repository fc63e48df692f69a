"""What the Cohort screen's buttons do: ask what is needed (a file, a choice, a confirmation), then call one
operation. Kept apart from the page so the page holds only the table and its state."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from ...models.cohort.worklists import BY_KEY, MARKING, marked
from ..kit import formats, messages, output_guard
from . import operations

if TYPE_CHECKING:
    from .page import CohortPage

EXPORT_FILTER = "Excel workbook (*.xlsx);;CSV file (*.csv)"


def import_extract(page: CohortPage) -> None:
    """Pick a CSV, then open the import dialog on it (Ctrl+I)."""
    if page.session.kind == "commissioner" or page.locality is None:
        messages.warn(
            page,
            "Nothing to import into",
            "Risk extracts are imported into a locality workspace, "
            "for one of its localities. Open a locality workspace first.",
        )
        return
    from .import_dialog import ImportDialog, choose_extract  # with the first import: not when the screen is shown

    path = choose_extract(page, page.settings)
    if path is None:
        return
    page.dialog = ImportDialog(page.session, page.locality, page.settings, path, page)
    page.dialog.imported.connect(
        lambda result: page.status_message(
            f"Imported {path.name}: {result.cohort['total']:,} patients in the cohort, {result.new:,} new, "
            f"{result.left:,} left, {result.changed:,} changed."
        )
    )
    page.dialog.open()


def edit_rules(page: CohortPage) -> None:
    if page.session.kind == "commissioner":
        return
    from .rules_dialog import CohortRulesDialog

    page.dialog = CohortRulesDialog(page.session, page)
    page.dialog.accepted.connect(lambda: page.status_message("Cohort criteria saved. They apply from the next import."))
    page.dialog.open()


def bulk_change(page: CohortPage, what: str) -> None:
    """Assign a case manager to, or set the status of, every selected patient, after naming how many."""
    ids = page.table.selected_ids()
    if not ids:
        return

    from .caseload_dialogs import BulkDialog

    save = partial(operations.update_patients, page, page.session, ids)
    page.dialog = BulkDialog(what, len(ids), page.staff, save, page)
    page.dialog.accepted.connect(lambda: page.status_message(f"Updated {formats.count(len(ids), 'patient')}."))
    page.dialog.open()


def export_worklist(page: CohortPage) -> None:
    """Confirm that the file will hold patient-identifiable data, ask where, write it, say how many."""
    key = page.worklists.current()
    if key is None or page.frame is None:
        return
    worklist = BY_KEY[key]
    count = page.worklists.counts.get(key, 0)
    patients = formats.count(count, "patient")
    if not messages.confirm(
        page,
        "Export patient-identifiable data?",
        f"The “{worklist.title}” worklist for {page.locality['name']} holds {patients}. The file will contain "
        f"their names, NHS numbers and dates of birth, and is {MARKING} (its suggested name says so, as does "
        "an Excel file's first row): keep it on an NHS-approved, encrypted device and delete it when you are "
        "done. The export is recorded in the audit trail.\n\n"
        "All patients on the worklist are exported; the filters above the table do not apply.",
        f"Export {patients}",
    ):
        return
    folder = page.settings.state("export_directory") or page.settings.state("extract_directory")
    suggested = str(marked(Path(folder) / f"{page.locality['code'].lower()}-{key.replace('_', '-')}.xlsx"))
    name, chosen = QFileDialog.getSaveFileName(page, "Export worklist", suggested, EXPORT_FILTER)
    if not name:
        return
    out = Path(name)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        out = out.with_suffix(".csv" if "csv" in (chosen or "").lower() else ".xlsx")
    if not output_guard.allowed(page, out, page.session.path):
        return
    page.settings.set_state("export_directory", str(out.parent))

    def exported(written: int) -> None:
        page.status_message(f"Exported {formats.count(written, 'patient')} on “{worklist.title}” to {out}.")

    def failed(exc: BaseException) -> None:
        if isinstance(exc, OSError):  # most often the file is open in Excel, which locks it
            messages.not_written(page, exc, out)
        else:
            messages.show_error(page, "Cannot export the worklist", exc)

    operations.export_worklist(page, page.session, page.frame, key, out, page.locality["name"], exported, failed)
