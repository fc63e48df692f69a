"""The action log: every action of the locality, filtered by owner, organisation, status, due window, patient
and meeting, overdue first; the chosen action and its history beside it; Enter edits, and several chosen
at once can be given one status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models import actions, meetings, reference
from . import formats, mdt_operations
from .action_dialog import ActionDialog, StatusDialog
from .action_filters import ActionFilterBar
from .action_panel import ActionPanel
from .actions_model import ActionsModel, patient_name
from .key_filter import on_key
from .session import Session

MIN_DESCRIPTION = 190


class ActionTable(QTableView):
    """Many rows chosen at once; every column keeps its width except the description, which takes what is
    left (never less than MIN_DESCRIPTION), so nine columns fit a laptop screen without scrolling sideways."""

    def __init__(self, model: ActionsModel, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for number, column in enumerate(model.columns):
            self.setColumnWidth(number, column.width)
        self._description = [c.key for c in model.columns].index("description")
        header.sectionResized.connect(lambda section, *_: section != self._description and self.fit_description())
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the domain's order: overdue first
        self.setSortingEnabled(True)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_description()

    def fit_description(self) -> None:
        others = sum(self.columnWidth(c) for c in range(self.model().columnCount()) if c != self._description)
        self.setColumnWidth(self._description, max(MIN_DESCRIPTION, self.viewport().width() - others))


class ActionLog(QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.locality: Mapping[str, Any] | None = None
        self.staff: list[dict[str, Any]] = []
        self.patients: list[tuple[str, str]] = []
        self.dialog: ActionDialog | StatusDialog | None = None
        self.today = dt.date.today
        self.total = 0
        self.stale = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        self.filters = ActionFilterBar()
        self.filters.changed.connect(self.refresh)
        self.filters.text.installEventFilter(self)
        self.count = self.filters.count
        self.new_button = QPushButton("New action…")
        self.new_button.setToolTip("An action agreed outside a meeting")
        self.new_button.clicked.connect(lambda: self.new_action())
        self.filters.top.addWidget(self.new_button)
        layout.addWidget(self.filters)

        self.model = ActionsModel(parent=self)
        self.table = ActionTable(self.model, "actionLog")
        self.table.setAccessibleName("Action log")
        self.table.activated.connect(lambda _index: self.edit_current())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        on_key(self.table, Qt.Key.Key_Escape, self.filters.clear)
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.table_stack = QStackedWidget()
        self.table_stack.addWidget(self.table)
        self.table_stack.addWidget(self.empty)
        self.panel = ActionPanel()
        self.panel.edit_requested.connect(self.edit_current)
        self.panel.status_requested.connect(self.set_status)
        # The table needs the full width for its nine columns, so the chosen action is shown below it.
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table_stack)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([460, 230])
        layout.addWidget(splitter, 1)

    # -- data -------------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self.filters.clear()
        self.stale = True

    def reload(self) -> None:
        """Fill the filter choices and the table from the store, keeping the filters and the selection."""
        self.stale = False
        if self.locality is None:
            self.model.set_rows([])
            return
        db, loc = self.session.db, self.locality["id"]
        self.staff = reference.list_rows(db, "staff", loc)
        everything = actions.listing(db, loc, actions.ActionFilter(), self.today())
        named = {r["patient_id"]: patient_name(r) for r in everything if r.get("patient_id") and r.get("family_name")}
        self.patients = sorted(((pid, name) for pid, name in named.items()), key=lambda p: p[1])
        held = [(f"{formats.date(m['held_on'])} · {m['type']}", m["id"]) for m in meetings.listing(db, loc)]
        self.filters.set_choices(actions.owners(db, loc), [(name, pid) for pid, name in self.patients], held)
        self.total = len(everything)
        self.refresh()

    def refresh(self) -> None:
        """Apply the filters (one query; a few milliseconds) and keep the chosen actions chosen."""
        if self.locality is None:
            return
        chosen, current = self.selected_ids(), self.current_id()
        rows = actions.listing(self.session.db, self.locality["id"], self.filters.action_filter(), self.today())
        self.model.set_rows(rows)
        self.select_ids(chosen, current)
        shown, overdue = self.model.rowCount(), self.model.overdue_count()
        text = f"{shown:,} of {formats.count(self.total, 'action')}" if shown != self.total \
            else formats.count(shown, "action")
        self.count.setText(text + (f" · {overdue:,} overdue" if overdue else ""))
        if not shown:
            what = self.filters.describe()
            self.empty.setText(f"No actions match {what}.\n\nChange the filters, or press Clear filters to see "
                               "every action." if what and self.total else
                               "No actions yet.\n\nActions are agreed at MDT meetings (Meetings tab → New action…)"
                               ", or added here with New action….")
        self.table_stack.setCurrentWidget(self.table if shown else self.empty)
        self._selection_changed()

    # -- selection ------------------------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def selected_ids(self) -> list[str]:
        return [self.model.action_id(r) for r in self.selected_rows()]

    def current_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.action_id(index.row()) if index.isValid() else None

    def select_ids(self, ids: list[str], current: str | None = None) -> None:
        chosen = self.table.selectionModel()
        chosen.clearSelection()
        flags = QItemSelectionModel.SelectionFlag
        for action_id in ids:
            row = self.model.row_of(action_id)
            if row is not None:
                chosen.select(self.model.index(row, 0), flags.Select | flags.Rows)
        row = self.model.row_of(current) if current else None
        if row is not None:
            chosen.setCurrentIndex(self.model.index(row, 0), flags.NoUpdate)

    def select_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
            self.table.scrollTo(index)

    def _selection_changed(self, *_args) -> None:
        rows = self.selected_rows()
        if len(rows) > 1:
            self.panel.show_many(len(rows))
        elif rows:
            row = self.model.record(rows[0])
            self.panel.show_action(row, actions.history(self.session.db, row["id"]), self.today())
        else:
            self.panel.show_nothing()

    # -- what the buttons do ---------------------------------------------------------------------------------
    def new_action(self, meeting_id: str | None = None) -> None:
        if self.locality is None:
            return
        loc = self.locality["id"]

        def save(values: dict[str, Any]) -> None:
            mdt_operations.create_action(self.session, loc, values, meeting_id)

        self.dialog = ActionDialog(None, self.staff, self.patients, save, parent=self)
        self.dialog.accepted.connect(lambda: self.status_message("Action added to the log."))
        self.dialog.open()

    def edit_current(self) -> None:
        action_id = self.current_id() or next(iter(self.selected_ids()), None)
        if action_id is None:
            return
        row = dict(self.model.record(self.model.row_of(action_id)))
        row["patient_label"] = patient_name(row)

        def save(v: dict[str, Any]) -> None:
            mdt_operations.save_action(self.session, action_id, v["details"], v["status"], v["completed_on"],
                                       v["outcome_note"], v["escalated_to"], v["escalation_reason"])

        self.dialog = ActionDialog(row, self.staff, self.patients, save, parent=self)
        self.dialog.accepted.connect(lambda: self.status_message(f"{row['reference']} saved."))
        self.dialog.open()

    def set_status(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return

        done: list[str] = []

        def save(v: dict[str, Any]) -> None:
            mdt_operations.set_action_status(self.session, ids, v["status"], v["completed_on"], v["outcome_note"])
            done.append(v["status"])

        self.dialog = StatusDialog(len(ids), save, self)
        self.dialog.accepted.connect(lambda: self.status_message(
            f"{formats.count(len(ids), 'action')} set to {done[-1]}."))
        self.dialog.open()

    def status_message(self, text: str) -> None:
        bar = getattr(self.window(), "statusBar", None)
        if bar is not None:
            bar().showMessage(text, 10_000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Down or Enter from the filter box goes into the list: type, then arrow, with no mouse.
        if watched is self.filters.text and event.type() == QEvent.Type.KeyPress and \
                event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.filters.flush()
            if self.model.rowCount():
                self.table.setFocus()
                if not self.selected_rows():
                    self.select_row(0)
            return True
        return super().eventFilter(watched, event)
