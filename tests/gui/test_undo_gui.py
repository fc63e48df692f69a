"""Edit → Undo and Redo in the real window: a status change made on the action log is named, taken back and put
back, and Ctrl+Z in a text field stays the text field's."""

from __future__ import annotations

from cohort_helpers import choose_locality, locality_id, select_first_rows, wait_loaded
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenu
from task_helpers import finish_tasks
from worlds import copy_world

from desktop.models import clock
from desktop.models.care_homes import visits
from desktop.models.cohort import caseload
from desktop.models.mdt import actions
from desktop.models.quarters import of
from desktop.views.care_homes.round_grid import HELD, MISSED
from desktop.views.kit import messages


def edit_menu(window) -> QMenu:
    return next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")


def shown_status(log, action_id: str) -> str:
    column = [c.key for c in log.model.columns].index("status")
    return log.model.index(log.model.row_of(action_id), column).data()


def set_status_of_three(qtbot, log) -> list[str]:
    """Pick three open actions and mark them done through the Set status dialog, as a user would."""
    ids = [
        log.model.row_id(r)
        for r in range(log.model.rowCount())
        if log.model.record(r)["status"] == "open" and not log.model.record(r)["overdue"]
    ][:3]
    assert len(ids) == 3
    log.table.select_ids(ids, ids[0])
    qtbot.mouseClick(log.panel.many_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(log.dialog.save_button, Qt.MouseButton.LeftButton)
    return ids


def open_menu(qtbot, window) -> QMenu:
    menu = edit_menu(window)
    menu.popup(window.mapToGlobal(window.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    return menu


def test_the_edit_menu_names_the_status_change_and_undo_puts_it_back(qtbot, mdt_page, mdt_session):
    window = mdt_page.window()
    undo, redo = window.edit_menu.undo_action, window.edit_menu.redo_action
    assert (undo.text(), undo.isEnabled(), redo.text(), redo.isEnabled()) == ("&Undo", False, "&Redo", False)

    log = mdt_page.show_action_log()
    ids = set_status_of_three(qtbot, log)
    assert {shown_status(log, a) for a in ids} == {"Done"}

    menu = open_menu(qtbot, window)
    assert undo.text() == "&Undo Set status of 3 actions to Done" and undo.isEnabled()
    assert undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    menu.close()
    undo.trigger()  # Edit → Undo Set status of 3 actions to Done

    assert [actions.get(mdt_session.db, a)["status"] for a in ids] == ["open"] * 3
    assert {shown_status(log, a) for a in ids} == {"Open"}  # the table reloaded from the published changes
    assert window.statusBar().currentMessage() == "Undone: Set status of 3 actions to Done"
    assert (undo.text(), undo.isEnabled()) == ("&Undo", False)
    assert redo.text() == "&Redo Set status of 3 actions to Done" and redo.isEnabled()

    log.table.setFocus()  # Ctrl+Shift+Z from the table puts it back
    qtbot.keyClick(log.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert [actions.get(mdt_session.db, a)["status"] for a in ids] == ["done"] * 3
    assert {shown_status(log, a) for a in ids} == {"Done"}
    assert window.statusBar().currentMessage() == "Redone: Set status of 3 actions to Done"

    qtbot.keyClick(log.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # and Ctrl+Z takes it back
    assert {shown_status(log, a) for a in ids} == {"Open"}


def test_ctrl_z_in_a_text_field_edits_the_text_not_the_data(qtbot, mdt_page, mdt_session):
    window = mdt_page.window()
    log = mdt_page.show_action_log()
    ids = set_status_of_three(qtbot, log)
    field = log.filters.text
    field.setFocus()
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClicks(field, "falls")
    qtbot.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    log.filters.flush()  # the filter waits for typing to pause; settle it before the window closes
    assert field.text() == ""  # the typing was undone…
    assert [actions.get(mdt_session.db, a)["status"] for a in ids] == ["done"] * 3  # …the status change was not
    assert window.edit_menu.undo_action.text() == "&Undo Set status of 3 actions to Done"


def test_a_step_overtaken_by_later_work_is_refused_in_plain_words(qtbot, mdt_page, mdt_session, warnings):
    window = mdt_page.window()
    log = mdt_page.show_action_log()
    ids = set_status_of_three(qtbot, log)
    # Someone else's later change to one of them, outside the stack (as a sync would make it).
    mdt_session.publish(actions.update(mdt_session.db, mdt_session.actor, ids[1], {"description": "Booked"}))
    window.edit_menu.undo_action.trigger()

    reference = actions.get(mdt_session.db, ids[1])["reference"]
    assert len(warnings) == 1 and warnings[0][0] == "Nothing was undone"
    assert f"Action {reference} was changed since “Set status of 3 actions to Done”" in warnings[0][1]
    assert [actions.get(mdt_session.db, a)["status"] for a in ids] == ["done"] * 3
    assert not window.edit_menu.undo_action.isEnabled()


def test_another_workspace_starts_with_nothing_to_undo(qtbot, mdt_page, mdt_world_template, tmp_path):
    window = mdt_page.window()
    set_status_of_three(qtbot, mdt_page.show_action_log())
    assert window.edit_menu.undo_action.isEnabled()
    assert window.open_path(copy_world(mdt_world_template, tmp_path / "other.sqlite"))
    assert (window.edit_menu.undo_action.text(), window.edit_menu.undo_action.isEnabled()) == ("&Undo", False)


def test_a_bulk_assignment_made_off_the_gui_thread_is_one_step(qtbot, loaded, session):
    ids = select_first_rows(loaded, 4)
    before = {pid: caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids}
    qtbot.mouseClick(loaded.panel.assign_button, Qt.MouseButton.LeftButton)
    nurse = next(s for s in loaded.staff if s["role"] == "district nurse")
    loaded.dialog.choice.setCurrentIndex(loaded.dialog.choice.findData(nurse["id"]))
    qtbot.mouseClick(loaded.dialog.save_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert {caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids} == {nurse["id"]}

    undo = loaded.window().edit_menu.undo_action
    assert undo.text() == "&Undo Change case manager of 4 patients"
    undo.trigger()
    assert {pid: caseload.get_patient(session.db, pid)["case_manager_id"] for pid in ids} == before
    assert loaded.window().statusBar().currentMessage() == "Undone: Change case manager of 4 patients"


def test_a_caseload_edit_from_the_panel_is_undone_from_the_table_while_the_notes_box_keeps_its_own_ctrl_z(
    qtbot, loaded, session
):
    loaded.table.select_row(0)
    patient_id = loaded.model.patient_id(0)
    form = loaded.panel.form
    form.status.setCurrentIndex(form.status.findData("contacted"))
    form.notes.setPlainText("Prefers a morning call.")
    qtbot.mouseClick(loaded.panel.save_button, Qt.MouseButton.LeftButton)
    assert caseload.get_patient(session.db, patient_id)["status"] == "contacted"
    undo = loaded.window().edit_menu.undo_action
    assert undo.text() == "&Undo Change status and notes"

    form.notes.setFocus()
    qtbot.waitUntil(form.notes.hasFocus)
    form.notes.moveCursor(form.notes.textCursor().MoveOperation.End)
    qtbot.keyClicks(form.notes, " Not Fridays.")
    qtbot.keyClick(form.notes, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert form.notes.toPlainText() == "Prefers a morning call."  # the typing went, the saved edit stayed
    assert caseload.get_patient(session.db, patient_id)["notes"] == "Prefers a morning call."

    loaded.table.setFocus()
    qtbot.waitUntil(loaded.table.hasFocus)
    qtbot.keyClick(loaded.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    restored = caseload.get_patient(session.db, patient_id)
    assert (restored["status"], restored["notes"]) == ("identified", "")
    wait_loaded(qtbot, loaded)
    assert form.status.currentData() == "identified"  # the panel shows the patient as they were


def test_undoing_a_visit_logged_from_the_round_grid_turns_the_week_back_to_missed(
    qtbot, mdt_window, mdt_session, monkeypatch
):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("care_homes")
    page = mdt_window.current_page()
    page.set_quarter(of(clock.today()).previous())
    model = page.grid.model_
    row, column = next(
        (r, c)
        for r in range(model.rowCount())
        for c in range(1, model.coverage_column())
        if model.state(r, c) == MISSED
    )
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: options[0])  # "Log a visit"
    qtbot.mouseClick(
        page.grid.viewport(), Qt.MouseButton.LeftButton, pos=page.grid.visualRect(model.index(row, column)).center()
    )
    dialog = page.dialog
    follow = dialog.follow_ups[0]
    follow.description.setText("Review falls risk with the home manager")
    follow.owner.setCurrentIndex(0)
    follow.due.line.setText(clock.today().strftime("%d/%m/%Y"))
    dialog.try_save()
    assert model.state(row, column) == HELD
    visit_id = model.visit_ids(row, column)[0]
    assert len(visits.get(mdt_session.db, visit_id)["actions"]) == 1

    undo = mdt_window.edit_menu.undo_action
    home = model.home(row)["name"].replace("&", "&&")  # a menu shows "&&" as "&"
    assert undo.text() == f"&Undo Log weekly home round at {home}"
    undo.trigger()
    assert model.state(row, column) == MISSED
    assert not actions.listing(
        mdt_session.db,
        locality_id(mdt_session.db),
        actions.ActionFilter(text="Review falls risk with the home manager"),
    )
