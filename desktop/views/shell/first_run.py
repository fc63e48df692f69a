"""The first start (issue 12, point 2): a short wizard — who you are, where you work, the demo world, an empty
workspace or one you already have, and where it is — instead of building the demo world unasked and then asking who
is there. An empty workspace holds only the 11 localities (issue 21): the invented practices, care homes and staff
are the demo's alone, and the start page says how to load the real ones from the NHS's files.

Nothing is written until Finish: Cancel quits with no workspace file and no setting. After Finish the workspace
is made (the demo world off the GUI thread, with progress and Cancel), then the answers are remembered as plain
settings, so the window opens on the chosen team and does not ask "Who is using Locality Desk?" again.

The last page says whether the disk of the folder chosen is encrypted, and warns of a network or cloud-synced folder
(issue 20, point 5): asked off the GUI thread when the page opens and again when the path has stayed unchanged for
a moment, so typing is never slowed. It informs; it never stops the user going on.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ...models.demo.reference_world import locality_table
from ...models.workspace import create_workspace
from ...settings import Settings
from ..kit import messages
from ..kit.field_help import help_label
from ..kit.formats import sentence_case
from ..kit.session import Session
from . import startup, who_dialog
from .workspace_dialogs import CHECKING, SETUP_GUIDE_PAGE, check_disk, disk_html, open_guide_page

COMMISSIONER = "commissioner"  # the "Where you work" answer that is no single team
DEMO, EMPTY, OPEN = "demo", "empty", "open"
DISK_CHECK_DELAY_MS = 500  # after the last keystroke in the path field
OPEN_IT = "Open it"
CHOOSE_OTHER = "Choose another file"


@dataclass(frozen=True)
class Answers:
    name: str
    role: str
    locality: str  # the team's code; "" for the commissioner, who compares all 11
    start: str  # DEMO, EMPTY or OPEN
    path: Path
    open_existing: bool = False

    @property
    def kind(self) -> str:
        # There is no commissioner demo: the demo world is one team workspace holding all 11 teams' returns.
        return "commissioner" if not self.locality and self.start == EMPTY else "locality"


def folder_problem(folder: Path) -> str | None:
    """Why a new workspace cannot be kept in *folder* (missing folders would be made), or None."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is a file, not a folder."
    try:  # permissions alone do not tell (ACLs, read-only disks, a network share): try it
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        return f"Locality Desk cannot write in {existing} ({exc.strerror or exc})."
    return None


class WhoPage(QWizardPage):
    def __init__(self, name: str):
        super().__init__()
        self.setTitle("Who are you?")
        self.setSubTitle("Every change you make is recorded in the workspace's audit trail with your name and role.")
        form = QFormLayout(self)
        self.name = QLineEdit(name)
        self.name.setAccessibleName("Your name")
        self.name.setPlaceholderText("Your name, as colleagues know you")
        form.addRow("&Name", self.name)
        self.role = QComboBox()
        self.role.setAccessibleName("Your role")
        self.role.addItem("Choose your role…", None)
        for role in who_dialog.ROLES:
            self.role.addItem(sentence_case(role), role)
        form.addRow("&Role", self.role)
        self.name.textChanged.connect(self.completeChanged)
        self.role.currentIndexChanged.connect(self.completeChanged)

    def initializePage(self) -> None:
        self.name.setFocus()

    def isComplete(self) -> bool:
        return bool(self.name.text().strip()) and self.role.currentData() is not None


