"""Worklists with their counts, the export of one (after a warning about patient-identifiable data), and the
cohort criteria dialog."""

from __future__ import annotations

import csv

import pytest
from cohort_helpers import locality_id, wait_loaded
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.cohort import caseload, worklists
from desktop.models.cohort import frame as cohort
from desktop.models.cohort import rules as cohort_rules
from desktop.views.kit import messages


@pytest.fixture
def worked(qtbot, loaded, session):
    """Three patients put on the caseload with no care plan or case manager: on two worklists at once."""
    ids = [loaded.model.patient_id(r) for r in range(3)]
    changes = caseload.update_patients(session.db, session.actor, ids, {"status": "on caseload"})
    session.publish(changes)
    wait_loaded(qtbot, loaded)
    return loaded


def test_worklist_counts_match_the_domain(worked, session):
    frame = cohort.load(session.db, locality_id(session.db))
    counts = worklists.counts(frame)
    assert counts["no_care_plan"] >= 3
    for w in worklists.WORKLISTS:
        button = worked.worklists.buttons[w.key]
        assert button.text().endswith(f"  {counts[w.key]:,}")
        assert w.explanation in button.toolTip()
    assert worked.worklists.buttons["all"].text().endswith(f"  {len(frame):,}")


def test_clicking_a_worklist_shows_that_list(qtbot, worked):
    frame = worked.frame
    qtbot.mouseClick(worked.worklists.buttons["no_care_plan"], Qt.MouseButton.LeftButton)
    expected = {str(frame.ids[i]) for i in worklists.rows(frame, "no_care_plan")}
    shown = {worked.model.patient_id(r) for r in range(worked.model.rowCount())}
    assert shown == expected
    assert worked.count.text() == f"{len(expected):,} of {len(frame):,} patients"
    assert worked.worklists.export_button.isEnabled()

    qtbot.mouseClick(worked.worklists.buttons["all"], Qt.MouseButton.LeftButton)
    assert worked.model.rowCount() == len(frame)
    assert not worked.worklists.export_button.isEnabled()  # the whole cohort is not a worklist


def test_exporting_a_worklist_warns_then_writes_the_file_and_says_how_many(
    qtbot, window, worked, session, tmp_path, monkeypatch
):
    worked.worklists.select("no_care_plan")
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text, action: asked.append(text) or True)
    out = tmp_path / "no-care-plan.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV file (*.csv)"))
    qtbot.mouseClick(worked.worklists.export_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)

    n = worked.worklists.counts["no_care_plan"]
    assert "names, NHS numbers and dates of birth" in asked[0] and f"{n:,} patient" in asked[0]
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "NHS number" and len(rows) - 1 == n
    assert f"Exported {n:,} patient" in window.statusBar().currentMessage()
    assert audit.entries(session.db, "worklist")[0]["action"] == "export"


def test_an_export_not_confirmed_writes_nothing(qtbot, worked, session, tmp_path, monkeypatch):
    worked.worklists.select("no_care_plan")
    monkeypatch.setattr(messages, "confirm", lambda *a: False)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("no file should be asked for"))
    worked.export_worklist()
    assert audit.entries(session.db, "worklist") == []


def test_excel_export(qtbot, worked, tmp_path, monkeypatch):
    worked.worklists.select("no_care_plan")
    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    out = tmp_path / "list"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "Excel workbook (*.xlsx)"))
    worked.export_worklist()
    finish_tasks(qtbot)
    assert (tmp_path / "list.xlsx").stat().st_size > 0


def test_a_file_the_system_will_not_write_is_named_and_nothing_is_audited(
    qtbot, worked, session, tmp_path, monkeypatch
):
    worked.worklists.select("no_care_plan")
    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    held = tmp_path / "held.csv"
    held.mkdir()  # opening it for writing fails as a file locked by Excel would
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(held), "CSV file (*.csv)"))
    warned = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warned.append((title, text)))
    worked.export_worklist()
    finish_tasks(qtbot)
    [(title, text)] = warned
    assert title == "Cannot write the file" and str(held) in text and "Is it open in Excel?" in text
    assert audit.entries(session.db, "worklist") == []


def test_cohort_criteria_are_saved_from_the_settings_menu_and_audited(window, loaded, session):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Settings")
    next(a for a in menu.actions() if a.text() == "&Cohort criteria…").trigger()
    dialog = loaded.dialog
    assert dialog.isVisible()
    assert "apply from the next import" in dialog.explanation.text()
    dialog.editors["multimorbidity_min_ltc"].setValue(4)
    dialog.editors["high_cost_min_ratio"].setValue(2.5)
    dialog.save_button.click()
    assert not dialog.isVisible()
    rules = cohort_rules.load(session.db)
    assert (rules.multimorbidity_min_ltc, rules.high_cost_min_ratio) == (4, 2.5)
    assert audit.entries(session.db, "cohort_rules")[0]["action"] == "update"
    assert "next import" in window.statusBar().currentMessage()


def test_criteria_that_do_not_rise_are_refused_with_the_reason(loaded, session):
    loaded.edit_rules()
    dialog = loaded.dialog
    dialog.editors["mild_frailty_min_deficits"].setValue(10)
    dialog.try_save()
    assert dialog.isVisible() and dialog.banner.isVisibleTo(dialog)
    assert "eFI thresholds must rise" in dialog.banner.text() and "Nothing was saved" in dialog.banner.text()
    assert cohort_rules.load(session.db) == cohort_rules.defaults()
    assert dialog.scores["mild_frailty_min_deficits"].text() == "a score of 0.278 or more"
    dialog.set_rules(cohort_rules.load(session.db))
    dialog.reject()
