"""Each main task done from the keyboard alone: real widgets, QTest key events only (Tab and Shift+Tab, arrows,
Enter, Space, Escape and the menus' shortcuts), no clicks and no slot called by hand. A control that Tab cannot
reach, a focus trap or a dialog that needs the mouse fails its walk."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from task_helpers import finish_tasks

from desktop.models import clock
from desktop.models.cohort import caseload

Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
TAB_LIMIT = 80  # more presses than any screen has stops: a control this far away is unreachable in practice


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(key: Key, modifier=Qt.KeyboardModifier.NoModifier, times: int = 1) -> None:
    for _ in range(times):
        QTest.keyClick(focused(), key, modifier)


def type_text(text: str) -> None:
    for char in text:  # each to wherever the focus is now: the first key may open an editor
        QTest.keyClicks(focused(), char)


def type_over(text: str) -> None:
    """Select what the field holds (Ctrl+A) and type *text* in its place."""
    press(Key.Key_A, CTRL)
    type_text(text)


def tab_to(target: QWidget | Callable[[QWidget], bool], backwards: bool = False) -> QWidget:
    """Press Tab (Shift+Tab) until *target* has the focus; fail when it never comes round."""
    wanted = target if callable(target) and not isinstance(target, QWidget) else (lambda w: w is target)
    seen = []
    for _ in range(TAB_LIMIT):
        if wanted(focused()):
            return focused()
        seen.append(f"{type(focused()).__name__}:{focused().objectName() or focused().accessibleName()}")
        press(Key.Key_Backtab if backwards else Key.Key_Tab)
    raise AssertionError(f"{target!r} is not reachable with Tab; the focus went through {seen[:40]}")


def focus_moves_into(dialog, qtbot) -> None:
    """A dialog just opened takes the keyboard: the user types into it without reaching for the mouse."""
    qtbot.waitUntil(lambda: dialog.isVisible() and dialog.isAncestorOf(QApplication.focusWidget()), timeout=2000)


def back_in(window, qtbot) -> None:
    """After a dialog closes the window manager makes the main window active again; the offscreen platform has
    none, so the test does it. The focus then returns to where it was in the window."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    assert window.isAncestorOf(focused())


def shortcut(window, sequence: str) -> None:
    """A menu shortcut typed wherever the focus is, as a user would."""
    key, modifier = {"Ctrl+F": (Key.Key_F, CTRL), "Ctrl+L": (Key.Key_L, CTRL), "Ctrl+I": (Key.Key_I, CTRL)}.get(
        sequence
    ) or (Key(Key.Key_0 + int(sequence[-1])), CTRL)
    QTest.keyClick(QApplication.focusWidget() or window, key, modifier)


@pytest.fixture
def active(qtbot):
    """Make *window* the active window, as it is under a user's hands, so its shortcuts are live."""

    def activate(window):
        window.activateWindow()
        qtbot.waitActive(window)
        return window

    return activate


def test_cohort_filter_open_a_patient_change_the_caseload_and_save(loaded, window, session, active, qtbot):
    active(window)
    shortcut(window, "Ctrl+7")  # somewhere else first: the walk starts from the Go menu
    shortcut(window, "Ctrl+2")
    assert window.current_screen().key == "cohort"
    page = loaded
    frame = page.frame
    row = next(
        i for i in range(len(frame)) if frame.columns["status"][i] == "identified" and frame.columns["in_cohort"][i]
    )
    nhs = str(frame.columns["nhs_number"][row])
    everyone = page.model.rowCount()
    shortcut(window, "Ctrl+F")
    assert focused() is page.filters.text
    type_text(nhs)
    press(Key.Key_Down)  # into the table, on the first match
    assert focused() is page.table and page.model.rowCount() == 1
    press(Key.Key_Return)  # edits the caseload record
    form = page.panel.form
    assert focused() is form.status
    press(Key.Key_Down)  # identified -> contacted
    assert form.status.currentData() == "contacted"
    tab_to(page.panel.save_button)
    tab_to(form.notes, backwards=True)  # Shift+Tab back up the form to the notes
    type_text("Daughter is the main carer")
    tab_to(page.panel.save_button)
    press(Key.Key_Space)
    patient = caseload.get_patient(session.db, str(frame.ids[row]))
    assert patient["status"] == "contacted" and patient["notes"] == "Daughter is the main carer"

    shortcut(window, "Ctrl+F")
    press(Key.Key_Down)
    press(Key.Key_Escape)  # in the table: every filter cleared, everyone listed again
    assert page.filters.text.text() == "" and page.model.rowCount() == everyone


