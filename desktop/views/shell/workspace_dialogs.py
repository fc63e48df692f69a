"""File → New workspace, and Help → About."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ... import __version__
from ...models.errors import DeskError
from ..kit.field_help import help_label
from .startup import WORKSPACE_FILTER

KIND_TEXT = {
    "locality": (
        "Locality workspace",
        "For a locality team: the cohort, MDT meetings, care-home visits and the quarterly return. "
        "Holds patient-identifiable data.",
    ),
    "commissioner": (
        "Commissioner workspace",
        "For the ICB: imports the eleven teams' returns and compares them. Holds aggregate "
        "figures only, never patient-identifiable data.",
    ),
}


class NewWorkspaceDialog(QDialog):
    created = Signal(object)  # the Path of the new workspace

    def __init__(self, start_dir: str, create: Callable[[Path, str], None], parent: QWidget | None = None):
        super().__init__(parent)
        self._create = create
        self._start_dir = start_dir
        self.setWindowTitle("New workspace")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        intro = QLabel(
            "A new workspace starts with the LLR reference data (localities, PCNs, practices, care "
            "homes and staff), which you can then edit. Everything stays in one file on this computer."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addSpacing(8)

        self.kinds = QButtonGroup(self)
        self.kind_buttons: dict[str, QRadioButton] = {}
        for kind, (title, text) in KIND_TEXT.items():
            button = QRadioButton(title)
            button.setObjectName(f"kind_{kind}")
            button.setChecked(kind == "locality")
            self.kinds.addButton(button)
            self.kind_buttons[kind] = button
            layout.addWidget(button)
            note = help_label(text)
            note.setContentsMargins(24, 0, 0, 6)
            layout.addWidget(note)

        layout.addWidget(QLabel("File"))
        row = QHBoxLayout()
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("path")
        self.path_edit.setAccessibleName("Workspace file")
        self.path_edit.setPlaceholderText("Choose where to save the workspace file")
        self.path_edit.textEdited.connect(lambda _t: self.error.hide())
        row.addWidget(self.path_edit, 1)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        layout.addLayout(row)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.addButton("Create workspace", QDialogButtonBox.ButtonRole.AcceptRole)
        self.create_button.setProperty("primary", True)
        buttons.accepted.connect(self.try_create)
        buttons.rejected.connect(self.reject)
        layout.addSpacing(8)
        layout.addWidget(buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        self.create_button.setDefault(True)

    def kind(self) -> str:
        return next(k for k, b in self.kind_buttons.items() if b.isChecked())

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.suffix else path.with_suffix(".sqlite")

    def try_create(self) -> None:
        path = self.path()
        if path is None:
            self._show_error("Choose where to save the new workspace first.")
            return
        try:
            self._create(path, self.kind())
        except DeskError as exc:
            self._show_error(str(exc))
            return
        self.created.emit(path)
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(f"⚠ {text}")
        self.error.show()
        self.path_edit.setFocus()

    def _browse(self) -> None:
        suggestion = str(Path(self._start_dir or Path.home()) / f"{self.kind()}-workspace.sqlite")
        name, _ = QFileDialog.getSaveFileName(self, "New workspace", suggestion, WORKSPACE_FILTER)
        if name:
            self.path_edit.setText(name)
            self.error.hide()


def about_box(parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setWindowTitle("About Locality Desk")
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(
        f"<h3>Locality Desk {__version__}</h3>"
        "<p>The desktop tool for the integrated locality teams of Leicester, Leicestershire and "
        "Rutland: cohort work, MDT actions, care-home rounds and quarterly returns, offline.</p>"
    )
    box.setInformativeText(
        "<p>All data is stored locally, in the workspace file on this computer.</p>"
        "<p><b>The demo data is synthetic.</b> Every person, practice, care home and figure in it is "
        "invented; NHS numbers come from the range that is never issued to real patients.</p>"
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box
