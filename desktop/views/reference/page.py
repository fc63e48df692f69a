"""A reference-data screen (localities, PCNs, practices, care homes, staff), built from its Entity.

A filterable, sortable table of `reference.list_rows`, scoped to the current locality or to all of
them, with Add / Edit / Delete going through desktop.views.cohort.operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import reference
from ...models.changes import Changes
from ..kit import messages
from ..kit.flow_layout import FlowLayout
from ..kit.page import Page, title_block
from ..kit.session import Session
from ..kit.table_model import SORT_ROLE, RecordsModel
from ..kit.widgets import FilterEdit, SegmentedChoice, button_bar
from ..shell.screens import Screen, columns_for
from . import operations
from .import_dialog import ReferenceUpdateDialog, update_from_nhs_files
from .record_dialog import RecordDialog
from .records_view import RecordsView
from .summaries import SummaryArea

NHS_FED = {"pcns", "practices", "care_homes"}


class ReferencePage(Page):
    def __init__(self, screen: Screen, session: Session, parent: QWidget | None = None):
        super().__init__(screen, session, parent=parent)
        self.entity = reference.ENTITIES[screen.entity]
        # Tables whose changes alter what this page lists: its own, those it names, those it counts.
        self.depends = (
            {self.entity.name}
            | {f.ref for f in self.entity.fields if f.ref}
            | {table for table, _, _ in self.entity.referenced_by}
        )
        self.locality: Mapping[str, Any] | None = None
        self.all_localities = screen.entity == "localities"
        self.dialog: RecordDialog | None = None
        self.update_dialog: ReferenceUpdateDialog | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 20)
        title_block(layout, screen.title, screen.summary)
        self.summary = SummaryArea(screen)
        layout.addWidget(self.summary)
        layout.addLayout(self._controls())
        layout.addSpacing(6)

        self.model = RecordsModel(columns_for(screen, self.entity.columns), self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.table = self._table()
        self.empty = QLabel()
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        self._actions()
        self._update_buttons()

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches(*self.depends):
            self.mark_stale()

    def focus_filter(self) -> bool:
        self.filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter.selectAll()
        return True

    # -- data ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        selected = self.selected_id()
        scope = None if self.all_localities or self.locality is None else self.locality["id"]
        rows = reference.list_rows(self.session.db, self.entity.name, scope)
        self.model.set_rows(rows)
        self.summary.update_rows(rows, self._scope_name())
        self._fit_columns()
        if selected:
            self.select(selected)
        self._refresh_counts()

    def select(self, row_id: str) -> bool:
        row = self.model.row_of(row_id)
        if row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if not index.isValid():
            return False
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.scrollTo(index)
        return True

    def selected_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.model.row_id(self.proxy.mapToSource(rows[0]).row())

    def visible_rows(self) -> list[Mapping[str, Any]]:
        """The records the table shows now, in its order (after filter and sort)."""
        return [
            self.model.record(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
            for r in range(self.proxy.rowCount())
        ]

    # -- actions ------------------------------------------------------------------------------------------
    def add(self) -> None:
        locality_id = self.locality["id"] if self.locality else None
        self._open_dialog(None, locality_id)

    def edit(self) -> None:
        row_id = self.selected_id()
        if row_id is None:
            return
        with messages.reported(self, f"Cannot edit this {self.entity.singular}") as failed:
            row = reference.get(self.session.db, self.entity.name, row_id)
        if failed:
            self.reload()  # most often deleted in another window since the list was drawn
            return
        self._open_dialog(row, row.get("locality_id"))

    def delete(self) -> None:
        row_id = self.selected_id()
        if row_id is None:
            return
        record = self.model.record(self.model.row_of(row_id))
        what = self.entity.singular
        key = record.get(self.entity.key)
        named = record["name"] if key == record["name"] else f"{record['name']} ({key})"
        if not messages.confirm(
            self,
            f"Delete {what}?",
            f"Delete the {what} {named}?\n\nThis cannot be undone; the audit trail keeps a copy of what was deleted.",
            f"Delete {what}",
        ):
            return
        with messages.reported(self, f"Cannot delete {named}"):
            operations.delete_record(self.session, self.entity.name, row_id)

    def update_from_nhs_files(self) -> None:
        """Reference data → Update from NHS files…: choose the files, preview what they change, then Apply."""
        update_from_nhs_files(self, self.session, self._update_opened)

    def _update_opened(self, dialog: ReferenceUpdateDialog) -> None:
        self.update_dialog = dialog
        dialog.destroyed.connect(lambda _=None: setattr(self, "update_dialog", None))

    def _open_dialog(self, row: Mapping[str, Any] | None, locality_id: str | None) -> None:
        entity = self.entity.name
        row_id = row["id"] if row else None
        self.dialog = RecordDialog(
            self.session.db,
            self.entity,
            row,
            locality_id,
            lambda values: operations.save_record(self.session, entity, values, row_id),
            self,
        )
        self.dialog.saved.connect(self._saved)
        self.dialog.finished.connect(self._dialog_closed)
        self.dialog.open()

    def _saved(self, row_id: str) -> None:
        self.reload_if_stale()
        if not self.select(row_id) and self.filter.text():
            self.filter.clear()  # the new record is hidden by the filter; show it rather than lose it
            self.select(row_id)

    def _dialog_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None
        self.table.setFocus()

    # -- building -----------------------------------------------------------------------------------------
    def _controls(self) -> FlowLayout:
        row = button_bar()
        self.filter = FilterEdit(f"Filter {self._plural()}…  (Ctrl+F)")
        self.filter.textChanged.connect(self._filter_changed)
        row.addWidget(self.filter)
        row.addSpacing(8)
        scope = SegmentedChoice(["This locality", "All localities"], int(self.all_localities))
        scope.chosen.connect(lambda number: self.set_all_localities(number == 1))
        row.addWidget(scope)
        self.this_locality_button, self.all_localities_button = scope.buttons
        row.addSpacing(12)
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        row.addWidget(self.count)
        row.addStretch(1)
        self.update_button = QPushButton("Update from NHS files…")
        self.update_button.setToolTip(
            "Add and update practices and PCNs from the NHS's published files (ODS epraccur and ePCN), "
            "with a preview before anything is written"
        )
        self.update_button.clicked.connect(self.update_from_nhs_files)
        # Only the screens the NHS files feed; localities and staff are the team's own.
        if self.entity.name not in NHS_FED:
            self.update_button.hide()
        row.addWidget(self.update_button)
        self.add_button = QPushButton(f"Add {self.entity.singular}")
        self.add_button.setProperty("primary", True)
        self.add_button.setToolTip("Add (Insert)")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Edit the selected record (Enter or double-click)")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setProperty("danger", True)
        self.delete_button.setToolTip("Delete the selected record (Delete)")
        self.add_button.clicked.connect(self.add)
        self.edit_button.clicked.connect(self.edit)
        self.delete_button.clicked.connect(self.delete)
        for button in (self.add_button, self.edit_button, self.delete_button):
            row.addWidget(button)
        return row

    def _table(self) -> RecordsView:
        table = RecordsView()
        table.setObjectName("records")
        table.setAccessibleName(self.screen.title)
        table.setModel(self.proxy)
        keys = [key for key, _ in self.entity.columns]
        order = self.entity.order_by if self.entity.order_by in keys else keys[0]
        table.sortByColumn(keys.index(order), Qt.SortOrder.AscendingOrder)
        table.stretch_column = keys.index("name") if "name" in keys else None
        table.activated.connect(lambda _index: self.edit())  # Enter and double-click
        table.selectionModel().selectionChanged.connect(self._update_buttons)
        return table

    def _actions(self) -> None:
        add = QAction("Add", self)
        add.setShortcut(QKeySequence(Qt.Key.Key_Insert))
        add.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        add.triggered.connect(self.add)
        self.addAction(add)
        delete = QAction("Delete", self.table)
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        delete.triggered.connect(self.delete)
        self.table.addAction(delete)

    def set_all_localities(self, all_of_them: bool) -> None:
        if all_of_them != self.all_localities:
            self.all_localities = all_of_them
            self.reload()

    def _filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._refresh_counts()

    def _fit_columns(self) -> None:
        # One locality shown: its name in every row says nothing, so the column gives its room to others.
        keys = [key for key, _ in self.entity.columns]
        if "locality" in keys:
            self.table.setColumnHidden(keys.index("locality"), self._scope_name() is not None)
        self.table.fit_columns()

    def _refresh_counts(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        plural = self._plural()
        if shown == total:
            self.count.setText(f"{total:,} {plural if total != 1 else self.entity.singular}")
        else:
            self.count.setText(f"{shown:,} of {total:,} {plural}")
        if total == 0:
            self.empty.setText(
                f"No {plural} {self._scope_phrase()} yet.\n\n"
                f"Press Add {self.entity.singular} (or Insert) to add the first one."
            )
        elif shown == 0:
            self.empty.setText(
                f"No {plural} match “{self.filter.text().strip()}”.\n\n"
                "Change the filter, or press Esc in it to show them all."
            )
        self.stack.setCurrentWidget(self.table if shown else self.empty)
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected_id() is not None
        self.edit_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _plural(self) -> str:
        plural = self.entity.plural
        return plural if plural[1:2].isupper() else plural[0].lower() + plural[1:]

    def _scope_name(self) -> str | None:
        return None if self.all_localities or self.locality is None else self.locality["name"]

    def _scope_phrase(self) -> str:
        name = self._scope_name()
        return f"in {name}" if name else "in this workspace"
