"""Each item of My work opens where its work is done, on the screen that already does it: a patient on the Cohort
screen with the record open, an action in its form on the MDT screen's action log, a PCSP in the resident's form
on the Care homes screen, a round not yet logged in the visit form, prefilled as a weekly home round for today.

The window is the main window (show_screen and pages); these functions only drive the screens' own controls, so
what happens next (saving, validating, auditing) is exactly what happens when the user gets there by hand.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from ...models import clock
from ..kit import messages


def patient(window: Any, patient_id: str) -> bool:
    """The Cohort screen, everyone shown, *patient_id* chosen and the keyboard in their caseload record."""
    if "cohort" not in window.pages:
        return False
    window.show_screen("cohort")
    page = window.pages["cohort"]
    page.when_loaded(lambda: _choose_patient(window, page, patient_id))  # the frame is loaded off the GUI thread
    return True


def _choose_patient(window: Any, page: Any, patient_id: str) -> bool:
    if page.frame is None:
        return False
    page.worklists.select(None)
    page.filters.clear()
    page.table.select_ids([patient_id], patient_id)
    if page.table.current_id() != patient_id:
        messages.show_status(window, "That patient is not in the cohort shown; choose another locality?")
        return False
    page.table.scrollTo(page.table.currentIndex(), page.table.ScrollHint.PositionAtCenter)
    page.table.setFocus(Qt.FocusReason.OtherFocusReason)
    page.panel.focus_form()
    return True


def action(window: Any, action_id: str) -> bool:
    """The MDT screen's action log with the action chosen, and its form open."""
    if "mdt" not in window.pages:
        return False
    window.show_screen("mdt")
    log = window.pages["mdt"].show_action_log()
    log.filters.clear()
    log.refresh()
    log.table.select_ids([action_id], action_id)
    if log.table.current_id() != action_id:
        return False
    log.table.setFocus(Qt.FocusReason.OtherFocusReason)
    log.edit_current()
    return True


def resident(window: Any, care_home_id: str, resident_id: str) -> bool:
    """The Care homes screen on the home's detail, the resident chosen and their form open for the PCSP date."""
    if "care_homes" not in window.pages:
        return False
    window.show_screen("care_homes")
    page = window.pages["care_homes"]
    page.tabs.setCurrentWidget(page.detail)
    page.select_home(care_home_id)
    if page.detail.current_home_id() != care_home_id:
        return False
    row = page.detail.residents_model.row_of(resident_id)
    if row is None:
        return False
    page.detail.residents.setCurrentIndex(page.detail.residents_model.index(row, 0))
    page.detail.residents.setFocus(Qt.FocusReason.OtherFocusReason)
    page.edit_resident(resident_id)
    return True


def home_round(window: Any, care_home_id: str) -> bool:
    """The visit form for the home, a weekly home round (its first type) on today's date."""
    if "care_homes" not in window.pages:
        return False
    window.show_screen("care_homes")
    page = window.pages["care_homes"]
    page.select_home(care_home_id)
    page.log_visit(care_home_id, clock.today())
    return True
