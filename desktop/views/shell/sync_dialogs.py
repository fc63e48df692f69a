"""Offline sync in the app (issue 11, DESIGN §15): File → Send changes to the team…, Apply a teammate's
changes… and Sync conflicts….

The work is desktop.models.sync: bundle (making one), merge (applying one) and conflicts (resolving by choice).
A bundle is previewed (a dry run: counts per table and the conflicts) before it is applied; any refusal (wrong
passphrase, altered, replayed, another team's) is shown and nothing changes. Commissioner workspaces may sync too: they
hold no patients, and their reference data travels like any other.

Making and applying a bundle read and write the workspace file through apsw, a second SQLite library, so they run in a
child process (desktop.models.child_process explains why), off the GUI thread with a progress dialog and Cancel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...models import child_process, clock
from ...models.changes import Changes
from ...models.sync import bundle as sync_bundle
from ...models.sync import conflicts as sync_conflicts
from ...models.sync import merge as sync_merge
from ...models.sync import state as sync_state
from ..kit import messages, output_guard
from ..kit.field_help import explain
from ..kit.tasks import start_off_thread

if TYPE_CHECKING:
    from .main_window import MainWindow

BUNDLE_SUFFIX = ".ldsync"
BUNDLE_FILTER = f"Locality Desk sync bundles (*{BUNDLE_SUFFIX});;All files (*)"
COUNT_COLUMNS = (
    ("added", "Added"),
    ("updated", "Updated"),
    ("deleted", "Deleted"),
    ("kept mine", "Kept mine"),
    ("unchanged", "Unchanged"),
    ("refused", "Refused"),
    ("waiting", "Waiting"),  # for a new number, or for a record it needs (desktop.models.sync.records)
)
WINNER_MARK = "  ✔ kept"


# ---------------------------------------------------------------- passphrase


# What _check asks before OK is enabled, for the fields' tooltips and What's This.
PASSPHRASE_HELP = (
    "Required: the team's sync passphrase, the same on every laptop of the team. It encrypts the "
    f"bundle and is needed to open it. To send changes it must be {sync_bundle.PASSPHRASE_RULE}."
)
CONFIRM_HELP = "The same passphrase again, so a typing slip is caught before the team depends on it."
RULE_TEXT = (
    f"The passphrase needs {sync_bundle.PASSPHRASE_RULE}: four unrelated words are easy to remember and hard to guess."
)


class PassphraseDialog(QDialog):
    """The team's sync passphrase, never shown; with *confirm*, typed twice (the first time it is set here).

    With *rule* (a new bundle is to be sealed with it) the passphrase rule is shown under the field and OK waits for
    a passphrase that keeps it: the domain refuses a shorter one anyway, but after the user has chosen a file."""

    def __init__(
        self, title: str, intro: str, confirm: bool = False, parent: QWidget | None = None, *, rule: bool = False
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        label = QLabel(intro)
        label.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("passphraseConfirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setVisible(confirm)
        explain(self.passphrase, PASSPHRASE_HELP)
        explain(self.confirm, CONFIRM_HELP)
        self.hint = QLabel("")
        self.hint.setObjectName("passphraseHint")
        self.hint.setWordWrap(True)
        self.needs_rule = rule
        self.rule = QLabel(RULE_TEXT)
        self.rule.setObjectName("passphraseRule")
        self.rule.setWordWrap(True)
        self.rule.setVisible(rule)
        form = QFormLayout()
        form.addRow("Passphrase", self.passphrase)
        if rule:
            form.addRow(self.rule)
        if confirm:
            form.addRow("Type it again", self.confirm)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.needs_confirm = confirm
        self.passphrase.textChanged.connect(self._check)
        self.confirm.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.buttons)
        self._check()

    def _check(self) -> None:
        text = self.passphrase.text()
        matches = not self.needs_confirm or text == self.confirm.text()
        strong = not self.needs_rule or sync_bundle.passphrase_problem(text) is None
        self.ok_button.setEnabled(bool(text) and matches and strong)
        if text and not strong:
            self.hint.setText(f"Too short: it needs {sync_bundle.PASSPHRASE_RULE}.")
        else:
            self.hint.setText("" if matches or not self.confirm.text() else "The two passphrases differ.")

    def value(self) -> str:
        return self.passphrase.text()


def ask_passphrase(parent: QWidget, title: str, intro: str, confirm: bool = False, *, rule: bool = False) -> str | None:
    """The passphrase typed, or None when cancelled (tests replace this function)."""
    dialog = PassphraseDialog(title, intro, confirm, parent, rule=rule)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None


# ---------------------------------------------------------------- send


def send_changes(window: MainWindow) -> None:
    """File → Send changes to the team…: passphrase, where to save, then the bundle; the count in the status bar."""
    session = window.session
    first = not sync_state.has_sent(session.db.conn)
    intro = (
        "Choose the team's sync passphrase. Every laptop of the team uses the same one; it is needed to open "
        "the bundle, so tell your teammates in person, never in the same e-mail as the file."
        if first
        else "The team's sync passphrase encrypts the bundle."
    )
    passphrase = ask_passphrase(window, "Send changes to the team", intro, confirm=first, rule=True)
    if not passphrase:
        return
    stamp = clock.now().strftime("%Y-%m-%d-%H%M")
    suggested = session.path.with_name(f"{session.path.stem}-{session.actor.user}-{stamp}{BUNDLE_SUFFIX}")
    name, _ = QFileDialog.getSaveFileName(window, "Save the changes for the team", str(suggested), BUNDLE_FILTER)
    if not name:
        return
    out = Path(name) if Path(name).suffix else Path(name).with_suffix(BUNDLE_SUFFIX)
    if not output_guard.allowed(window, out, session.path):
        return

    def sent(summary: sync_bundle.SyncSummary) -> None:
        session.publish(Changes.of("audit", "meta"))
        total = sum(summary.changes.values())
        messages.show_status(
            window,
            f"{total:,} change{'s' if total != 1 else ''} written to {out.name} "
            f"(bundle {summary.seq}). Give the file to your teammates.",
        )

    _in_child(
        window,
        "Writing the changes for the team…",
        sent,
        "No changes were sent",
        sync_bundle.export_bundle,
        session.path,
        out,
        passphrase,
        actor=session.actor,
    )


# ---------------------------------------------------------------- apply


def describe_header(header: dict[str, Any]) -> str:
    changes = header.get("changes") or {}
    total = sum(changes.values())
    per = ", ".join(f"{sync_conflicts.table_label(table)} {count:,}" for table, count in changes.items()) or "nothing"
    return (
        f"From {header.get('user')} (device {header.get('device_id')}), made {_when(header.get('created_at'))}, "
        f"bundle {header.get('seq')}: {total:,} change{'s' if total != 1 else ''} ({per})."
    )


def apply_changes(window: MainWindow, bundle: Path | None = None) -> None:
    """File → Apply a teammate's changes…: choose a bundle, see its header, passphrase, preview (window.sync_preview);
    Apply runs it."""
    session = window.session
    if bundle is None:
        name, _ = QFileDialog.getOpenFileName(
            window, "Apply a teammate's changes", str(session.path.parent), BUNDLE_FILTER
        )
        if not name:
            return
        bundle = Path(name)
    with messages.reported(window, "Cannot apply this file") as failed:
        header = sync_bundle.read_header(bundle)
    if failed:
        return
    passphrase = ask_passphrase(
        window,
        "Apply a teammate's changes",
        f"{describe_header(header)}\n\nEnter the team's sync passphrase to see what would change.",
    )
    if not passphrase:
        return

    def previewed(preview: sync_bundle.SyncSummary) -> None:
        dialog = SyncPreviewDialog(header, preview, window)
        dialog.apply_requested.connect(lambda: apply_for_real(window, bundle, passphrase))
        window.sync_preview = dialog
        dialog.open()

    _in_child(
        window,
        "Checking what the changes would do…",
        previewed,
        "The changes were not applied",
        sync_merge.import_bundle,
        session.path,
        bundle,
        passphrase,
        dry_run=True,
        actor=session.actor,
    )


def apply_for_real(window: MainWindow, bundle: Path, passphrase: str) -> None:
    session = window.session

    def applied(summary: sync_bundle.SyncSummary) -> None:
        # Every synced table may have changed, and the audit trail has the import: every screen reloads what it
        # shows.
        session.publish(Changes(tables=frozenset(session.db.table_names())))
        total = sum(v for k, v in summary.applied.items() if k in ("added", "updated", "deleted"))
        note = f"Applied {total:,} change{'s' if total != 1 else ''} from {Path(summary.file).name}."
        if summary.renumbered:
            note += (
                " Renumbered here, as a teammate's new action had the same number: "
                + ", ".join(f"{r['from']} → {r['to']}" for r in summary.renumbered)
                + "."
            )
        if summary.conflicts:
            note += f" {len(summary.conflicts)} conflict(s): File → Sync conflicts… to review them."
        messages.show_status(window, note)

    _in_child(
        window,
        "Applying a teammate's changes…",
        applied,
        "The changes were not applied",
        sync_merge.import_bundle,
        session.path,
        bundle,
        passphrase,
        actor=session.actor,
    )


class SyncPreviewDialog(QDialog):
    """What a bundle would change here: counts per table and the conflicts, with Apply and Cancel."""

    apply_requested = Signal()

    def __init__(self, header: dict[str, Any], summary: sync_bundle.SyncSummary, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Apply a teammate's changes")
        self.setMinimumSize(900, 440)  # the conflicts' six columns without a horizontal scroll bar
        intro = QLabel(describe_header(header) + "\n\nNothing has changed yet. This is what applying it would do:")
        intro.setObjectName("syncHeader")
        intro.setWordWrap(True)
        columns = [key for key, _ in COUNT_COLUMNS if any(key in per for per in summary.by_table.values())]
        self.counts = QTreeWidget()
        self.counts.setObjectName("syncCounts")
        self.counts.setAccessibleName("What applying the bundle would change, per table")
        self.counts.setRootIsDecorated(False)
        self.counts.setHeaderLabels(["Table", *[dict(COUNT_COLUMNS)[k] for k in columns]])
        for table, per in sorted(summary.by_table.items()):
            if not any(per.values()):
                continue
            item = QTreeWidgetItem([sync_conflicts.table_label(table), *[f"{per.get(k, 0):,}" for k in columns]])
            for i in range(1, len(columns) + 1):
                item.setTextAlignment(i, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.counts.addTopLevelItem(item)
        self.conflicts = QTreeWidget()
        self.conflicts.setObjectName("syncConflicts")
        self.conflicts.setAccessibleName("Conflicts: records both sides changed")
        self.conflicts.setRootIsDecorated(False)
        self.conflicts.setHeaderLabels(["Table", "Record", "What happened", "Mine", "Theirs", "Kept"])
        for c in summary.conflicts:
            self.conflicts.addTopLevelItem(
                QTreeWidgetItem(
                    [
                        sync_conflicts.table_label(c.table),
                        sync_conflicts.record_label(c.table, c.mine, c.theirs),
                        c.kind,
                        _side(c.my_by, c.my_at, c.mine),
                        _side(c.their_by, c.their_at, c.theirs),
                        "mine" if c.winner == "mine" else "theirs",
                    ]
                )
            )
        conflict_label = QLabel(
            f"{len(summary.conflicts)} conflict(s): both sides changed the same field of these records, neither "
            "knowing of the other's edit. The later edit is kept; the other value stays in the record's history and "
            "can be chosen instead in File → Sync conflicts…. Different fields changed on each side are both kept."
            if summary.conflicts
            else "No conflicts: no field here was changed by both sides."
        )
        conflict_label.setWordWrap(True)
        self.conflicts.setVisible(bool(summary.conflicts))
        for tree in (self.counts, self.conflicts):
            for column in range(tree.columnCount()):
                tree.resizeColumnToContents(column)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setDefault(True)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        self.apply_button.clicked.connect(self._apply)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.counts, 1)
        layout.addWidget(conflict_label)
        layout.addWidget(self.conflicts, 1)
        layout.addWidget(buttons)

    def _apply(self) -> None:
        self.accept()
        self.apply_requested.emit()


# ---------------------------------------------------------------- conflicts


def show_conflicts(window: MainWindow) -> ConflictsDialog:
    """File → Sync conflicts…: the unresolved ones, two versions side by side, Keep mine / Keep theirs."""
    window.conflicts_dialog = ConflictsDialog(window)
    window.conflicts_dialog.open()
    return window.conflicts_dialog


class ConflictsDialog(QDialog):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Sync conflicts")
        self.setMinimumSize(820, 480)
        intro = QLabel(
            "Fields both you and a teammate changed, each without seeing the other's edit. The later edit was kept; "
            "keep the other value instead and it is written back as your edit (that field only), which reaches "
            "everyone at the next exchange."
        )
        intro.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("conflictList")
        self.list.setAccessibleName("Unresolved sync conflicts")
        self.list.setRootIsDecorated(False)
        self.list.setHeaderLabels(["When", "Table", "Record", "What happened"])
        self.versions = QTableWidget(0, 2)
        self.versions.setObjectName("conflictVersions")
        self.versions.setAccessibleName("The two versions of the chosen record, side by side")
        self.versions.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.versions.horizontalHeader().setStretchLastSection(True)
        self.empty = QLabel("No sync conflicts to review.")
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.versions)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.keep_mine_button = QPushButton("Keep mine")
        self.keep_theirs_button = QPushButton("Keep theirs")
        buttons.addButton(self.keep_mine_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.keep_theirs_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.keep_mine_button.clicked.connect(lambda: self.keep("mine"))
        self.keep_theirs_button.clicked.connect(lambda: self.keep("theirs"))
        self.list.currentItemChanged.connect(lambda *_: self._show_selected())
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.empty)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.found: list[dict[str, Any]] = []
        self.reload()

    def reload(self) -> None:
        self.found = sync_conflicts.conflicts(self.window_.session.db)
        self.list.clear()
        for c in self.found:
            item = QTreeWidgetItem(
                [
                    _when(c["at"]),
                    sync_conflicts.table_label(c["table"]),
                    sync_conflicts.record_label(c["table"], c["mine"], c["theirs"]),
                    c["kind"] or "",
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, c["seq"])
            self.list.addTopLevelItem(item)
        self.empty.setVisible(not self.found)
        for column in range(self.list.columnCount()):
            self.list.resizeColumnToContents(column)
        if self.found:
            self.list.setCurrentItem(self.list.topLevelItem(0))
        self._show_selected()

    def selected(self) -> dict[str, Any] | None:
        item = self.list.currentItem()
        if item is None:
            return None
        seq = item.data(0, Qt.ItemDataRole.UserRole)
        return next((c for c in self.found if c["seq"] == seq), None)

    def _show_selected(self) -> None:
        c = self.selected()
        self.keep_mine_button.setEnabled(c is not None)
        self.keep_theirs_button.setEnabled(c is not None)
        self.versions.clearContents()
        if c is None:
            self.versions.setRowCount(0)
            self.versions.setHorizontalHeaderLabels(["Mine", "Theirs"])
            return
        fields = sync_conflicts.differing(c) or sync_conflicts.differing(c, include_stamp=True)
        mine_head = f"Mine — {c['my_by'] or '?'}, {_when(c['my_at'])}" + (WINNER_MARK if c["winner"] == "mine" else "")
        theirs_head = f"Theirs — {c['their_by'] or '?'}, {_when(c['their_at'])}" + (
            WINNER_MARK if c["winner"] == "theirs" else ""
        )
        self.versions.setHorizontalHeaderLabels([mine_head, theirs_head])
        self.versions.setRowCount(len(fields))
        self.versions.setVerticalHeaderLabels([f.replace("_", " ") for f in fields])
        for row, column in enumerate(fields):
            for col, side in enumerate(("mine", "theirs")):
                version = c[side]
                text = "(deleted)" if version is None else _text(version.get(column))
                self.versions.setItem(row, col, QTableWidgetItem(text))
        self.versions.resizeColumnsToContents()

    def keep(self, choice: str) -> bool:
        c = self.selected()
        if c is None:
            return False
        session = self.window_.session
        with messages.reported(self, "The conflict was not resolved") as failed:
            changes = sync_conflicts.keep_version(session.db, session.actor, c["seq"], choice)
        if failed:
            return False
        session.publish(changes)
        messages.show_status(self.window_, f"Kept {choice} for {c['table']} {c['id']}.")
        self.reload()
        return True


# ---------------------------------------------------------------- helpers


def _in_child(
    window: MainWindow,
    title: str,
    done: Callable[[Any], None],
    failure_title: str,
    fn: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> None:
    """fn(*args, **kwargs) in a child process off the GUI thread; its result goes to *done*, a failure is shown."""
    start_off_thread(
        window,
        title,
        lambda _progress, cancel: child_process.call(fn, *args, cancel=cancel, **kwargs),
        done,
        failure_title=failure_title,
    )


def _when(value: str | None) -> str:
    if not value:
        return "?"
    try:
        return dt.datetime.fromisoformat(value).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return value


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _side(by: str | None, at: str | None, row: dict[str, Any] | None) -> str:
    return f"{by or '?'}, {_when(at)}" if row is not None else "deleted"
