"""Importing a risk extract through the real dialog: mapping, checking, importing, refusing, cancelling."""

from __future__ import annotations

import csv

import pytest
from cohort_helpers import EXTRACT_DATE, locality_id, wait_loaded
from corpus_extracts import EXTRACTS
from corpus_helpers import CHA_PRACTICES, content_digest
from extract_helpers import HEADER, patient
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.cohort import frame as cohort
from desktop.models.cohort import risk_import


def open_dialog(page, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    page.import_extract()
    dialog = page.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.date_edit.setDate(QDate(EXTRACT_DATE.year, EXTRACT_DATE.month, EXTRACT_DATE.day))
    return dialog


def runs(db):
    return db.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0]


def test_importing_an_extract_through_the_dialog_lands_a_run_and_fills_the_table(
    qtbot, cohort_page, session, extract, monkeypatch, settings
):
    before = runs(session.db)
    dialog = open_dialog(cohort_page, monkeypatch, extract)
    assert settings.state("extract_directory") == str(extract.parent)
    assert dialog.preview_model.rowCount() == 20
    assert dialog.mapping.mapping()["nhs_number"] == "nhs_number"
    assert not dialog.banner.isVisible()

    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    checked = dialog.checked
    assert checked.rows == 3000 and 0 < checked.imported < 3000
    assert f"{checked.imported:,}" in dialog.results_label.text()
    assert dialog.rejections_model.rowCount() == len(checked.rejections)
    assert runs(session.db) == before  # checking writes nothing

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert runs(session.db) == before + 1
    result = dialog.result
    assert dialog.stack.currentWidget() is dialog.summary
    assert dialog.summary.tiles["total"].text() == f"{result.cohort['total']:,}"
    assert dialog.summary.tiles["rejected"].text() == f"{result.rejected:,}"
    run = cohort.latest_run(session.db, locality_id(session.db))
    assert (run["file_name"], run["extract_date"]) == (extract.name, EXTRACT_DATE.isoformat())
    assert audit.entries(session.db, "risk_runs", run["id"])[0]["action"] == "import"

    wait_loaded(qtbot, cohort_page)
    frame = cohort.load(session.db, locality_id(session.db))
    assert cohort_page.model.rowCount() == len(frame) > 0
    assert cohort_page.count.text() == f"{len(frame):,} patients"
    assert extract.name in cohort_page.header.run_label.text()
    dialog.accept()


def test_a_refused_file_shows_its_message_and_writes_nothing(cohort_page, session, tmp_path, monkeypatch):
    before, logged = runs(session.db), len(audit.entries(session.db))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("surname,postcode\nSmith,LE11 1AA\n", encoding="utf-8")
    dialog = open_dialog(cohort_page, monkeypatch, wrong)
    assert dialog.banner.isVisible()
    assert "has no column for nhs_number" in dialog.banner.text()
    assert not dialog.import_button.isEnabled() and not dialog.check_button.isEnabled()
    dialog.do_import()

    binary = tmp_path / "extract.xlsx"
    binary.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    dialog.load_file(binary)
    # An .xlsx is read as a workbook now (issue 21): a damaged one says so.
    assert "could not be read as an Excel workbook" in dialog.banner.text()
    assert "Nothing has been imported" in dialog.banner.text()
    assert not dialog.sheet_row.isVisible()
    binary = tmp_path / "extract.csv"
    binary.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    dialog.load_file(binary)
    assert "is not a CSV file" in dialog.banner.text()
    assert not dialog.import_button.isEnabled()
    assert runs(session.db) == before and len(audit.entries(session.db)) == logged


def test_a_file_with_no_valid_row_is_refused_whole(qtbot, cohort_page, session, tmp_path, monkeypatch):
    before = runs(session.db)
    path = tmp_path / "elsewhere.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "nhs_number",
                "date_of_birth",
                "practice_code",
                "ltc_count",
                "efi_score",
                "predicted_cost",
                "expected_cost",
            ]
        )
        writer.writerow(["9000000009", "01/01/1940", "X99999", "6", "0.3", "100", "90"])
    dialog = open_dialog(cohort_page, monkeypatch, path)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert dialog.stack.currentWidget() is not dialog.summary
    assert "No row of elsewhere.csv could be imported" in dialog.banner.text()
    assert "the cohort is as it was" in dialog.banner.text()
    assert runs(session.db) == before


