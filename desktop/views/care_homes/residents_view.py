"""A care home's detail: its register facts and EHCH gaps, its residents with their PCSP due date and status
(late or overdue in red, with a marker), the resident form, and its recent visits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models import clock
from ...models.care_homes import residents
from ..kit import formats
from ..kit.date_field import DateField
from ..kit.form_dialog import FormDialog, text_box
from ..kit.style import colours
from ..kit.table_model import Column, Index, RecordsModel
from ..kit.widgets import button_bar
from ..reference.records_view import RecordsView

LATE = ("late", "overdue")

RESIDENT_COLUMNS = [
    Column("name", "Resident"),
    Column("nhs", "NHS number"),
    Column("admitted", "Admitted"),
    Column("pcsp_due", "PCSP due"),
    Column("pcsp_on", "PCSP agreed"),
    Column("status", "PCSP"),
    Column("eol", "End of life"),
    Column("eol_plan", "Care plan"),
]
VISIT_COLUMNS = [
    Column("date", "Date"),
    Column("type", "Type"),
    Column("clinician", "Clinician"),
    Column("reviewed", "Residents"),
    Column("transferred", "To hospital"),
    Column("actions", "Actions"),
]


def resident_row(r: Mapping[str, Any]) -> dict[str, Any]:
    status = r["pcsp_status"]
    admitted = formats.date(r["admitted_on"])
    if r.get("readmitted_on"):
        admitted += f" (again {formats.date(r['readmitted_on'])})"
    return {
        "id": r["id"],
        "name": f"{str(r['family_name']).upper()}, {r['given_name']}",
        "nhs": formats.nhs_number(r["nhs_number"]),
        "admitted": admitted,
        "pcsp_due": formats.date(r["pcsp_due"]),
        "pcsp_on": formats.date(r.get("pcsp_on")),
        "status": f"⚠ {status}" if status in LATE else status,
        "late": status in LATE,
        "eol": "Yes" if r.get("end_of_life") else "",
        "eol_plan": formats.date(r.get("eol_plan_on")),
    }


def visit_row(v: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": v["id"],
        "date": formats.date(v["visited_on"]),
        "type": formats.sentence_case(v["type"]),
        "clinician": v.get("clinician_name") or "",
        "reviewed": v["reviewed"],
        "transferred": v["transferred"],
        "actions": v["actions"],
    }


class ResidentsModel(RecordsModel):
    """A late or overdue PCSP reads in red, after its ⚠ marker."""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and self.key(index.column()) == "status"
            and self.record(index.row())["late"]
        ):
            return QColor(colours().error)
        return super().data(index, role)


class HomeDetail(QWidget):
    """Filled by the page with domain rows; its buttons are wired by the page."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        top = button_bar()
        self.home_box = QComboBox()
        self.home_box.setObjectName("homeChoice")
        self.home_box.setAccessibleName("Care home")
        self.home_box.setMinimumWidth(280)
        top.addWidget(QLabel("Ho&me"))
        top.itemAt(0).widget().setBuddy(self.home_box)
        top.addWidget(self.home_box)
        top.addStretch(1)
        self.admit_button = QPushButton("Admit resident…")
        self.edit_button = QPushButton("Edit resident…")
        self.export_button = QPushButton("Export visit report…")
        self.export_button.setProperty("primary", True)
        self.export_button.setToolTip("Save the home's visit report for the quarter as a PDF (OFFICIAL-SENSITIVE)")
        for button in (self.admit_button, self.edit_button, self.export_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.facts = QLabel()
        self.facts.setObjectName("pageSubtitle")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.facts)
        self.residents_heading = QLabel("Residents")
        self.residents_heading.setObjectName("sectionTitle")
        layout.addWidget(self.residents_heading)
        self.residents_model = ResidentsModel(RESIDENT_COLUMNS, self)
        self.residents = RecordsView()
        self.residents.setObjectName("residentsTable")
        self.residents.setModel(self.residents_model)
        self.residents.setSortingEnabled(False)
        self.residents.stretch_column = 0
        layout.addWidget(self.residents, 3)
        heading = QLabel("Recent visits")
        heading.setObjectName("sectionTitle")
        visits_bar = QHBoxLayout()
        visits_bar.addWidget(heading)
        visits_bar.addStretch(1)
        self.edit_visit_button = QPushButton("Edit &visit…")
        self.edit_visit_button.setToolTip("Correct the chosen visit (Enter or double-click on it does the same)")
        visits_bar.addWidget(self.edit_visit_button)
        layout.addLayout(visits_bar)
        self.visits_model = RecordsModel(VISIT_COLUMNS, self)
        self.visits = RecordsView()
        self.visits.setObjectName("visitsTable")
        self.visits.setModel(self.visits_model)
        self.visits.setSortingEnabled(False)
        self.visits.stretch_column = 1
        layout.addWidget(self.visits, 2)

    def current_home_id(self) -> str | None:
        return self.home_box.currentData()

    def show_home(
        self,
        home: Mapping[str, Any],
        gaps: list[str],
        residents_rows: list[dict[str, Any]],
        visit_rows: list[dict[str, Any]],
    ) -> None:
        facts = [
            f"CQC {home['cqc_id']}",
            home.get("home_type") or "",
            f"{home.get('beds') or '?'} beds",
            f"aligned to {home.get('aligned_practice') or '—'}",
            f"clinical lead {home.get('clinical_lead') or '—'}",
            home.get("postcode") or "",
        ]
        text = " · ".join(f for f in facts if f)
        if gaps:
            text += f"<br><span style='color:{colours().error}'>⚠ {'; '.join(gaps)}</span>"
        self.facts.setText(text)
        late = sum(1 for r in residents_rows if r["late"])
        self.residents_heading.setText(
            f"Residents ({len(residents_rows)}" + (f", {late} PCSP late or overdue)" if late else ")")
        )
        self.residents_model.set_rows(residents_rows)
        self.residents.fit_columns()
        self.visits_model.set_rows(visit_rows)
        self.visits.fit_columns()

    def current_visit_id(self) -> str | None:
        index = self.visits.currentIndex()
        return self.visits_model.row_id(index.row()) if index.isValid() else None

    def current_resident_id(self) -> str | None:
        index = self.residents.currentIndex()
        return self.residents_model.row_id(index.row()) if index.isValid() else None


