"""The recommendations of the quarterly locality report, edited before it is exported (issue 24, point 4): the
draft asks (models/kpi/board.draft_asks, from the reds, the assurance fails and the improvements) one a line in a
text box the federation manager rewords, adds to or deletes from. Export checks them for patient identifiers as
the app checks comments (board.check_asks) and stays open, saying what was found, if any is; Cancel exports
nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QWidget

from ...models.errors import ValidationError
from ...models.kpi import board
from ..kit.form_dialog import FormDialog, text_box

HINT = (
    "One recommendation a line; each finishes \u201cThe Board is asked to \u2026\u201d and is lettered (a), (b)\u2026 "
    "in the report. The report goes to the locality board: name no patient."
)


class BoardAsksDialog(FormDialog):
    """The draft asks in an editable box; `asks` holds what to print once the dialog is accepted."""

    ask_before_discarding = False  # Cancel exports nothing, and the draft is made again next time

    def __init__(self, db: Any, figures: Any, parent: QWidget | None = None):
        self.db = db
        self.draft = board.draft_asks(figures)
        self.asks: list[str] | None = None
        name, label = figures.locality["name"], figures.quarter.label
        super().__init__(
            "Export the locality report",
            f"Recommendations to the board: {name}, {label}",
            board.headline(figures)
            + " Check the recommendations drafted from the exceptions below, and edit them before the report is "
            "written.",
            "&Export…",
            self._check,
            parent,
            width=760,
        )
        self.box = text_box("asks", height=240)
        self.box.setAccessibleName("The Board is asked to")
        self.box.setPlainText("\n".join(self.draft))
        self.add_field("asks", "The Board is asked to", self.box, HINT)
        restore = QPushButton("&Restore the draft")
        restore.setToolTip("Put back the recommendations drafted from the figures")
        restore.clicked.connect(lambda: self.box.setPlainText("\n".join(self.draft)))
        row = QHBoxLayout()
        row.addWidget(restore)
        row.addStretch(1)
        self.form.addRow("", row)

    def values(self) -> dict[str, Any]:
        return {"asks": self.box.toPlainText()}

    def _check(self, values: dict[str, Any]) -> None:
        asks = board.parse_asks(values["asks"])
        try:
            board.check_asks(self.db, asks)
        except ValidationError as exc:
            raise ValidationError(str(exc), "asks") from exc
        self.asks = asks


def edit_asks(parent: QWidget | None, db: Any, figures: Any) -> list[str] | None:
    """The recommendations as the user leaves them, or None when the export is cancelled."""
    dialog = BoardAsksDialog(db, figures, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.asks