def test_an_unrecognised_heading_is_mapped_by_hand_and_remembered(
    qtbot, cohort_page, session, extract, tmp_path, monkeypatch
):
    renamed = tmp_path / "renamed.csv"
    lines = extract.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("nhs_number", "Patient Identifier Ten")
    renamed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dialog = open_dialog(cohort_page, monkeypatch, renamed)
    assert "no column for nhs_number" in dialog.banner.text()
    assert "✗</span> NHS number" in dialog.required_label.text()

    dialog.mapping.set_target("Patient Identifier Ten", "nhs_number")
    assert not dialog.banner.isVisible()
    assert dialog.import_button.isEnabled()
    # A canonical column comes from one heading only: taking it elsewhere clears it here.
    dialog.mapping.set_target("given_name", "nhs_number")
    assert "Patient Identifier Ten" not in dialog.mapping.mapping()
    dialog.mapping.set_target("Patient Identifier Ten", "nhs_number")
    dialog.mapping.set_target("given_name", "given_name")

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert dialog.result is not None
    assert risk_import.remembered_mapping(session.db)["Patient Identifier Ten"] == "nhs_number"


def test_a_cancelled_import_says_it_was_rolled_back(qtbot, cohort_page, session, extract, monkeypatch):
    before, logged = runs(session.db), len(audit.entries(session.db))
    dialog = open_dialog(cohort_page, monkeypatch, extract)
    real = risk_import.import_extract

    def cancelled_while_writing(db, actor, code, path, date, mapping, progress, _cancel, **options):
        # Cancel pressed once the run is half written: the import's own check stops it inside its transaction.
        return real(db, actor, code, path, date, mapping, progress, lambda: db.conn.in_transaction, **options)

    monkeypatch.setattr(risk_import, "import_extract", cancelled_while_writing)
    dialog.do_import()
    finish_tasks(qtbot)
    assert "cancelled" in dialog.banner.text() and "rolled back" in dialog.banner.text()
    assert dialog.import_button.isEnabled() and dialog.stack.currentWidget() is not dialog.summary
    assert runs(session.db) == before and len(audit.entries(session.db)) == logged


def test_rejections_are_saved_as_csv(qtbot, cohort_page, extract, tmp_path, monkeypatch):
    dialog = open_dialog(cohort_page, monkeypatch, extract)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert dialog.save_rejections_button.isVisible()
    out = tmp_path / "rejected.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(dialog.save_rejections_button, Qt.MouseButton.LeftButton)
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0].startswith("OFFICIAL-SENSITIVE") and rows[1] == ["row", "column", "reason"]
    assert len(rows) - 2 == len(dialog.checked.rejections)


def test_rejections_sort_by_any_column(qtbot, cohort_page, extract, monkeypatch):
    dialog = open_dialog(cohort_page, monkeypatch, extract)
    dialog.check()
    finish_tasks(qtbot)
    model = dialog.rejections_model
    dialog.rejections.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    rows = [r.row for r in model.records()]
    assert rows == sorted(rows, reverse=True)
    dialog.rejections.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    assert [r.reason for r in model.records()] == sorted(r.reason for r in model.records())


@pytest.mark.parametrize("older", [True, False])
def test_an_extract_older_than_the_latest_run_is_pointed_out(loaded, session, extract, monkeypatch, older):
    dialog = open_dialog(loaded, monkeypatch, extract)
    dialog.date_edit.setDate(QDate(2026, 10, 20) if older else QDate(EXTRACT_DATE.year, EXTRACT_DATE.month, 2))
    assert dialog.date_note.isVisibleTo(dialog) is older


# -- extracts as practice systems and risk tools write them (issue 21) ------------------------------------------


def test_the_file_dialog_offers_csv_files_and_excel_workbooks(cohort_page, monkeypatch, tmp_path):
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(a) or ("", ""))
    cohort_page.import_extract()
    filters = asked[0][3]
    assert all(f"*{suffix}" in filters.split(";;")[0] for suffix in (".csv", ".xlsx", ".xls"))


