"""A meeting's agenda, as two tabs: the patients to discuss (why each is there, with the reasons colleagues gave
when they flagged them for MDT, and the outcome editor beside them) and the open actions carried forward for
review (Enter opens the action)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...models.mdt import actions
from ..cohort.mdt_flag import flag_line
from ..kit import formats
from ..kit.field_help import help_label
from ..kit.key_filter import KeyFilter, on_key
from ..kit.table_model import Column, RecordsModel
from ..kit.tables import list_table
from ..kit.widgets import button_bar
from .actions_model import ActionsModel

PATIENT_COLUMNS = (
    Column("n", "#"),
    Column("patient", "Patient"),
    Column("nhs", "NHS number"),
    Column("source", "Why on the agenda"),
    Column("outcome", "Outcome agreed"),
)
CARRIED_COLUMNS = ("reference", "description", "owner_name", "due_date", "status")


def patient_label(item: Mapping[str, Any]) -> str:
    return f"{str(item['family_name'] or '').upper()}, {item['given_name'] or ''}"


def why_text(item: Mapping[str, Any]) -> str:
    """The source the item records, then the flag reasons that came with the patient: 'New this run · flagged:
    Carer struggling; two falls'."""
    reasons = "; ".join(f["reason"] or "no reason given" for f in item.get("flags") or [])
    if item["source"] == "flagged" and reasons:
        return f"Flagged: {reasons}"
    return formats.sentence_case(item["source"]) + (f" · flagged: {reasons}" if reasons else "")


