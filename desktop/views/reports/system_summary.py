"""Before the system report is written: "The Board is asked to …", drafted from the quarter's exceptions
(models/kpi/system_board.py), for the commissioner to edit. One request a line; OK checks the text for patient
identifiers with the app's one detector (models/free_text.py) and the report is written with the text as
edited; Cancel writes nothing."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models.errors import ValidationError
from ...models.kpi import system_board
from ...models.quarters import Quarter
from ..kit.field_help import help_label
from ..kit.widgets import button_bar


class SystemSummaryDialog(QDialog):
    def __init__(self, db, quarter: Quarter, draft: list[str], publication: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.db = db
        self.draft = list(draft)
        self.chosen: list[str] | None = None
        self.setWindowTitle(f"System report {quarter.label}")
        self.setObjectName("systemSummaryDialog")
        self.resize(760, 460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        heading = QLabel("The Board is asked to …")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        layout.addWidget(
            help_label(
                "Drafted from this quarter's exceptions: the teams beyond the funnel plots' 99.8% limits, the KPIs "
                "red in several teams, what is worse than last quarter and the returns outstanding. Edit it as the "
                "Board should read it on page 1, one request a line. It is checked for patient identifiers before "
                "the report is written."
                + (" The report is for publication: name no small numbers here." if publication else "")
            )
        )
        self.editor = QPlainTextEdit(system_board.asks_text(self.draft))
        self.editor.setObjectName("boardAsks")
        self.editor.setAccessibleName("Requests to the Board, one a line")
        self.editor.setTabChangesFocus(True)
        layout.addWidget(self.editor, 1)
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        layout.addWidget(self.problem)
        buttons = button_bar()
        self.restore = QPushButton("&Restore the draft")
        self.restore.clicked.connect(self.restore_draft)
        self.ok = QPushButton("&Export…")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.accept)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons.addWidget(self.restore)
        buttons.addStretch(1)
        buttons.addWidget(self.ok)
        buttons.addWidget(cancel)
        layout.addLayout(buttons)

    def asks(self) -> list[str]:
        return system_board.parse_asks(self.editor.toPlainText())

    def restore_draft(self) -> None:
        self.editor.setPlainText(system_board.asks_text(self.draft))
        self.problem.hide()

    def accept(self) -> None:
        asks = self.asks()
        try:
            system_board.check_asks(self.db, asks)
        except ValidationError as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            self.editor.setFocus()
            return
        self.chosen = asks
        super().accept()


def ask_board(parent: QWidget | None, db, quarter: Quarter, publication: bool) -> list[str] | None:
    """The requests to the Board as the user leaves them, or None when they cancel (nothing is written)."""
    from ...reports import system_report

    draft = system_report.draft_asks(db, quarter, publication)
    dialog = SystemSummaryDialog(db, quarter, draft, publication, parent)
    return dialog.chosen if dialog.exec() == QDialog.DialogCode.Accepted else None