class WherePage(QWizardPage):
    def __init__(self, who: WhoPage):
        super().__init__()
        self.who = who
        self.setTitle("Where do you work?")
        self.setSubTitle(
            "Every workspace holds all 11 LLR localities; the window opens on your team, and you can switch "
            "team at any time."
        )
        form = QFormLayout(self)
        self.team = QComboBox()
        self.team.setAccessibleName("Your locality team, or commissioner")
        self.team.addItem("Choose your team…", None)
        for loc in sorted(locality_table(), key=lambda r: r["name"].casefold()):
            self.team.addItem(f"{loc['name']}  ({loc['code']})", loc["code"])
        self.team.insertSeparator(self.team.count())
        self.team.addItem("Commissioner (compare the 11 teams)", COMMISSIONER)
        form.addRow("&Team", self.team)
        self.note = help_label("")
        form.addRow(self.note)
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        form.addRow(self.problem)
        self.team.currentIndexChanged.connect(self._update)

    def initializePage(self) -> None:
        if self.team.currentData() is None and self.who.role.currentData() == "commissioner":
            self.team.setCurrentIndex(self.team.findData(COMMISSIONER))
        self._update()
        self.team.setFocus()

    def locality(self) -> str:
        code = self.team.currentData()
        return "" if code == COMMISSIONER else code or ""

    def _role_fits(self) -> bool:
        return self.team.currentData() != COMMISSIONER or self.who.role.currentData() in who_dialog.COMMISSIONER_ROLES

    def isComplete(self) -> bool:
        return self.team.currentData() is not None and self._role_fits()

    def _update(self) -> None:
        commissioner = self.team.currentData() == COMMISSIONER
        self.note.setText(
            "A commissioner workspace imports the 11 teams' quarterly return files and compares them. "
            "It holds aggregate figures only, never patient-identifiable data."
            if commissioner
            else ""
        )
        self.problem.setText(
            ""
            if self._role_fits()
            else "⚠ It is used by the ICB's commissioners and analysts: go Back and choose one of those "
            "roles, or choose the team you work in as a "
            f"{self.who.role.currentText().lower()}."
        )
        self.problem.setVisible(not self._role_fits())
        self.completeChanged.emit()


class StartPage(QWizardPage):
    def __init__(self, where: WherePage):
        super().__init__()
        self.where = where
        self.setTitle("Start with")
        layout = QVBoxLayout(self)
        self.choices = QButtonGroup(self)
        self.demo = QRadioButton("The &demo world: a practice run on invented data")
        self.demo.setChecked(True)
        self.demo_note = help_label("")
        self.empty = QRadioButton("An &empty workspace")
        self.empty_note = help_label("")
        # The guide page on the NHS files is one click away: the empty workspace is only useful once they are in.
        self.empty_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.empty_note.setOpenExternalLinks(False)
        self.empty_note.linkActivated.connect(lambda page: open_guide_page(self, page))
        self.open = QRadioButton("&Open a workspace file you already have")
        self.open_note = help_label(
            "Your team's workspace, copied to this computer, or one made before. You choose the file on the next page."
        )
        for button, note in ((self.demo, self.demo_note), (self.empty, self.empty_note), (self.open, self.open_note)):
            self.choices.addButton(button)
            note.setContentsMargins(24, 0, 0, 10)
            layout.addWidget(button)
            layout.addWidget(note)
        layout.addStretch(1)

    def initializePage(self) -> None:
        commissioner = not self.where.locality()
        self.setSubTitle("You can make another workspace later with File → New workspace.")
        if commissioner:
            self.demo_note.setText(
                "There is no separate commissioner demo. The demo world is one team workspace holding all 11 "
                "teams' invented work and two years of their signed-off returns; it opens on its Commissioner "
                "screen, which compares the teams. Every person, practice and figure in it is invented, and it "
                "also holds invented patients. Building it takes a minute or so."
            )
            self.empty.setText("An &empty commissioner workspace, for real returns")
            self.empty_note.setText(
                "Holds only the 11 localities, ready to import the teams' return files: aggregate figures, never "
                "patient-identifiable data."
            )
        else:
            self.demo_note.setText(
                "Invented people, practices and care homes, with two years of cohort work, MDT meetings, care-home "
                "rounds and returns, so every screen has something to show. None of it is real: use it to learn "
                "and to try things out. Building it takes a minute or so."
            )
            self.empty.setText("An &empty workspace, for your team's real work")
            self.empty_note.setText(
                "Holds only the 11 localities: no practices, PCNs, care homes or staff yet. Once it opens, use "
                "File → Update reference data from NHS files… to load your practices and PCNs from the NHS's own "
                "files. "
                f'<a href="{SETUP_GUIDE_PAGE}">Setting up your team\'s real workspace</a> says which files, and '
                "where the NHS publishes them."
            )
        for button, note in ((self.demo, self.demo_note), (self.empty, self.empty_note), (self.open, self.open_note)):
            button.setAccessibleName(button.text().replace("&", ""))
            button.setAccessibleDescription(re.sub("<[^>]+>", "", note.text()))
        self.choices.checkedButton().setFocus()

    def start(self) -> str:
        return DEMO if self.demo.isChecked() else EMPTY if self.empty.isChecked() else OPEN


