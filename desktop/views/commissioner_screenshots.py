"""The Commissioner screen at work, for desktop.views.screenshots: the demo world holds all 11 teams' returns,
so the consolidated grid is full; a percentage KPI chosen for one team shows its funnel plot and trend, then a
count KPI shows the trend alone and says why there is no funnel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

TEAM = "CHA"


def commissioner_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("commissioner")
    page = window.current_page()
    if not page.held:
        return
    page.select_kpi("COH-02", TEAM)
    page.grid.setFocus()
    settle(0.4)
    shot(window, "commissioner-funnel")
    page.select_kpi("MDT-04", TEAM)
    settle(0.4)
    shot(window, "commissioner-count-kpi")
