"""The Care homes screen (EHCH, DESIGN §8): the week-by-home grid of weekly home rounds for a quarter, with
missed weeks plain to see and a visit logged from the cell; and a home's detail (register facts, residents
and their PCSPs, recent visits, the visit report). A commissioner workspace holds no residents, so it shows
why the screen is empty."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import quarters, reference
from ...models.care_homes import residents, visits
from ...models.changes import Changes
from ...settings import Settings
from ..kit import formats, messages, pdf_export
from ..kit.field_help import help_label
from ..kit.page import EmptyCard, Page, at_top, title_block
from ..kit.quarter_paging import QuarterPaging
from ..kit.session import Session
from ..shell.screens import Screen
from . import operations as care_home_operations
from .residents_view import HomeDetail, ResidentDialog, resident_row, visit_row
from .round_grid import HELD, MISSED, THIS_WEEK, RoundGridView
from .visit_dialog import LogVisitDialog, visit_summary

GRID, DETAIL = 0, 1
DEPENDS = ("care_homes", "visits", "visit_residents", "residents", "actions", "staff", "practices")
LOG_VISIT, CLOSE = "Log a visit…", "Close"
OPEN_REPORT = "Open the report"
RECENT_DAYS = 365


class CareHomesPage(QuarterPaging, Page):
    def __init__(
        self, screen: Screen, session: Session, settings: Settings | None = None, parent: QWidget | None = None
    ):
        super().__init__(screen, session, settings, parent)
        self.quarter = quarters.of(self.today())
        self.dialog: QDialog | None = None
        self.homes: list[dict[str, Any]] = []
        self.gaps: dict[str, list[str]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 16)
        title_block(layout, screen.title, screen.summary)

        self.current_button = QPushButton("This quarter")
        self.current_button.clicked.connect(lambda: self.set_quarter(quarters.of(self.today())))
        self.log_button = QPushButton("&Log a visit…")
        self.log_button.setProperty("primary", True)
        self.log_button.clicked.connect(lambda: self.log_visit())
        bar = self.quarter_bar(self.current_button)
        bar.addWidget(self.log_button)
        self.bar = QWidget()
        self.bar.setLayout(bar)
        layout.addWidget(self.bar)

        self.grid = RoundGridView()
        self.grid.cell_chosen.connect(self.choose_cell)
        self.grid.selectionModel().currentChanged.connect(lambda index, _old: self._follow_grid(index.row()))
        self.legend = help_label(
            f"{HELD} weekly home round held   {MISSED} no round that week   "
            f"{THIS_WEEK} this week, none yet   blank: week not begun"
            "   ⚠ register gap (hover for the problem).   Click a week, or press Enter on it, to "
            "open its round or log a visit."
        )
        grid_tab = QWidget()
        grid_box = QVBoxLayout(grid_tab)
        grid_box.setContentsMargins(0, 8, 0, 0)
        grid_box.addWidget(self.grid, 1)
        grid_box.addWidget(self.legend)
        self.detail = HomeDetail()
        self.detail.home_box.currentIndexChanged.connect(lambda _n: self._show_detail())
        self.detail.admit_button.clicked.connect(lambda: self.edit_resident(None))
        self.detail.edit_button.clicked.connect(self._edit_current_resident)
        self.detail.residents.doubleClicked.connect(
            lambda index: self.edit_resident(self.detail.residents_model.row_id(index.row()))
        )
        self.detail.export_button.clicked.connect(self.export_report)
        # Enter or a double-click on a visit corrects it; its context menu (Menu key) also shows it read-only.
        self.detail.visits.activated.connect(
            lambda index: self.edit_visit(self.detail.visits_model.row_id(index.row()))
        )
        self.detail.edit_visit_button.clicked.connect(self._edit_current_visit)
        for label, slot in (("Edit visit…", self._edit_current_visit), ("Show visit", self._show_current_visit)):
            menu_action = QAction(label, self.detail.visits)
            menu_action.triggered.connect(slot)
            self.detail.visits.addAction(menu_action)
        self.detail.visits.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("careHomeTabs")
        self.tabs.addTab(grid_tab, "Home &round grid")
        self.tabs.addTab(self.detail, "Home &detail")
        layout.addWidget(self.tabs, 1)
        self.empty = at_top(
            EmptyCard(
                "No care-home residents in a commissioner workspace",
                "Visits and residents name patients, and a commissioner workspace never holds patient-identifiable "
                "data. Open a locality workspace (File → Open workspace) to follow a team's home rounds.",
            )
        )
        layout.addWidget(self.empty, 1)
        commissioner = session.kind == "commissioner"
        for widget in (self.tabs, self.bar):
            widget.setVisible(not commissioner)
        self.empty.setVisible(commissioner)
        self._show_quarter_label()

    # -- Page ---------------------------------------------------------------------------------------------
    def set_locality(self, locality: Mapping[str, Any] | None) -> None:
        self.locality = locality
        self.mark_stale()

    def on_changes(self, changes: Changes) -> None:
        if changes.touches(*DEPENDS):
            self.mark_stale()

    # -- loading ------------------------------------------------------------------------------------------
    def reload(self) -> None:
        if self.session.kind == "commissioner":
            return  # no residents or visits to load: the page shows why
        if self.locality is None:
            self.homes = []
            return
        db, locality_id = self.session.db, self.locality["id"]
        grid = visits.round_grid(db, locality_id, self.quarter, self.today())
        self.gaps = {g["id"]: g["problems"] for g in visits.register_gaps(db, locality_id)}
        current = self.grid.currentIndex()
        self.grid.model_.set_grid(grid, [{"id": k, "problems": v} for k, v in self.gaps.items()], self.today())
        self.grid.fit()
        if current.isValid() and current.row() < self.grid.model_.rowCount():
            self.grid.setCurrentIndex(self.grid.model_.index(current.row(), current.column()))
        self.homes = reference.list_rows(db, "care_homes", locality_id)
        chosen = self.detail.current_home_id()
        box = self.detail.home_box
        box.blockSignals(True)
        box.clear()
        for home in self.homes:
            box.addItem(("⚠ " if home["id"] in self.gaps else "") + home["name"], home["id"])
        box.setCurrentIndex(max(0, box.findData(chosen)))
        box.blockSignals(False)
        self._show_detail()

    def _show_detail(self) -> None:
        home_id = self.detail.current_home_id()
        home = next((h for h in self.homes if h["id"] == home_id), None)
        for button in (
            self.detail.admit_button,
            self.detail.edit_button,
            self.detail.export_button,
            self.detail.edit_visit_button,
        ):
            button.setEnabled(home is not None)
        if home is None:
            self.detail.show_home({"cqc_id": "—"}, [], [], [])
            return
        db = self.session.db
        rows = [resident_row(r) for r in residents.listing(db, home_id, today=self.today())]
        recent = visits.listing(db, home_id, start=self.today() - dt.timedelta(days=RECENT_DAYS))
        self.detail.show_home(home, self.gaps.get(home_id, []), rows, [visit_row(v) for v in recent])

    def _follow_grid(self, row: int) -> None:
        """The home chosen in the grid is the one the detail tab shows."""
        if 0 <= row < self.grid.model_.rowCount():
            box = self.detail.home_box
            box.setCurrentIndex(box.findData(self.grid.model_.home(row)["id"]))

    def select_home(self, home_id: str) -> None:
        box = self.detail.home_box
        box.setCurrentIndex(box.findData(home_id))

    # -- the grid's cells ---------------------------------------------------------------------------------
    def choose_cell(self, row: int, column: int) -> None:
        model = self.grid.model_
        home = model.home(row)
        self.select_home(home["id"])
        state = model.state(row, column)
        if state is None:
            if column == 0:
                self.tabs.setCurrentIndex(DETAIL)
            return
        week = model.week_of(column)
        if state == HELD:
            self.show_visits(model.visit_ids(row, column))
        elif state in (MISSED, THIS_WEEK):
            answer = messages.ask(
                self,
                "No home round that week",
                f"No weekly home round is recorded at {home['name']} in the week of "
                f"{formats.date(week)}" + (" yet." if state == THIS_WEEK else "."),
                [LOG_VISIT, CLOSE],
            )
            if answer == LOG_VISIT:
                self.log_visit(home["id"], min(week, self.today()))
        else:
            messages.show_status(self, f"The week of {formats.date(week)} has not begun.")

    def show_visits(self, visit_ids: list[str]) -> None:
        names = {h["id"]: h["name"] for h in self.homes}
        with messages.reported(self, "Cannot show the visit") as failed:
            found = [visits.get(self.session.db, v) for v in visit_ids]
        if failed:
            return
        dialog = QDialog(self)
        dialog.setObjectName("visitSummary")
        dialog.setWindowTitle("Visit" if len(found) == 1 else f"{len(found)} visits")
        dialog.setMinimumSize(560, 360)
        box = QVBoxLayout(dialog)
        text = QLabel("<hr>".join(visit_summary(v, names.get(v["care_home_id"], "")) for v in found))
        text.setObjectName("visitText")
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(text)
        box.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        if len(found) == 1:  # a round opened from the grid is corrected from here
            edit = buttons.addButton("&Edit visit…", QDialogButtonBox.ButtonRole.ActionRole)
            edit.setObjectName("editVisitButton")
            edit.clicked.connect(lambda: (dialog.accept(), self.edit_visit(found[0]["id"])))
        box.addWidget(buttons)
        self.dialog = dialog
        dialog.open()

    # -- writes -------------------------------------------------------------------------------------------
    def log_visit(self, home_id: str | None = None, day: dt.date | None = None) -> None:
        if self.locality is None or not self.homes:
            messages.warn(self, "No care homes", "This locality has no care homes on the register yet.")
            return
        home_id = home_id or self.detail.current_home_id() or self.homes[0]["id"]
        db, session = self.session.db, self.session
        staff = reference.choices_for(db, "staff", self.locality["id"])
        lead = next((h for h in self.homes if h["id"] == home_id), {})
        clinician = reference.get(db, "care_homes", home_id).get("clinical_lead_id") if lead else None
        dialog = LogVisitDialog(
            [(h["id"], h["name"]) for h in self.homes],
            staff,
            lambda hid: residents.listing(db, hid, today=self.today()),
            lambda values: care_home_operations.log_visit(session, values),
            home_id,
            day,
            clinician_id=clinician,
            parent=self,
        )
        dialog.accepted.connect(lambda: messages.show_status(self, "Visit saved."))
        self.dialog = dialog
        dialog.open()

    def _edit_current_visit(self) -> None:
        visit_id = self.detail.current_visit_id()
        if visit_id is None:
            messages.show_status(self, "Choose a visit in the list first.")
            return
        self.edit_visit(visit_id)

    def _show_current_visit(self) -> None:
        visit_id = self.detail.current_visit_id()
        if visit_id is not None:
            self.show_visits([visit_id])

    def edit_visit(self, visit_id: str) -> None:
        """The visit form filled in with a logged visit; saving corrects it as one undo step."""
        db, session = self.session.db, self.session
        with messages.reported(self, "Cannot edit the visit") as failed:
            visit = visits.get(db, visit_id)
            offered = visits.pick_list(db, visit_id, self.today())
        if failed:
            return
        home = reference.get(db, "care_homes", visit["care_home_id"])
        dialog = LogVisitDialog(
            [(visit["care_home_id"], home["name"])],
            reference.choices_for(db, "staff", home["locality_id"]),
            lambda _hid: offered,
            lambda values: care_home_operations.edit_visit(session, visit_id, values),
            visit["care_home_id"],
            parent=self,
            visit=visit,
        )
        dialog.accepted.connect(lambda: messages.show_status(self, "Visit saved. Edit → Undo puts it back."))
        self.dialog = dialog
        dialog.open()

    def _edit_current_resident(self) -> None:
        resident_id = self.detail.current_resident_id()
        if resident_id is None:
            messages.show_status(self, "Choose a resident in the list first.")
            return
        self.edit_resident(resident_id)

    def edit_resident(self, resident_id: str | None) -> None:
        """The resident form: admit a new resident (None) or change one."""
        home_id = self.detail.current_home_id()
        if home_id is None:
            return
        home = next(h for h in self.homes if h["id"] == home_id)
        with messages.reported(self, "Cannot edit the resident") as failed:
            current = residents.get(self.session.db, resident_id) if resident_id else None
        if failed:
            return
        session = self.session
        dialog = ResidentDialog(
            lambda values: care_home_operations.save_resident(session, home_id, values, resident_id),
            home["name"],
            current,
            self,
        )
        dialog.accepted.connect(lambda: messages.show_status(self, "Resident saved."))
        self.dialog = dialog
        dialog.open()

    def export_report(self) -> None:
        home_id = self.detail.current_home_id()
        home = next((h for h in self.homes if h["id"] == home_id), None)
        if home is None:
            return
        q = self.quarter
        if not messages.confirm(
            self,
            "Export patient-identifiable data?",
            f"The {q.label} visit report for {home['name']} names its residents with their NHS numbers, "
            "visits and outcomes, and is marked OFFICIAL-SENSITIVE. Keep it on an NHS-approved, encrypted "
            "device and share it only by secure e-mail. The export is recorded in the audit trail.",
            "Export the report",
        ):
            return
        pdf_export.export_pdf(
            self,
            self.settings,
            "visit report",
            f"care-home-visits-{home['cqc_id']}-{q.code}.pdf",
            f"Writing the {q.label} visit report for {home['name']}…",
            self.session.path,
            care_home_operations.report_job(self.session, home["cqc_id"], q, self.today()),
            OPEN_REPORT,
        )
