"""The Cohort screen: the latest run's patients of the current locality, their filters and worklists, and the
patient panel beside them.

The frame is loaded once (cohort.load) and reused: a keystroke in the filter is cohort.apply plus a model
reset, milliseconds at 60,000 patients. It is reloaded only when a change touches patients or risk runs,
or the locality changes (DESIGN §13). It is loaded off the GUI thread, so the screen paints at once: "Loading
the cohort…" until a locality's first frame is in, and the frame it has until a newer one replaces it (issue 26).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlite_utils
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...models import reference
from ...models.changes import Changes
from ...models.cohort import frame as cohort
from ...models.cohort import rules as cohort_rules
from ...models.cohort import worklists
from ...models.cohort.frame import CohortFrame
from ...settings import Settings
from ..kit import formats, messages, tasks
from ..kit.page import Page
from ..kit.record_table import join_filter_and_table, table_or_message
from ..kit.session import Session
from ..shell.screens import Screen
from . import handlers as cohort_actions
from .filters import CohortFilterBar
from .header import CohortHeader
from .model import CHANGE_COLUMNS, COLUMNS, CohortModel, run_ltc_min
from .patient_panel import PatientPanel
from .table import CohortTable
from .worklist_bar import WorklistBar

CHANGED_RISK = "changed_risk"  # the worklist the header's count of changed patients opens
LOADING = "Loading the cohort…"


@dataclass
class Loaded:
    """What the screen shows of a locality, read together off the GUI thread."""

    locality_id: str
    frame: CohortFrame
    staff: list[dict[str, Any]]
    counts: dict[str, int]  # worklist key -> patients on it
    bands: tuple[int, int]  # the eFI deficits from which frailty is moderate, severe


def load(db: sqlite_utils.Database, locality_id: str) -> Loaded:
    frame = cohort.load(db, locality_id)
    # worklists.rows fails on a frame with no rows (an empty list becomes a float array), and an empty frame has
    # nothing on any list anyway.
    counts = worklists.counts(frame) if len(frame) else {w.key: 0 for w in worklists.WORKLISTS}
    rules = cohort_rules.load(db)
    staff = reference.list_rows(db, "staff", locality_id)
    return Loaded(locality_id, frame, staff, counts, (rules.frailty_min_deficits, rules.severe_frailty_min_deficits))


class CohortPage(Page):
    def __init__(self, screen: Screen, session: Session, settings: Settings, parent: QWidget | None = None):
        super().__init__(screen, session, settings, parent)
        self.frame: CohortFrame | None = None
        self.staff: list[dict[str, Any]] = []
        self.dialog: QWidget | None = None  # the open import, criteria or bulk dialog (tests reach it here)
        self._worklist_rows: dict[str, np.ndarray] = {}
        self._shown_id: str | None = None
        self._restoring = False
        self._switching_columns = False  # the column set is being replaced: not a user's resize to remember
        self.loading = False  # a frame is being loaded off the GUI thread
        self._loads = 0  # a load's answer counts only if no later one was started
        self._frame_locality: str | None = None
        self._when_loaded: list[Callable[[], None]] = []

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        layout.setSpacing(10)
        self.header = CohortHeader(screen, session.kind == "commissioner")
        self.header.import_button.clicked.connect(self.import_extract)
        self.header.criteria_button.clicked.connect(self.edit_rules)
        self.header.history_button.clicked.connect(lambda: self.window().import_history())
        self.header.empty_import_button.clicked.connect(self.import_extract)
        self.header.changed_risk_requested.connect(self.show_changed_risk)
        self.note = self.header.note  # what the empty state says
        layout.addWidget(self.header)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(10)
        self.worklists = WorklistBar()
        self.worklists.chosen.connect(self._worklist_chosen)
        self.worklists.export_button.clicked.connect(self.export_worklist)
        body.addWidget(self.worklists)
        self.filters = CohortFilterBar()
        self.filters.changed.connect(self.apply_filters)
        self.count = self.filters.count
        body.addWidget(self.filters)

        self.model = CohortModel(self)
        self.table = CohortTable(self.model)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.activated.connect(lambda _index: self.panel.focus_form())
        join_filter_and_table(self.filters, self.table)
        self.table_stack, self.no_match = table_or_message(self.table)
        self.panel = PatientPanel(session)
        self.panel.bulk_requested.connect(self.bulk_change)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("cohortSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.table_stack)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([760, 380])
        self.panel.setMinimumWidth(340)
        body.addWidget(self.splitter, 1)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.header.empty_card, 1)
        self._restore_state()
        self._show_state()

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        if self.locality is not None and locality is not None and locality["id"] == self.locality["id"]:
            return
        self.locality = locality
        self._shown_id = None
        self.panel.show_nothing()
        self.filters.clear()
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        if changes.origin is self.panel:
            self.panel.revert()  # the panel's own save: show what was written before the table reloads
        if changes.touches("patients", "risk_runs", "staff", "practices"):
            self.mark_stale()

    def focus_filter(self) -> bool:
        if not self.body.isVisible():
            return False
        self.filters.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.text.selectAll()
        return True

    # -- data ---------------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Load the locality's cohort frame and staff off the GUI thread; _loaded shows them, keeping the
        filters, the sort and the selection."""
        self._loads += 1
        if self.session.kind == "commissioner" or self.locality is None:
            self.loading, self.frame, self._frame_locality = False, None, None
            self.model.set_frame(None)
            self._show_state()
            self._run_when_loaded()
            return
        number, locality_id = self._loads, self.locality["id"]
        self.loading = True
        if self._frame_locality != locality_id:  # another locality's patients must not stay on show meanwhile
            self.frame, self._frame_locality = None, None
            self.model.set_frame(None)
            self._show_state()
        tasks.start_quiet(
            self.session.path,
            lambda db, _progress, _cancel: (number, load(db, locality_id)),
            self._loaded,
            self._failed,
        )

    def when_loaded(self, then: Callable[[], None]) -> None:
        """Call *then* once the frame being loaded is shown; at once when none is being loaded."""
        if self.loading:
            self._when_loaded.append(then)
        else:
            then()

    def _run_when_loaded(self) -> None:
        waiting, self._when_loaded = self._when_loaded, []
        for then in waiting:
            then()

    @Slot(object)
    def _loaded(self, outcome: tuple[int, Loaded]) -> None:
        number, loaded = outcome
        if self.session.closed or number != self._loads:  # the workspace closed, or a later load was started
            return
        self.loading = False
        selected, current = self.table.selected_ids(), self.table.current_id() or self._shown_id
        self.frame, self._frame_locality, self.staff = loaded.frame, loaded.locality_id, loaded.staff
        self._worklist_rows = {}
        # Refilling the combos must not filter the old model's rows with the new frame: quiet until set.
        self.filters.blockSignals(True)
        self.filters.set_staff(self.staff)
        self.filters.set_ltc_min(run_ltc_min(self.frame))
        self.filters.blockSignals(False)
        self.panel.set_staff(self.staff)
        self.worklists.set_counts(len(self.frame), loaded.counts)
        self.model.set_frame(self.frame, self.visible_rows())
        self.panel.ltc_min = self.model.ltc_min
        self.panel.bands = loaded.bands
        self.header.show_run(self.frame.run, self.locality)
        self._show_state()
        self._after_rows_changed(selected, current)
        self._run_when_loaded()

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        if self.session.closed:
            return
        self.loading = False
        self._when_loaded = []
        self.no_match.setText(f"The cohort could not be loaded: {exc}")
        self.table_stack.setCurrentWidget(self.no_match)

    def visible_rows(self) -> np.ndarray:
        """Frame rows that pass the filters and the chosen worklist, in frame order."""
        if self.frame is None:
            return np.zeros(0, dtype=np.int64)
        rows = cohort.apply(self.frame, self.filters.cohort_filter())
        key = self.worklists.current()
        if key is not None and len(self.frame):
            if key not in self._worklist_rows:
                self._worklist_rows[key] = worklists.rows(self.frame, key)
            rows = np.intersect1d(rows, self._worklist_rows[key], assume_unique=True)
        return rows

    def show_changed_risk(self) -> None:
        """The header's "N with changed risk": every one of them, on the Changed risk worklist."""
        self.filters.clear()
        self.worklists.select(CHANGED_RISK)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _worklist_chosen(self, key: str | None) -> None:
        """Changed risk shows its own columns (before and now); every other list the cohort's."""
        columns = CHANGE_COLUMNS if key == CHANGED_RISK else COLUMNS
        if columns is self.model.columns:
            self.apply_filters()
            return
        # The new columns reset the model, so the chosen patients are noted first and chosen again after.
        selected, current = self.table.selected_ids(), self.table.current_id()
        self._switching_columns = self._restoring = True
        try:
            self.table.use_columns(columns)
            # The cohort's own columns come back as the user left them; Changed risk's start afresh each time
            # (settings.py declares no state for them).
            saved = self.settings.state_bytes("cohort_columns") if columns is COLUMNS else None
            if saved is not None:
                self.table.horizontalHeader().restoreState(saved)
        finally:
            self._switching_columns = self._restoring = False
        if self.frame is not None:
            self.model.set_rows(self.visible_rows())
            self._after_rows_changed(selected, current)

    def apply_filters(self) -> None:
        if self.frame is None:
            return
        selected, current = self.table.selected_ids(), self.table.current_id()
        self.model.set_rows(self.visible_rows())
        self._after_rows_changed(selected, current)

    def _after_rows_changed(self, selected: list[str], current: str | None) -> None:
        self._restoring = True
        try:
            self.table.select_ids(selected, current)
        finally:
            self._restoring = False
        self._selection_changed()
        shown, total = self.model.rowCount(), len(self.frame) if self.frame is not None else 0
        self.count.setText(f"{shown:,} of {total:,} patients" if shown != total else f"{total:,} patients")
        if not shown and total and self.worklists.current() == CHANGED_RISK and not self.filters.describe():
            self.no_match.setText(self._no_changed_risk())
        elif not shown and total:
            what = self.filters.describe()
            where = (
                f" on the “{self.worklists.buttons[self.worklists.current()].accessibleName()}” worklist"
                if self.worklists.current()
                else ""
            )
            self.no_match.setText(
                f"No patients{where} match {what}.\n\nChange the filters, or press Clear to show everyone."
                if what
                else f"No patients{where} at the moment."
            )
        self.table_stack.setCurrentWidget(self.table if shown or not total else self.no_match)

    def _no_changed_risk(self) -> str:
        """Why the Changed risk list is empty: one run only, or nobody's risk moved between the last two."""
        if self.frame.previous is None or self.frame.run is None:
            return worklists.NEEDS_TWO_RUNS.format(locality=self.locality["name"])
        return (
            f"Nobody's criteria, eFI band or LTC count changed between the extract of "
            f"{formats.date(self.frame.previous['extract_date'])} and that of "
            f"{formats.date(self.frame.run['extract_date'])}."
        )

    # -- selection ---------------------------------------------------------------------------------------------------
    def _selection_changed(self, *_args) -> None:
        if self._restoring:
            return
        rows = self.table.selected_rows()
        if len(rows) > 1:
            if self.panel.can_leave():
                self._shown_id = None
                self.panel.show_many(len(rows))
            return
        if not rows:
            if not self.panel.form.is_dirty():  # a patient being edited stays while a filter hides them
                self._shown_id = None
                self.panel.show_nothing()
            return
        patient_id = self.model.patient_id(rows[0])
        if patient_id != self._shown_id and not self.panel.can_leave():
            self._restoring = True
            self.table.select_ids([self._shown_id], self._shown_id)  # back to the one still being edited
            self._restoring = False
            return
        self._shown_id = patient_id
        i = self.model.frame_row(rows[0])
        self.panel.show_patient(patient_id, self.frame.row(i), self.model.chips(i))

    # -- actions (desktop.views.cohort.handlers does the asking) -------------------------------------------------------
    def import_extract(self) -> None:
        cohort_actions.import_extract(self)

    def edit_rules(self) -> None:
        cohort_actions.edit_rules(self)

    def bulk_change(self, what: str) -> None:
        cohort_actions.bulk_change(self, what)

    def export_worklist(self) -> None:
        cohort_actions.export_worklist(self)

    def status_message(self, text: str) -> None:
        messages.show_status(self, text)

    # -- internals ----------------------------------------------------------------------------------------------------
    def _show_state(self) -> None:
        if self.loading and self.frame is None:  # the filters at once, the patients when they are read
            self.header.show_empty(self.session.kind == "commissioner", self.locality, True)
            self.header.show_run(None, self.locality)
            self.count.setText(LOADING)
            self.no_match.setText(LOADING)
            self.table_stack.setCurrentWidget(self.no_match)
            self.worklists.setVisible(False)  # another locality's counts, or none yet
            self.body.setVisible(True)
            return
        self.worklists.setVisible(True)
        has_run = self.frame is not None and (self.frame.run is not None or len(self.frame) > 0)
        self.header.show_empty(self.session.kind == "commissioner", self.locality, has_run)
        self.body.setVisible(has_run)

    def _restore_state(self) -> None:
        splitter = self.settings.state_bytes("cohort_splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        columns = self.settings.state_bytes("cohort_columns")
        if columns is not None:
            self.table.horizontalHeader().restoreState(columns)
        self.splitter.splitterMoved.connect(
            lambda *_: self.settings.set_state_bytes("cohort_splitter", self.splitter.saveState())
        )
        header = self.table.horizontalHeader()
        for signal in (header.sectionResized, header.sectionMoved):
            signal.connect(lambda *_: self._remember_columns())

    def _remember_columns(self) -> None:
        if not self._switching_columns and self.model.columns is COLUMNS:
            self.settings.set_state_bytes("cohort_columns", self.table.horizontalHeader().saveState())