class ResidentDialog(FormDialog):
    """Admit a resident, or change one's dates, end-of-life status and plan."""

    rules = residents.HELP

    def __init__(
        self,
        save: Callable[[dict[str, Any]], Any],
        home_name: str,
        resident: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ):
        title = "Edit resident" if resident else "Admit resident"
        super().__init__(
            title,
            f"{title} — {home_name}",
            f"The PCSP is due {residents.PCSP_WORKING_DAYS} working days after the admission or "
            "re-admission (weekends and bank holidays skipped).",
            "Save" if resident else "Admit",
            save,
            parent,
            width=560,
        )
        self.setObjectName("residentDialog")
        r = dict(resident or {})
        self.lines: dict[str, QLineEdit] = {}
        for name, label in (("nhs_number", "NHS number"), ("given_name", "Given name"), ("family_name", "Family name")):
            line = QLineEdit(str(r.get(name) or ""))
            line.setObjectName(f"field_{name}")
            line.setAccessibleName(label)
            self.lines[name] = line
            self.add_field(name, label, line)
        self.dates: dict[str, DateField] = {}
        self.dates["date_of_birth"] = DateField("date_of_birth", r.get("date_of_birth"))
        self.add_field("date_of_birth", "Date of birth", self.dates["date_of_birth"])
        admitted = r.get("admitted_on") or (None if resident else clock.today())
        for key in residents.DATES:
            self.dates[key] = DateField(key, admitted if key == "admitted_on" else r.get(key))
            self.add_field(key, residents.LABELS[key].removeprefix("The ").capitalize(), self.dates[key])
        self.end_of_life = QCheckBox("At the end of life")
        self.end_of_life.setObjectName("field_end_of_life")
        self.end_of_life.setChecked(bool(r.get("end_of_life")))
        self.add_field("end_of_life", "End of life", self.end_of_life)
        self.notes = text_box("notes", 48)
        self.notes.setPlainText(str(r.get("notes") or ""))
        self.add_field("notes", "Notes", self.notes)
        self.lines["nhs_number"].setFocus()

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {k: line.text() for k, line in self.lines.items()}
        values.update({k: field.value() for k, field in self.dates.items()})
        values["end_of_life"] = self.end_of_life.isChecked()
        values["notes"] = self.notes.toPlainText()
        return values
