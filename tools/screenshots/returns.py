"""The Returns screen at work, for tools.screenshots.shoot: last quarter's signed-off return with a KPI
explained beside the grid, then the quarter under way as a draft, its checklist saying what still blocks
sign-off and a red KPI chosen; last, last quarter's return reopened as revision 2 with one figure corrected,
and its revisions listed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtWidgets import QWidget

from desktop.models.kpi import returns


def returns_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("returns")
    page = window.current_page()
    if not page.splitter.isVisible() or page.return_id is None:
        return
    page.select_kpi("OUT-01")
    page.grid.setFocus()
    settle(0.3)
    shot(window, "returns-signed-off")
    if not page.next_button.isEnabled():
        return
    page.next_button.click()
    page.start_draft()  # the quarter under way, as a federation manager has it after pressing Start draft
    red = next((i["kpi"] for i in page.issues if i["kind"] == "red"), None)
    page.select_kpi(red or "OUT-01")
    page.grid.setFocus()
    settle(0.3)
    shot(window, "returns-draft")

    page.previous_button.click()
    new_id, changes = returns.reopen(
        page.session.db,
        replace(page.session.actor, role="federation manager"),  # only a manager or lead may reopen
        page.return_id,
        "OUT-01 corrected: the acute trust re-ran its admissions extract",
        page.today(),
    )
    page.show_return(new_id)
    held = returns.values(page.session.db, new_id)["OUT-01"]
    page.write_cell("OUT-01", "figures", f"{int(held['numerator']) + 3} / {int(held['denominator'])}")
    dialog = page.revisions_dialog()
    dialog.show()
    settle(0.3)
    shot(dialog, "returns-revisions")
    dialog.close()
