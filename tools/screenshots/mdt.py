"""The MDT screen at work, for tools.screenshots.shoot: a meeting with a patient chosen, the agenda picker
with a few ticks, the action log with its overdue rows, and the action form."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from desktop.views.mdt import meeting_handlers as meeting_actions


def mdt_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("mdt")
    page = window.current_page()
    tab = page.show_meetings()
    if not tab.rows:
        return
    tab.select(tab.rows[0]["id"])
    agenda = tab.detail.patients
    if agenda.model.rowCount():
        agenda.select(agenda.model.row_id(min(1, agenda.model.rowCount() - 1)))
    settle(0.3)
    shot(window, "mdt-meeting")

    meeting_actions.add_patients(tab)
    picker = tab.dialog
    for source, rows in (("new this run", (0, 2)), ("review overdue", (0,))):
        model = picker.models[source]
        for row in rows:
            if row < model.rowCount():
                model.tick(row)
    settle(0.2)
    shot(picker, "mdt-agenda-picker")
    picker.done(0)

    log = page.show_action_log()
    rows = [log.model.record(r) for r in range(log.model.rowCount())]
    # An overdue action that names a patient and was escalated shows the most; any overdue one will do.
    chosen = next(
        (n for n, r in enumerate(rows) if r["overdue"] and r["escalated_to"] and r["family_name"]),
        next((n for n, r in enumerate(rows) if r["overdue"]), 0),
    )
    log.table.setFocus()
    log.table.select_row(chosen)
    settle(0.3)
    shot(window, "mdt-action-log")
    log.edit_current()
    settle(0.2)
    shot(log.dialog, "mdt-action-edit")
    log.dialog.done(0)
