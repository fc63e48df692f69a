"""The teams' signing keys a commissioner workspace trusts (issue 20): which key each locality's returns must be
signed with, since when, how it came to be trusted (first use, key file, rotation), and the retired ones; and
"Import key file…", which trusts the key in a file a team sent (a second laptop, a new key after a lost one)
once the user has compared its fingerprint with the team. Each trust is audited by desktop.models.kpi.signing."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...models.changes import Changes
from ...models.errors import ValidationError
from ...models.kpi import signing
from ..kit import formats, messages
from ..kit.field_help import help_label
from ..kit.session import Session
from ..kit.tables import records_table
from ..kit.widgets import button_bar

KEY_FILTER = "Key files (*.json);;All files (*)"
HEADINGS = ("Locality", "Fingerprint", "State", "Since", "How", "By")


class TrustedKeysDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Trusted keys")
        self.setObjectName("trustedKeysDialog")
        self.resize(860, 420)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        heading = QLabel("The teams' signing keys")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        layout.addWidget(
            help_label(
                "A team's returns are imported only when they are signed with a key trusted here for that team. "
                "A key is trusted at the team's first signed return, once you have compared its fingerprint with "
                "the team by phone; from the key file the team sends (Import key file…); or when a trusted key "
                "endorses the team's new one. A file signed with any other key is rejected (bad-signature)."
            )
        )
        self.table = records_table("trustedKeys", "Trusted signing keys by locality", HEADINGS)
        layout.addWidget(self.table, 1)
        buttons = button_bar()
        self.import_button = QPushButton("&Import key file…")
        self.import_button.clicked.connect(self.choose_file)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        close.setDefault(True)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.reload()

    def reload(self) -> None:
        rows = [
            (code, key)
            for code, keys in sorted(signing.trusted(self.session.db).items())
            for key in sorted(keys, key=lambda k: k["trusted_at"], reverse=True)
        ]
        self.table.setRowCount(len(rows))
        for row, (code, key) in enumerate(rows):
            retired = key.get("retired_at")
            cells = (
                code,
                key["fingerprint"],
                f"retired {formats.date(retired[:10])}" if retired else "trusted",
                formats.date(key["trusted_at"][:10]),
                key.get("how", ""),
                key.get("by", ""),
            )
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if not rows:
            self.table.setRowCount(1)
            self.table.setItem(0, 0, QTableWidgetItem("No key is trusted yet."))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import key file", "", KEY_FILTER)
        if path:
            self.import_file(path)

    def import_file(self, path: str) -> bool:
        """Show whose key the file holds and its fingerprint; trust it when the user confirms. True if trusted."""
        try:
            content = signing.read_key_file(path)
        except ValidationError as exc:
            messages.show_error(self, "Not a key file", exc)
            return False
        loc, fp = content["locality"], content["key_fingerprint"]
        if not messages.confirm(
            self,
            "Trust this key?",
            f"The file holds a signing key for {loc.get('name', '')} ({loc['code']}), fingerprint\n\n{fp}\n\n"
            "Phone the team and ask them to read out their key's fingerprint (`locality-desk key show`). Trust it "
            "only if every group matches: returns signed with it will then be imported as the team's.",
            "Trust the key",
        ):
            return False
        with messages.reported(self, "Key not trusted") as failed:
            _, new = signing.import_key_file(self.session.db, self.session.actor, path)
        if failed:
            return False
        self.session.publish(Changes.of("audit"))
        self.reload()
        messages.show_status(
            self.parentWidget() or self,
            f"{'Trusted' if new else 'Already trusted:'} {loc['code']}'s key {fp}.",
        )
        return True
