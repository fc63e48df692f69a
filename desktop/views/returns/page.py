"""The Returns screen (DESIGN §10): a quarter's KPI return for the current locality; the grid of the 20 KPIs with
the entered figures and comments typed in place, the chosen KPI explained, the completeness checklist, and
recompute, sign off, reopen and export.

Looking at a quarter writes nothing. A quarter with no return yet shows the figures computed from the records,
"not started"; the draft is started only when the user asks: Start draft, a figure or comment typed, Recompute
or Sign off (start_draft)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ... import __version__
from ...models import free_text, quarters, roles
from ...models.changes import Changes
from ...models.errors import DeskError, ValidationError
from ...models.kpi import returns
from ...models.kpi.catalogue import catalogue
from ...settings import Settings
from ..kit import formats, messages, output_guard
from ..kit.field_help import help_label
from ..kit.page import EmptyCard, Page, at_top, stacked, title_block
from ..kit.quarter_paging import QuarterPaging
from ..kit.session import Session
from ..shell.screens import Screen
from .comment_field import CommentDelegate, warning
from .model import KEYS, ReturnsModel
from .panel import Checklist, KpiPanel
from .revisions import RevisionsDialog

DEPENDS = ("returns", "return_values")
AGGREGATE = (
    "The file holds aggregate figures only (numerators, denominators, values, RAG and comments), no patient data."
)
NOT_STARTED = "Not started · computed from the records as you look; nothing is saved yet"
START_HINT = "Not started: press Start draft, or type a figure or a comment, to start this quarter's return as a draft."
RECOMPUTE_TIP = "Refresh the computed KPIs from the records; typed figures and comments are kept"
START_TIP = "Start this quarter's return as a draft, computed from the records now"
GRID_WIDTHS = ((1, 200), (2, 130), (6, 170), (7, 300))  # at most, for the long columns: name, figures, history, comment
SIGN_OFF_TIP = f"Freeze the figures and comments in your name: {roles.WHO_SIGNS_OFF} may"
REOPEN_TIP = f"Make a new draft revision of the signed-off return: {roles.WHO_SIGNS_OFF} may"


def ask_reason(parent: QWidget) -> str | None:
    """Why the return is reopened; None when cancelled. Tests replace it."""
    text, ok = QInputDialog.getText(parent, "Reopen the return", "Why is the signed-off return reopened?")
    return text if ok else None


def status_text(ret: dict[str, Any]) -> str:
    if ret["status"] == "draft":
        state = "Draft"
    else:
        state = f"Signed off by {ret['signed_off_by']} on {formats.date(ret['signed_off_at'][:10])}"
        if ret["status"] == "exported" and ret.get("exported_at"):
            state += f", exported on {formats.date(ret['exported_at'][:10])}"
    return f"{state} · revision {ret['revision']}"


class ReturnsPage(QuarterPaging, Page):
    def __init__(
        self, screen: Screen, session: Session, settings: Settings | None = None, parent: QWidget | None = None
    ):
        super().__init__(screen, session, settings, parent)
        self.quarter = quarters.of(self.today()).previous()
        self.return_id: str | None = None
        self.ret: dict[str, Any] | None = None
        self.not_started = False  # the quarter shown has no return: the grid holds returns.preview
        self.issues: list[dict[str, Any]] = []
        self._in_write = False
        self._patients: free_text.Patients | None = None  # the workspace's patients as the detector reads them
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)
        layout.addWidget(self._build_toolbar())
        for label in self._build_status():
            layout.addWidget(label)
        layout.addWidget(self._build_body(), 1)
        layout.addWidget(self._build_empty(), 1)
        commissioner = session.kind == "commissioner"
        for widget in (self.bar, self.status, self.lock, self.splitter):
            widget.setVisible(not commissioner)
        self.empty.setVisible(commissioner)
        self._show_quarter_label()
        self._show_buttons()

    # -- building -----------------------------------------------------------------------------------------
    def _build_toolbar(self) -> QWidget:
        """The quarter paging, then what can be done with the quarter's return."""
        bar = self.quarter_bar()
        self.start_button = QPushButton("Start &draft")
        self.start_button.setToolTip(START_TIP + ". Typing a figure or a comment starts it too.")
        self.recompute_button = QPushButton("Re&compute")
        self.recompute_button.setToolTip(RECOMPUTE_TIP)
        self.sign_off_button = QPushButton("Sig&n off…")  # Alt+S is the Settings menu
        self.sign_off_button.setProperty("primary", True)
        self.sign_off_button.setToolTip(SIGN_OFF_TIP)
        self.reopen_button = QPushButton("Re&open…")
        self.reopen_button.setToolTip(REOPEN_TIP)
        self.export_button = QPushButton("E&xport return…")  # Alt+E is the Edit menu
        self.revisions_button = QPushButton("Re&visions…")
        self.revisions_button.setToolTip(
            "Every revision of this quarter's return: who signed it off, why it was reopened and what changed"
        )
        self.start_button.clicked.connect(self.start_draft)
        self.recompute_button.clicked.connect(self.recompute)
        self.sign_off_button.clicked.connect(self.sign_off)
        self.reopen_button.clicked.connect(self.reopen)
        self.export_button.clicked.connect(self.export)
        self.revisions_button.clicked.connect(self.show_revisions)
        for widget in (
            self.start_button,
            self.recompute_button,
            self.sign_off_button,
            self.reopen_button,
            self.export_button,
            self.revisions_button,
        ):
            bar.addWidget(widget)
        self.bar = QWidget()
        self.bar.setLayout(bar)
        return self.bar

    def _build_status(self) -> tuple[QLabel, QLabel]:
        """The return's state, and under it why it cannot be edited or how to start it."""
        self.status = QLabel()
        self.status.setObjectName("returnStatus")
        self.lock = help_label("")
        return self.status, self.lock

    def _build_body(self) -> QSplitter:
        """The grid with its legend, and beside it the chosen KPI over the checklist."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_grid())
        self.splitter.addWidget(self._build_side())
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        return self.splitter

    def _build_grid(self) -> QWidget:
        self.model = ReturnsModel(self.write_cell, self)
        self.grid = QTableView()
        self.grid.setObjectName("returnGrid")
        self.grid.setAccessibleName("The return's KPIs")
        self.grid.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
        self.grid.setModel(self.model)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.grid.setAlternatingRowColors(True)
        self.grid.verticalHeader().setVisible(False)
        self.grid.setWordWrap(False)
        header = self.grid.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.grid.selectionModel().currentChanged.connect(lambda index, _old: self._show_panel(index.row()))
        self.comments = CommentDelegate(lambda: self.patients(fresh=True), lambda i: self.model.kpi(i.row()).code, self)
        self.comments.warned.connect(self._show_comment_warning)
        self.comments.closeEditor.connect(lambda *_: self._show_saved_warning())
        self.grid.setItemDelegateForColumn(KEYS.index("comment"), self.comments)
        # Under the grid, what the comment being typed (or the chosen KPI's) holds that identifies a patient.
        self.comment_warning = QLabel()
        self.comment_warning.setObjectName("fieldError")
        self.comment_warning.setWordWrap(True)
        self.comment_warning.setVisible(False)
        self.legend = help_label(
            "✎ typed in from secondary-care data: press F2 or start typing on its figures "
            "(e.g. 12 / 4500) or on any comment.   RAG: G meets the target, A within the "
            "tolerance, R beyond it (explain it in a comment)."
        )
        return stacked(self.grid, self.comment_warning, self.legend)

    def _build_side(self) -> QSplitter:
        self.panel = KpiPanel()
        self.checklist = Checklist()
        self.checklist.items.currentItemChanged.connect(
            lambda item, _old: item is not None and self.select_kpi(item.data(Qt.ItemDataRole.UserRole))
        )
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.panel)
        side.addWidget(self.checklist)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        return side

    def _build_empty(self) -> QWidget:
        self.empty = at_top(
            EmptyCard(
                "Returns are made in a locality workspace",
                "A locality team computes, signs off and exports its quarterly return in its own workspace. The "
                "Commissioner screen will import the returned files.",
            )
        )
        return self.empty

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches("patients", "staff"):
            self._patients = None  # names and birth dates the comments are checked against
        if changes.origin is self:
            return  # this screen's own write: it shows the result itself
        # Figures not started are computed from the records, so any write to the records may change them.
        if changes.touches(*DEPENDS) or (self.not_started and bool(changes.tables - {"audit"})):
            self.mark_stale()

    # -- loading ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Show the quarter's return, or what the records say when it has none yet: nothing is written."""
        if self.session.kind == "commissioner":
            return  # the page says why it is empty
        if self.locality is None:
            self.return_id = self.ret = None
            self.not_started = False
            self.model.set_return([], {}, {}, False)
            self._show_buttons()
            return
        found = returns.current(self.session.db, self.locality["id"], self.quarter)
        if found is None:
            self.show_not_started()
        else:
            self.show_return(found["id"])

    def show_return(self, return_id: str) -> None:
        db = self.session.db
        self.return_id, self.not_started = return_id, False
        self.ret = returns.get(db, return_id)
        self._show_values(self.ret["locality_id"], returns.values(db, return_id), self.locked_reason() is None)

    def show_not_started(self) -> None:
        """The quarter has no return: its figures as computed from the records now, typed into as a draft's."""
        locality_id = self.locality["id"]
        self.return_id, self.ret, self.not_started = None, None, True
        self._show_values(
            locality_id, returns.preview(self.session.db, locality_id, self.quarter, self.today()), editable=True
        )

    def _show_values(self, locality_id: str, values: dict[str, dict[str, Any]], editable: bool) -> None:
        kpis = list(catalogue())
        histories = {k.code: returns.history(self.session.db, locality_id, k.code, self.quarter) for k in kpis}
        current = self.grid.currentIndex()
        self.model.set_return(kpis, values, histories, editable)
        self.grid.resizeColumnsToContents()
        for column, width in GRID_WIDTHS:
            self.grid.setColumnWidth(column, min(self.grid.columnWidth(column), width))
        row = current.row() if current.isValid() else 0
        self.grid.setCurrentIndex(self.model.index(min(row, self.model.rowCount() - 1), max(current.column(), 0)))
        self._refresh()

    def locked_reason(self) -> str | None:
        return returns.lock_reason(self.ret) if self.ret else None

    def _refresh(self) -> None:
        """The header, checklist, panel and buttons, after the return or one of its values changed."""
        if self.not_started:
            self._refresh_not_started()
        elif self.ret is not None:
            self._refresh_return()
        else:
            return
        self._show_panel(self.grid.currentIndex().row())
        self._show_buttons()

    def _refresh_return(self) -> None:
        self.ret = returns.get(self.session.db, self.return_id)
        self.model.editable = self.locked_reason() is None
        self.status.setText(
            status_text(self.ret)
            + (f" · reopened: {self.ret['reopened_reason']}" if self.ret.get("reopened_reason") else "")
            + self._under_way()
        )
        reason = self.locked_reason()
        self.lock.setText(f"Locked: {reason}" if reason else "")
        self.lock.setVisible(bool(reason))
        self.issues = returns.check(self.session.db, self.return_id, self.today())
        self.checklist.show_issues(self.issues, reason is not None)

    def _refresh_not_started(self) -> None:
        self.model.editable = True
        self.status.setText(NOT_STARTED + self._under_way())
        self.lock.setText(START_HINT)
        self.lock.setVisible(True)
        # What sign-off would ask of these figures, so the checklist reads the same before and after the start.
        self.issues = returns.check_figures(
            self.session.db, self.locality["id"], self.quarter, self.model.values, self.today()
        )
        self.checklist.show_issues(self.issues, locked=False, started=False)

    def _under_way(self) -> str:
        return " · the quarter is still under way: its figures are so far" if self.quarter.end >= self.today() else ""

    def patients(self, fresh: bool = False) -> free_text.Patients:
        """The workspace's patients and staff as the detector reads them; *fresh* reads them again when they
        have changed (one aggregate query when they have not)."""
        if fresh or self._patients is None:
            self._patients = free_text.patients_of(self.session.db)
        return self._patients

    def _show_comment_warning(self, _code: str, said: str) -> None:
        self.comment_warning.setText(said)
        self.comment_warning.setVisible(bool(said))

    def _show_saved_warning(self) -> None:
        """The chosen KPI's comment as held, checked: a comment kept with a name in it stays flagged."""
        row = self.grid.currentIndex().row()
        said = ""
        if 0 <= row < self.model.rowCount():
            code = self.model.kpi(row).code
            text = self.model.values.get(code, {}).get("comment") or ""
            said = warning(code, text, self.patients()) if text.strip() else ""
        self._show_comment_warning("", said)

    def _show_panel(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self.panel.show_kpi(None, {}, [], [])
            self._show_comment_warning("", "")
            return
        if self.grid.state() != QAbstractItemView.State.EditingState:
            self._show_saved_warning()
        kpi = self.model.kpi(row)
        self.panel.show_kpi(
            kpi,
            self.model.values.get(kpi.code, {}),
            self.model.histories.get(kpi.code, []),
            [i for i in self.issues if i["kpi"] == kpi.code],
        )

    def _show_buttons(self) -> None:
        has = self.ret is not None
        draft = has and self.ret["status"] == "draft"
        self.start_button.setVisible(self.not_started)
        self.recompute_button.setEnabled(draft or self.not_started)
        self.recompute_button.setToolTip(START_TIP if self.not_started else RECOMPUTE_TIP)
        self.sign_off_button.setEnabled(draft or self.not_started)
        self.reopen_button.setEnabled(has and not draft)
        self.export_button.setEnabled(has)
        self.revisions_button.setEnabled(has)
        # The primary (filled) button is the next step: start a quarter, sign off a draft, export a signed-off one.
        for button, primary in (
            (self.start_button, self.not_started),
            (self.sign_off_button, draft),
            (self.export_button, has and not draft),
        ):
            if bool(button.property("primary")) != primary:
                button.setProperty("primary", primary)
                button.style().unpolish(button)
                button.style().polish(button)

    def select_kpi(self, code: str | None) -> None:
        if code is None:  # an item about the whole return, such as a quarter still under way
            return
        row = self.model.row_of(code)
        self.grid.setCurrentIndex(self.model.index(row, max(self.grid.currentIndex().column(), 0)))

    def _publish(self, changes: Changes) -> None:
        self.session.publish(changes, origin=self)

    # -- writes -------------------------------------------------------------------------------------------
    def start_draft(self) -> bool:
        """Start the quarter's return as a draft computed from the records: the one place a return is started,
        and only on the user's say-so (Start draft, a figure or comment typed, Recompute, Sign off). True when
        the quarter has a return to write to."""
        if self.return_id is not None:
            return True
        if self.locality is None:
            return False
        db = self.session.db
        with messages.reported(self, "Cannot start the return") as failed:
            return_id, changes = returns.draft(db, self.session.actor, self.locality["id"], self.quarter, self.today())
        if failed:
            return False
        self.return_id, self.ret, self.not_started = return_id, returns.get(db, return_id), False
        # The rows stay (an editor may be open on one, its figures about to be written): only the values change.
        self.model.set_values(returns.values(db, return_id))
        self._publish(changes)
        self._refresh()
        if changes.tables:
            messages.show_status(self, self._started_text() + ", computed from the records.")
        return True

    def _started_text(self) -> str:
        return f"Started the {self.quarter.label} return for {self.locality['name']} as a draft"

    def write_cell(self, code: str, key: str, text: str) -> dict[str, Any] | None:
        """Type a KPI's figures ("12 / 4500", or one number for a count) or its comment; the fresh value row,
        or None when refused (the message is shown and the cell keeps its old value)."""
        if self._in_write or (self.return_id is None and not self.not_started):
            return None  # a second commit while the first one's message is up (the editor lost focus to it)
        self._in_write = True
        try:
            return self._write_cell(code, key, text)
        finally:
            self._in_write = False

    def _write_cell(self, code: str, key: str, text: str) -> dict[str, Any] | None:
        numerator, _, denominator = text.partition("/")
        numerator, denominator = numerator.strip(), denominator.strip() or None
        starting = self.not_started
        with messages.reported(self, "Not saved") as failed:
            if starting and key != "comment":
                returns.check_entry(code, numerator, denominator)  # figures refused must not start a draft
        if failed:
            return None
        if not self.start_draft():
            return None
        db, actor = self.session.db, self.session.actor
        try:
            if key == "comment":
                changes = returns.comment(db, actor, self.return_id, code, text)
            else:
                changes = returns.enter(db, actor, self.return_id, code, numerator, denominator)
        except DeskError as exc:
            # A refused entry is the user's to fix; anything else stopped the return itself.
            messages.show_error(
                self, "Not saved" if isinstance(exc, ValidationError) else "Cannot change the return", exc
            )
            return None
        self._publish(changes)
        fresh = returns.values(db, self.return_id)[code]
        self.model.values[code] = fresh
        self._refresh()
        saved = f"{code}: {'comment' if key == 'comment' else 'figures'} saved."
        messages.show_status(self, f"{self._started_text()}; {saved}" if starting else saved)
        return fresh

    def recompute(self) -> None:
        if self.not_started:
            self.start_draft()  # computed from the records now: a recompute of its own
            return
        if self.return_id is None:
            return
        with messages.reported(self, "Cannot recompute") as failed:
            changes = returns.recompute(self.session.db, self.session.actor, self.return_id, self.today())
        if failed:
            return
        self._publish(changes)
        self.show_return(self.return_id)
        messages.show_status(self, "Recomputed from the records; typed figures and comments kept.")

    def sign_off(self) -> None:
        if self.ret is None and not self.not_started:
            return
        # The model refuses too; asked first here, before the checklist and the confirmation.
        with messages.reported(self, "Not signed off") as failed:
            roles.require_sign_off(self.session.actor, "sign off")
        if failed:
            return
        blocking = [i for i in self.issues if i["blocking"]]
        if blocking:
            messages.warn(
                self,
                "Not ready to sign off",
                f"{len(blocking)} item(s) still block sign-off; the checklist lists them. First: "
                f"{blocking[0]['message']}",
            )
            return
        revision = self.ret["revision"] if self.ret else 1
        if not messages.confirm(
            self,
            "Sign off the return?",
            f"Sign off the {self.quarter.label} return of {self.locality['name']} (revision "
            f"{revision}) as {self.session.actor.user}? Its figures are then frozen; changing "
            "them later means reopening it as a new revision. The sign-off is recorded in the audit trail.",
            "Sign off",
        ):
            return
        if not self.start_draft():
            return
        with messages.reported(self, "Not signed off") as failed:
            changes = returns.sign_off(self.session.db, self.session.actor, self.return_id, self.today())
        if failed:
            self._refresh()  # the checklist may have changed since it was drawn: show why it was refused
            return
        self._publish(changes)
        self.show_return(self.return_id)
        messages.show_status(self, f"The {self.quarter.label} return is signed off.")

    def reopen(self) -> None:
        if self.return_id is None:
            return
        with messages.reported(self, "Not reopened") as failed:
            roles.require_sign_off(self.session.actor, "reopen")
        if failed:
            return
        reason = ask_reason(self)
        if reason is None:
            return
        with messages.reported(self, "Not reopened") as failed:
            new_id, changes = returns.reopen(self.session.db, self.session.actor, self.return_id, reason, self.today())
        if failed:
            return
        self._publish(changes)
        self.show_return(new_id)
        messages.show_status(self, f"Reopened as revision {self.ret['revision']}: a draft again.")

    def revisions_dialog(self) -> RevisionsDialog | None:
        if self.locality is None or self.ret is None:
            return None
        listed = returns.revisions(self.session.db, self.locality["id"], self.quarter)
        return RevisionsDialog(f"{self.quarter.label} return of {self.locality['name']}: revisions", listed, self)

    def show_revisions(self) -> None:
        dialog = self.revisions_dialog()
        if dialog is not None:
            dialog.exec()

    def export(self) -> None:
        if self.return_id is None or self.ret is None or self.locality is None:
            return
        draft = self.ret["status"] == "draft"
        if draft:
            if not messages.confirm(
                self,
                "Export a draft working copy?",
                f"The {self.quarter.label} return is not signed off yet. Export a draft working copy to "
                f"share? The file says it is a draft. {AGGREGATE}",
                "Export the draft",
            ):
                return
        elif not messages.confirm(
            self,
            "Export the return?",
            f"Write the signed-off {self.quarter.label} return for the commissioner. {AGGREGATE} The export "
            "is recorded in the audit trail.",
            "Export",
        ):
            return
        name = (
            f"kpi-return-{self.locality.get('code', 'locality')}-{self.quarter.code}-"
            f"r{self.ret['revision']}{'-draft' if draft else ''}.json"
        )
        path, _ = QFileDialog.getSaveFileName(self, "Export the return", name, "Return files (*.json)")
        if not path:
            return
        if not path.lower().endswith(".json"):
            path += ".json"
        if not output_guard.allowed(self, path, self.session.path):
            return
        with messages.reported(self, "Not exported") as failed:
            out = returns.export(
                self.session.db, self.session.actor, self.return_id, path, __version__, allow_draft=draft
            )
        if failed:
            return
        self._publish(Changes.of("returns"))
        self.show_return(self.return_id)
        messages.show_status(self, f"Exported to {out}.")
