"""The Commissioner screen (DESIGN §2 and §10): the 11 teams' returns for a quarter side by side, how many came
in (received, on time, signed off; REFERENCE §5.4), the chosen KPI on a funnel plot and as a trend (or, on the
Outcomes tab, the teams' outcome estimates on a forest plot, issue 27), the import
of return files (a button, or files dropped on the screen) and the quarter as an Excel workbook.

It reads what the workspace holds, so it works in a commissioner workspace (imported files) and in a locality
workspace that holds several teams' returns (the demo world); only a commissioner workspace imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QModelIndex, Qt, QTimer
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import quarters
from ...models.changes import Changes
from ...models.kpi import consolidated
from ...models.kpi.catalogue import catalogue
from ...models.quarters import Quarter
from ...settings import Settings
from ..kit import formats, messages, output_guard
from ..kit.field_help import help_label
from ..kit.flow_layout import FlowLayout
from ..kit.page import EmptyCard, Page, at_top, stacked, title_block
from ..kit.quarter_paging import QuarterPaging
from ..kit.session import Session
from ..shell.screens import Screen
from .comparison_charts import ComparisonCharts
from .consolidated_model import ConsolidatedModel
from .import_dialog import RETURN_FILTER, ReturnImportDialog
from .keys_dialog import TrustedKeysDialog
from .outcomes_forest import OutcomesForest

DEPENDS = ("returns", "return_values", "return_outcomes", "localities")
CHARTS_MIN = 330  # px: narrower, the funnel's labels crowd each other
NOT_HERE = (
    "Returns are imported into a commissioner workspace. This is a locality workspace: it makes its own "
    "return on the Returns screen. To import the teams' files, create a commissioner workspace with "
    "File → New workspace and open it."
)


def return_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files to import: each file as given, and the .json files inside a folder."""
    out: list[Path] = []
    for path in map(Path, paths):
        out.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return out


