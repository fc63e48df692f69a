"""The audit-log screen: who did what to which record and when, newest first, with filters, the JSON detail of
the chosen entry, and an export of what the filters find (issue 10, point 5); and whether the log's hash chain is
intact (issue 20), checked off the GUI thread each time the list is loaded, since the walk grows with the log.

The filtering is done by desktop.models.audit.search in SQL, so the screen lists at most audit.SEARCH_LIMIT
entries however long the log grows; the table sorts what it lists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Slot
from PySide6.QtWidgets import QFileDialog, QLabel, QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget

from ...models import audit
from ...models.changes import Changes
from ...models.cohort.worklists import marked
from ...settings import Settings
from ..kit import formats, messages, output_guard, tasks
from ..kit.page import Page, title_block
from ..kit.session import Session
from ..kit.table_model import SORT_ROLE, Column, RecordsModel
from ..kit.tasks import start_task
from ..reference.records_view import RecordsView
from ..shell.screens import Screen
from .filters import AuditFilterBar

COLUMNS = (
    Column("when", "When (UTC)"),
    Column("user", "Who"),
    Column("os_account", "Computer account"),
    Column("role", "Role"),
    Column("device", "Device"),
    Column("action", "Action"),
    Column("what", "What"),
    Column("summary", "Summary"),
)


def display_row(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["seq"],
        "when": entry["at"][:16].replace("T", " "),
        "user": entry["user"],
        "os_account": entry.get("os_account") or "",
        "role": entry.get("role") or "",
        "device": entry["device_id"],
        "action": entry["action"],
        "what": entry["entity"].replace("_", " "),
        "summary": entry["summary"],
    }


def detail_text(entry: Mapping[str, Any]) -> str:
    """The whole entry: its fields, then the detail JSON pretty-printed."""
    try:
        detail = json.dumps(json.loads(entry["detail"] or "{}"), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:  # written by hand or by an older tool: show it as it is
        detail = entry["detail"]
    who = f"{entry['user']} ({entry['role']})" if entry.get("role") else entry["user"]
    account = f", signed in to the computer as {entry['os_account']}" if entry.get("os_account") else ""
    chained = f"\nHash {entry['hash']}, following {entry['prev_hash']}" if entry.get("hash") else ""
    return (
        f"Entry {entry['seq']}, {entry['at']}\n{who} on device {entry['device_id']}{account}\n"
        f"{entry['action']} {entry['entity']} {entry['entity_id'] or ''}\n{entry['summary']}\n\n{detail}{chained}"
    )


class AuditPage(Page):
    def __init__(self, screen: Screen, session: Session, settings: Settings, parent: QWidget | None = None):
        super().__init__(screen, session, settings, parent)
        self.entries: list[dict[str, Any]] = []
        self.matching = 0
        self.chain_result: audit.VerifyResult | None = None  # the latest check of the hash chain, once done
        self.checking = False
        self._checks = 0  # a check's answer counts only if no later one was started

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 20)
        title_block(layout, screen.title, screen.summary)
        self.filters = AuditFilterBar()
        self.filters.changed.connect(self.reload)
        self.filters.text.returnPressed.connect(self.filters.flush)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip(
            "Save the entries the filters find (all of them, not only those listed) as a "
            "CSV file (OFFICIAL-SENSITIVE; the export is audited)"
        )
        self.export_button.clicked.connect(self.export)
        self.filters.top.addWidget(self.export_button)
        layout.addWidget(self.filters)
        self.chain = QLabel()
        self.chain.setObjectName("countLabel")
        self.chain.setWordWrap(True)
        self.chain.setAccessibleName("Whether the audit log is intact")
        layout.addWidget(self.chain)
        layout.addSpacing(6)

        self.model = RecordsModel(COLUMNS, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = RecordsView()
        self.table.setObjectName("auditTable")
        self.table.setAccessibleName("Audit log entries")
        self.table.setModel(self.proxy)
        self.table.stretch_column = len(COLUMNS) - 1
        self.table.selectionModel().currentRowChanged.connect(self._show_detail)
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("auditDetail")
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName("The chosen entry in full")
        self.detail.setPlaceholderText("Choose an entry to see everything it records.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)

    # -- Page ---------------------------------------------------------------------------------------------
    def on_changes(self, changes: Changes) -> None:
        # Every write leaves an entry, so any change makes the list stale.
        self.mark_stale()

    def focus_filter(self) -> bool:
        self.filters.text.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filters.text.selectAll()
        return True

    # -- data ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        db = self.session.db
        self.filters.set_choices(audit.actions(db), audit.users(db))
        f = self.filters.audit_filter()
        self.entries = audit.search(db, f.text, f.action, f.user, f.since, f.until)
        self.matching = len(self.entries)
        if self.matching == audit.SEARCH_LIMIT:
            self.matching = audit.count(db, f.text, f.action, f.user, f.since, f.until)
        self.model.set_rows([display_row(e) for e in self.entries])
        self.proxy.sort(-1)  # newest first, as searched, until a heading is clicked
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.fit_columns()
        shown = formats.count(len(self.entries), "entry", "entries")
        self.filters.count.setText(
            shown
            if self.matching == len(self.entries)
            else f"newest {len(self.entries):,} of {self.matching:,} entries"
        )
        self.export_button.setEnabled(self.matching > 0)
        self.detail.clear()
        if self.entries:
            self.table.selectRow(0)
        self._check_chain()

    def _check_chain(self) -> None:
        self._checks += 1
        number = self._checks
        self.chain_result, self.checking = None, True
        self.chain.setText("Checking that no entry was changed or deleted…")
        tasks.start_quiet(
            self.session.path,
            lambda db, _progress, _cancel: (number, audit.verify(db)),
            self._checked,
            self._check_failed,
        )

    @Slot(object)
    def _checked(self, outcome: tuple[int, audit.VerifyResult]) -> None:
        number, result = outcome
        if self.session.closed or number != self._checks:
            return
        self.chain_result, self.checking = result, False
        self._show_chain(result.verdict("The audit log"), broken=not result.intact)

    @Slot(object)
    def _check_failed(self, exc: Exception) -> None:
        if self.session.closed:
            return
        self.checking = False
        self._show_chain(f"The audit log could not be checked: {exc}", broken=True)

    def _show_chain(self, text: str, broken: bool) -> None:
        # A break is the one thing on this screen the user must not miss: shown as a notice, not a count.
        self.chain.setObjectName("inlineNotice" if broken else "countLabel")
        self.chain.style().unpolish(self.chain)
        self.chain.style().polish(self.chain)
        self.chain.setText(text)

    def selected_entry(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.entries[self.proxy.mapToSource(index).row()]

    def _show_detail(self) -> None:
        entry = self.selected_entry()
        self.detail.setPlainText(detail_text(entry) if entry else "")

    # -- export -------------------------------------------------------------------------------------------
    def export(self) -> None:
        """Confirm (the summaries can name patients and residents), ask where, write, audit, say how many."""
        f = self.filters.audit_filter()
        entries = formats.count(self.matching, "entry", "entries")
        if not messages.confirm(
            self,
            "Export the audit log?",
            f"The file will hold {entries}{' (those the filters find)' if not self.filters.is_clear() else ''}. "
            "Their summaries can name patients and care-home residents, so it is OFFICIAL-SENSITIVE (its "
            "suggested name says so): keep it on an NHS-approved, encrypted device and delete it when you are "
            "done. The export is itself recorded in the audit trail.",
            f"Export {entries}",
        ):
            return
        folder = self.settings.state("export_directory") or str(self.session.path.parent)
        suggested = str(marked(Path(folder) / f"audit-log-{self.session.path.stem}.csv"))
        name, _ = QFileDialog.getSaveFileName(self, "Export the audit log", suggested, "CSV file (*.csv)")
        if not name:
            return
        out = Path(name) if Path(name).suffix.lower() == ".csv" else Path(name).with_suffix(".csv")
        if not output_guard.allowed(self, out, self.session.path):
            return
        self.settings.set_state("export_directory", str(out.parent))
        actor = self.session.actor

        def job(db, _progress, _cancel):
            return audit.export_csv(db, actor, out, f.text, f.action, f.user, f.since, f.until)

        def done(written: int) -> None:
            self.session.publish(Changes.of("audit"))
            messages.show_status(
                self, f"Exported {formats.count(written, 'audit log entry', 'audit log entries')} to {out}."
            )

        def failed(exc: BaseException) -> None:
            if isinstance(exc, OSError):  # most often the file is open in Excel, which locks it
                messages.not_written(self, exc, out)
            else:
                messages.show_error(self, "Cannot export the audit log", exc)

        start_task(
            self,
            f"Writing {out.name}…",
            self.session.path,
            job,
            done,
            failed,
            failure_title="Cannot export the audit log",
        )
