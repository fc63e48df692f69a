"""The Changed risk worklist on the Cohort screen (issue 22): its button and filter, its own columns, the header's
count that opens it, its empty state, its export; and the rejections file, marked and audited."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
from cohort_helpers import EXTRACT_DATE, wait_loaded
from extract_helpers import patient, synthetic_nhs, write_csv
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.cohort.risk_import import import_extract
from desktop.views.cohort.import_dialog import ImportDialog
from desktop.views.cohort.model import CHANGE_KEYS
from desktop.views.kit import formats, messages

BEFORE = EXTRACT_DATE - dt.timedelta(days=31)
MODERATE, SEVERE = "0.3056", "0.3889"  # 11 and 14 eFI deficits of 36


def practices(session) -> list[str]:
    return [
        r[0]
        for r in session.db.execute(
            "SELECT p.ods_code FROM practices p JOIN localities l ON l.id = p.locality_id WHERE l.code = 'CHA' "
            "ORDER BY p.ods_code"
        )
    ]


def import_rows(session, tmp_path, name, rows, day):
    result = import_extract(session.db, session.actor, "CHA", write_csv(tmp_path / name, rows), day)
    session.publish(result.changes)
    return result


@pytest.fixture
def first_run(qtbot, cohort_page, session, tmp_path):
    mine = practices(session)
    rows = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score=MODERATE),
        patient(3, mine[1], ltc_count="6", efi_score="0.05"),
        patient(4, mine[1], ltc_count="5"),
    ]
    import_rows(session, tmp_path, "cha-oct.csv", rows, BEFORE)
    wait_loaded(qtbot, cohort_page)
    return cohort_page


@pytest.fixture
def changed(qtbot, first_run, session, tmp_path):
    """Two runs: between them 2 became severely frail and 3 gained high cost; 1 and 4 stayed as they were."""
    mine = practices(session)
    rows = [
        patient(1, mine[0]),
        patient(2, mine[0], efi_score=SEVERE),
        patient(3, mine[1], ltc_count="6", efi_score="0.05", predicted_cost="3600"),
        patient(4, mine[1], ltc_count="5"),
    ]
    result = import_rows(session, tmp_path, "cha-nov.csv", rows, EXTRACT_DATE)
    assert result.changed == 2
    wait_loaded(qtbot, first_run)
    return first_run


def shown(page, key):
    column = page.model.key_index(key)
    return {
        page.model.index(r, page.model.key_index("nhs_number")).data(): page.model.index(r, column).data()
        for r in range(page.model.rowCount())
    }


def test_choosing_changed_risk_lists_who_changed_and_how(qtbot, changed):
    button = changed.worklists.buttons["changed_risk"]
    assert button.text() == "Changed risk  2"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    headings = [changed.model.headerData(n, Qt.Orientation.Horizontal) for n in range(changed.model.columnCount())]
    assert headings[:5] == ["Name", "NHS number", "Practice", "What changed", "Criteria before → now"]
    what = shown(changed, "what_changed")
    severer, costlier = formats.nhs_number(synthetic_nhs(2)), formats.nhs_number(synthetic_nhs(3))
    assert set(what) == {severer, costlier}
    assert what[severer] == "eFI moderate → severe ↑"
    assert what[costlier].startswith("Gained high cost")
    assert shown(changed, "efi_change")[severer] == "Moderate → severe ↑"
    assert shown(changed, "criteria_change")[costlier] == "Multimorbidity → multimorbidity, high cost"
    assert shown(changed, "cost_ratio_change")[costlier] == "1.2× → 3.0× ↑"
    assert changed.count.text() == "2 of 4 patients"

    qtbot.mouseClick(changed.worklists.buttons["all"], Qt.MouseButton.LeftButton)
    assert changed.model.rowCount() == 4 and changed.model.key_index("what_changed") == -1


def test_the_chosen_patient_stays_chosen_when_the_list_changes_its_columns(qtbot, changed):
    row = next(r for r in range(changed.model.rowCount()) if changed.model.index(r, 0).data() == "FAMILY2, Given2")
    changed.table.select_row(row)
    chosen = changed.table.current_id()
    qtbot.mouseClick(changed.worklists.buttons["changed_risk"], Qt.MouseButton.LeftButton)
    assert changed.table.selected_ids() == [chosen] and changed.panel.patient["id"] == chosen


def test_the_membership_filter_finds_the_same_patients(changed):
    box = changed.filters.membership
    box.setCurrentIndex(box.findData("changed risk"))
    changed.filters.flush()
    ids = {changed.model.patient_id(r) for r in range(changed.model.rowCount())}
    changed.worklists.select("changed_risk")
    assert ids == {changed.model.patient_id(r) for r in range(changed.model.rowCount())} and len(ids) == 2


def link_point(qtbot, label) -> QPoint:
    """Where the label's link is: found by moving the mouse along its lines until it hovers the link."""
    hovered: list[str] = []
    label.linkHovered.connect(hovered.append)
    for y in range(4, label.height(), 8):
        for x in range(2, label.width(), 6):
            qtbot.mouseMove(label, QPoint(x, y))
            if hovered and hovered[-1]:
                return QPoint(x, y)
    raise AssertionError("no link in the label")


def test_clicking_the_headers_changed_count_shows_that_worklist(qtbot, changed):
    label = changed.header.run_label
    assert "2</b> with changed risk" in label.text()
    changed.filters.text.setText("Family1")  # a filter that would hide them is cleared
    changed.filters.flush()
    qtbot.mouseClick(label, Qt.MouseButton.LeftButton, pos=link_point(qtbot, label))
    assert changed.worklists.current() == "changed_risk"
    assert changed.model.rowCount() == 2 and changed.filters.text.text() == ""
    assert changed.model.key_index("what_changed") >= 0


