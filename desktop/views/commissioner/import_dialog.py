"""Importing the teams' return files into a commissioner workspace (DESIGN §10): a dry run first, listing what
each file would do, then, on "Import N files", the real import and the same list saying what happened.

Both runs go through desktop.views.kit.tasks on the worker's own connection, so a large batch keeps the window
live and can be cancelled (a cancelled import keeps nothing). A batch of 44 files takes a fraction of a
second, so the progress dialog normally never appears.

A file signed with a key this workspace does not trust yet for its team (its first signed return, issue 20) is
rejected `new-key` by the dry run; the dialog then shows the key's fingerprint in a notice above the list, to be
compared with the team by phone. "It matches: trust it" checks the files again with the key accepted (they now
show what they would do) and the import trusts it, audited, with the files it imports; "It does not match" leaves
them rejected. Nothing is trusted until Import is pressed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models.kpi import return_import, signing
from ...models.kpi.return_import import Outcome
from ...models.progress import Cancelled
from ..kit import formats, messages
from ..kit.field_help import help_label
from ..kit.session import Session
from ..kit.tables import list_table
from ..kit.tasks import start_task
from ..kit.widgets import button_bar
from .outcomes_model import COLUMNS, OutcomesModel, summary

RETURN_FILTER = "Return files (*.json);;All files (*)"
WRITES = ("imported", "superseded")
NEW_KEY = "new-key"


class ReturnImportDialog(QDialog):
    def __init__(self, session: Session, files: Sequence[str | Path], parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.files = [str(f) for f in files]
        self.outcomes: list[Outcome] = []
        self.done_importing = False
        # Keys seen for the first time, by fingerprint: {"localities": {code: name}, "files": [...]}; and the
        # user's answer for each.
        self.new_keys: dict[str, dict] = {}
        self.accepted: set[str] = set()
        self.refused: set[str] = set()
        self.setWindowTitle("Import returns")
        self.setObjectName("returnImportDialog")
        self.resize(1040, 560)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        self.heading = QLabel(f"Import {formats.count(len(self.files), 'return file')}")
        self.heading.setObjectName("dialogHeading")
        self.intro = help_label("")
        self.summary = QLabel()
        self.summary.setObjectName("sectionTitle")
        self.model = OutcomesModel(self)
        self.table = list_table(self.model, "returnOutcomes", [])
        self.table.setAccessibleName("What each return file would do")
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for number, column in enumerate(COLUMNS):
            header.setSectionResizeMode(
                number,
                QHeaderView.ResizeMode.Stretch if column.key == "reason" else QHeaderView.ResizeMode.ResizeToContents,
            )
        self.keys_box = QWidget()
        self.keys_box.setObjectName("newKeys")
        self.keys_layout = QVBoxLayout(self.keys_box)
        self.keys_layout.setContentsMargins(0, 0, 0, 0)
        self.keys_box.hide()
        for widget in (self.heading, self.intro, self.keys_box, self.summary):
            layout.addWidget(widget)
        layout.addWidget(self.table, 1)
        buttons = button_bar()
        buttons.addStretch(1)
        self.import_button = QPushButton("Import")
        self.import_button.setProperty("primary", True)
        self.import_button.clicked.connect(self.confirm)
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self.reject)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)

    # -- the two runs -----------------------------------------------------------------------------------------
    def check(self, checked: Callable[[], None], failed: Callable[[], None]) -> None:
        """Start the dry run: what each file would do. Then *checked()*, or *failed()* when the check could not
        run (the reason was shown)."""

        def done(outcomes: list[Outcome]) -> None:
            self._show_check(outcomes)
            checked()

        self._run(True, done, failed)

    def _show_check(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        self.model.set_outcomes(outcomes, dry_run=True)
        self._note_new_keys(outcomes)
        writes = sum(1 for o in outcomes if o.status in WRITES)
        if _cancelled(outcomes):
            self.intro.setText("The check was cancelled; nothing was imported. Close, and import the files again.")
            self.summary.setText("Cancelled")
        else:
            self.intro.setText(
                "A dry run: each file was checked against the returns this workspace holds. Nothing "
                "is written until you press Import. Rejected files are listed first, with the "
                "reason to pass on to the team."
            )
            self.summary.setText(summary(outcomes, dry_run=True))
        self.import_button.setText(f"Import {formats.count(writes, 'file')}")
        self.import_button.setEnabled(writes > 0 and not _cancelled(outcomes))
        self.import_button.setVisible(True)
        (self.import_button if self.import_button.isEnabled() else self.close_button).setDefault(True)

    # -- keys seen for the first time ---------------------------------------------------------------------------
    def _note_new_keys(self, outcomes: Sequence[Outcome]) -> None:
        """Add the keys the dry run met for the first time (read from their files) and show them all."""
        names = {loc["code"]: loc["name"] for loc in self.session.localities()}
        for o in outcomes:
            if o.code != NEW_KEY:
                continue
            key = signing.key_in_file(o.file)
            if key is None:  # the import read a key from it a moment ago; a file changed since is checked again
                continue
            seen = self.new_keys.setdefault(key["fingerprint"], {"localities": {}, "files": []})
            # The team's name as this workspace knows it: the file's own could say anything.
            seen["localities"][key["code"]] = names.get(key["code"], key["name"])
            if o.file not in seen["files"]:
                seen["files"].append(o.file)
        self._show_new_keys()

    def _show_new_keys(self) -> None:
        while self.keys_layout.count():
            widget = self.keys_layout.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone from the dialog now, not at the next turn of the event loop
                widget.deleteLater()
        for fp, key in self.new_keys.items():
            self.keys_layout.addWidget(self._key_notice(fp, key))
        self.keys_box.setVisible(bool(self.new_keys))

    def _key_notice(self, fp: str, key: dict) -> QFrame:
        """One new key: whose it is, its fingerprint to compare by phone, and the two answers."""
        notice = QFrame()
        notice.setObjectName("notice")
        notice.setProperty("fingerprint", fp)
        box = QVBoxLayout(notice)
        box.setContentsMargins(12, 8, 12, 8)
        files = formats.count(len(key["files"]), "file")
        teams = ", ".join(f"{name} ({code})" for code, name in sorted(key["localities"].items()))
        text = QLabel(
            f"{teams} {'signs' if len(key['localities']) == 1 else 'sign'} with a key this workspace does not "
            f"trust yet ({files}). "
            "Phone the team and ask them to read out their key's fingerprint (Locality Desk shows it with "
            "`locality-desk key show`). Trust the key only if every group matches:"
        )
        text.setWordWrap(True)
        shown = QLabel(fp)
        shown.setObjectName("sectionTitle")
        shown.setTextInteractionFlags(shown.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByMouse)
        shown.setAccessibleName(f"Fingerprint of the new key of {teams}")
        box.addWidget(text)
        box.addWidget(shown)
        answers = button_bar()
        if fp in self.accepted:
            answers.addWidget(QLabel("Accepted: the key is trusted when you press Import, with the files it signs."))
        elif fp in self.refused:
            answers.addWidget(
                QLabel("Refused: the files signed with it are not imported. Tell the team and your IG lead.")
            )
        else:
            trust = QPushButton("It matches: trust it")
            trust.setObjectName("trustKey")
            trust.clicked.connect(lambda _=False, fp=fp: self.accept_key(fp))
            refuse = QPushButton("It does not match")
            refuse.setObjectName("refuseKey")
            refuse.clicked.connect(lambda _=False, fp=fp: self.refuse_key(fp))
            answers.addWidget(trust)
            answers.addWidget(refuse)
        answers.addStretch(1)
        box.addLayout(answers)
        return notice

    def accept_key(self, fp: str) -> None:
        """The user compared the fingerprint with the team: check the files again with the key accepted."""
        self.accepted.add(fp)
        self.refused.discard(fp)
        self.import_button.setEnabled(False)

        def failed() -> None:  # the reason was shown; the key stays unanswered, the list as it was
            self.accepted.discard(fp)
            self._show_check(self.outcomes)

        self._run(True, self._show_check, failed)

    def refuse_key(self, fp: str) -> None:
        self.refused.add(fp)
        self.accepted.discard(fp)
        self._show_new_keys()

    def confirm(self) -> None:
        """Start the real import; the list then says what happened to each file."""
        # One import at a time: a quick batch finishes before its progress dialog would show and block clicks.
        self.import_button.setEnabled(False)
        self._run(False, self._show_import, lambda: self.import_button.setEnabled(True))

    def _show_import(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        self.model.set_outcomes(outcomes, dry_run=False)
        self.import_button.hide()
        self.close_button.setText("Close")
        self.close_button.setDefault(True)
        self.heading.setText(f"Imported from {formats.count(len(self.files), 'return file')}")
        self.keys_box.hide()
        if _cancelled(outcomes):
            self.intro.setText("The import was cancelled; nothing was imported.")
            self.summary.setText("Cancelled")
            return
        self.done_importing = True
        self.summary.setText(summary(outcomes, dry_run=False))
        now_trusted = [fp for fp in self.accepted if signing.locality_of(self.session.db, fp)]
        rejected = sum(1 for o in outcomes if o.status == "rejected")
        self.intro.setText(
            "Done. "
            + (
                f"{formats.count(rejected, 'file was', 'files were')} rejected and changed "
                "nothing: pass the reasons on to the teams and import the corrected files."
                if rejected
                else "Every file was accepted."
            )
            + (f" Trusted {formats.count(len(now_trusted), 'new signing key')}." if now_trusted else "")
        )
        parent = self.parentWidget()
        if parent is not None:
            messages.show_status(parent, f"Returns: {summary(outcomes, dry_run=False)}.")

    def _run(self, dry_run: bool, shown: Callable[[list[Outcome]], None], failed: Callable[[], None]) -> None:
        """Check or import the files off the GUI thread, then *shown(outcomes)*; *failed()* after the reason was
        shown. A Cancel comes back as outcomes saying so, not as a failure."""
        actor, files, accepted = self.session.actor, list(self.files), set(self.accepted)
        verb = "Checking" if dry_run else "Importing"

        def job(db, progress, cancel):
            def step(done: int, total: int) -> bool:
                progress(done / total, f"{verb} file {done} of {total}…")
                return not cancel()

            # Passed only once the user accepted a key: an import before issue 20 takes no keys.
            keys = {"accept_keys": accepted} if accepted else {}
            return return_import.import_returns(db, actor, files, dry_run=dry_run, progress=step, **keys)

        def done(result: tuple[list[Outcome], object]) -> None:
            outcomes, changes = result
            self.session.publish(changes)
            shown(outcomes)

        def refused(exc: BaseException) -> None:
            if isinstance(exc, OSError):  # the workspace file itself, not a return file (those are outcomes)
                messages.warn(
                    self,
                    "Cannot import the returns",
                    f"The workspace could not be used: {exc}. Check the "
                    "file is still there and not open elsewhere, then try again.",
                )
            else:
                messages.show_error(self, "Cannot import the returns", exc)
            failed()

        def cancelled() -> None:
            # Said in the window's status bar: during the check this dialog is not on screen yet.
            messages.show_error(self.parentWidget() or self, "Cannot import the returns", Cancelled())
            failed()

        start_task(
            self,
            f"{verb} {formats.count(len(files), 'return file')}…",
            self.session.path,
            job,
            done,
            refused,
            cancelled,
        )


def _cancelled(outcomes: Sequence[Outcome]) -> bool:
    return bool(outcomes) and all(o.code == "cancelled" for o in outcomes)