class CommissionerPage(QuarterPaging, Page):
    def __init__(
        self, screen: Screen, session: Session, settings: Settings | None = None, parent: QWidget | None = None
    ):
        super().__init__(screen, session, settings, parent)
        self.chosen = False  # True once the user paged to a quarter; until then the latest held is shown
        self._loading = False
        self.held: list[Quarter] = consolidated.held_quarters(session.db)
        self.quarter = self.default_quarter()
        self.teams: list[dict[str, Any]] = []
        self._funnels: dict[str, Any] = {}  # KPI code -> its funnel for the quarter shown
        self._series: dict[str, dict[str, list[float | None]]] = {}  # KPI code -> its trend
        self.dialog: ReturnImportDialog | None = None
        self.setAcceptDrops(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)
        layout.addLayout(self._build_toolbar())
        self.completeness = QLabel()
        self.completeness.setObjectName("returnStatus")
        self.completeness.setWordWrap(True)
        layout.addWidget(self.completeness)
        layout.addWidget(self._build_body(), 1)
        layout.addWidget(self._build_empty(), 1)
        self._show_quarter_label()

    # -- building -----------------------------------------------------------------------------------------
    def _build_toolbar(self) -> FlowLayout:
        """The quarter paging, the import (only a commissioner workspace imports) and the export."""
        bar = self.quarter_bar()
        self.import_button = QPushButton("&Import returns…")
        self.import_button.clicked.connect(self.choose_files)
        self.export_button = QPushButton("E&xport to Excel…")
        self.export_button.clicked.connect(self.export)
        self.keys_button = QPushButton("Trusted &keys…")
        self.keys_button.clicked.connect(self.show_keys)
        bar.addWidget(self.import_button)
        bar.addWidget(self.keys_button)
        bar.addWidget(self.export_button)
        commissioner = self.session.kind == "commissioner"
        self.import_button.setEnabled(commissioner)
        self.keys_button.setVisible(commissioner)
        self.keys_button.setToolTip("The key each team's returns must be signed with; import a key file a team sent")
        self.import_button.setToolTip(
            "Check the teams' return files (a dry run), then import them. You can also drop the files on this screen."
            if commissioner
            else NOT_HERE
        )
        return bar

    def _build_body(self) -> QSplitter:
        """The consolidated grid with its legend, and beside it the charts of the chosen KPI."""
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self._build_grid())
        self.charts = ComparisonCharts(self.select_team)
        self.forest = OutcomesForest()
        self.side = QTabWidget()
        self.side.setObjectName("comparisonTabs")
        self.side.addTab(self.charts, "KPI charts")
        self.side.addTab(self.forest, "Outcomes")
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        return self.splitter

    def _build_grid(self) -> QWidget:
        self.model = ConsolidatedModel(self)
        self.grid = QTableView()
        self.grid.setObjectName("consolidatedGrid")
        self.grid.setModel(self.model)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the grid
        self.grid.setWordWrap(False)
        self.grid.verticalHeader().setVisible(False)
        self.grid.verticalHeader().setDefaultSectionSize(27)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.grid.horizontalHeader().setHighlightSections(True)
        self.grid.selectionModel().currentChanged.connect(lambda index, _old: self.show_charts(index))
        self.legend = help_label(
            "Each cell: the team's value (its unit is beside the KPI code) and its RAG letter: "
            "G meets the target, A within the tolerance, R beyond it. Hover a cell for the "
            "figures and the team's comment; move with the arrow keys."
        )
        return stacked(self.grid, self.legend)

    def _build_empty(self) -> QWidget:
        """What the screen says while the workspace holds no returns, and how to get some."""
        commissioner = self.session.kind == "commissioner"
        self.empty_card = EmptyCard(
            "No returns held yet",
            "Import the teams' signed-off return files: press Import returns… or drop the .json files (or the "
            "folder holding them) on this screen. Each file is checked first, and nothing is written until you "
            "confirm."
            if commissioner
            else "This workspace holds no signed-off returns. Sign off a quarter's return on the Returns screen; the "
            "teams' returns are compared in a commissioner workspace, which imports their files.",
            "Import returns…" if commissioner else "",
        )
        if self.empty_card.button is not None:
            self.empty_card.button.clicked.connect(self.choose_files)
        self.empty = at_top(self.empty_card)
        return self.empty

    # -- Page ---------------------------------------------------------------------------------------------
    def default_quarter(self) -> Quarter:
        """The latest quarter with returns held, else the last completed quarter."""
        return self.held[-1] if self.held else quarters.of(self.today()).previous()

    def set_quarter(self, quarter: Quarter) -> None:
        self.chosen = True
        super().set_quarter(quarter)

    def on_changes(self, changes: Changes) -> None:
        if changes.touches(*DEPENDS):
            self.mark_stale()

    # -- loading ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        db = self.session.db
        self.held = consolidated.held_quarters(db)
        if not self.chosen:
            self.quarter = self.default_quarter()
            self._show_quarter_label()
        self._funnels, self._series = {}, {}
        self.teams = consolidated.localities(db)
        has_returns = bool(self.held)
        for widget in (self.completeness, self.splitter):
            widget.setVisible(has_returns)
        self.empty.setVisible(not has_returns)
        done = consolidated.completeness(db, self.quarter)
        self.completeness.setText(
            f"Received {done.received} of {done.expected} · on time {done.on_time} · signed off {done.signed_off} · "
            f"on-time deadline {formats.date(done.deadline)} · missing: {', '.join(done.missing) or 'none'}"
        )
        self.completeness.setToolTip("On time: signed off by the deadline, 30 days after the quarter's end.")
        self.forest.set_quarter(db, self.quarter)
        self.export_button.setEnabled(done.received > 0)
        self.export_button.setToolTip(
            "The quarter as a workbook: KPIs down and teams across, every figure, and completeness"
            if done.received
            else f"No returns are held for {self.quarter.label}: nothing to export."
        )
        current = self.grid.currentIndex()
        self.model.set_grid(catalogue(), self.teams, consolidated.grid(db, self.quarter))
        self.grid.setAccessibleName(f"KPI returns of the {len(self.teams)} teams, {self.quarter.label}")
        self._size_columns()
        if current.isValid():
            row, column = current.row(), current.column()
        else:
            row = next((n for n, k in enumerate(self.model.records()) if k.unit != "count"), 0)
            column = 0
        self._loading = True  # the charts follow once the grid is on screen: see below
        self.grid.setCurrentIndex(self.model.index(row, column))
        self._loading = False
        # Drawing the charts the first time imports pyqtgraph and the statistics (~0.5 s): the grid is painted
        # first, so the screen opens at once and the charts fill in a moment later.
        QTimer.singleShot(0, lambda: self.show_charts(self.grid.currentIndex()))

    def _size_columns(self) -> None:
        """Columns as narrow as their text, and the grid given the width it needs to show all 11 teams at
        once, the charts the rest (never less than CHARTS_MIN)."""
        self.grid.resizeColumnsToContents()
        widths = [self.grid.columnWidth(c) for c in range(self.model.columnCount())]
        team_width = max(widths[1:], default=50)
        for column in range(1, len(widths)):
            self.grid.setColumnWidth(column, team_width)
        needed = (
            (widths[0] if widths else 0)
            + team_width * (len(widths) - 1)
            + self.grid.verticalScrollBar().sizeHint().width()
            + 2 * self.grid.frameWidth()
            + 2
        )
        total = sum(self.splitter.sizes())
        if total > 0:
            grid_width = min(needed, max(total - CHARTS_MIN, total // 2))
            self.splitter.setSizes([grid_width, total - grid_width])

    def show_charts(self, index: QModelIndex) -> None:
        if self._loading:
            return
        if not index.isValid() or not self.held:
            self.charts.show_nothing("Choose a cell of the grid to compare that KPI across the teams.")
            return
        db = self.session.db
        kpi = self.model.kpi(index.row())
        team = self.model.team(index.column())
        if kpi.code not in self._funnels:
            self._funnels[kpi.code] = consolidated.funnel(db, kpi.code, self.quarter)
        if kpi.code not in self._series:
            self._series[kpi.code] = consolidated.trend(db, kpi.code, self.held)
        self.charts.show_kpi(
            kpi,
            self.quarter,
            self._funnels[kpi.code],
            self.held,
            self._series[kpi.code],
            team["code"] if team else None,
            self.names(),
        )

    def names(self) -> Mapping[str, str]:
        return {t["code"]: t["name"] for t in self.teams}

    def select_team(self, code: str) -> None:
        """Move to *code*'s cell in the current KPI's row (a click on its point or line)."""
        row = max(self.grid.currentIndex().row(), 0)
        self.grid.setCurrentIndex(self.model.index(row, self.model.column_of(code)))
        self.grid.setFocus()

    def select_kpi(self, kpi_code: str, locality_code: str | None = None) -> None:
        column = self.model.column_of(locality_code) if locality_code else max(self.grid.currentIndex().column(), 0)
        self.grid.setCurrentIndex(self.model.index(self.model.row_of(kpi_code), column))

    # -- import ---------------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        if self.session.kind != "commissioner":
            messages.warn(self, "Returns are not imported here", NOT_HERE)
            return
        # Settings declares no state for the return files' folder yet: start beside the workspaces.
        start = (self.settings.state("last_directory") if self.settings else None) or ""
        names, _ = QFileDialog.getOpenFileNames(self, "Import returns", start, RETURN_FILTER)
        if names:
            self.import_files(names)

    def import_files(self, paths: Iterable[str | Path]) -> ReturnImportDialog | None:
        """Check the files (a dry run) and show what each would do; the dialog imports on confirmation. Returns
        the dialog, which opens once the check is done, or None when there is nothing to check."""
        if self.session.kind != "commissioner":
            messages.warn(self, "Returns are not imported here", NOT_HERE)
            return None
        files = return_files(paths)
        if not files:
            messages.warn(
                self,
                "No return files",
                "The folder holds no .json files. Choose the return files the teams exported (kpi-return-….json).",
            )
            return None
        dialog = self.dialog = ReturnImportDialog(self.session, files, self)

        def failed() -> None:
            if self.dialog is dialog:
                self.dialog = None
            dialog.deleteLater()

        dialog.check(dialog.open, failed)
        return dialog

    def show_keys(self) -> TrustedKeysDialog:
        """The keys this workspace trusts, with the import of a team's key file."""
        dialog = TrustedKeysDialog(self.session, self)
        dialog.open()
        return dialog

    @staticmethod
    def accepts_drop(mime: QMimeData) -> bool:
        """Files from this computer (a return file, or a folder of them) are welcome."""
        return mime.hasUrls() and any(url.isLocalFile() for url in mime.urls())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self.accepts_drop(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.import_files(paths)

    # -- export ---------------------------------------------------------------------------------------------
    def export(self) -> None:
        name = f"llr-returns-{self.quarter.code}.xlsx"
        start = (self.settings.state("export_directory") if self.settings else None) or ""
        path, _ = QFileDialog.getSaveFileName(
            self, "Export to Excel", str(Path(start) / name) if start else name, "Excel workbooks (*.xlsx)"
        )
        if not path:
            return
        if not path.lower().endswith(".xlsx"):
            path += ".xlsx"
        if not output_guard.allowed(self, path, self.session.path):
            return
        with messages.reported(self, "Not exported") as failed:  # a workbook open in Excel: named, with what to do
            out = consolidated.export_xlsx(self.session.db, self.session.actor, self.quarter, path)
        if failed:
            return
        if self.settings:
            self.settings.set_state("export_directory", str(out.parent))
        self.session.publish(Changes.of("audit"))
        messages.show_status(self, f"Exported the {self.quarter.label} returns to {out}.")
