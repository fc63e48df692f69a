"""“Who is using Locality Desk?”: the name and role each change is recorded with (issue 10, point 6).

Asked when the app opens, pre-filled with the answer last given for the workspace (or for any workspace), so a
returning user just presses Enter; File → “Who is using this…” asks again. The name also stays in the
`user_name` setting, the role and per-workspace memory in the `workspace_users` state. Writes carry the name
in `updated_by` as before; the audit row carries the name and the role.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from ...models import roles
from ...models.clock import Actor
from ...settings import Settings
from ..kit.field_help import explain
from ..kit.formats import sentence_case
from ..kit.session import Session

ROLES = (
    "GP",
    "community matron",
    "care coordinator",
    "social worker",
    roles.FEDERATION_MANAGER,
    roles.LOCALITY_LEAD,
    "commissioner",
    "analyst",
)
COMMISSIONER_ROLES = ("commissioner", "analyst")
REMEMBERED = 20  # workspaces whose user is remembered
# What WhoDialog._update asks before Continue is enabled, for the fields' tooltips and What's This.
NAME_HELP = "Required: your name as colleagues know you. Every change you make is recorded with it."
ROLE_HELP = (
    "Required: your role in the team, recorded with each change in the audit log. Only "
    f"{roles.WHO_SIGNS_OFF} may sign off or reopen a quarterly return."
)


def roles_for(kind: str) -> tuple[str, ...]:
    """The roles a workspace of *kind* offers: a commissioner workspace is used by the ICB only."""
    return COMMISSIONER_ROLES if kind == "commissioner" else ROLES


def remembered(settings: Settings, path: Path, kind: str) -> tuple[str, str | None]:
    """The name and role last given for the workspace at *path*, else the latest given for any workspace;
    a role this kind of workspace does not offer is dropped."""
    entries = [e.split("\t") for e in settings.state("workspace_users")]
    entries = [e for e in entries if len(e) == 3]
    here = next((e for e in entries if e[0] == str(Path(path).resolve())), None)
    _, name, role = here or (entries[0] if entries else ("", settings.get("user_name"), ""))
    return name or settings.get("user_name"), role if role in roles_for(kind) else None


def remember(settings: Settings, path: Path, name: str, role: str) -> None:
    key, name = str(Path(path).resolve()), " ".join(name.split())  # no tab can split the stored entry
    others = [e for e in settings.state("workspace_users") if e.split("\t")[0] != key]
    settings.set_state("workspace_users", [f"{key}\t{name}\t{role}", *others][:REMEMBERED])
    settings.set("user_name", name)


def apply(session: Session, name: str | None, role: str | None) -> None:
    """Stamp the session's following writes with *name* (None: the login name) and *role*."""
    session.actor = Actor.local(session.actor.device_id, name or None, role)


def apply_remembered(session: Session, settings: Settings) -> None:
    """On opening a workspace: whoever was remembered for it, without asking (the start-up asks)."""
    name, role = remembered(settings, session.path, session.kind)
    apply(session, name, role)


class WhoDialog(QDialog):
    """Asks for a name and a role; on OK applies them to the session and remembers them (`chosen` then fires)."""

    chosen = Signal()

    def __init__(self, session: Session, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.settings = session, settings
        self.setWindowTitle("Who is using Locality Desk?")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        heading = QLabel("Who is using Locality Desk?")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        note = QLabel(
            f"Every change you make in {session.path.name} is recorded in the audit trail with your name and role."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        form = QFormLayout()
        name, role = remembered(settings, session.path, session.kind)
        self.name = QLineEdit(name or session.actor.user)
        self.name.setAccessibleName("Your name")
        self.name.setPlaceholderText("Your name, as colleagues know you")
        explain(self.name, NAME_HELP)
        form.addRow("&Name", self.name)
        self.role = QComboBox()
        self.role.setAccessibleName("Your role")
        self.role.addItem("Choose your role…", None)
        for r in roles_for(session.kind):
            self.role.addItem(sentence_case(r), r)
        self.role.setCurrentIndex(max(self.role.findData(role), 0) if role else 0)
        explain(self.role, ROLE_HELP)
        form.addRow("&Role", self.role)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("Continue")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        self.ok.setDefault(True)
        self.name.textChanged.connect(self._update)
        self.role.currentIndexChanged.connect(self._update)
        self._update()
        (self.role if self.name.text().strip() and self.role.currentIndex() == 0 else self.name).setFocus()

    def _update(self) -> None:
        self.ok.setEnabled(bool(self.name.text().strip()) and self.role.currentData() is not None)

    def accept(self) -> None:
        name, role = self.name.text().strip(), self.role.currentData()
        if not name or role is None:
            return
        remember(self.settings, self.session.path, name, role)
        apply(self.session, name, role)
        super().accept()
        self.chosen.emit()


def ask(parent: QWidget, session: Session, settings: Settings) -> WhoDialog:
    """Open the question over *parent* (window-modal, not blocking the event loop) and return it."""
    dialog = WhoDialog(session, settings, parent)
    dialog.open()
    return dialog