class PathPage(QWizardPage):
    def __init__(self, default: Path, start: StartPage | None = None):
        super().__init__()
        self.start = start
        self.open_existing = False
        self.setTitle("Where to keep it")
        self.setSubTitle("The workspace is one file on this computer; Locality Desk opens it at every start.")
        layout = QVBoxLayout(self)
        label = QLabel("&File")
        layout.addWidget(label)
        row = QHBoxLayout()
        self.path_edit = QLineEdit(str(default))
        self.path_edit.setAccessibleName("Workspace file")
        label.setBuddy(self.path_edit)
        row.addWidget(self.path_edit, 1)
        self.browse = QPushButton("&Browse…")
        self.browse.setAccessibleName("Browse for the workspace file")
        self.browse.setAutoDefault(False)  # Enter in the path field moves on, it does not browse
        self.browse.clicked.connect(self._browse)
        row.addWidget(self.browse)
        layout.addLayout(row)
        layout.addWidget(
            help_label(
                "A team workspace holds patient-identifiable data: keep it on an encrypted disk of this computer "
                "(or an encrypted USB drive), not a shared drive or a folder OneDrive or Dropbox syncs. Backups are "
                "made automatically in a backups folder beside it, on the same disk."
            )
        )
        self.disk = QLabel("")
        self.disk.setObjectName("diskProtection")
        self.disk.setWordWrap(True)
        self.disk.setOpenExternalLinks(False)
        self.disk.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.disk.linkActivated.connect(lambda _page: open_guide_page(self))
        layout.addWidget(self.disk)
        layout.addStretch(1)
        self.path_edit.textChanged.connect(self.completeChanged)
        self._asked: Path | None = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DISK_CHECK_DELAY_MS)
        self._debounce.timeout.connect(self.check_disk)
        self.path_edit.textChanged.connect(lambda _t: self._debounce.start())

    def opening(self) -> bool:
        return self.start is not None and self.start.start() == OPEN

    def initializePage(self) -> None:
        if self.opening():
            self.setTitle("Which workspace to open")
            self.setSubTitle("Choose the workspace file; Locality Desk opens it at every start.")
        else:
            self.setTitle("Where to keep it")
            self.setSubTitle("The workspace is one file on this computer; Locality Desk opens it at every start.")
        self.path_edit.setFocus()
        self.path_edit.selectAll()
        self.check_disk()

    @Slot()
    def check_disk(self) -> None:
        """Ask about the disk of the path shown, off the GUI thread; the answer replaces the line when it comes."""
        path = self.path()
        if path is None or path == self._asked:
            return
        self._asked = path
        self.disk.setText(CHECKING)
        check_disk(path, self._disk_checked)

    @Slot(object)
    def _disk_checked(self, answer: object) -> None:
        path, protection = answer
        if path == self._asked:  # an answer for a path typed over since is not shown
            self.disk.setText(disk_html(protection, "this folder"))

    def path(self) -> Path | None:
        text = self.path_edit.text().strip()
        if not text:
            return None
        path = Path(text).expanduser()
        return path if path.suffix or not path.name else path.with_suffix(".sqlite")

    def isComplete(self) -> bool:
        return self.path() is not None

    def validatePage(self) -> bool:
        path = self.path()
        self.open_existing = False
        if path is None:
            return False
        if path.is_dir():
            messages.warn(
                self,
                "That is a folder",
                f"{path} is a folder. Give a file name for the workspace, such as workspace.sqlite inside it.",
            )
            return False
        if self.opening():
            if startup.is_new(path):
                messages.warn(
                    self,
                    "There is no workspace there",
                    f"{path} does not exist or is empty. Choose the workspace file you already have "
                    "(Browse… finds it), or go Back to start a new one.",
                )
                return False
            self.open_existing = True
            return True
        if not startup.is_new(path):
            choice = messages.ask(
                self,
                "The file already exists",
                f"{path} already exists. Open it as your workspace, or choose another file name "
                "so nothing is overwritten.",
                [OPEN_IT, CHOOSE_OTHER],
            )
            self.open_existing = choice == OPEN_IT
            return self.open_existing
        problem = folder_problem(path.parent)
        if problem:
            messages.warn(self, "Cannot keep the workspace there", f"{problem}\n\nChoose another folder.")
            return False
        return True

    def _browse(self) -> None:
        if self.opening():
            name, _ = QFileDialog.getOpenFileName(
                self, "Open a workspace", self.path_edit.text(), startup.WORKSPACE_FILTER
            )
            if name:
                self.path_edit.setText(name)
            return
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Where to keep the workspace",
            self.path_edit.text(),
            startup.WORKSPACE_FILTER,
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if name:  # an existing file is offered to be opened on Finish
            self.path_edit.setText(name)


