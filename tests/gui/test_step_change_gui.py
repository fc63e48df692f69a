"""Step changes on the Reports screen (issue 24, point 3): a locality lead records one from the SPC panel with the
keyboard, the chart splits into two segments with a marker between them and lists the step change with its
reason; Remove asks first, and Edit → Undo puts it back. Someone whose role may not sees the buttons disabled
and why."""

from __future__ import annotations

from dataclasses import replace

import pytest
from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from pinned import TODAY as DEMO_TODAY
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.models import roles
from desktop.views.reports import page as reports_page
from desktop.views.reports import step_change_dialog
from desktop.views.reports.spc_list_model import ASSURANCE, WITHHELD

LOAD_MS = 30_000
KPI = "MDT-04"
REASON = "Daily action huddle from January"


@pytest.fixture
def page(mdt_window, monkeypatch, qtbot):
    """The Reports screen of Charnwood with its charts loaded, the user a locality lead."""
    monkeypatch.setattr(reports_page.ReportsPage, "today", staticmethod(lambda: DEMO_TODAY))
    session = mdt_window.session
    session.actor = replace(session.actor, role=roles.LOCALITY_LEAD)
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    shown = mdt_window.current_page()
    qtbot.waitUntil(lambda: shown.figures is not None, timeout=LOAD_MS)
    shown.select_kpi(KPI)
    return shown


def _loaded(page, qtbot) -> None:
    qtbot.waitUntil(lambda: page.figures is not None and not page.is_loading, timeout=LOAD_MS)


def _steps_listed(page) -> list[str]:
    return [w.text() for w in page.view.steps.findChildren(QLabel) if w.text().startswith("Limits recalculated")]


def test_record_a_step_change_with_the_keyboard_then_remove_and_undo(page, qtbot, confirmed):
    view = page.view
    assert view.record_button.isEnabled() and _steps_listed(page) == []
    view.record_button.setFocus()
    qtbot.keyClick(view.record_button, Qt.Key.Key_Space)
    dialog = page.step_dialog
    assert dialog.isVisible() and dialog.kpi.currentData() == KPI  # the KPI shown, preselected
    assert dialog.on.value() == "2026-11-01"  # the first of this month
    assert dialog.focusWidget() is dialog.reason
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # no reason yet: the model's refusal, beside the field
    assert dialog.isVisible() and dialog.errors["reason"].isVisible()
    qtbot.keyClicks(dialog.reason, REASON)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)  # back to the date
    qtbot.keyClick(dialog.on.line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.on.line, "31/02/2026")
    qtbot.keyClick(dialog.on.line, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.errors["effective_on"].isVisible()  # no such day
    qtbot.keyClick(dialog.on.line, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.on.line, "01/01/2026")
    qtbot.keyClick(dialog.on.line, Qt.Key.Key_Return)  # Enter records
    assert not dialog.isVisible()
    _loaded(page, qtbot)

    row = page.figures.row(KPI)
    assert len(row.spc.segments) == 2 and [r["reason"] for r in row.rebases] == [REASON]
    assert view.row is row
    assert len(view.past_mean.xData) == 3  # the baseline's mean over its own points, then a break
    markers = [i for i in view.step_items if type(i).__name__ == "InfiniteLine"]
    assert len(markers) == 1 and markers[0].value() == pytest.approx(row.spc.segments[1].start - 0.5)
    assert _steps_listed(page) == [f"Limits recalculated from Jan 2026: {REASON}"]
    assert "from Jan 2026" in view.chart.accessibleName() and REASON in view.chart.accessibleName()
    assert "mean since Jan 2026" in view.caption.text()
    assert page.window().focusWidget() is page.list  # the keyboard is back on the KPI list

    [remove] = view.remove_buttons
    remove.setFocus()
    qtbot.keyClick(remove, Qt.Key.Key_Space)
    assert len(confirmed) == 1 and REASON in confirmed[0]
    _loaded(page, qtbot)
    assert page.figures.row(KPI).rebases == [] and _steps_listed(page) == []
    assert len(page.view.step_items) == 0

    edit = page.window().edit_menu
    edit.refresh()
    assert edit.undo_action.text().startswith("&Undo Remove the step change on MDT-04")
    edit.undo_action.trigger()
    _loaded(page, qtbot)
    assert [r["reason"] for r in page.figures.row(KPI).rebases] == [REASON]
    assert _steps_listed(page) == [f"Limits recalculated from Jan 2026: {REASON}"]


def test_a_role_that_may_not_sees_why_and_a_withheld_assurance_says_why(page, mdt_window, qtbot):
    page.session.actor = replace(page.session.actor, role="GP")
    page.select_kpi("COH-03")  # the demo recorded its start-up here
    view = page.view
    assert not view.record_button.isEnabled() and view.record_button.toolTip() == step_change_dialog.WHY_NOT
    assert view.remove_buttons and not any(b.isEnabled() for b in view.remove_buttons)
    assert not page.step_action.isEnabled()

    # Oadby & Wigston's quarter has figures beyond their process limits; Charnwood's has none since its caseload
    # KPIs count each month's own caseload (issue 25).
    choose_locality(mdt_window, "OAW")
    qtbot.waitUntil(
        lambda: page.figures is not None and page.figures.locality["code"] == "OAW" and not page.is_loading,
        timeout=LOAD_MS,
    )
    rows = page.figures.rows
    n, row = next((n, r) for n, r in enumerate(rows) if r.assurance is None and r.assurance_note.startswith("the"))
    cell = page.model.index(n, ASSURANCE)
    assert cell.data() == WITHHELD
    assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith("No assurance icon: the quarter's figure")