# -- MDT ---------------------------------------------------------------------------------------------------------
def test_mdt_plan_a_meeting_add_a_patient_record_the_outcome_and_an_action(history_window, active, qtbot):
    from desktop.models.mdt import actions, meetings

    window = active(history_window)
    db = window.session.db
    shortcut(window, "Ctrl+3")
    page = window.current_page()
    assert page.screen.key == "mdt" and page.isAncestorOf(focused())  # the keyboard lands on the screen
    tab = page.meetings
    tab_to(tab.plan_button)
    press(Key.Key_Space)
    dialog = tab.dialog
    focus_moves_into(dialog, qtbot)
    tab_to(dialog.held_on.line)
    type_over("15/12/2026")
    tab_to(dialog.chair)
    press(Key.Key_Down)
    tab_to(dialog.location)
    type_text("Loughborough Health Centre")
    press(Key.Key_Return)  # the dialog's default button
    assert not dialog.isVisible()
    back_in(window, qtbot)
    meeting = meetings.listing(db, window.current_locality()["id"])[0]
    assert meeting["held_on"] == "2026-12-15" and meeting["location"] == "Loughborough Health Centre"

    detail = tab.detail
    tab_to(detail.add_patients_button)
    press(Key.Key_Space)
    picker = tab.dialog
    focus_moves_into(picker, qtbot)
    first_list = picker.models[next(iter(picker.models))]
    tab_to(lambda w: w.objectName().startswith("pick_") and w.isVisible())
    press(Key.Key_Down)
    press(Key.Key_Space)  # ticks the patient
    assert len(first_list.ticked) == 1
    picked = next(iter(first_list.ticked))
    tab_to(picker.add_button)  # Enter in the list ticks too, so the button is pressed
    press(Key.Key_Space)
    assert not picker.isVisible()
    back_in(window, qtbot)
    items = [i for i in meetings.agenda(db, meeting["id"]) if i["kind"] == "patient"]
    assert [i["patient_id"] for i in items] == [picked]

    agenda = detail.patients
    tab_to(agenda.table)
    press(Key.Key_Down)
    press(Key.Key_Return)  # into the outcome
    assert focused() is agenda.outcome
    type_text("Refer to the falls service")
    press(Key.Key_Return, CTRL)
    assert [i["outcome"] for i in meetings.agenda(db, meeting["id"]) if i["kind"] == "patient"] == [
        "Refer to the falls service"
    ]

    tab_to(agenda.action_button)
    press(Key.Key_Space)
    form = tab.dialog
    focus_moves_into(form, qtbot)
    assert form.patient.currentData() == picked
    tab_to(form.description)
    type_text("Book a joint visit with the heart failure nurse")
    tab_to(form.owner)
    press(Key.Key_Down)
    tab_to(form.due.line)
    type_over("08/01/2027")
    press(Key.Key_Return)
    assert not form.isVisible()
    back_in(window, qtbot)
    agreed = actions.listing(
        db, window.current_locality()["id"], actions.ActionFilter(meeting_id=meeting["id"]), clock.today()
    )
    made = [a for a in agreed if a["description"].startswith("Book a joint visit")]
    assert made and made[0]["patient_id"] == picked and made[0]["due_date"] == "2027-01-08"


# -- care homes --------------------------------------------------------------------------------------------------
def test_care_homes_log_a_visit_with_a_resident_reviewed(history_window, active, qtbot):
    from desktop.models.care_homes import visits

    window = active(history_window)
    db = window.session.db
    shortcut(window, "Ctrl+4")
    page = window.current_page()
    assert page.screen.key == "care_homes" and page.isAncestorOf(focused())
    box = window.locality_box
    shortcut(window, "Ctrl+L")  # the locality list opens; Down and Enter choose the next team
    qtbot.waitUntil(lambda: box.view().isVisible(), timeout=2000)
    wanted = box.itemData(box.currentIndex() + 1)
    press(Key.Key_Down)
    press(Key.Key_Return)
    qtbot.waitUntil(lambda: not box.view().isVisible(), timeout=2000)
    assert window.current_locality() == wanted and page.locality["id"] == wanted["id"]
    press(Key.Key_L, Qt.KeyboardModifier.AltModifier)  # the button's mnemonic: &Log a visit…
    qtbot.waitUntil(lambda: page.dialog is not None, timeout=2000)  # a mnemonic clicks after a short flash
    dialog = page.dialog
    focus_moves_into(dialog, qtbot)
    home_id = dialog.home.currentData()
    before = {v["id"] for v in visits.listing(db, home_id)}
    tab_to(dialog.date.line)
    type_over("20/11/2026")
    tab_to(dialog.type)
    press(Key.Key_Down)
    chosen_type = dialog.type.currentData()
    row = dialog.rows[0]
    tab_to(row.check)
    press(Key.Key_Space)
    assert row.check.isChecked()
    tab_to(row.outcome)
    press(Key.Key_Down)
    outcome = row.outcome.currentData()
    tab_to(row.note)
    type_text("Reviewed medicines")
    press(Key.Key_Return)  # the dialog's default button: Save
    assert not dialog.isVisible()
    back_in(window, qtbot)
    made = [v for v in visits.listing(db, home_id) if v["id"] not in before]
    assert len(made) == 1 and made[0]["visited_on"] == "2026-11-20" and made[0]["type"] == chosen_type
    reviewed = visits.get(db, made[0]["id"])["residents"]
    assert [(r["resident_id"], r["outcome"], r["note"]) for r in reviewed] == [
        (row.resident_id, outcome, "Reviewed medicines")
    ]