class FirstRunWizard(QWizard):
    def __init__(self, default_path: Path, name: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to Locality Desk")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.setMinimumSize(640, 440)
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Start")
        self.who = WhoPage(name)
        self.where = WherePage(self.who)
        self.start_page = StartPage(self.where)
        self.path_page = PathPage(default_path, self.start_page)
        for page in (self.who, self.where, self.start_page, self.path_page):
            self.addPage(page)

    def answers(self) -> Answers:
        return Answers(
            name=" ".join(self.who.name.text().split()),
            role=self.who.role.currentData(),
            locality=self.where.locality(),
            start=self.start_page.start(),
            path=self.path_page.path(),
            open_existing=self.path_page.open_existing,
        )


def run_wizard(wizard: FirstRunWizard) -> bool:
    """Show the wizard modally; tests replace it with a function that drives the real pages."""
    return bool(wizard.exec())


def first_start(settings: Settings, opened: startup.Opened, failed: startup.Failed) -> None:
    """Ask, make the workspace, open it and remember the answers, then hand *opened* the session, or None when the
    user chose to quit. The demo world is built off the GUI thread, so that may come later, from the event loop,
    as may an unexpected error, which goes to *failed*."""
    wizard = FirstRunWizard(startup.start_path(settings), settings.get("user_name"))
    try:
        answers = wizard.answers() if run_wizard(wizard) else None
    finally:
        wizard.deleteLater()
    if answers is None:
        opened(None)
        return

    def made(ready: bool) -> None:
        if not ready:
            opened(None)
            return
        startup.open_at_start(answers.path, settings, remembered, failed)

    def remembered(session: Session | None) -> None:
        if session is not None:
            remember(settings, answers, session)
        opened(session)

    if answers.open_existing:
        made(True)
    else:
        _make(answers, startup.guarded(made, failed), failed)


def _make(answers: Answers, then: Callable[[bool], None], failed: startup.Failed) -> None:
    answers.path.parent.mkdir(parents=True, exist_ok=True)
    if answers.start == DEMO:
        startup.build_first_workspace(
            answers.path, then, failed, empty_kind="commissioner" if not answers.locality else "locality"
        )
        return
    create_workspace(answers.path, answers.kind).close()
    then(True)


def remember(settings: Settings, answers: Answers, session: Session) -> None:
    who_dialog.remember(settings, session.path, answers.name, answers.role)
    settings.set("user_role", answers.role)
    settings.set("home_locality", answers.locality)
    if answers.locality:
        settings.set("last_locality", answers.locality)
    elif session.kind != "commissioner":  # the demo world, opened on the teams side by side
        settings.set_state("last_screen", "commissioner")
    settings.set("start_workspace", str(session.path))
    settings.set("first_run_done", True)
