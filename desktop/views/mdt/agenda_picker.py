"""Choosing the patients to discuss: the Monday worklists that matter to an MDT (new this run, review
overdue), those a colleague flagged for MDT, and a search over the whole cohort. Ticks are kept per source,
so the agenda says why each patient is on it; a flagged patient's reasons (who, when) show in every list and go
with them onto the agenda whichever list they are ticked in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models.cohort import frame as cohort
from ...models.cohort.frame import CohortFilter, CohortFrame
from ...models.errors import DeskError
from ..cohort.mdt_flag import flag_line
from ..kit import formats
from ..kit.checklist_model import ChecklistModel
from ..kit.key_filter import on_key
from ..kit.tables import list_table
from ..kit.widgets import FilterEdit, button_bar

HEADINGS = ("Patient", "NHS number", "Born", "Practice", "Caseload", "Note")
SEARCH_LIMIT = 200
EXPLAIN = {
    "new this run": "Entered the cohort in the latest risk extract: worth a first discussion.",
    "review overdue": "On the caseload and past their next review date.",
    "flagged": "A colleague asked for these patients to be discussed at the next MDT; their reasons go onto "
    "the agenda with them.",
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class PickModel(ChecklistModel):
    """Patients with a tick each; those already on the agenda are shown but cannot be ticked."""

    ticked_changed = Signal()

    def __init__(self, on_agenda: set[str], parent=None):
        super().__init__(HEADINGS, parent)
        self.on_agenda = on_agenda
        self.ticked: dict[str, None] = {}  # insertion-ordered set of patient ids

    def patient_id(self, row: int) -> str:
        return _text(self.row_id(row))

    def tick(self, row: int, on: bool | None = None) -> None:
        pid = self.patient_id(row)
        if pid in self.on_agenda:
            return
        on = pid not in self.ticked if on is None else on
        if on:
            self.ticked[pid] = None
        else:
            self.ticked.pop(pid, None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, 0))
        self.ticked_changed.emit()

    def tick_all(self, on: bool) -> None:
        for row in range(self.rowCount()):
            self.tick(row, on)

    def is_ticked(self, row: int) -> bool:
        pid = self.patient_id(row)
        return pid in self.ticked or pid in self.on_agenda

    def set_ticked(self, row: int, on: bool) -> None:
        self.tick(row, on)

    def can_tick(self, row: int) -> bool:
        return self.patient_id(row) not in self.on_agenda

    def display(self, row: int, column: int) -> str:
        r = self.record(row)
        if column == 0:
            return f"{_text(r['family_name']).upper()}, {_text(r['given_name'])}"
        if column == 1:
            return formats.nhs_number(r["nhs_number"])
        if column == 2:
            return formats.date(_text(r["date_of_birth"]))
        if column == 3:
            return _text(r.get("practice"))
        if column == 4:
            return formats.sentence_case(_text(r.get("status")))
        if self.patient_id(row) in self.on_agenda:
            return "Already on the agenda"
        if r.get("flags"):
            return "Flagged: " + "; ".join(f["reason"] or "no reason given" for f in r["flags"])
        due = r.get("next_review_due")
        return f"Review due {formats.date(_text(due))}" if due else ""

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # The note column is narrow: each flag's reason, who and when, whole, one a line.
        if role == Qt.ItemDataRole.ToolTipRole and index.isValid() and index.column() == len(HEADINGS) - 1:
            flags = self.record(index.row()).get("flags")
            return "\n".join(flag_line(f) for f in flags) if flags else None
        return super().data(index, role)


class AgendaPicker(QDialog):
    def __init__(
        self,
        heading: str,
        suggestions: Mapping[str, Sequence[Mapping[str, Any]]],
        frame: CohortFrame,
        on_agenda: set[str],
        save: Callable[[dict[str, list[str]]], int],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.setWindowTitle("Add patients to the agenda")
        self.setMinimumSize(1000, 620)
        self.frame, self._save = frame, save
        self.added = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        title = QLabel(heading)
        title.setObjectName("dialogHeading")
        layout.addWidget(title)
        sub = QLabel(
            "Tick the patients to discuss. Each keeps the reason it was added, and a patient flagged for MDT "
            "takes the flags' reasons onto the agenda. Space or Enter ticks the chosen row."
        )
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.models: dict[str, PickModel] = {}
        for source, rows in suggestions.items():
            self.tabs.addTab(self._list_tab(source, rows, on_agenda), f"{formats.sentence_case(source)}  {len(rows)}")
        self.tabs.addTab(self._search_tab(on_agenda), "Find a patient")
        layout.addWidget(self.tabs, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setProperty("primary", True)
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        self.add_button.setDefault(True)
        self._update_count()

    def picks(self) -> dict[str, list[str]]:
        return {source: list(model.ticked) for source, model in self.models.items() if model.ticked}

    def try_save(self) -> None:
        try:
            self.added = self._save(self.picks())
        except DeskError as exc:
            self.banner.setText(f"⚠ {exc}")
            self.banner.show()
            return
        self.accept()

    def search(self, text: str) -> None:
        model = self.models["added"]
        if len(text.strip()) < 2 or not len(self.frame):
            model.set_rows([])
            self.found.setText("Type at least two letters or digits of a name, NHS number or practice.")
            return
        rows = cohort.apply(self.frame, CohortFilter(text=text))
        model.set_rows([self.frame.row(i) for i in rows[:SEARCH_LIMIT]])
        more = f"; the first {SEARCH_LIMIT} are shown, type more to narrow it" if len(rows) > SEARCH_LIMIT else ""
        self.found.setText(f"{formats.count(len(rows), 'patient')} found{more}.")

    def _table(self, model: PickModel, name: str) -> QTableView:
        table = list_table(model, name, (235, 115, 95, 205, 105), alternating=False)
        table.setAccessibleName(
            "Patients found" if name == "pick_search" else "Patients " + name.removeprefix("pick_").replace("_", " ")
        )
        table.activated.connect(lambda index: model.tick(index.row()))
        on_key(
            table, Qt.Key.Key_Space, lambda: table.currentIndex().isValid() and model.tick(table.currentIndex().row())
        )
        model.ticked_changed.connect(self._update_count)
        return table

    def _list_tab(self, source: str, rows: Sequence[Mapping[str, Any]], on_agenda: set[str]) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 10, 0, 0)
        model = PickModel(on_agenda, self)
        model.set_rows(rows)
        self.models[source] = model
        top = button_bar()
        note = QLabel(EXPLAIN.get(source, ""))
        note.setObjectName("fieldHelp")
        top.addWidget(note, 1)
        for label, on in (("Tick all", True), ("Tick none", False)):
            button = QPushButton(label)
            button.setEnabled(bool(rows))
            button.clicked.connect(lambda _=False, m=model, v=on: m.tick_all(v))
            top.addWidget(button)
        box.addLayout(top)
        if rows:
            box.addWidget(self._table(model, f"pick_{source.replace(' ', '_')}"), 1)
        else:
            empty = QLabel(
                "Nobody is flagged for MDT at the moment."
                if source == "flagged"
                else "Nobody on this list at the moment."
            )
            empty.setObjectName("emptyState")
            empty.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            box.addWidget(empty, 1)
        return page

    def _search_tab(self, on_agenda: set[str]) -> QWidget:
        page = QWidget()
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 10, 0, 0)
        model = PickModel(on_agenda, self)
        self.models["added"] = model
        self.find = FilterEdit("Any cohort patient: name, NHS number or practice…")
        self.find.setAccessibleName("Find a cohort patient")
        self.find.textChanged.connect(self.search)
        self.found = QLabel()
        self.found.setObjectName("fieldHelp")
        row = QHBoxLayout()
        row.addWidget(self.find, 1)
        row.addWidget(self.found, 1)
        box.addLayout(row)
        self.results = self._table(model, "pick_search")
        box.addWidget(self.results, 1)
        self.search("")
        return page

    def _update_count(self) -> None:
        n = len({pid for m in self.models.values() for pid in m.ticked})
        self.add_button.setText(f"Add {formats.count(n, 'patient')} to the agenda" if n else "Add to the agenda")
        self.add_button.setEnabled(n > 0)
