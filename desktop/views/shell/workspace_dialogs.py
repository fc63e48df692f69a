"""File → New workspace, and Help → About; what the app says of the workspace's disk (issue 20, point 5)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QApplication,
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
from ...models import at_rest
from ...models.errors import DeskError
from ..kit.field_help import help_label
from ..kit.tasks import BackgroundWorker
from . import help_window
from .startup import WORKSPACE_FILTER

GUIDE_TITLE = "Keeping patient data safe"
SETUP_GUIDE_PAGE = "setting-up-real-workspace.md"  # which NHS files a real workspace needs, and where to get them
CHECKING = "Checking whether the disk is encrypted…"

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
            "A new workspace is empty but for the 11 localities: load your practices and PCNs from the NHS's own "
            "files afterwards (File → Update reference data from NHS files…). Everything stays in one file on this "
            "computer. The demo world's invented practices and people never go into a new workspace: to try "
            "Locality Desk on them, build the demo world with `locality-desk demo --db FILE`."
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


# -- the workspace's disk ----------------------------------------------------------------------------------
def check_disk(path: Path, receiver: Callable[[object], None]) -> BackgroundWorker:
    """Ask desktop.models.at_rest about the disk holding *path* off the GUI thread (a probe may run a command for up
    to a few seconds); *receiver*, a slot of a QObject, gets (path, Protection) on the GUI thread.

    The worker belongs to the application, so a dialog closed meanwhile cannot destroy a running thread; Qt simply
    does not call a deleted receiver."""
    worker = BackgroundWorker(lambda _progress, _cancel: (path, at_rest.volume_protection(path)))
    worker.setParent(QApplication.instance())
    worker.succeeded.connect(receiver)
    worker.finished.connect(worker.deleteLater)
    worker.start()
    return worker


def disk_html(protection: at_rest.Protection, what: str = "this workspace", link: bool = True) -> str:
    """What the app says of the disk, as rich text: a tick when all is well, a warning sign otherwise, and a link
    to the guide's page."""
    mark = "✔" if protection.settled else "⚠"
    words = " ".join(html.escape(s) for s in protection.sentences(what))
    more = f' <a href="{at_rest.GUIDE_PAGE}">{GUIDE_TITLE}</a>' if link else ""
    return f"{mark} {words}{more}"


def open_guide_page(parent: QWidget | None, page: str = at_rest.GUIDE_PAGE) -> QWidget:
    """The user guide at *page* (its information-governance page unless told), beside *parent* (the main window or
    the wizard)."""
    window = parent.window() if parent is not None else None
    guide = window.findChild(help_window.HelpWindow, "helpWindow") if window is not None else None
    if guide is None:
        guide = help_window.HelpWindow(window)
    guide.show_page(page)
    guide.show()
    guide.raise_()
    return guide


class AboutBox(QMessageBox):
    """Help → About: the version, where the data is, whether the workspace's disk is encrypted, and a button to
    the guide's page on keeping patient data safe."""

    def __init__(self, parent: QWidget | None, workspace: Path | None):
        super().__init__(parent)
        self.setWindowTitle("About Locality Desk")
        self.setIcon(QMessageBox.Icon.Information)
        self.setText(
            f"<h3>Locality Desk {__version__}</h3>"
            "<p>The desktop tool for the integrated locality teams of Leicester, Leicestershire and "
            "Rutland: cohort work, MDT actions, care-home rounds and quarterly returns, offline.</p>"
        )
        self.workspace = workspace
        self.disk = CHECKING if workspace is not None else ""
        self.protection: at_rest.Protection | None = None
        self._show_disk()
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        self.guide_button = self.addButton(f"{GUIDE_TITLE}…", QMessageBox.ButtonRole.HelpRole)
        self.guide_button.setAccessibleName(f"Open the guide's page: {GUIDE_TITLE}")
        self.guide_button.clicked.connect(lambda: open_guide_page(self.parentWidget() or self))
        if workspace is not None:
            check_disk(workspace, self._checked)

    @Slot(object)
    def _checked(self, answer: object) -> None:
        _path, self.protection = answer
        self.disk = disk_html(self.protection, link=False)
        self._show_disk()

    def _show_disk(self) -> None:
        where = (
            f"in the workspace file {html.escape(str(self.workspace))}, and its backups in a folder beside it"
            if self.workspace is not None
            else "in the workspace file on this computer"
        )
        self.setInformativeText(
            f"<p>All data is stored locally, {where}. Locality Desk does not encrypt them itself: the disk's "
            "own encryption (BitLocker, FileVault or LUKS) is what protects them if the laptop is lost.</p>"
            + (f"<p>{self.disk}</p>" if self.disk else "")
            + "<p><b>The demo data is synthetic.</b> Every person, practice, care home and figure in it is "
            "invented; NHS numbers come from the range that is never issued to real patients.</p>"
        )


def about_box(parent: QWidget | None) -> QMessageBox:
    session = getattr(parent, "session", None)
    return AboutBox(parent, getattr(session, "path", None))
