"""The Reports screen at work, for tools.screenshots.shoot: Charnwood's last completed quarter with its charts
worked out, a KPI chosen whose XmR chart has special causes (the one with the most), then an entered KPI whose
few quarterly points give trial limits only, a KPI whose limits are recalculated from recorded step changes, and
the Outcomes tab."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

LOAD_SECONDS = 30.0


def reports_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("reports")
    page = window.current_page()
    if not hasattr(page, "figures"):
        return
    end = time.monotonic() + LOAD_SECONDS
    while page.figures is None and time.monotonic() < end:
        settle(0.05)
    if page.figures is None:
        return
    # A chart with a target and the most points of improvement or concern (neutral signals say less), among the
    # KPIs whose limits span at least a point: a process held within a fraction of a percent reads as noise.
    rows = [r for r in page.figures.rows if r.spc is not None and not r.spc.trial_limits and r.spc.upl - r.spc.lpl >= 1]
    special = max(
        rows,
        key=lambda r: (
            r.chart_target is not None,
            sum(p.point_type in ("special_cause_improvement", "special_cause_concern") for p in r.spc.points),
        ),
        default=None,
    )
    if special is not None:
        page.select_kpi(special.kpi.code)
    page.list.setFocus()
    settle(0.4)
    shot(window, "reports-spc")
    trial = next((r for r in page.figures.rows if r.spc is not None and r.spc.trial_limits), None)
    if trial is not None:
        page.select_kpi(trial.kpi.code)
        settle(0.3)
        shot(window, "reports-trial-limits")
    stepped = max(page.figures.rows, key=lambda r: len(r.rebases), default=None)
    if stepped is not None and stepped.rebases:
        page.select_kpi(stepped.kpi.code)
        settle(0.3)
        shot(window, "reports-step-change")
    # The Outcomes tab: the joiners of a year before the quarter against their matched comparison (issue 27).
    page.tabs.setCurrentIndex(1)
    end = time.monotonic() + LOAD_SECONDS
    while page.outcomes.is_loading and time.monotonic() < end:
        settle(0.05)
    settle(0.4)
    shot(window, "reports-outcomes")
    page.tabs.setCurrentIndex(0)
