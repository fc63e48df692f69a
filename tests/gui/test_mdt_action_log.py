"""The action log on the demo world's two years of MDT actions: filters, the overdue marker, the editor and
bulk status changes, each checked against the domain and the audit trail."""

from __future__ import annotations

from cohort_helpers import locality_id
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from mdt_fixtures import listed
from PySide6.QtCore import Qt

from desktop.models import audit, clock
from desktop.models.mdt import actions
from desktop.views.kit.style import colours
from desktop.views.mdt.action_dialog import ActionDialog, StatusDialog
from desktop.views.mdt.actions_model import OVERDUE, ActionsModel


def shown_ids(log) -> list[str]:
    return [log.model.row_id(r) for r in range(log.model.rowCount())]


def status_column(log) -> int:
    return [c.key for c in log.model.columns].index("status")


def test_the_log_lists_every_action_of_the_locality_in_the_domain_order(mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    expected = listed(mdt_session)
    assert len(expected) > 50
    assert shown_ids(log) == [r["id"] for r in expected]
    overdue = sum(r["overdue"] for r in expected)
    assert overdue > 0
    assert log.count.text() == f"{len(expected):,} actions · {overdue:,} overdue"


def test_filters_narrow_the_log_as_the_domain_does(qtbot, mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    bar = log.filters
    bar.choose(bar.due, "overdue")
    assert set(shown_ids(log)) == {r["id"] for r in listed(mdt_session, due="overdue")}
    bar.clear()

    owner = actions.owners(mdt_session.db, locality_id(mdt_session.db))[0]
    bar.choose(bar.owner, owner)
    mine = listed(mdt_session, owner=owner)
    assert 0 < len(mine) < len(listed(mdt_session))
    assert shown_ids(log) == [r["id"] for r in mine]

    bar.choose(bar.status, "open or in progress")
    assert shown_ids(log) == [r["id"] for r in listed(mdt_session, owner=owner, status="open or in progress")]
    assert bar.owner.property("filtering") and bar.status.property("filtering")

    bar.clear()
    qtbot.keyClicks(bar.text, "falls")
    bar.flush()
    assert shown_ids(log) == [r["id"] for r in listed(mdt_session, text="falls")]
    assert log.count.text().startswith(f"{len(listed(mdt_session, text='falls')):,} of ")


def test_a_filter_that_matches_nothing_says_so(qtbot, mdt_page):
    log = mdt_page.show_action_log()
    qtbot.keyClicks(log.filters.text, "no such action anywhere")
    log.filters.flush()
    assert log.table_stack.currentWidget() is log.empty
    assert "No actions match" in log.empty.text() and "Clear filters" in log.empty.text()


def test_overdue_rows_say_overdue_in_words_and_on_pale_red(mdt_page):
    log = mdt_page.show_action_log()
    model, column = log.model, status_column(log)
    seen = set()
    for row in range(model.rowCount()):
        record = model.record(row)
        text = model.index(row, column).data()
        background = model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole)
        if record["overdue"]:
            assert text.startswith(OVERDUE) and background == colours().overdue
        else:
            assert OVERDUE not in text and background is None
        seen.add(bool(record["overdue"]))
    assert seen == {True, False}


def test_the_model_passes_qt_model_checks(qtmodeltester, mdt_session):
    model = ActionsModel()
    model.set_rows(listed(mdt_session))
    qtmodeltester.check(model)
    model.sort(5, Qt.SortOrder.DescendingOrder)
    dues = [model.record(r)["due_date"] for r in range(model.rowCount())]
    assert dues == sorted(dues, reverse=True)
    model.sort(-1)
    assert model.record(0)["overdue"] == 1  # back to the domain's order


def test_choosing_an_action_shows_its_history_oldest_first(mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    log.filters.choose(log.filters.due, "no longer open")
    log.table.select_row(0)
    action_id = log.table.current_id()
    history = actions.history(mdt_session.db, action_id)
    text = log.panel.history.text()
    assert len(history) >= 2
    assert text.index(history[0]["summary"][:30]) < text.index(history[-1]["summary"][:30])
    assert log.panel.reference.text() == actions.get(mdt_session.db, action_id)["reference"]


def test_bulk_status_names_how_many_and_lands_in_the_store_and_the_audit(qtbot, mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    log.filters.choose(log.filters.status, "open")
    ids = shown_ids(log)[:3]
    log.table.select_ids(ids, ids[0])
    assert log.panel.many_button.text() == "Set status of 3 actions…"
    qtbot.mouseClick(log.panel.many_button, Qt.MouseButton.LeftButton)
    dialog = log.dialog
    assert isinstance(dialog, StatusDialog) and dialog.isVisible()
    assert dialog.save_button.text() == "Set status of 3 actions"
    dialog.note.setPlainText("Reported done at the MDT")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()

    today = clock.today().isoformat()
    for action_id in ids:
        row = actions.get(mdt_session.db, action_id)
        assert (row["status"], row["completed_on"], row["outcome_note"]) == ("done", today, "Reported done at the MDT")
        assert audit.entries(mdt_session.db, "actions", action_id)[0]["action"] == "status"
    assert not set(ids) & set(shown_ids(log))  # the open filter no longer shows them
    assert "3 actions set to done" in mdt_page.window().statusBar().currentMessage()


def test_a_bad_due_date_is_shown_at_the_field_and_writes_nothing(qtbot, mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    log.table.setFocus()
    log.table.select_row(0)
    action_id = log.table.current_id()
    before, entries = actions.get(mdt_session.db, action_id), len(audit.entries(mdt_session.db))
    qtbot.keyClick(log.table, Qt.Key.Key_Return)
    dialog = log.dialog
    assert isinstance(dialog, ActionDialog) and dialog.isVisible()
    dialog.description.setPlainText("Refer to the falls clinic")
    dialog.due.line.setText("31/13/2026")
    dialog.status.setCurrentIndex(dialog.status.findData("in progress"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    error = dialog.errors["due_date"]
    assert error.isVisible() and "due date" in error.text() and "31/13/2026" in error.text()
    assert dialog.due.line.property("invalid") is True
    assert dialog.description.toPlainText() == "Refer to the falls clinic"  # nothing typed is lost
    assert actions.get(mdt_session.db, action_id) == before
    assert len(audit.entries(mdt_session.db)) == entries

    dialog.due.line.setText("05/01/2027")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    after = actions.get(mdt_session.db, action_id)
    assert (after["description"], after["due_date"], after["status"]) == (
        "Refer to the falls clinic",
        "2027-01-05",
        "in progress",
    )


def test_escalating_from_the_editor(qtbot, mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    log.filters.choose(log.filters.status, "open")
    log.table.select_row(0)
    action_id = log.table.current_id()
    log.edit_current()
    dialog = log.dialog
    dialog.escalated_to.setText("Head of community nursing")
    dialog.reason.setText("")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.errors["escalation_reason"].isVisible()
    dialog.reason.setText("No reply after two reminders")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    row = actions.get(mdt_session.db, action_id)
    assert (row["escalated_to"], row["escalation_reason"]) == (
        "Head of community nursing",
        "No reply after two reminders",
    )
    assert "escalated to Head of community nursing" in log.panel.history.text()


def test_a_new_action_from_the_log(qtbot, mdt_page, mdt_session):
    log = mdt_page.show_action_log()
    before = len(listed(mdt_session))
    qtbot.mouseClick(log.new_button, Qt.MouseButton.LeftButton)
    dialog = log.dialog
    dialog.description.setPlainText("Chase the pressure-relieving mattress")
    dialog.owner.setEditText("Sam Supplier")
    dialog.organisation.setCurrentIndex(dialog.organisation.findData("voluntary sector"))
    dialog.due.line.setText("2026-12-31")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    rows = listed(mdt_session, text="pressure-relieving")
    assert len(rows) == 1 and rows[0]["owner_name"] == "Sam Supplier" and rows[0]["meeting_id"] is None
    assert log.model.rowCount() == before + 1


def test_cancel_with_changes_asks_before_losing_them(qtbot, mdt_page, monkeypatch):
    from desktop.views.kit import messages

    log = mdt_page.show_action_log()
    log.table.select_row(0)
    log.edit_current()
    dialog = log.dialog
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda *a: asked.append(a[1]) or False)
    dialog.reject()  # nothing changed: closes without asking
    assert not dialog.isVisible() and asked == []
    log.edit_current()
    dialog = log.dialog
    dialog.description.setPlainText("Something else")
    dialog.reject()
    assert asked == ["Discard changes?"] and dialog.isVisible()


def test_ctrl_f_on_the_mdt_screen_goes_to_the_action_log_filter(qtbot, mdt_page):
    assert mdt_page.tabs.currentWidget() is mdt_page.meetings
    assert mdt_page.focus_filter()
    assert mdt_page.tabs.currentWidget() is mdt_page.actions
    qtbot.keyClicks(mdt_page.actions.filters.text, "falls")
    qtbot.keyClick(mdt_page.actions.filters.text, Qt.Key.Key_Down)  # Down goes into the list, first row chosen
    assert mdt_page.actions.table.selected_rows() == [0]
    assert "falls" in mdt_page.actions.model.record(0)["description"].lower()