def test_with_one_run_the_list_says_it_needs_two_imports(qtbot, first_run):
    assert "with changed risk" in first_run.header.run_label.text()
    assert "href" not in first_run.header.run_label.text()  # nobody to show: no link
    qtbot.mouseClick(first_run.worklists.buttons["changed_risk"], Qt.MouseButton.LeftButton)
    assert first_run.table_stack.currentWidget() is first_run.no_match
    assert first_run.no_match.text().startswith("Changed risk needs two imports")
    assert "Charnwood" in first_run.no_match.text()
    assert not first_run.worklists.export_button.isEnabled()


def test_the_changed_risk_export_is_marked_written_and_audited(qtbot, window, changed, session, tmp_path, monkeypatch):
    changed.worklists.select("changed_risk")
    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    offered = []

    def save_as(_parent, _title, suggested, _filter):
        offered.append(suggested)
        return str(tmp_path / "changed.OFFICIAL-SENSITIVE.csv"), "CSV file (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    qtbot.mouseClick(changed.worklists.export_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert offered[0].endswith("cha-changed-risk.OFFICIAL-SENSITIVE.xlsx")
    with open(tmp_path / "changed.OFFICIAL-SENSITIVE.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][5] == "What changed" and {r[0] for r in rows[1:]} == {synthetic_nhs(2), synthetic_nhs(3)}
    [entry] = audit.entries(session.db, "worklist")
    assert entry["entity_id"] == "changed_risk" and "2 patients" in entry["summary"]


def test_columns_of_the_changed_list_sort_by_how_far_they_moved(qtbot, changed):
    changed.worklists.select("changed_risk")
    changed.table.sortByColumn(CHANGE_KEYS.index("efi_change"), Qt.SortOrder.DescendingOrder)
    first = changed.model.index(0, CHANGE_KEYS.index("efi_change")).data()
    assert first == "Moderate → severe ↑"


# -- the rejections file ------------------------------------------------------------------------------------------
def test_saved_rejections_are_marked_and_audited(qtbot, cohort_page, session, tmp_path, monkeypatch):
    mine = practices(session)
    rows = [patient(1, mine[0]), patient(2, mine[0], date_of_birth="31/02/1950"), patient(3, mine[0], sex="?")]
    path = write_csv(tmp_path / "cha-dec.csv", rows)
    dialog = ImportDialog(session, cohort_page.locality, cohort_page.settings, path, cohort_page)
    qtbot.addWidget(dialog)
    dialog.check()
    finish_tasks(qtbot)
    offered = []

    def save_as(_parent, _title, suggested, _filter):
        offered.append(suggested)
        return suggested, "CSV files (*.csv)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    qtbot.mouseClick(dialog.save_rejections_button, Qt.MouseButton.LeftButton)
    out = tmp_path / "cha-dec-rejections.OFFICIAL-SENSITIVE.csv"
    assert offered == [str(out)]
    with open(out, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][0].startswith("OFFICIAL-SENSITIVE") and lines[1] == ["row", "column", "reason"]
    assert len(lines) - 2 == 2
    [entry] = audit.entries(session.db, "rejections")
    assert entry["action"] == "export" and out.name in entry["summary"] and "Charnwood" in entry["summary"]


def test_rejections_saved_from_the_import_summary_are_marked_and_audited(
    qtbot, cohort_page, session, tmp_path, monkeypatch
):
    mine = practices(session)
    rows = [patient(1, mine[0]), patient(2, mine[0], nhs_number="12345")]
    path = write_csv(tmp_path / "cha-jan.csv", rows)
    dialog = ImportDialog(session, cohort_page.locality, cohort_page.settings, path, cohort_page)
    qtbot.addWidget(dialog)
    dialog.do_import()
    finish_tasks(qtbot)
    assert dialog.stack.currentWidget() is dialog.summary and dialog.summary.save_button.isVisibleTo(dialog)
    out = tmp_path / "saved.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "CSV files (*.csv)"))
    qtbot.mouseClick(dialog.summary.save_button, Qt.MouseButton.LeftButton)
    with open(out, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert lines[0][0].startswith("OFFICIAL-SENSITIVE") and lines[2][:2] == ["3", "nhs_number"]
    assert "OFFICIAL-SENSITIVE" in dialog.summary.saved.text()
    [entry] = audit.entries(session.db, "rejections")
    assert "Saved 1 rejected row of cha-jan.csv for Charnwood" in entry["summary"] and "cha-jan.csv" in entry["summary"]


def test_the_worklist_buttons_wrap_rather_than_cut_their_labels_on_a_narrow_window(qtbot):
    from desktop.views.cohort.worklist_bar import WorklistBar

    bar = WorklistBar()
    qtbot.addWidget(bar)
    bar.set_counts(7_586, {"no_case_manager": 1_519, "left_on_caseload": 359, "changed_risk": 565})
    bar.resize(640, bar.layout().heightForWidth(640))
    bar.show()
    qtbot.waitExposed(bar)
    for button in bar.buttons.values():  # each shown whole, within the bar
        assert button.width() >= button.sizeHint().width()
        assert bar.rect().contains(button.geometry())
    assert len({b.y() for b in bar.buttons.values()}) >= 2  # wrapped