def test_a_report_with_title_lines_shows_them_apart_and_imports_as_its_twin(qtbot, cohort_page, session, monkeypatch):
    before = runs(session.db)
    dialog = open_dialog(cohort_page, monkeypatch, EXTRACTS / "emis_web_report.csv")
    assert not dialog.banner.isVisible()
    assert dialog.title_lines.isVisible()
    text = dialog.title_lines.text()
    assert "Rows 1–5 are the report's title, above the column headings (row 6), and not imported" in text
    assert "Locality risk stratification - frailty, LTCs and cost" in text and "Population count, 10" in text
    assert "Below the patients, the report's summary is left out: row 18: Total: 10 patients" in text
    model = dialog.preview_model
    assert model.rowCount() == 10  # the patients only: the total line below them is set apart too
    assert model.headerData(0, Qt.Orientation.Vertical) == "7"  # numbered as the file's rows
    assert model.headerData(0, Qt.Orientation.Horizontal) == "NHS Number"
    mapping = dialog.mapping.mapping()
    assert mapping["Practice Code"] == "practice_code" and "Organisation" not in mapping
    assert "recognised as the usual GP" in dialog.mapping.combos["Usual GP"].toolTip()

    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert (dialog.checked.rows, dialog.checked.imported) == (10, 9)
    assert dialog.notes_label.isVisible() and "row 18: 'Total: 10 patients'" in dialog.notes_label.text()
    assert runs(session.db) == before

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert dialog.result.imported == 9 and dialog.result.rejections[0].row == 13
    assert "Total: 10 patients" in dialog.notes_label.text()
    assert runs(session.db) == before + 1


def test_a_workbook_of_two_sheets_offers_the_sheets_and_refuses_the_wrong_one(qtbot, cohort_page, session, monkeypatch):
    before, digest = runs(session.db), content_digest(session.path)
    dialog = open_dialog(cohort_page, monkeypatch, EXTRACTS / "two_sheets.xlsx")
    assert dialog.sheet_row.isVisible()
    box = dialog.sheet_box
    assert [box.itemText(i) for i in range(box.count())] == ["About", "Patients"]
    assert box.currentText() == "Patients"  # the sheet holding the extract is chosen at first
    assert "Excel workbook, sheet 'Patients'" in dialog.file_label.text()
    assert dialog.preview_model.rowCount() == 10

    box.setCurrentText("About")
    assert dialog.banner.isVisible()
    assert "The sheet 'About' of two_sheets.xlsx holds no risk extract" in dialog.banner.text()
    assert "'About' and 'Patients'. 'Patients' has a risk extract's headings" in dialog.banner.text()
    assert not dialog.import_button.isEnabled() and not dialog.check_button.isEnabled()
    assert dialog.sheet_row.isVisible() and box.count() == 2  # to choose again
    dialog.do_import()
    finish_tasks(qtbot)
    assert runs(session.db) == before and content_digest(session.path) == digest

    box.setCurrentText("Patients")
    assert not dialog.banner.isVisible() and dialog.import_button.isEnabled()
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert (dialog.result.rows, dialog.result.imported) == (10, 9)
    assert runs(session.db) == before + 1


def test_the_sheet_chosen_is_the_sheet_imported(qtbot, cohort_page, session, monkeypatch, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for title, count in (("October", 3), ("November", 5)):
        sheet = book.create_sheet(title)
        sheet.append(HEADER)
        for n in range(1, count + 1):
            row = patient(n, CHA_PRACTICES[n % 2])
            sheet.append([row[h] for h in HEADER])
    book.remove(book.active)
    path = tmp_path / "two-months.xlsx"
    book.save(path)
    dialog = open_dialog(cohort_page, monkeypatch, path)
    assert dialog.sheet_box.currentText() == "October" and dialog.preview_model.rowCount() == 3
    dialog.sheet_box.setCurrentText("November")
    assert dialog.preview_model.rowCount() == 5
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert (dialog.result.rows, dialog.result.imported) == (5, 5)
    assert "Read the sheet 'November' of the workbook" in dialog.notes_label.text()