# -- returns -----------------------------------------------------------------------------------------------------
@pytest.fixture
def demo_today(monkeypatch):
    """The Returns screen's "today" is the demo's, so its quarters are the demo's whatever the real date.
    (Requested before the window, which makes the screen.)"""
    from pinned import TODAY as DEMO_TODAY

    from desktop.views.returns import page as returns_page

    monkeypatch.setattr(returns_page.ReturnsPage, "today", staticmethod(lambda: DEMO_TODAY))
    return DEMO_TODAY


def test_returns_type_a_figure_into_a_quarter_not_started_and_try_to_sign_off(
    demo_today, history_window, active, qtbot, warnings, confirmed
):
    from dataclasses import replace

    from desktop.models import quarters
    from desktop.models.kpi import returns
    from desktop.views.returns.model import KEYS

    window = active(history_window)
    window.session.actor = replace(window.session.actor, role="federation manager")  # who may sign off
    db = window.session.db
    shortcut(window, "Ctrl+5")
    page = window.current_page()
    assert page.screen.key == "returns"
    assert page.quarter == quarters.of(demo_today).previous()  # signed off in the demo
    tab_to(page.next_button)  # on to the quarter under way
    press(Key.Key_Space)
    assert page.quarter == quarters.of(demo_today)
    assert returns.current(db, window.current_locality()["id"], page.quarter) is None  # looking writes nothing
    assert page.status.text().startswith("Not started")

    tab_to(page.grid)
    press(Key.Key_Home, CTRL)
    press(Key.Key_Down, times=page.model.row_of("OUT-04"))
    press(Key.Key_Right, times=KEYS.index("figures"))
    assert page.model.kpi(page.grid.currentIndex().row()).code == "OUT-04"
    type_text("42")  # typing starts the editor with what was typed
    press(Key.Key_Return)  # and the figure starts the draft
    qtbot.waitUntil(
        lambda: page.return_id is not None and returns.values(db, page.return_id)["OUT-04"]["numerator"] == 42
    )
    draft = returns.current(db, window.current_locality()["id"], page.quarter)
    assert draft["status"] == "draft" and page.return_id == draft["id"]
    assert page.status.text().startswith("Draft")

    press(Key.Key_N, Qt.KeyboardModifier.AltModifier)  # Sig&n off…: refused while the quarter runs
    qtbot.waitUntil(lambda: bool(warnings), timeout=2000)
    assert warnings[0][0] == "Not ready to sign off" and "runs until" in warnings[0][1]
    assert returns.current(db, window.current_locality()["id"], page.quarter)["status"] == "draft"


