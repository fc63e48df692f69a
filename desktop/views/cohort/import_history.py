"""The locality's extract imports, newest first, and rolling back the last one (issue 22).

A wrong file picked by mistake is undone here as one step, or with Edit → Undo straight after the import.
Why the last import cannot be rolled back (later work depends on it) is said before the button is pressed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QTableWidgetItem, QVBoxLayout, QWidget

from ...models.cohort import rollback
from ..kit import formats, messages
from ..kit.session import Session
from ..kit.tables import records_table
from . import operations

HEADINGS = ("Extract date", "File", "Imported", "By", "Rows", "Rejected", "Cohort", "New", "Left", "Changed", "")


class ImportHistoryDialog(QDialog):
    def __init__(self, session: Session, locality: Mapping[str, Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.locality = session, locality
        self.setWindowTitle(f"Import history — {locality['name']}")
        self.setObjectName("importHistoryDialog")
        self.resize(980, 420)
        layout = QVBoxLayout(self)
        self.table = records_table("importHistory", f"{locality['name']}'s extract imports", HEADINGS)
        layout.addWidget(self.table, 1)
        self.note = QLabel()
        self.note.setObjectName("rollBackNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.roll_back_button = QPushButton("Roll back the last import…")
        self.roll_back_button.setObjectName("rollBackButton")
        buttons.addButton(self.roll_back_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.roll_back_button.clicked.connect(self.roll_back)
        layout.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        code = self.locality["code"]
        runs = rollback.history(self.session.db, code)
        self.table.setRowCount(len(runs))
        for r, run in enumerate(runs):
            partial = run["partial"]
            cells = (
                formats.date(run["extract_date"]),
                run["file_name"],
                run["imported_at"][:16].replace("T", " "),
                run["imported_by"],
                f"{run['rows']:,}",
                f"{run['rejected']:,}",
                f"{run['cohort_total']:,}",
                f"{run['new']:,}",
                f"{run['left']:,}",
                f"{run['changed']:,}",
                f"partial: {len(partial['covered'])} practices" if partial else "",
            )
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        last = rollback.last_import(self.session.db, code) if runs else None
        self.last = last
        self.roll_back_button.setEnabled(last is not None and last.refusal is None)
        if last is None:
            self.note.setText(f"No extract has been imported for {self.locality['name']} yet.")
        elif last.refusal:
            self.note.setText(f"The last import cannot be rolled back. {last.refusal}")
        else:
            self.note.setText(f"Last import: {last.describe()}")

    def roll_back(self) -> None:
        last = self.last
        if last is None or not messages.confirm(
            self,
            "Roll back the last import?",
            f"{last.describe()}\n\nThe roll-back is recorded in the audit log.",
            "Roll back",
        ):
            return
        with messages.reported(self, "Not rolled back") as failed:
            operations.roll_back_import(self.session, self.locality["code"])
        if not failed:
            messages.show_status(self.parentWidget() or self, f"Rolled back {last.run['file_name']}.")
        self.refresh()
