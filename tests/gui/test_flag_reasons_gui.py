"""A flag's reasons travel (issue 25, point 2): flagged twice from the cohort's patient panel, the patient is
ticked in the agenda picker and the meeting's agenda shows both reasons, with who gave them."""

from __future__ import annotations

from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the MDT fixtures
from PySide6.QtCore import Qt

from desktop.models.mdt import meetings


def flag(qtbot, panel, reason: str):
    """Flag for MDT… from the keyboard: the button, the reason typed, Tab to Save and Space."""
    panel.flag.flag_button.setFocus()
    qtbot.keyClick(panel.flag.flag_button, Qt.Key.Key_Space)
    dialog = panel.flag.dialog
    assert dialog.isVisible()
    qtbot.waitUntil(dialog.note.hasFocus, timeout=1000)  # the cursor starts in the reason
    qtbot.keyClicks(dialog.note, reason)
    qtbot.keyClick(dialog.save_button, Qt.Key.Key_Space)
    assert not dialog.isVisible()
    return dialog


def test_reasons_given_in_the_cohort_reach_the_meetings_agenda(qtbot, mdt_window, mdt_session):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("cohort")
    cohort_page = mdt_window.current_page()
    qtbot.waitUntil(lambda: cohort_page.model.rowCount() > 0, timeout=3000)
    cohort_page.table.select_row(0)
    panel = cohort_page.panel
    patient_id = panel.patient["id"]
    flag(qtbot, panel, "Carer struggling at home")
    second = flag(qtbot, panel, "Two falls this month")
    # The second time, the dialog showed the first reason, with who gave it.
    assert f"Carer struggling at home — {mdt_session.actor.user}, " in second.earlier.text()
    assert panel.flag.label.full_text() == "MDT: Carer struggling at home; Two falls this month"

    mdt_window.show_screen("mdt")
    tab = mdt_window.current_page().meetings
    meeting_id, changes = meetings.create(mdt_session.db, mdt_session.actor, panel.patient["locality_id"], "2026-12-15")
    mdt_session.publish(changes)
    assert tab.select(meeting_id)
    qtbot.mouseClick(tab.detail.add_patients_button, Qt.MouseButton.LeftButton)
    picker = tab.dialog
    flagged = picker.models["flagged"]
    picker.tabs.setCurrentIndex(list(picker.models).index("flagged"))
    row = next(r for r in range(flagged.rowCount()) if flagged.patient_id(r) == patient_id)
    note = flagged.index(row, 5)
    assert note.data() == "Flagged: Carer struggling at home; Two falls this month"
    assert f"Two falls this month — {mdt_session.actor.user}, " in note.data(Qt.ItemDataRole.ToolTipRole)
    table = picker.findChild(type(picker.results), "pick_flagged")
    table.setFocus()
    table.setCurrentIndex(flagged.index(row, 1))
    qtbot.keyClick(table, Qt.Key.Key_Space)
    assert picker.add_button.text() == "Add 1 patient to the agenda"
    qtbot.keyClick(picker.add_button, Qt.Key.Key_Space)
    assert not picker.isVisible()

    agenda = tab.detail.patients
    [item] = [i for i in agenda.items.values() if i["patient_id"] == patient_id]
    assert agenda.model.index(agenda.model.row_of(item["id"]), 3).data() == (
        "Flagged: Carer struggling at home; Two falls this month"
    )
    agenda.select(item["id"])
    assert agenda.reasons.isVisible()
    assert agenda.reasons.text().splitlines()[1].startswith(f"• Carer struggling at home — {mdt_session.actor.user}")
