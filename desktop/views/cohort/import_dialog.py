"""Importing a risk extract: map the file's columns, check every row, then import it as a new run.

Nothing is written until Import; Check reads and validates the whole file on a worker thread first.
A file refused for its form says why and leaves the workspace as it was (DESIGN §6.2). A CSV or an Excel
workbook is read as a practice system or risk tool saved it: the lines above the heading row (a report's
title) are shown apart from the rows, and a workbook of several sheets gets a chooser (issue 21).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...models import clock
from ...models.cohort import extract_preview, risk_import
from ...models.cohort import frame as cohort
from ...models.cohort.extract_reader import check_structure, suggest_mapping
from ...models.cohort.extract_rules import CheckedExtract, Rejection
from ...models.cohort.plausibility import ImplausibleExtract, Plausibility
from ...models.errors import DeskError, ValidationError
from ...settings import Settings
from ..kit import formats, messages
from ..kit.field_help import explain
from ..kit.flow_layout import FlowLayout
from ..kit.session import Session
from ..kit.style import colours
from ..kit.widgets import button_bar
from . import operations
from .import_mapping import MappingTable, PreviewModel, required_status
from .import_summary import CheckResults, ImportSummary, save_rejections, saved_note

EXTRACT_FILTER = (
    "Risk extracts (*.csv *.txt *.xlsx *.xlsm *.xls);;CSV files (*.csv *.txt);;Excel workbooks (*.xlsx *.xlsm *.xls)"
    ";;All files (*)"
)


def choose_extract(parent: QWidget, settings: Settings) -> Path | None:
    """Ask for a CSV file or an Excel workbook, starting in the folder the last extract came from."""
    name, _ = QFileDialog.getOpenFileName(
        parent, "Import risk extract", settings.state("extract_directory"), EXTRACT_FILTER
    )
    if not name:
        return None
    settings.set_state("extract_directory", str(Path(name).parent))
    return Path(name)


class ImportDialog(QDialog):
    imported = Signal(object)  # the ImportResult

    def __init__(
        self,
        session: Session,
        locality: Mapping[str, Any],
        settings: Settings,
        path: Path,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.session, self.locality, self.settings = session, locality, settings
        self.path: Path | None = None
        self.sheet: str | None = None  # a workbook's sheet shown and to be imported
        self.layout_known = True
        self.headings: list[str] = []
        self.checked: CheckedExtract | None = None
        self.result: risk_import.ImportResult | None = None
        self.latest = cohort.latest_run(session.db, locality["id"])
        self.setWindowTitle(f"Import risk extract — {locality['name']}")
        self.setObjectName("importDialog")
        self.resize(1080, 760)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._setup_page())
        self.summary = ImportSummary(session, locality)
        self.stack.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.notes_label)
        layout.addLayout(self._buttons())
        self.load_file(path)

    # -- the file ---------------------------------------------------------------------------------------------
    def load_file(self, path: Path, sheet: str | None = None) -> None:
        """Preview *path* (for a workbook, *sheet*, or the first sheet holding an extract)."""
        path = Path(path)
        if path != self.path:
            self._set_sheets(extract_preview.sheet_names(path), None)
        self.path, self.sheet, self.checked = path, sheet, None
        self._show_results(None)
        remembered = risk_import.remembered_mapping(self.session.db)
        try:
            shown = extract_preview.preview(path, sheet=sheet, remembered=remembered)
            if not shown.headings or not any(shown.headings):
                raise ValidationError(f"{path.name} has no heading row: the first line must name the columns.")
        except ValidationError as exc:
            self.headings = []
            self.file_label.setText(f"<b>{path.name}</b>")
            self.preview_model.set_preview([], [])
            self._show_title_lines([], 1, [])
            self.mapping.set_columns([], [], {})
            self._refuse(
                f"{exc}\n\nNothing has been imported. Choose another file, or fix this one and choose it again."
            )
            return
        self.headings, self.sheet, self.layout_known = shown.headings, shown.sheet, shown.layout_known
        self._set_sheets(shown.sheets, shown.sheet)
        aside = colours().secondary
        if shown.sheet is not None:
            form = f"Excel workbook, sheet '{shown.sheet}'"
        else:
            sep = {",": "comma", ";": "semicolon"}.get(shown.delimiter, shown.delimiter)
            form = f"{'UTF-8' if shown.encoding == 'utf-8' else 'Windows-1252'}, {sep}-separated"
        self.file_label.setText(
            f"<b>{path.name}</b>  <span style='color:{aside}'>· {_size(shown.file_size)} · {form}</span>"
        )
        self.file_label.setToolTip(str(path))
        self._show_title_lines(shown.title_lines, shown.heading_row, shown.summary_lines)
        self.preview_model.set_preview(shown.headings, shown.rows, shown.row_numbers)
        self.preview.resizeColumnsToContents()
        self.mapping.set_columns(
            shown.headings, shown.rows[0] if shown.rows else [], suggest_mapping(shown.headings, remembered)
        )

    def _set_sheets(self, names: list[str], current: str | None) -> None:
        self.sheet_box.blockSignals(True)
        if [self.sheet_box.itemText(i) for i in range(self.sheet_box.count())] != names:
            self.sheet_box.clear()
            self.sheet_box.addItems(names)
        if current is not None:
            self.sheet_box.setCurrentText(current)
        self.sheet_box.blockSignals(False)
        self.sheet_row.setVisible(len(names) > 1)

    def _sheet_chosen(self, name: str) -> None:
        if name and self.path is not None:
            self.load_file(self.path, name)

    def _show_title_lines(self, lines: list[str], heading_row: int, summary: list[tuple[int, str]]) -> None:
        """The report's title lines above the heading row, and its summary below the patients: shown, and said
        not to be patients."""
        parts = []
        if lines:
            rows = "Row 1 is" if heading_row == 2 else f"Rows 1–{heading_row - 1} are"
            parts.append(
                f"{rows} the report's title, above the column headings (row {heading_row}), and not imported: "
                + "  ·  ".join(lines[:6])
                + ("  ·  …" if len(lines) > 6 else "")
            )
        if summary:
            listed = "  ·  ".join(f"row {row}: {text}" for row, text in summary[:3])
            parts.append(f"Below the patients, the report's summary is left out: {listed}")
        self.title_lines.setVisible(bool(parts))
        self.title_lines.setText("\n".join(parts))

    def choose_file(self) -> None:
        path = choose_extract(self, self.settings)
        if path is not None:
            self.load_file(path)

    def extract_date(self) -> dt.date:
        return self.date_edit.date().toPython()

    # -- check and import ------------------------------------------------------------------------------------------
    def structure_problem(self) -> str | None:
        if not self.headings:
            return "Choose a CSV file or an Excel workbook to import."
        try:
            check_structure(self.headings, self.mapping.mapping(), self.path.name, self.layout_known)
        except ValidationError as exc:
            return str(exc)
        return None

    def check(self) -> None:
        if self.structure_problem():
            return
        self._working()
        operations.check_extract(
            self,
            self.session,
            self.locality["code"],
            self.path,
            self.extract_date(),
            self.mapping.mapping(),
            done=self._checked,
            failed=self._check_failed,
            cancelled=self._ready,  # nothing was read into the dialog; it stays as it was
            sheet=self.sheet,
        )

    def _checked(self, checked: CheckedExtract) -> None:
        self.checked = checked
        self._ready()
        self._show_results(checked)
        self._show_notes(checked.notes)

    def _check_failed(self, exc: BaseException) -> None:
        if isinstance(exc, DeskError):
            self._refuse(f"{exc}\n\nNothing has been imported.")
        else:
            self._ready()
            messages.show_error(self, "Not checked", exc)

    def do_import(self, accept: bool = False) -> None:
        if self.structure_problem():
            return
        self._working()
        operations.import_extract(
            self,
            self.session,
            self.locality["code"],
            self.path,
            self.extract_date(),
            self.mapping.mapping(),
            done=self._imported,
            failed=self._import_failed,
            cancelled=lambda: self._refuse(
                "The import was cancelled. Nothing was changed: what had been done so far was rolled "
                "back, and the cohort is as it was."
            ),
            sheet=self.sheet,
            accept=accept,
        )

    def _import_failed(self, exc: BaseException) -> None:
        if isinstance(exc, ImplausibleExtract):
            self._ask_implausible(exc.plausibility)
        elif isinstance(exc, DeskError):
            self._refuse(f"{exc}\n\nNothing was imported; the cohort is as it was.")
        else:
            self._ready()
            messages.show_error(self, "Not imported", exc)

    def _ask_implausible(self, found: Plausibility) -> None:
        """The file does not look like the locality's whole extract: say what was found and let the user choose."""
        listed = "\n\n".join(f"• {f.text}" for f in found.blocking)
        how = (
            "Imported anyway, only the practices it covers change; the others' patients stay as they were."
            if found.partial
            else "Imported anyway, it replaces the locality's cohort as a whole extract does."
        )
        self._refuse(f"Not imported: {self.path.name} does not look like {self.locality['name']}'s whole extract.")
        if messages.confirm(
            self,
            "Is this the right file?",
            f"{self.path.name} does not look like {self.locality['name']}'s whole extract:\n\n{listed}\n\n{how} "
            "Edit → Undo rolls an import back.",
            "Import anyway" if not found.partial else "Import these practices only",
        ):
            self.banner.hide()
            self.do_import(accept=True)

    def _imported(self, result: risk_import.ImportResult) -> None:
        self.result = result
        self.summary.show_result(result, self.path.name, self.path, self.settings)
        self._show_notes(result.notes + [f"accepted: {f.text}" if f.blocking else f.text for f in result.findings])
        self.stack.setCurrentWidget(self.summary)
        self.check_button.hide()
        self.import_button.hide()
        self.close_button.setText("Close")
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        self.imported.emit(result)

    def save_rejections(self) -> None:
        rejections: list[Rejection] = self.checked.rejections if self.checked else []
        path = save_rejections(self, rejections, self.path, self.settings, self.session, self.locality)
        if path is not None:
            self.save_rejections_button.setToolTip(saved_note(len(rejections), path))
            self.results_label.setText(self.results_label.text() + f" {saved_note(len(rejections), path)}")

    # -- showing state --------------------------------------------------------------------------------------------
    def _mapping_changed(self) -> None:
        self.checked = None
        self._show_results(None)
        status = required_status(self.mapping.mapping()) if self.headings else []
        self.required_label.setText(
            "Required:  " + "   ".join(_tick(ok, label) for label, ok in status) if status else ""
        )
        problem = self.structure_problem() if self.headings else None
        self.banner.setVisible(bool(problem))
        self.banner.setText(problem or "")
        self.check_button.setEnabled(problem is None)
        self.import_button.setEnabled(problem is None)
        self._date_changed()

    def _refuse(self, message: str) -> None:
        self.banner.setText(message)
        self.banner.show()
        self._ready()

    def _working(self) -> None:
        # Until the progress dialog shows (and blocks the rest), a second press must not start a second job.
        self.check_button.setEnabled(False)
        self.import_button.setEnabled(False)

    def _ready(self) -> None:
        ready = bool(self.headings) and self.structure_problem() is None
        self.check_button.setEnabled(ready)
        self.import_button.setEnabled(ready)

    def _show_notes(self, notes: list[str]) -> None:
        """What the check or import read other than patients: the sheet, a title, a summary left out."""
        self.notes_label.setVisible(bool(notes))
        self.notes_label.setText("\n".join(f"Note: {note}" for note in notes))

    def _show_results(self, checked: CheckedExtract | None) -> None:
        if checked is None:
            self._show_notes([])
        listed = self.results.show_checked(checked)
        # The rejected rows get room only when there are some; otherwise the columns keep it.
        self.page_layout.setStretchFactor(self.results, 2 if listed else 0)
        if checked is not None:
            self.import_button.setFocus()

    def _date_changed(self) -> None:
        older = self.latest is not None and self.extract_date().isoformat() < self.latest["extract_date"]
        self.date_note.setVisible(older)
        if older:
            self.date_note.setText(
                f"⚠  An extract dated {formats.date(self.latest['extract_date'])} is already imported for "
                f"{self.locality['name']}. This one is older: check the date before importing, because the "
                "cohort screen always shows the newest extract."
            )

    # -- building -----------------------------------------------------------------------------------------------------
    def _setup_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.page_layout = layout
        heading = QLabel(f"Import a risk extract for {self.locality['name']}")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        sub = QLabel(
            "Match the file's columns to what Locality Desk needs, check every row, then import. Nothing "
            "is written until you press Import."
        )
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)

        file_row = QHBoxLayout()
        file_row.addWidget(QLabel("File:"))
        self.file_label = QLabel()
        self.file_label.setTextFormat(Qt.TextFormat.RichText)
        file_row.addWidget(self.file_label, 1)
        another = QPushButton("Choose another file…")
        another.clicked.connect(self.choose_file)
        file_row.addWidget(another)
        layout.addLayout(file_row)

        self.sheet_row = QWidget()
        sheet_layout = QHBoxLayout(self.sheet_row)
        sheet_layout.setContentsMargins(0, 0, 0, 0)
        sheet_label = QLabel("Sheet:")
        self.sheet_box = QComboBox()
        self.sheet_box.setObjectName("sheetChooser")
        self.sheet_box.setAccessibleName("The workbook's sheet that holds the patients")
        self.sheet_box.setMinimumWidth(220)
        self.sheet_box.currentTextChanged.connect(self._sheet_chosen)
        sheet_label.setBuddy(self.sheet_box)
        sheet_layout.addWidget(sheet_label)
        sheet_layout.addWidget(self.sheet_box)
        sheet_layout.addWidget(QLabel("The workbook has several sheets: choose the one that holds the patients."), 1)
        self.sheet_row.hide()
        layout.addWidget(self.sheet_row)

        date_row = QHBoxLayout()
        date_label = QLabel("Extract date:")
        self.date_edit = QDateEdit(QDate(clock.today()))
        self.date_edit.setObjectName("extractDate")
        self.date_edit.setAccessibleName("Extract date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        self.date_edit.setMaximumDate(QDate(clock.today()))
        self.date_edit.setMinimumWidth(130)
        self.date_edit.dateChanged.connect(self._date_changed)
        date_label.setBuddy(self.date_edit)
        date_row.addWidget(date_label)
        date_row.addWidget(self.date_edit)
        date_row.addWidget(
            explain(
                self.date_edit,
                risk_import.EXTRACT_DATE_HELP,
                "the day the risk tool produced the file; ages and the run are dated by it",
            )
        )
        date_row.addStretch(1)
        layout.addLayout(date_row)
        self.date_note = QLabel()
        self.date_note.setObjectName("inlineNotice")
        self.date_note.setWordWrap(True)
        self.date_note.hide()
        layout.addWidget(self.date_note)

        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        layout.addWidget(self.banner)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        self.mapping = MappingTable()
        self.mapping.changed.connect(self._mapping_changed)
        split.addWidget(_titled("Columns", self.mapping))
        self.preview_model = PreviewModel(self)
        self.title_lines = QLabel()
        self.title_lines.setObjectName("titleLines")
        self.title_lines.setWordWrap(True)
        self.title_lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title_lines.hide()
        self.preview = QTableView()
        self.preview.setObjectName("preview")
        self.preview.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
        self.preview.setAccessibleName("The first rows of the file")
        self.preview.setModel(self.preview_model)
        self.preview.setWordWrap(False)
        self.preview.verticalHeader().setDefaultSectionSize(26)
        split.addWidget(_titled(f"The first {extract_preview.PREVIEW_ROWS} rows", self.title_lines, self.preview))
        split.setSizes([620, 420])
        layout.addWidget(split, 3)
        self.required_label = QLabel()
        self.required_label.setTextFormat(Qt.TextFormat.RichText)
        self.required_label.setWordWrap(True)
        layout.addWidget(self.required_label)
        self.notes_label = QLabel()
        self.notes_label.setObjectName("importNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes_label.hide()  # placed under the pages by __init__: an import's findings show on its summary too

        self.results = CheckResults()
        self.results_label, self.save_rejections_button = self.results.label, self.results.save_button
        self.rejections_model, self.rejections = self.results.model, self.results.view
        self.save_rejections_button.clicked.connect(self.save_rejections)
        layout.addWidget(self.results, 2)
        return page

    def _buttons(self) -> FlowLayout:
        row = button_bar()
        self.close_button = QPushButton("Cancel")
        self.close_button.clicked.connect(self.reject)
        row.addWidget(self.close_button)
        row.addStretch(1)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("Read and check every row without importing anything")
        self.check_button.clicked.connect(self.check)
        self.import_button = QPushButton("Import")
        self.import_button.setProperty("primary", True)
        self.import_button.setToolTip("Import the valid rows as a new run of the cohort")
        self.import_button.clicked.connect(self.do_import)
        row.addWidget(self.check_button)
        row.addWidget(self.import_button)
        return row


def _titled(title: str, *widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    layout.setSpacing(4)
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    layout.addWidget(label)
    for widget in widgets[:-1]:
        layout.addWidget(widget)
    layout.addWidget(widgets[-1], 1)
    return box


def _size(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{max(1, round(size / 1024))} KB"


def _tick(ok: bool, label: str) -> str:
    """A required column's name after a green tick when it is mapped, a red cross when it is not."""
    colour = colours().success if ok else colours().error
    return f"<span style='color:{colour}'>{'✓' if ok else '✗'}</span> {label}"