# -- commissioner ------------------------------------------------------------------------------------------------
def test_commissioner_import_the_returns_then_move_through_the_grid(
    commissioner_window, active, qtbot, monkeypatch, tmp_path
):
    from return_files import return_doc, write

    from desktop.models.kpi import consolidated
    from desktop.views.commissioner.page import QFileDialog

    teams = ("BAL", "CHA", "CTE")
    files = [
        str(write(tmp_path / f"kpi-return-{code}-2025-26-Q3-r1.json", return_doc(code, "2025-26-Q3", 1, n)))
        for n, code in enumerate(teams)
    ]
    # The platform's own file chooser is outside the app; it hands back the files a user picked.
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: (files, "")))
    window = active(commissioner_window)
    assert window.import_action.text() == "&Import returns…"
    shortcut(window, "Ctrl+I")
    page = window.current_page()
    assert page.screen.key == "commissioner"
    dialog = page.dialog
    focus_moves_into(dialog, qtbot)
    assert dialog.summary.text() == "3 would be imported"
    assert consolidated.held_quarters(window.session.db) == []  # the dry run wrote nothing
    press(Key.Key_Return)  # Import 3 files, the default button
    finish_tasks(qtbot)
    assert dialog.summary.text() == "3 imported"
    assert len(consolidated.held_quarters(window.session.db)) == 1
    press(Key.Key_Return)  # now Close
    assert not dialog.isVisible()
    back_in(window, qtbot)

    tab_to(page.grid)
    press(Key.Key_Home, CTRL)
    press(Key.Key_Right)  # the first team's column, beside the KPI names
    press(Key.Key_Down)
    index = page.grid.currentIndex()
    team, kpi = page.model.team(index.column()), page.model.kpi(index.row())
    assert (team["code"], kpi.code) == ("BAL", page.model.kpi(1).code)
    assert kpi.code in page.charts.heading.text()
    press(Key.Key_Right, times=2)
    assert page.model.team(page.grid.currentIndex().column())["code"] == "CTE"
    assert "(CTE)" in page.charts.detail.text()


def _go_to_cell(page, code: str, key: str) -> None:
    """From anywhere in the return's grid to *code*'s *key* cell, with Ctrl+Home and the arrow keys."""
    from desktop.views.returns.model import KEYS

    assert focused() is page.grid
    press(Key.Key_Home, CTRL)
    press(Key.Key_Down, times=page.model.row_of(code))
    press(Key.Key_Right, times=KEYS.index(key))


@pytest.fixture
def closed(monkeypatch):
    """A fortnight after the demo's quarter under way has ended: the Returns screen opens on it, now closed and
    still without a return. (Requested before the window, which makes the screen.)"""
    import datetime as dt

    from pinned import TODAY as DEMO_TODAY

    from desktop.models import quarters
    from desktop.views.returns import page as returns_page

    quarter = quarters.of(DEMO_TODAY)
    monkeypatch.setattr(returns_page.ReturnsPage, "today", staticmethod(lambda: quarter.end + dt.timedelta(days=14)))
    return quarter


def test_returns_a_closed_quarter_is_completed_and_signed_off(
    closed, history_window, active, qtbot, warnings, confirmed
):
    from dataclasses import replace

    from desktop.models.kpi import returns

    window = active(history_window)
    window.session.actor = replace(window.session.actor, role="federation manager")  # who may sign off
    db = window.session.db
    shortcut(window, "Ctrl+5")
    page = window.current_page()
    assert page.quarter == closed
    assert returns.current(db, window.current_locality()["id"], closed) is None
    press(Key.Key_D, Qt.KeyboardModifier.AltModifier)  # Start &draft
    qtbot.waitUntil(lambda: page.return_id is not None, timeout=2000)  # a mnemonic clicks after a short flash
    assert returns.current(db, window.current_locality()["id"], closed)["status"] == "draft"
    draft_id = page.return_id
    tab_to(page.grid)
    for code, figures in {"OUT-01": "12 / 4500", "OUT-02": "30 / 4500", "OUT-03": "8 / 4500", "OUT-04": "15"}.items():
        _go_to_cell(page, code, "figures")
        type_text(figures)
        press(Key.Key_Return)
        qtbot.waitUntil(lambda c=code: returns.values(db, draft_id)[c]["numerator"] is not None)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is page.grid)  # the editor closes on the next turn
    explained = set()
    while todo := [i["kpi"] for i in page.issues if i["blocking"] and i["kpi"] and i["kpi"] not in explained]:
        _go_to_cell(page, todo[0], "comment")
        type_text("Explained at the locality board.")
        press(Key.Key_Return)
        qtbot.waitUntil(lambda c=todo[0]: returns.values(db, draft_id)[c]["comment"] is not None)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is page.grid)
        explained.add(todo[0])
    assert not [i for i in page.issues if i["blocking"]], page.checklist.lines()

    press(Key.Key_N, Qt.KeyboardModifier.AltModifier)  # Sig&n off…, then the confirmation (answered yes here)
    qtbot.waitUntil(lambda: returns.current(db, window.current_locality()["id"], closed)["status"] == "signed_off")
    assert confirmed and "Sign off the return?" in confirmed[0] and not warnings
    assert "Signed off by" in page.status.text()
