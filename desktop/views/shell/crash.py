"""The one place an unexpected exception ends up (STYLE practice 10).

Expected errors (DeskError) are shown as a plain message with their text; anything else is a bug and
opens the crash dialog with the traceback and the log file's path, so a user can send both.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models.errors import DeskError
from ..kit import messages

log = logging.getLogger("desktop.crash")


class CrashDialog(QDialog):
    def __init__(self, details: str, log_path: Path | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Locality Desk: something went wrong")
        self.setMinimumSize(640, 420)
        layout = QVBoxLayout(self)
        summary = QLabel(
            "<b>Locality Desk met a problem it did not expect.</b><br>"
            "Changes you had already saved are kept; each save is written in one step, so a half-finished "
            "one was not stored. You can carry on, or quit and start the app again.<br><br>"
            "Please send the details below and the log file to whoever supports Locality Desk for you."
        )
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.details = QPlainTextEdit(details)
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.details, 1)
        self.log_label = QLabel(f"Log file: {log_path}" if log_path else "No log file was written.")
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.log_label)
        buttons = QDialogButtonBox()
        copy = QPushButton("Copy details")
        copy.clicked.connect(self._copy)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        quit_button = buttons.addButton("Quit Locality Desk", QDialogButtonBox.ButtonRole.DestructiveRole)
        quit_button.clicked.connect(QApplication.quit)
        carry_on = buttons.addButton("Carry on", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        carry_on.setDefault(True)
        self._log_path = log_path

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(f"{self.details.toPlainText()}\nLog file: {self._log_path}")


class ExceptionHandler:
    """Installed as sys.excepthook by app.py; exceptions raised in Qt slots arrive here too."""

    def __init__(self, log_path: Path | None):
        self.log_path = log_path
        self.open_dialog: CrashDialog | None = None

    def __call__(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        self.report(exc_type, exc, tb, wait=False)

    def report(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, wait: bool) -> None:
        """Show *exc* by its tier; *wait* blocks until the user closes it (needed before the event loop runs)."""
        if issubclass(exc_type, KeyboardInterrupt) or QApplication.instance() is None:
            sys.__excepthook__(exc_type, exc, tb)
            return
        parent = QApplication.activeWindow()
        if isinstance(exc, DeskError):
            log.info("Shown to the user: %s", exc)
            messages.show_error(parent, "Locality Desk", exc)
            return
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        log.error("Unexpected error\n%s", details)
        if self.open_dialog is not None and self.open_dialog.isVisible():
            return  # one dialog is enough; a cascade of the same bug would bury the first, useful one
        self.open_dialog = CrashDialog(details, self.log_path, parent)
        if wait:
            self.open_dialog.exec()
        else:
            self.open_dialog.open()


def install(log_path: Path | None) -> ExceptionHandler:
    handler = ExceptionHandler(log_path)
    sys.excepthook = handler
    return handler
