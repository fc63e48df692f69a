"""The cohort table: its model, filters, sorting, empty states and keyboard use."""

from __future__ import annotations

import numpy as np
from cohort_helpers import locality_id, wait_loaded
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from desktop.models.cohort import frame as cohort
from desktop.models.cohort.frame import CohortFilter
from desktop.views.cohort.chips import CHIPS_ROLE
from desktop.views.cohort.model import KEYS


def shown_ids(page):
    return [page.model.patient_id(r) for r in range(page.model.rowCount())]


def expected_ids(frame, rows):
    return [str(frame.ids[i]) for i in rows]


def choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def test_the_table_model_passes_the_model_tester(qtmodeltester, loaded):
    qtmodeltester.check(loaded.model)
    loaded.table.sortByColumn(KEYS.index("efi"), Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(loaded.model)


def test_the_table_shows_the_latest_cohort_formatted(loaded, session):
    frame = cohort.load(session.db, locality_id(session.db))
    model = loaded.model
    assert model.rowCount() == len(frame)
    assert shown_ids(loaded) == [str(i) for i in frame.ids]  # name order, as the frame comes
    row = 0
    nhs = model.index(row, KEYS.index("nhs_number")).data()
    assert len(nhs) == 12 and nhs.replace(" ", "") == frame.columns["nhs_number"][0]
    born = frame.columns["date_of_birth"][0]
    age = model.index(row, KEYS.index("age"))
    assert age.data().isdigit() and 0 <= int(age.data()) <= 125
    assert age.data(Qt.ItemDataRole.ToolTipRole) == f"Born {born[8:10]}/{born[5:7]}/{born[:4]}"
    chips = model.index(row, KEYS.index("criteria")).data(CHIPS_ROLE)
    assert chips and {c.text for c in chips} <= {"Frailty", "LTC 5+", "High cost", "New", "Changed", "Left"}
    assert model.index(row, KEYS.index("criteria")).data() == ", ".join(c.text for c in chips)


def test_typing_in_the_filter_narrows_the_table(qtbot, loaded, session):
    frame = loaded.frame
    family = frame.columns["family_name"][len(frame) // 2]
    qtbot.keyClicks(loaded.filters.text, family[:4])
    qtbot.waitUntil(lambda: loaded.model.rowCount() < len(frame), timeout=2000)
    expected = cohort.apply(frame, CohortFilter(text=family[:4]))
    assert shown_ids(loaded) == expected_ids(frame, expected)
    assert loaded.count.text() == f"{len(expected):,} of {len(frame):,} patients"

    # Esc in the box clears it, and the whole cohort is back.
    qtbot.keyClick(loaded.filters.text, Qt.Key.Key_Escape)
    loaded.filters.flush()
    assert loaded.model.rowCount() == len(frame)


def test_an_nhs_number_finds_its_patient(qtbot, loaded):
    frame = loaded.frame
    number = frame.columns["nhs_number"][3]
    loaded.filters.text.setText(f"{number[:3]} {number[3:6]} {number[6:]}")
    loaded.filters.flush()
    assert str(frame.ids[3]) in shown_ids(loaded)
    assert loaded.model.rowCount() == len(cohort.apply(frame, CohortFilter(text=loaded.filters.text.text())))


def test_a_criterion_filter_and_a_second_facet_combine(loaded):
    frame = loaded.frame
    choose(loaded.filters.criterion, "F")
    expected = cohort.apply(frame, CohortFilter(criterion="F"))
    assert 0 < len(expected) < len(frame)
    assert shown_ids(loaded) == expected_ids(frame, expected)
    texts = {loaded.model.index(r, KEYS.index("criteria")).data() for r in range(loaded.model.rowCount())}
    assert all("Frailty" in t for t in texts)
    assert loaded.filters.criterion.property("filtering") is True

    choose(loaded.filters.efi_band, 3)
    both = cohort.apply(frame, CohortFilter(criterion="F", efi_band=3))
    assert shown_ids(loaded) == expected_ids(frame, both)
    assert all(
        loaded.model.index(r, KEYS.index("efi")).data().startswith("Severe") for r in range(loaded.model.rowCount())
    )

    loaded.filters.clear_button.click()
    assert loaded.model.rowCount() == len(frame)


def test_a_filter_that_matches_nobody_says_so(loaded):
    loaded.filters.text.setText("zzzz-nobody")
    loaded.filters.flush()
    assert loaded.model.rowCount() == 0
    assert loaded.table_stack.currentWidget() is loaded.no_match
    assert "No patients match" in loaded.no_match.text() and "zzzz-nobody" in loaded.no_match.text()


def test_clicking_a_heading_sorts_with_cohort_sort(qtbot, loaded):
    frame = loaded.frame
    header = loaded.table.horizontalHeader()
    column = KEYS.index("efi")
    qtbot.mouseClick(
        header.viewport(), Qt.MouseButton.LeftButton, pos=header.rect().topLeft() + qtbot_point(header, column)
    )
    ascending = cohort.sort(frame, np.arange(len(frame)), "efi_deficits")
    descending = cohort.sort(frame, np.arange(len(frame)), "efi_deficits", descending=True)
    assert shown_ids(loaded) in (expected_ids(frame, ascending), expected_ids(frame, descending))


def test_age_sorts_youngest_first_when_ascending(loaded):
    loaded.table.sortByColumn(KEYS.index("age"), Qt.SortOrder.AscendingOrder)
    ages = [int(loaded.model.index(r, KEYS.index("age")).data()) for r in range(loaded.model.rowCount())]
    assert ages == sorted(ages)


def qtbot_point(header, column):
    from PySide6.QtCore import QPoint

    return QPoint(header.sectionViewportPosition(column) + 10, header.height() // 2)


def test_sorting_keeps_the_selected_patient_selected(loaded):
    loaded.table.select_row(5)
    chosen = loaded.table.current_id()
    loaded.table.sortByColumn(KEYS.index("age"), Qt.SortOrder.DescendingOrder)
    assert loaded.table.selected_ids() == [chosen]
    assert loaded.panel.patient["id"] == chosen


def test_keyboard_ctrl_f_then_down_then_enter_reaches_the_form(qtbot, window, loaded):
    window.activateWindow()
    qtbot.waitActive(window)
    loaded.table.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert loaded.filters.text.hasFocus()
    qtbot.keyClick(loaded.filters.text, Qt.Key.Key_Down)
    assert loaded.table.hasFocus()
    assert loaded.table.selected_rows() == [0]
    qtbot.keyClick(loaded.table, Qt.Key.Key_Down)
    assert loaded.table.selected_rows() == [1]
    assert loaded.panel.patient["id"] == loaded.model.patient_id(1)
    qtbot.keyClick(loaded.table, Qt.Key.Key_Return)
    assert loaded.panel.form.status.hasFocus()


def test_columns_can_be_hidden_from_the_heading_menu_and_stay_hidden(loaded, settings):
    menu = loaded.table.column_menu()
    stream = next(a for a in menu.actions() if a.text() == "Stream")
    stream.setChecked(False)
    assert loaded.table.isColumnHidden(KEYS.index("stream"))
    assert not next(a for a in menu.actions() if a.text() == "Name").isEnabled()
    loaded.table.horizontalHeader().sectionResized.emit(0, 180, 181)  # what a drag would send
    assert settings.state("cohort_columns")


def test_escape_in_the_table_clears_every_filter(qtbot, loaded):
    choose(loaded.filters.status, "identified")
    loaded.filters.text.setText("a")
    loaded.filters.flush()
    loaded.table.setFocus()
    qtbot.keyClick(loaded.table, Qt.Key.Key_Escape)
    assert loaded.filters.is_clear()
    assert loaded.model.rowCount() == len(loaded.frame)


def test_a_locality_without_a_run_shows_the_empty_state_with_import(cohort_page):
    assert not cohort_page.body.isVisible()
    assert cohort_page.header.empty_card.isVisible()
    assert "No risk extract imported for Charnwood yet" in cohort_page.header.empty_heading.text()
    assert cohort_page.header.empty_import_button.isVisible()
    assert not cohort_page.focus_filter()


def test_a_commissioner_workspace_has_no_patient_screens(commissioner_window, monkeypatch):
    window = commissioner_window
    shown = [
        window.nav.item(r).data(Qt.ItemDataRole.UserRole)
        for r in range(window.nav.count())
        if not window.nav.item(r).isHidden() and window.nav.item(r).data(Qt.ItemDataRole.UserRole)
    ]
    assert shown[:2] == ["reports", "commissioner"] and not {"cohort", "mdt", "care_homes", "returns"} & set(shown)
    assert window.current_screen().key == "commissioner"
    assert not window.locality_box.isVisibleTo(window)  # a commissioner looks at every team at once
    assert not window.go_actions["cohort"].isVisible() and window.go_actions["commissioner"].isVisible()
    window.go_actions["cohort"].trigger()  # Ctrl+2 goes nowhere
    assert window.current_screen().key == "commissioner"
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda _p, title, *_a: asked.append(title) or ([], ""))
    window.import_extract()  # Ctrl+I: what a commissioner imports is the teams' returns, never a risk extract
    assert asked == ["Import returns"]
    assert window.current_screen().key == "commissioner"


def test_a_case_manager_filter_survives_that_person_leaving_the_staff_list(qtbot, loaded, session):
    from desktop.views.reference import operations

    leaving = next(s for s in loaded.staff if s["role"] == "occupational therapist")
    choose(loaded.filters.case_manager, leaving["id"])
    assert loaded.model.rowCount() == 0
    operations.delete_record(session, "staff", leaving["id"])
    wait_loaded(qtbot, loaded)
    assert loaded.filters.case_manager.findData(leaving["id"]) < 0
    assert loaded.filters.case_manager.currentIndex() == 0
    assert loaded.model.rowCount() == len(loaded.frame)
