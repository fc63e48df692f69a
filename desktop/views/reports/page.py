"""The Reports screen (DESIGN §11): for the chosen quarter, the quarterly locality report of the current locality
and the system report of every team the workspace holds returns for, each exported as a PDF; below them the
locality's KPIs with their Making Data Count variation and assurance, and the XmR chart of the chosen one, drawn
from the very figures the locality report prints (reports.locality_figures.gather); in a tab beside them the
Outcomes section (outcomes_view.py), the report's Outcomes page for the same locality and quarter.

The figures take about a second to gather on a full workspace, so they are gathered on a worker thread with its
own connection when the page is on screen, and kept per (locality, quarter) until something is written. A
commissioner workspace holds no team records: it has the system report only, and says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import quarters
from ...models.changes import Changes
from ...models.kpi import consolidated
from ...settings import Settings
from ..kit import formats, messages, pdf_export, tasks
from ..kit.field_help import help_label
from ..kit.flow_layout import FlowLayout
from ..kit.page import EmptyCard, Page, title_block
from ..kit.quarter_paging import QuarterPaging
from ..kit.session import Session
from ..kit.tables import SMALL_ROW_HEIGHT, list_table
from ..kit.widgets import ScrollBody, button_bar
from ..shell.screens import Screen
from .outcomes_view import OutcomesView, scrolled
from .spc_list_model import COLUMNS, SpcListModel
from .spc_view import SpcView

OPEN_REPORT = "Open the report"
NO_RECORDS = (
    "A commissioner workspace holds the teams' signed-off returns, not their records (meetings, "
    "actions, the cohort, care homes), so it has no quarterly locality report and no month-by-month "
    "SPC charts. Each team exports its own from its locality workspace; the system report below "
    "compares every team whose return you have imported."
)
WORKING = "Working out the charts…"
OUTCOMES_TAB = 1


def _card(heading: str) -> tuple[QFrame, QVBoxLayout, QLabel, QLabel]:
    card = QFrame()
    card.setObjectName("plannedCard")
    box = QVBoxLayout(card)
    box.setContentsMargins(18, 12, 18, 14)
    box.setSpacing(8)
    title = QLabel(heading)
    title.setObjectName("plannedHeading")
    body = QLabel()
    body.setObjectName("plannedBody")
    body.setWordWrap(True)
    box.addWidget(title)
    box.addWidget(body)
    return card, box, title, body


class ReportsPage(QuarterPaging, Page):
    def __init__(
        self, screen: Screen, session: Session, settings: Settings | None = None, parent: QWidget | None = None
    ):
        super().__init__(screen, session, settings, parent)
        self.quarter = quarters.of(self.today()).previous()
        self.cache: dict[tuple[str, str], Any] = {}  # (locality code, quarter code) -> LocalityFigures
        self.loading: set[tuple[str, str]] = set()
        self.figures: Any = None  # the LocalityFigures shown
        self.teams_held = 0
        commissioner = session.kind == "commissioner"

        # The screen scrolls when a large font makes the cards and the charts taller than the window, rather than
        # drawing the charts over the cards' buttons.
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        body = ScrollBody()
        body.setObjectName("reportsBody")
        scroll = QScrollArea()
        scroll.setObjectName("pageScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        outer.addWidget(scroll)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)
        layout.addLayout(self.quarter_bar())
        layout.addSpacing(6)
        layout.addLayout(self._build_cards())
        layout.addSpacing(10)
        spc = self._build_spc()
        # It takes the height the cards leave, as before; only when that is less than a few lines (a large font)
        # does the screen scroll.
        spc.setMinimumHeight(spc.fontMetrics().lineSpacing() * 14)
        # Issue 27: did the team's work change hospital use? A tab beside the charts, so that neither squeezes the
        # other; worked out only when the tab is chosen.
        self.outcomes = OutcomesView(session)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("reportsTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(spc, "&KPIs and SPC charts")
        self.tabs.addTab(scrolled(self.outcomes), "&Outcomes")
        self.tabs.currentChanged.connect(lambda _index: self._show_outcomes())
        layout.addWidget(self.tabs, 1)
        if commissioner:
            layout.addStretch(1)

        self.locality_card.setVisible(not commissioner)
        self.tabs.setVisible(not commissioner)
        self.no_locality.setVisible(commissioner)
        self._show_quarter_label()
        self._show_locality_card()

    # -- building -----------------------------------------------------------------------------------------
    def _build_cards(self) -> FlowLayout:
        """The two reports side by side: the locality's (or why a commissioner workspace has none) and the
        system report; one above the other when a large font leaves no room for both."""
        cards = FlowLayout(spacing=16)
        cards.addWidget(self._build_locality_card(), 1)
        self.no_locality = EmptyCard("No locality report in a commissioner workspace", NO_RECORDS)
        cards.addWidget(self.no_locality, 1)
        cards.addWidget(self._build_system_card(), 1)
        return cards

    def _build_locality_card(self) -> QFrame:
        self.locality_card, box, self.locality_heading, self.locality_body = _card("Quarterly locality report")
        self.locality_button = QPushButton("Export &locality report (PDF)…")
        self.locality_button.setProperty("primary", True)
        self.locality_button.clicked.connect(self.export_locality)
        # The monthly RAG exception report (issue 24): one page for the monthly ILT meeting, month asked for.
        self.monthly_button = QPushButton("Monthly exception report…")
        self.monthly_button.setToolTip(
            "One page for a month: the monthly KPIs with their RAG, and each red with its actions"
        )
        self.monthly_button.clicked.connect(lambda: self.export_monthly())
        row = button_bar()
        row.addWidget(self.locality_button)
        row.addWidget(self.monthly_button)
        row.addStretch(1)
        box.addLayout(row)
        box.addStretch(1)
        return self.locality_card

    def _build_system_card(self) -> QFrame:
        self.system_card, box, _title, self.system_body = _card("System report")
        # Short, with what it does beside it: the whole sentence on a tick box, which cannot wrap, is wider than the
        # card at a large font.
        self.publication = QCheckBox("For &publication")  # Alt+F: File
        self.publication.setAccessibleDescription("Suppress small numbers")
        self.publication.setToolTip(
            "NHS Digital's small-number suppression of counts of people; the report "
            "lists every cell it altered in an appendix"
        )
        self.system_button = QPushButton("Export s&ystem report (PDF)…")  # Alt+S: Settings
        self.system_button.clicked.connect(self.export_system)
        self.system_reason = help_label("")
        row = button_bar()
        row.addWidget(self.system_button)
        row.addWidget(self.publication)
        suppressed = help_label("(small numbers suppressed)")
        suppressed.setWordWrap(False)
        row.addWidget(suppressed)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(self.system_reason)
        box.addStretch(1)
        return self.system_card

    def _build_spc(self) -> QWidget:
        """The locality's KPIs with their variation and assurance, and beside them the chosen one's chart."""
        self.spc_title = QLabel()
        self.spc_title.setObjectName("sectionTitle")
        self.spc_state = help_label("")
        self.model = SpcListModel(self)
        self.list = list_table(self.model, "spcList", [])
        self.list.setTabKeyNavigation(False)  # arrows move between KPIs; Tab leaves the list
        self.list.verticalHeader().setDefaultSectionSize(SMALL_ROW_HEIGHT)
        self.list.horizontalHeader().setStretchLastSection(False)  # the list is sized to its columns
        self.list.setAccessibleName("Key performance indicators with their SPC variation and assurance")
        self.list.selectionModel().currentChanged.connect(lambda index, _old: self.show_chart(index.row()))
        # Step changes (issue 24): recorded from the chart's panel or the KPI list's context menu (Menu key).
        self.step_action = QAction("Record a step change…", self.list)
        self.step_action.triggered.connect(lambda: self.record_step_change())
        self.list.addAction(self.step_action)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.refocus: str | None = None  # the KPI to show, the list focused, once the figures are back
        self.kept: tuple[Any, str | None] = (None, None)  # (figures' key, KPI chosen) across a reload
        self.view = SpcView()
        self.view.record_requested.connect(lambda: self.record_step_change())
        self.view.remove_requested.connect(self.remove_step_change)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.spc = QWidget()
        spc_box = QVBoxLayout(self.spc)
        spc_box.setContentsMargins(0, 0, 0, 0)
        spc_box.addWidget(self.spc_title)
        spc_box.addWidget(self.spc_state, 1, Qt.AlignmentFlag.AlignTop)  # at the top while the charts load
        spc_box.addWidget(self.splitter, 1)
        return self.spc

    # -- Page ---------------------------------------------------------------------------------------------
    @property
    def key(self) -> tuple[str, str] | None:
        return (self.locality["code"], self.quarter.code) if self.locality else None

    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self._show_locality_card()
        self.mark_stale()

    def set_quarter(self, quarter: quarters.Quarter) -> None:
        super().set_quarter(quarter)
        self._show_locality_card()

    def on_changes(self, changes: Changes) -> None:
        if changes.workspace or (changes.tables - {"audit"}):
            self.cache.clear()
            self.outcomes.forget()
            self.mark_stale()

    # -- loading ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        self._show_system_card()
        if self.session.kind == "commissioner":  # it has the system report only
            return
        key = self.key
        self._show_outcomes()
        if key is None:
            self._show_state("Choose a locality in the tool bar to see its KPIs.")
            return
        self.spc_title.setText(f"Statistical process control: {self.locality['name']}, {self.quarter.label}")
        if key in self.cache:
            self._show_figures(self.cache[key])
            return
        self._show_state(WORKING)
        if key not in self.loading:
            self._start(key)

    def _show_outcomes(self) -> None:
        if self.tabs.currentIndex() == OUTCOMES_TAB and self.session.kind != "commissioner":
            self.outcomes.show_for(self.locality, self.quarter)

    def _start(self, key: tuple[str, str]) -> None:
        from ...models.kpi.locality_figures import gather

        code, quarter, today = key[0], self.quarter, self.today()
        self.loading.add(key)
        tasks.start_quiet(
            self.session.path,
            lambda db, _progress, _cancel: (key, gather(db, code, quarter, today)),
            self._loaded,
            self._failed,
        )

    @property
    def is_loading(self) -> bool:
        return bool(self.loading) or self.outcomes.is_loading

    @Slot(object)
    def _loaded(self, outcome: tuple[tuple[str, str], Any]) -> None:
        if self.session.closed:  # the window moved to another workspace, or closed, while the figures loaded
            return
        key, figures = outcome
        self.loading.discard(key)
        self.cache[key] = figures
        if key == self.key and not self.stale:
            self._show_figures(figures)

    @Slot(object)
    def _failed(self, exc: Exception) -> None:
        if self.session.closed:
            return
        self.loading.clear()
        self._show_state(f"The charts could not be worked out: {exc}")

    def _show_state(self, text: str) -> None:
        current = self.list.currentIndex()
        if self.figures is not None and current.isValid() and self.refocus is None:
            # Reloaded after a write (an undo, say): the same figures' KPI stays chosen.
            self.kept = ((self.figures.locality["code"], self.figures.quarter.code), self.model.row_id(current.row()))
        self.figures = None
        self.model.set_rows([])
        self.view.show_nothing("")
        self.splitter.setVisible(False)
        self.spc_state.setText(text)
        self.spc_state.setVisible(True)
        self._show_locality_card()

    def _show_figures(self, figures: Any) -> None:
        self.figures = figures
        current = self.list.currentIndex()
        code = self.model.row_id(current.row()) if current.isValid() and self.model.rowCount() else None
        if code is None and self.kept[0] == (figures.locality["code"], figures.quarter.code):
            code = self.kept[1]
        code, self.kept = self.refocus or code, (None, None)
        self.model.set_rows(figures.rows)
        self.spc_state.setVisible(False)
        self.splitter.setVisible(True)
        self._size_columns()
        if code is None:  # first time: the first KPI with a special cause in its latest point, else the first
            row = next(
                (
                    n
                    for n, r in enumerate(figures.rows)
                    if r.spc is not None and not r.spc.trial_limits and r.spc.variation_icon != "common_cause"
                ),
                0,
            )
        else:
            row = self.model.row_of(code)
        self.list.setCurrentIndex(self.model.index(row, 0))
        self.show_chart(row)
        if self.refocus is not None:  # after a step change was recorded or removed
            self.list.setFocus()
            self.refocus = None
        self._show_locality_card()

    def _size_columns(self) -> None:
        self.list.resizeColumnsToContents()
        self.list.setColumnWidth(1, min(self.list.columnWidth(1), 160))
        widths = sum(self.list.columnWidth(c) for c in range(len(COLUMNS)))
        needed = widths + self.list.verticalScrollBar().sizeHint().width() + 2 * self.list.frameWidth() + 2
        total = sum(self.splitter.sizes())
        if total > 0:
            left = min(needed, total * 31 // 50)
            self.splitter.setSizes([left, total - left])

    def show_chart(self, row: int) -> None:
        if not 0 <= row < self.model.rowCount():
            self.view.show_nothing("Choose a KPI in the list to see its chart.")
            return
        from ...models.kpi import rebases
        from . import step_change_dialog

        record = self.model.record(row)
        allowed, why = step_change_dialog.permission(self.session.actor)
        self.view.set_permission(allowed, why)
        self.step_action.setEnabled(allowed)
        self.step_action.setToolTip(why)
        recorded = rebases.listing(self.session.db, self.locality["id"], record.kpi.code) if self.locality else None
        self.view.show_row(record, recorded)

    def record_step_change(self, code: str | None = None) -> None:
        """Ask for a step change on *code* (by default the KPI shown) and record it; the figures reload."""
        from . import step_change_dialog

        if self.figures is None or self.locality is None:
            return
        allowed, why = step_change_dialog.permission(self.session.actor)
        if not allowed:
            messages.warn(self, "Step changes", why)
            return
        current = self.list.currentIndex()
        code = code or (self.model.row_id(current.row()) if current.isValid() else None)
        kpis = [(r.kpi.code, r.kpi.name) for r in self.figures.rows]
        self.step_dialog = step_change_dialog.ask(self, self.session, self.locality["id"], kpis, code, self.today())
        self.step_dialog.accepted.connect(
            lambda: self._stepped(
                self.step_dialog.values()["kpi"], "Step change recorded: the limits are recalculated from its date."
            )
        )

    def remove_step_change(self, step: dict[str, Any]) -> None:
        """Remove a recorded step change, once confirmed; Edit → Undo records it again."""
        from . import step_change_dialog

        day = dt.date.fromisoformat(step["effective_on"])
        if not messages.confirm(
            self,
            "Remove the step change?",
            f"Remove the step change on {step['kpi']} from {day:%d/%m/%Y} ({step['reason']})?\n\nThe limits run on "
            "across that date again. Edit → Undo puts it back.",
            "Remove",
        ):
            return
        with messages.reported(self, "Step change not removed") as failed:
            step_change_dialog.remove(self.session, step)
        if not failed:
            self._stepped(step["kpi"], "Step change removed. Edit → Undo puts it back.")

    def _stepped(self, code: str, text: str) -> None:
        self.refocus = code
        if self.figures is not None:  # already reloaded (from the cache): show the KPI now
            self._show_figures(self.figures)
        messages.show_status(self, text)

    def select_kpi(self, code: str) -> None:
        self.list.setCurrentIndex(self.model.index(self.model.row_of(code), 0))

    # -- the cards ------------------------------------------------------------------------------------------
    def _show_locality_card(self) -> None:
        if self.session.kind == "commissioner":
            return
        if self.locality is None:
            self.locality_body.setText("Choose a locality in the tool bar.")
            self.locality_button.setEnabled(False)
            self.monthly_button.setEnabled(False)
            return
        name, q = self.locality["name"], self.quarter
        text = (
            f"{name} ({self.locality['code']}), {q.label}: a board summary on page 1 (the headline, the "
            "recommendations, drafted from the exceptions for you to edit before export, and a dashboard), the KPIs "
            "with intervals, year to date, forecast and trends, SPC charts, the exceptions with their actions, and "
            "the cohort, MDT and care-home summaries. No patient is named."
        )
        figures = (
            self.figures
            if self.figures is not None and self.key == (self.figures.locality["code"], self.figures.quarter.code)
            else None
        )
        if figures is not None:
            ret = figures.ret
            if figures.draft:
                text += f"\nNo return is signed off for {q.label}: the report is marked DRAFT" + (
                    " and its figures are so far." if q.end >= self.today() else "."
                )
            else:
                text += f"\nThe return was signed off by {ret['signed_off_by']} (revision {ret['revision']})."
        self.locality_body.setText(text)
        self.locality_button.setEnabled(True)
        self.monthly_button.setEnabled(True)

    def _show_system_card(self) -> None:
        q = self.quarter
        teams = len(consolidated.localities(self.session.db))
        self.teams_held = len(consolidated.latest(self.session.db, q))
        self.system_body.setText(
            f"Every team side by side: each KPI with its RAG, funnel plots against the LLR value, trends across "
            f"the quarters held, and completeness. Signed-off returns held for {q.label}: {self.teams_held} of "
            f"{teams}."
        )
        self.system_button.setEnabled(self.teams_held > 0)
        self.publication.setEnabled(self.teams_held > 0)
        if self.teams_held:
            self.system_reason.setText("")
            self.system_reason.hide()
        else:
            self.system_reason.setText(
                f"Nothing to report: this workspace holds no signed-off return for {q.label}. "
                + (
                    "Import the teams' return files on the Commissioner screen."
                    if self.session.kind == "commissioner"
                    else "Sign off the quarter's return on the Returns screen, or choose another quarter."
                )
            )
            self.system_reason.show()
        self.system_button.setToolTip(self.system_reason.text() or "Write the system report as a PDF")

    # -- export ---------------------------------------------------------------------------------------------
    def export_locality(self) -> Path | None:
        """Show the recommendations drafted for the board to edit (board_summary), then ask for a file and start
        writing the locality report there with them; the file chosen, written later. Cancel exports nothing."""
        if self.locality is None or self.session.kind == "commissioner":
            return None
        from ...models.kpi.locality_figures import gather
        from ...reports import locality_report
        from . import board_summary

        code, q, today, actor = self.locality["code"], self.quarter, self.today(), self.session.actor
        figures = self.cache.get((code, q.code))
        if figures is None:  # not loaded yet: the drafts need the figures, about a second's work
            from PySide6.QtWidgets import QApplication

            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                figures = gather(self.session.db, code, q, today)
            finally:
                QApplication.restoreOverrideCursor()
        asks = board_summary.edit_asks(self, self.session.db, figures)
        if asks is None:
            return None
        return pdf_export.export_pdf(
            self,
            self.settings,
            "locality report",
            f"locality-report-{code}-{q.code}.pdf",
            f"Writing the {q.label} locality report for {self.locality['name']}…",
            self.session.path,
            lambda db, progress, cancel, out: locality_report.export(
                db, actor, code, q, out, today, progress=progress, cancel=cancel, asks=asks
            ),
            OPEN_REPORT,
        )

    def export_monthly(self, month: quarters.Month | None = None) -> Path | None:
        """Ask for the month (unless given) and a file, and start writing the monthly exception report there;
        the file chosen, written later."""
        if self.locality is None or self.session.kind == "commissioner":
            return None
        from ...models.kpi import monthly_figures
        from ...reports import monthly_report
        from .monthly_dialog import ask_month

        code, name, today, actor = self.locality["code"], self.locality["name"], self.today(), self.session.actor
        if month is None:
            held = monthly_figures.months_available(self.session.db, self.locality["id"], today)
            if not held:
                messages.warn(
                    self,
                    "No monthly figures yet",
                    f"{name} has no risk extract yet, so there are no figures to report: import one first.",
                )
                return None
            month = ask_month(self, name, held, quarters.Month(today.year, today.month))
            if month is None:
                return None
        return pdf_export.export_pdf(
            self,
            self.settings,
            "monthly exception report",
            f"monthly-report-{code}-{month.code}.pdf",
            f"Writing the {month.label} monthly exception report for {name}…",
            self.session.path,
            lambda db, progress, cancel, out: monthly_report.export(
                db, actor, code, month, out, today, progress=progress, cancel=cancel
            ),
            OPEN_REPORT,
        )

    def export_system(self) -> Path | None:
        """Ask for a file and start writing the system report there; the file chosen, written later."""
        if not self.teams_held:
            messages.warn(self, "Nothing to report", self.system_reason.text())
            return None
        from ...reports import system_report
        from . import system_summary

        q, actor, publication = self.quarter, self.session.actor, self.publication.isChecked()
        # "The Board is asked to …": the draft, edited and checked for identifiers; Cancel writes nothing.
        asks = system_summary.ask_board(self, self.session.db, q, publication)
        if asks is None:
            return None

        def written(out: Path, altered: int) -> None:
            if publication:
                messages.show_status(
                    self,
                    f"System report for publication saved to {out}: "
                    f"{formats.count(altered, 'cell')} suppressed or rounded, listed in its "
                    "appendix.",
                )

        return pdf_export.export_pdf(
            self,
            self.settings,
            "system report",
            f"system-report-{q.code}{'-publication' if publication else ''}.pdf",
            f"Writing the {q.label} system report…",
            self.session.path,
            lambda db, progress, cancel, out: system_report.export(
                db, actor, q, out, for_publication=publication, progress=progress, cancel=cancel, asks=asks
            ),
            OPEN_REPORT,
            done=written,
        )