def _select(table: QTableView, row: int | None) -> bool:
    if row is None:
        return False
    table.selectionModel().setCurrentIndex(
        table.model().index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    return True


class PatientsAgenda(QWidget):
    outcome_saved = Signal(str, str)  # item id, outcome
    remove_requested = Signal(str)  # item id
    action_requested = Signal(str)  # patient id: a new action for them

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.items: dict[str, Mapping[str, Any]] = {}
        self.model = RecordsModel(PATIENT_COLUMNS, self)
        self.table = list_table(self.model, "agendaPatients", (40, 210, 115, 260))
        self.table.setAccessibleName("Patients to discuss")
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._chosen())
        self.table.activated.connect(lambda _index: self.outcome.setFocus())
        on_key(self.table, Qt.Key.Key_Delete, self._remove)
        self.empty = QLabel(
            "No patients on the agenda yet.\n\nAdd patients… suggests those new to the cohort, "
            "those overdue for review and those a colleague flagged for MDT."
        )
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.empty)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.list_stack)
        splitter.addWidget(self._panel())
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([760, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        layout.addWidget(splitter)

    def set_items(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Show *items*, keeping the chosen patient (and any outcome being typed for them) when still there."""
        current = self.current_item()
        self.items = {i["id"]: i for i in items}
        self.model.set_rows(
            [
                {
                    "id": i["id"],
                    "n": n,
                    "patient": patient_label(i),
                    "nhs": formats.nhs_number(i["nhs_number"]),
                    "source": why_text(i),
                    "outcome": i["outcome"] or "—",
                }
                for n, i in enumerate(items, start=1)
            ]
        )
        self.list_stack.setCurrentWidget(self.table if items else self.empty)
        if not (current and self.select(current["id"])):
            self._shown_id = None
            self.panel.setCurrentIndex(0)

    def select(self, item_id: str) -> bool:
        return _select(self.table, self.model.row_of(item_id))

    def current_item(self) -> Mapping[str, Any] | None:
        index = self.table.currentIndex()
        return self.items.get(self.model.row_id(index.row())) if index.isValid() else None

    # -- the outcome being typed ------------------------------------------------------------------------------
    _shown_id: str | None = None
    _shown_text = ""

    def is_dirty(self) -> bool:
        return self._shown_id is not None and self.outcome.toPlainText().strip() != self._shown_text.strip()

    def take_unsaved(self) -> tuple[str, str] | None:
        """The outcome typed and not saved, as (item id, text), now counted as saved; None when there is none."""
        if not self.is_dirty():
            return None
        self._shown_text = self.outcome.toPlainText()
        return self._shown_id, self._shown_text

    def _chosen(self) -> None:
        item = self.current_item()
        if item is None:
            return  # a reload in progress: the choice comes back when it ends
        if item["id"] == self._shown_id:  # the same patient after a reload: keep what is being typed
            if not self.is_dirty():
                self._shown_text = item["outcome"] or ""
                self.outcome.setPlainText(self._shown_text)
            return
        # Moving to another patient saves the outcome typed for the last one, so nothing typed is lost.
        pending = self.take_unsaved()
        self._shown_id, self._shown_text = item["id"], item["outcome"] or ""
        self.name.setText(patient_label(item))
        self.identity.setText(
            f"NHS {formats.nhs_number(item['nhs_number'])} · born {formats.date(item['date_of_birth'])}\n"
            f"{formats.sentence_case(item['caseload_status'] or 'identified')}"
            + (f" · case manager {item['case_manager']}" if item["case_manager"] else "")
            + f"\nOn the agenda: {item['source']}"
        )
        flagged = item.get("flags") or []
        self.reasons.setText("Flagged for MDT:\n" + "\n".join(f"• {flag_line(f)}" for f in flagged))
        self.reasons.setVisible(bool(flagged))
        self.outcome.setPlainText(self._shown_text)
        self.panel.setCurrentIndex(1)
        if pending:
            self.outcome_saved.emit(*pending)

    def _remove(self) -> None:
        item = self.current_item()
        if item is not None:
            self.remove_requested.emit(item["id"])

    def _save_outcome(self) -> None:
        item = self.current_item()
        if item is not None:
            self._shown_text = self.outcome.toPlainText()
            self.outcome_saved.emit(item["id"], self._shown_text)

    def _panel(self) -> QStackedWidget:
        self.panel = QStackedWidget()
        self.panel.setMinimumWidth(320)
        hint = QLabel(
            "Choose a patient to record the outcome agreed.\n\nEnter puts the cursor in the outcome; "
            "Ctrl+Enter saves it, and so does moving to another patient. Delete takes the chosen "
            "patient off the agenda."
        )
        hint.setObjectName("emptyState")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.panel.addWidget(hint)
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(16, 0, 0, 0)
        self.name = QLabel()
        self.name.setObjectName("patientName")
        self.identity = QLabel()
        self.identity.setObjectName("patientIdentity")
        self.identity.setWordWrap(True)
        self.reasons = QLabel()
        self.reasons.setObjectName("mdtFlagReasons")
        self.reasons.setAccessibleName("Reasons given when flagged for MDT")
        self.reasons.setWordWrap(True)
        self.reasons.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reasons.hide()
        caption = QLabel("Outcome agreed")
        caption.setObjectName("sectionTitle")
        self.outcome = QPlainTextEdit()
        self.outcome.setObjectName("field_outcome")
        self.outcome.setAccessibleName("Outcome agreed")
        self.outcome.setTabChangesFocus(True)
        self.outcome.setPlaceholderText("What the team agreed, in a sentence or two")
        KeyFilter(
            self.outcome,
            {
                (Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier): self._save_outcome,
                (Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier): self._save_outcome,
            },
        )
        self.save_button = QPushButton("Save outcome")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save the outcome (Ctrl+Enter)")
        self.save_button.clicked.connect(self._save_outcome)
        self.action_button = QPushButton("New action…")
        self.action_button.setToolTip("An action agreed for this patient")
        self.action_button.clicked.connect(self._new_action)
        for widget in (self.name, self.identity, self.reasons, caption):
            box.addWidget(widget)
        box.addWidget(self.outcome, 1)
        row = button_bar()
        row.addWidget(self.save_button)
        row.addWidget(self.action_button)
        row.addStretch(1)
        box.addLayout(row)
        remove = QPushButton("Remove from the agenda")
        remove.setProperty("danger", True)
        remove.setToolTip("Take this patient off the agenda (Delete)")
        remove.clicked.connect(self._remove)
        box.addWidget(remove, 0, Qt.AlignmentFlag.AlignLeft)
        self.panel.addWidget(page)
        return self.panel

    def _new_action(self) -> None:
        item = self.current_item()
        if item is not None:
            self.action_requested.emit(item["patient_id"])


class CarriedActions(QWidget):
    remove_requested = Signal(str)  # item id
    open_action_requested = Signal(str)  # action id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.items: dict[str, Mapping[str, Any]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 10, 0, 0)
        top = button_bar()
        note = help_label(
            "Every action still open when the meeting was planned, to review. Enter opens the chosen "
            "action to record progress, a new due date or an escalation."
        )
        top.addWidget(note, 1)
        self.open_button = QPushButton("Update the action…")
        self.open_button.clicked.connect(self._open)
        self.remove_button = QPushButton("Remove from the agenda")
        self.remove_button.setProperty("danger", True)
        self.remove_button.clicked.connect(self._remove)
        top.addWidget(self.open_button)
        top.addWidget(self.remove_button)
        layout.addLayout(top)
        self.model = ActionsModel(CARRIED_COLUMNS, self)
        self.table = list_table(self.model, "agendaActions", (125, 420, 170, 95))
        self.table.setAlternatingRowColors(False)  # overdue rows have their own background
        self.table.setAccessibleName("Actions carried forward")
        self.table.activated.connect(lambda _index: self._open())
        on_key(self.table, Qt.Key.Key_Delete, self._remove)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.empty = QLabel("No actions carried forward: nothing was open when this meeting was planned.")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty, 1)

    def set_items(self, items: Sequence[Mapping[str, Any]], today: dt.date) -> None:
        current = self.current_item()
        self.items = {i["id"]: i for i in items}
        self.model.set_rows(
            [
                {
                    "id": i["id"],
                    "reference": i["reference"],
                    "description": i["description"],
                    "owner_name": i["owner_name"],
                    "due_date": i["due_date"],
                    "status": i["action_status"],
                    "overdue": actions.is_overdue({"status": i["action_status"], "due_date": i["due_date"]}, today),
                }
                for i in items
            ]
        )
        self.table.setVisible(bool(items))
        self.empty.setVisible(not items)
        if current:
            _select(self.table, self.model.row_of(current["id"]))
        self._update_buttons()

    def current_item(self) -> Mapping[str, Any] | None:
        index = self.table.currentIndex()
        return self.items.get(self.model.row_id(index.row())) if index.isValid() else None

    def _open(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_action_requested.emit(item["action_id"])

    def _remove(self) -> None:
        item = self.current_item()
        if item is not None:
            self.remove_requested.emit(item["id"])

    def _update_buttons(self) -> None:
        chosen = self.current_item() is not None
        self.open_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
