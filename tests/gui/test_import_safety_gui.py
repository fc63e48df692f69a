"""A wrong extract picked by mistake, as a matron meets it: asked before it lands, undone after (issue 22)."""

from __future__ import annotations

import csv

from cohort_helpers import EXTRACT_DATE, locality_id, wait_loaded
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models.cohort import frame as cohort
from desktop.models.cohort import rollback
from desktop.views.cohort import import_dialog
from desktop.views.cohort.import_history import ImportHistoryDialog


def one_practice_file(extract, tmp_path, db):
    """The rows of the extract's busiest Charnwood practice only: one practice's file, picked by mistake."""
    mine = {r[0] for r in db.execute("SELECT ods_code FROM practices WHERE locality_id = ?", [locality_id(db)])}
    with open(extract, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    counts: dict[str, int] = {}
    for row in (r for r in rows if r["practice_code"] in mine):
        counts[row["practice_code"]] = counts.get(row["practice_code"], 0) + 1
    busiest = max(counts, key=counts.get)
    path = tmp_path / "one-practice.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["practice_code"] == busiest)
    return path, busiest


def import_through_dialog(qtbot, page, monkeypatch, path):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    page.import_extract()
    dialog = page.dialog
    dialog.date_edit.setDate(QDate(EXTRACT_DATE.year, EXTRACT_DATE.month, EXTRACT_DATE.day))
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    return dialog


def answer(monkeypatch, yes: bool) -> list[str]:
    asked: list[str] = []

    def confirm(_parent, title, text, action):
        asked.append(f"{title}\n{text}\n[{action}]")
        return yes

    monkeypatch.setattr(import_dialog.messages, "confirm", confirm)
    return asked


def runs(db) -> int:
    return db.execute("SELECT COUNT(*) FROM risk_runs").fetchone()[0]


def test_a_one_practice_file_is_questioned_and_only_that_practice_changes_when_accepted(
    qtbot, loaded, session, extract, tmp_path, monkeypatch
):
    path, practice = one_practice_file(extract, tmp_path, session.db)
    before_runs, before_total = runs(session.db), len(cohort.load(session.db, locality_id(session.db)))

    # Check says it before Import is pressed.
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    loaded.import_extract()
    loaded.dialog.date_edit.setDate(QDate(EXTRACT_DATE.year, EXTRACT_DATE.month, EXTRACT_DATE.day))
    qtbot.mouseClick(loaded.dialog.check_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert runs(session.db) == before_runs
    assert "This file covers 1 of the" in loaded.dialog.notes_label.text()
    loaded.dialog.reject()

    asked = answer(monkeypatch, yes=False)
    dialog = import_through_dialog(qtbot, loaded, monkeypatch, path)
    assert len(asked) == 1, dialog.banner.text()
    assert "covers 1 of the" in asked[0] and "as left" in asked[0]
    assert "[Import these practices only]" in asked[0]
    assert runs(session.db) == before_runs  # declined: nothing written
    assert dialog.banner.isVisible() and "does not look like" in dialog.banner.text()
    dialog.reject()

    asked = answer(monkeypatch, yes=True)
    dialog = import_through_dialog(qtbot, loaded, monkeypatch, path)
    assert runs(session.db) == before_runs + 1
    result = dialog.result
    assert result.partial["covered"] == [practice] and result.findings
    assert dialog.notes_label.isVisible() and "accepted: This file covers 1 of the" in dialog.notes_label.text()
    # The other practices' patients are still in the cohort: only the covered practice's leavers left.
    assert len(cohort.load(session.db, locality_id(session.db), include_left=False)) == result.cohort["total"]
    assert result.cohort["total"] > before_total // 2
    dialog.accept()


def test_edit_undo_rolls_an_import_back(qtbot, window, cohort_page, session, extract, monkeypatch):
    before = runs(session.db)
    dialog = import_through_dialog(qtbot, cohort_page, monkeypatch, extract)
    dialog.accept()
    assert runs(session.db) == before + 1
    undo = window.edit_menu.undo_action
    window.edit_menu.refresh()
    assert undo.isEnabled() and undo.text() == f"&Undo Import of {extract.name}"
    undo.trigger()
    assert runs(session.db) == before
    wait_loaded(qtbot, cohort_page)
    assert cohort_page.model.rowCount() == 0  # the screen followed: no cohort any more
    assert not window.edit_menu.undo_action.isEnabled()


def test_the_import_history_rolls_back_the_last_import_after_asking(qtbot, loaded, session, confirmed):
    locality = next(iter(session.db.query("SELECT * FROM localities WHERE code = 'CHA'")))
    dialog = ImportHistoryDialog(session, locality, loaded)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    assert dialog.roll_back_button.isEnabled() and "Rolling it back returns the cohort to" in dialog.note.text()
    qtbot.mouseClick(dialog.roll_back_button, Qt.MouseButton.LeftButton)
    assert len(confirmed) == 1 and "Roll back the last import?" in confirmed[0]
    assert runs(session.db) == 0 and dialog.table.rowCount() == 0
    assert not dialog.roll_back_button.isEnabled() and "No extract has been imported" in dialog.note.text()
    wait_loaded(qtbot, loaded)
    assert loaded.model.rowCount() == 0


def test_the_import_history_says_why_an_import_cannot_be_rolled_back(qtbot, loaded, session):
    frame = cohort.load(session.db, locality_id(session.db))
    newcomer = frame.ids[0]
    from desktop.models.cohort import caseload

    caseload.update_patients(session.db, session.actor, [newcomer], {"status": "contacted"})
    locality = next(iter(session.db.query("SELECT * FROM localities WHERE code = 'CHA'")))
    dialog = ImportHistoryDialog(session, locality, loaded)
    qtbot.addWidget(dialog)
    assert not dialog.roll_back_button.isEnabled()
    assert "cannot be rolled back" in dialog.note.text() and "started work on 1 patient" in dialog.note.text()
    assert rollback.last_import(session.db, "CHA").refusal


def test_file_import_history_opens_on_the_chosen_locality(qtbot, window, loaded):
    window.import_history_action.trigger()
    dialog = window.history_dialog
    assert dialog.isVisible() and dialog.windowTitle() == "Import history — Charnwood"
    assert dialog.table.rowCount() == 1
    dialog.reject()


def test_the_cohort_screens_import_history_button_opens_it(qtbot, window, loaded):
    qtbot.mouseClick(loaded.header.history_button, Qt.MouseButton.LeftButton)
    assert window.history_dialog.isVisible() and window.history_dialog.table.rowCount() == 1
    window.history_dialog.reject()
