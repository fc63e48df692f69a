"""The panel beside the cohort table: one patient (identity, why in the cohort, their flag for MDT, caseload,
risk history, interventions), or what can be done to several selected at once, or a hint when nobody is
selected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models import clock
from ...models.cohort import caseload
from ...models.cohort import frame as cohort
from ...models.errors import DeskError, NotFound, ValidationError
from ..kit import formats, messages
from ..kit.field_help import help_label
from ..kit.selection_panel import MANY, ONE, SelectionPanel, heading_label
from ..kit.session import Session
from ..kit.widgets import ScrollBody, button_bar
from . import operations
from .caseload_form import CaseloadForm
from .chips import Chip, ChipStrip
from .interventions_view import InterventionsTab
from .mdt_flag import MdtFlag
from .risk_history import HistoryView

# Moving through the list with the arrow keys should not decode every run for every row passed over.
HISTORY_DELAY_MS = 120
SAVE, DISCARD, KEEP = "Save changes", "Discard changes", "Keep editing"
# The widgets of one patient's page: most of the Cohort screen's, so they are built the first time any of them is
# needed (the first frame's staff, or a patient chosen) rather than before the screen's first paint (issue 26).
ONE_PATIENT = frozenset(
    {
        "scroll",
        "name",
        "identity",
        "practice",
        "chips",
        "why",
        "flag",
        "tabs",
        "history",
        "interventions_tab",
        "interventions",
        "record_button",
        "form",
        "revert_button",
        "save_button",
    }
)


class PatientPanel(SelectionPanel):
    bulk_requested = Signal(str)  # "case_manager" or "status"

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(
            "patientPanel",
            "Choose a patient in the list to see why they are in the cohort, their risk "
            "over time and the team's work with them.\n\nMove with the arrow keys; Enter edits the "
            "caseload record. Ctrl+click or Shift+click chooses several patients to change at once.",
            (16, 0, 0, 0),
            parent,
        )
        self.session = session
        self.patient: dict[str, Any] | None = None
        self.staff: list[Mapping[str, Any]] = []
        self.ltc_min = 5
        self.bands = (9, 13)  # moderate and severe frailty, in deficits (the current cohort rules)
        self.assign_button = QPushButton("Assign case manager…")
        self.assign_button.clicked.connect(lambda: self.bulk_requested.emit("case_manager"))
        self.status_button = QPushButton("Set status…")
        self.status_button.clicked.connect(lambda: self.bulk_requested.emit("status"))
        one = QWidget()
        self._one = QVBoxLayout(one)
        self._one.setContentsMargins(0, 0, 0, 0)
        self.set_pages(
            one,
            "Change them all at once. You will see how many patients a change affects "
            "before it is made, and each change is noted in the audit trail.",
            [self.assign_button, self.status_button],
        )
        self._history_timer = QTimer(self)
        self._history_timer.setSingleShot(True)
        self._history_timer.setInterval(HISTORY_DELAY_MS)
        self._history_timer.timeout.connect(self._load_history)

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not yet set: the first use of one patient's page builds it.
        if name in ONE_PATIENT and "_one" in self.__dict__ and not self.__dict__.get("_built"):
            self._built = True
            self._one.addWidget(self._single())
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- what is shown ------------------------------------------------------------------------------------------
    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        self.staff = list(staff)
        self.form.set_staff(staff)

    def show_nothing(self) -> None:
        self.patient = None
        super().show_nothing()

    def show_many(self, count: int) -> None:
        self.patient = None
        self.show_several(f"{formats.count(count, 'patient')} selected")

    def show_patient(self, patient_id: str, frame_row: Mapping[str, Any], chips: Sequence[Chip]) -> None:
        """Show one patient; the same patient again keeps what is being typed."""
        same = self.patient is not None and self.patient["id"] == patient_id
        if same and self.form.is_dirty():
            return
        try:
            patient = caseload.get_patient(self.session.db, patient_id)
        except NotFound:
            self.show_nothing()
            return
        if not same:
            # Once per choice of a patient, before anything of the record shows: a reload that keeps the same
            # patient is not a new look, and a look the log cannot record is not shown.
            try:
                operations.view_patient(self.session, patient)
            except DeskError as exc:
                self.show_nothing()
                messages.show_status(
                    self, f"The record is not shown: opening it could not be noted in the audit log. {exc}"
                )
                return
        self.patient = patient
        today = clock.today()
        self.name.setText(f"{patient['given_name']} {patient['family_name']}".strip() or "(no name in the extract)")
        sex = {"F": "female", "M": "male"}.get(patient["sex"], "")
        born = formats.born(patient["date_of_birth"], today)
        lines = [
            f"NHS {formats.nhs_number(patient['nhs_number'])} · born {born}",
            " · ".join(b for b in (formats.sentence_case(sex), patient["postcode"]) if b),
        ]
        self.identity.setText("\n".join(line for line in lines if line))
        where = f"{frame_row['practice']} ({patient['practice_code']})"
        if patient["care_home_id"]:
            where += f" · lives in a care home (CQC {patient['care_home_id']})"
        self.practice.setText(where)
        self.chips.set_chips(chips)
        self.why.setText(_why(frame_row))
        self.why.setVisible(bool(self.why.text()))
        self.flag.show_flag(patient, self.name.text())
        names = {s["id"]: s["name"] for s in self.staff}
        self.form.set_patient(patient, names, today)
        self._update_buttons()
        self.interventions_tab.set_patient(patient["id"], self.name.text(), self.staff)
        if not same:
            self.history.set_history([], self.ltc_min)
            self.history.note.setText("Loading…")
        self._history_timer.start()
        self.show_one()

    @property
    def dialog(self):
        """The open Record intervention dialog, if any."""
        return self.interventions_tab.dialog

    def record_intervention(self) -> None:
        self.interventions_tab.record()

    def focus_form(self) -> None:
        if self.showing() == ONE:
            self.tabs.setCurrentIndex(0)
            self.form.focus_first()
        elif self.showing() == MANY:
            self.assign_button.setFocus()

    # -- saving ----------------------------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.patient is None:
            return True
        changes = self.form.changes()
        if not changes:
            return True
        self.form.clear_errors()
        try:
            # The page sees this panel as the change's origin and shows the saved values (revert) before it
            # reloads, so the reload finds nothing unsaved to keep or ask about.
            operations.update_patient(self.session, self.patient["id"], changes, origin=self)
        except ValidationError as exc:
            self.form.show_error(str(exc), exc.field)
            return False
        except DeskError as exc:
            self.form.show_error(f"{exc} Nothing was saved.", None)
            return False
        return True

    def revert(self) -> None:
        if self.patient is not None:
            names = {s["id"]: s["name"] for s in self.staff}
            self.patient = caseload.get_patient(self.session.db, self.patient["id"])
            self.form.set_patient(self.patient, names, clock.today())
            self._update_buttons()

    def can_leave(self) -> bool:
        """Before another patient is shown: ask about unsaved edits. False keeps this patient."""
        if self.patient is None or not self.form.is_dirty():
            return True
        name = f"{self.patient['given_name']} {self.patient['family_name']}"
        choice = messages.ask(
            self, "Unsaved changes", f"You changed {name}'s caseload record. Save the changes?", [SAVE, DISCARD, KEEP]
        )
        if choice == SAVE:
            return self.save()
        if choice == DISCARD:
            self.revert()
            return True
        return False

    # -- internals ---------------------------------------------------------------------------------------------------
    def _load_history(self) -> None:
        # Not once hidden: the window may be closing, and its workspace with it.
        if self.patient is not None and self.isVisible():
            self.history.set_history(cohort.history(self.session.db, self.patient["id"]), self.ltc_min, self.bands)

    def _update_buttons(self) -> None:
        dirty = self.form.is_dirty()
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)

    def _single(self) -> QWidget:
        # The patient's lines and the tabs scroll together once the panel is shorter than they need (a large font,
        # where the worklists and filters take much of the height), rather than being drawn over one another.
        page = ScrollBody()
        page.setObjectName("patientPage")
        self.scroll = QScrollArea()
        self.scroll.setObjectName("patientScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes from the table to the form, as before
        self.scroll.setWidget(page)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.name = heading_label()
        layout.addWidget(self.name)
        self.identity = QLabel()
        self.identity.setObjectName("patientIdentity")
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity.setWordWrap(True)
        layout.addWidget(self.identity)
        self.practice = QLabel()
        self.practice.setObjectName("patientIdentity")
        self.practice.setWordWrap(True)
        layout.addWidget(self.practice)
        layout.addSpacing(4)
        self.chips = ChipStrip()
        layout.addWidget(self.chips)
        self.why = help_label("")
        layout.addWidget(self.why)
        layout.addSpacing(4)
        self.flag = MdtFlag(self.session)
        layout.addWidget(self.flag)
        layout.addSpacing(4)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("patientTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._caseload_tab(), "Caseload")
        self.history = HistoryView()
        self.tabs.addTab(self.history, "Risk history")
        self.interventions_tab = InterventionsTab(self.session)
        self.interventions_tab.counted.connect(lambda n: self.tabs.setTabText(2, f"Interventions ({n})"))
        self.interventions_tab.recorded.connect(lambda: self.tabs.setCurrentWidget(self.interventions_tab))
        self.interventions, self.record_button = self.interventions_tab.table, self.interventions_tab.record_button
        self.tabs.addTab(self.interventions_tab, "Interventions")
        # Room for a few of the caseload form's rows and its buttons before the panel scrolls.
        self.tabs.setMinimumHeight(self.tabs.fontMetrics().lineSpacing() * 12)
        layout.addWidget(self.tabs, 1)
        return self.scroll

    def _caseload_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 4, 0)
        self.form = CaseloadForm()
        self.form.edited.connect(self._update_buttons)
        scroll = QScrollArea()
        scroll.setObjectName("formScroll")
        self.form.setObjectName("caseloadForm")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the form narrows instead
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.form)
        layout.addWidget(scroll, 1)
        row = button_bar()
        self.revert_button = QPushButton("Undo edits")
        self.revert_button.setToolTip("Put back the saved values")
        self.revert_button.clicked.connect(self.revert)
        self.save_button = QPushButton("Save changes")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Save the caseload record (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        row.addStretch(1)
        row.addWidget(self.revert_button)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        shortcut = QShortcut(QKeySequence.StandardKey.Save, tab)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.save)
        return tab


def _why(row: Mapping[str, Any]) -> str:
    if not row["in_cohort"]:
        return f"Left the cohort: {row['left_reason']}." if row["left_reason"] else "No longer in the cohort."
    if row["change_detail"]:
        return f"Since the last extract: {row['change_detail']}."
    return ""
