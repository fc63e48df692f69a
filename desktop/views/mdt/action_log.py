"""The action log: every action of the locality, filtered by owner, organisation, status, due window, patient
and meeting, overdue first; the chosen action and its history beside it; Enter edits, and several chosen
at once can be given one status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSplitter, QVBoxLayout, QWidget

from ...models import clock, reference
from ...models.mdt import actions, meetings
from ..kit import formats, messages
from ..kit.deferred import BuiltLater
from ..kit.record_table import RecordTable, join_filter_and_table, table_or_message
from ..kit.session import Session
from . import operations as mdt_operations
from .action_dialog import ActionDialog, StatusDialog
from .action_filters import ActionFilterBar
from .action_panel import ActionPanel
from .actions_model import ActionsModel, patient_name

MIN_DESCRIPTION = 190


class ActionTable(RecordTable):
    """Many rows chosen at once; every column keeps its width except the description, which takes what is
    left (never less than MIN_DESCRIPTION), so nine columns fit a laptop screen without scrolling sideways."""

    def __init__(self, model: ActionsModel, name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setModel(model)
        for number, column in enumerate(model.columns):
            self.setColumnWidth(number, column.width)
        self._description = [c.key for c in model.columns].index("description")
        header = self.horizontalHeader()
        header.sectionResized.connect(lambda section, *_: section != self._description and self.fit_description())
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # the domain's order: overdue first
        self.setSortingEnabled(True)

    def row_id(self, row: int) -> str:
        return self.model().row_id(row)

    def rows_of(self, ids: Sequence[str]) -> list[int]:
        rows = (self.model().row_of(action_id) for action_id in ids)
        return [row for row in rows if row is not None]

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_description()

    def fit_description(self) -> None:
        others = sum(self.columnWidth(c) for c in range(self.model().columnCount()) if c != self._description)
        self.setColumnWidth(self._description, max(MIN_DESCRIPTION, self.viewport().width() - others))


class ActionLog(BuiltLater, QWidget):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.locality: Mapping[str, Any] | None = None
        self.staff: list[dict[str, Any]] = []
        self.patients: list[tuple[str, str]] = []
        self.dialog: ActionDialog | StatusDialog | None = None
        self.today = clock.today
        self.total = 0
        self.built = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)

    def build(self) -> None:
        """The filters, the table and the panel. The MDT screen opens on its Meetings tab, so these are built
        after its first paint, or when first needed if sooner: some 25-90 ms of widgets the first paint need
        not wait for (issue 26)."""
        if self.built:
            return
        self.built = True
        layout = self.layout()
        self.filters = ActionFilterBar()
        self.filters.changed.connect(self.refresh)
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
        join_filter_and_table(self.filters, self.table)
        self.table_stack, self.empty = table_or_message(self.table)
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
        # Built after the tab was shown, they would stay hidden until the next event loop turn otherwise.
        self.filters.show()
        splitter.show()

    build_later = build  # what BuiltLater builds when a part is asked for early

    # -- data -------------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        if self.built:  # unbuilt, the filters will start clear
            self.filters.clear()

    def reload(self) -> None:
        """Fill the filter choices and the table from the store, keeping the filters and the selection."""
        self.build()
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
        chosen, current = self.table.selected_ids(), self.table.current_id()
        rows = actions.listing(self.session.db, self.locality["id"], self.filters.action_filter(), self.today())
        self.model.set_rows(rows)
        self.table.select_ids(chosen, current)
        shown, overdue = self.model.rowCount(), self.model.overdue_count()
        text = (
            f"{shown:,} of {formats.count(self.total, 'action')}"
            if shown != self.total
            else formats.count(shown, "action")
        )
        self.count.setText(text + (f" · {overdue:,} overdue" if overdue else ""))
        if not shown:
            what = self.filters.describe()
            self.empty.setText(
                f"No actions match {what}.\n\nChange the filters, or press Clear filters to see every action."
                if what and self.total
                else "No actions yet.\n\nActions are agreed at MDT meetings (Meetings tab → New action…)"
                ", or added here with New action…."
            )
        self.table_stack.setCurrentWidget(self.table if shown else self.empty)
        self._selection_changed()

    # -- selection ------------------------------------------------------------------------------------------
    def _selection_changed(self, *_args) -> None:
        rows = self.table.selected_rows()
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
        action_id = self.table.current_id() or next(iter(self.table.selected_ids()), None)
        if action_id is None:
            return
        row = dict(self.model.record(self.model.row_of(action_id)))
        row["patient_label"] = patient_name(row)

        def save(v: dict[str, Any]) -> None:
            mdt_operations.save_action(
                self.session,
                action_id,
                v["details"],
                v["status"],
                v["completed_on"],
                v["outcome_note"],
                v["escalated_to"],
                v["escalation_reason"],
            )

        self.dialog = ActionDialog(row, self.staff, self.patients, save, parent=self)
        self.dialog.accepted.connect(lambda: self.status_message(f"{row['reference']} saved."))
        self.dialog.open()

    def set_status(self) -> None:
        ids = self.table.selected_ids()
        if not ids:
            return

        done: list[str] = []

        def save(v: dict[str, Any]) -> None:
            mdt_operations.set_action_status(self.session, ids, v["status"], v["completed_on"], v["outcome_note"])
            done.append(v["status"])

        self.dialog = StatusDialog(len(ids), save, self)
        self.dialog.accepted.connect(
            lambda: self.status_message(f"{formats.count(len(ids), 'action')} set to {done[-1]}.")
        )
        self.dialog.open()

    def status_message(self, text: str) -> None:
        messages.show_status(self, text)
