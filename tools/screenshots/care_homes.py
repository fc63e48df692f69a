"""The Care homes screen at work, for tools.screenshots.shoot: last quarter's home-round grid with a missed
week chosen, the log-visit dialog for that week with a few residents ticked, and a home's detail."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from desktop.views.care_homes.round_grid import MISSED


def care_homes_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("care_homes")
    page = window.current_page()
    if not page.tabs.isVisible():
        return
    page.set_quarter(page.quarter.previous())
    model = page.grid.model_
    missed = next(
        (
            (r, c)
            for r in range(model.rowCount())
            for c in range(1, model.coverage_column())
            if model.state(r, c) == MISSED
        ),
        None,
    )
    if missed:
        page.grid.setCurrentIndex(model.index(*missed))
    page.grid.setFocus()
    settle(0.3)
    shot(window, "care-homes-round-grid")
    if missed:
        home, week = model.home(missed[0]), model.week_of(missed[1])
        page.log_visit(home["id"], week)
        dialog = page.dialog
        for number, row in enumerate(dialog.rows[:3]):
            row.check.setChecked(True)
            row.outcome.setCurrentIndex(number % 2)
        if dialog.rows:
            dialog.rows[0].note.setText("Chest clear; fluids encouraged")
            follow = dialog.follow_ups[0]
            follow.description.setText("Ask the pharmacist to review the evening medicines")
            follow.owner.setCurrentIndex(0)
            follow.due.set_value(week.isoformat())
        settle(0.2)
        shot(dialog, "care-homes-log-visit")
        dialog.done(0)
    page.tabs.setCurrentIndex(1)
    settle(0.3)
    shot(window, "care-homes-home-detail")
