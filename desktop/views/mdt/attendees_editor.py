"""Who is at a meeting: the locality's staff added with one choice, visitors typed with their role and
organisation, each marked present or sending apologies. The list is only a draft until the form saves it
through meetings.create or meetings.update, which decide what is valid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models.reference import ORGANISATIONS
from ..kit import formats
from ..kit.checklist_model import ChecklistModel
from ..kit.key_filter import on_key
from ..kit.style import fits
from ..kit.tables import list_table
from ..kit.widgets import button_bar

HEADINGS = ("Present", "Name", "Role", "Organisation")


class AttendeesModel(ChecklistModel):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(HEADINGS, parent)

    @property
    def people(self) -> list[dict[str, Any]]:
        return self.records()

    def set_people(self, people: Sequence[Mapping[str, Any]]) -> None:
        self.set_rows(
            [
                {
                    "name": p["name"],
                    "role": p.get("role") or "",
                    "organisation": p.get("organisation"),
                    "staff_id": p.get("staff_id"),
                    "present": bool(p.get("present", True)),
                }
                for p in people
            ]
        )

    def add(self, person: Mapping[str, Any]) -> bool:
        """Add someone not yet listed (staff by id, visitors by name); False when already there."""
        for p in self._rows:
            if (person.get("staff_id") and p["staff_id"] == person["staff_id"]) or (
                not person.get("staff_id") and p["name"].casefold() == person["name"].casefold()
            ):
                return False
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append({"present": True, "role": "", **person})
        self.endInsertRows()
        self.changed.emit()
        return True

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()
        self.changed.emit()

    def toggle(self, row: int) -> None:
        self._rows[row]["present"] = not self._rows[row]["present"]
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADINGS) - 1))
        self.changed.emit()

    def is_ticked(self, row: int) -> bool:
        return self.record(row)["present"]

    def set_ticked(self, row: int, on: bool) -> None:
        if on != self.record(row)["present"]:
            self.toggle(row)

    def is_greyed(self, row: int) -> bool:
        return not self.record(row)["present"]

    def display(self, row: int, column: int) -> str:
        p = self.record(row)
        return (
            "Present" if p["present"] else "Apologies",
            p["name"],
            formats.sentence_case(p["role"]),
            formats.sentence_case(p["organisation"]),
        )[column]


class AttendeesEditor(QWidget):
    """The table of attendees with the controls to add, mark and remove; `changed` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.staff: dict[str, Mapping[str, Any]] = {}
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        self.model = AttendeesModel(self)
        self.model.changed.connect(self.changed)
        self.table = list_table(self.model, "attendees", (105, 200, 190), alternating=False)
        self.table.setAccessibleName("Attendees")
        # Present or apologies, with its tick, whole at a large font too (the other columns are cut short first).
        self.table.setColumnWidth(0, max(105, fits(self.table, "Apologies", 0) + 20))
        self.table.activated.connect(lambda index: self.model.toggle(index.row()))
        on_key(self.table, Qt.Key.Key_Delete, self.remove_current)
        box.addWidget(self.table, 1)

        marks = button_bar()
        self.toggle_button = QPushButton("Present / apologies")
        self.toggle_button.setToolTip("Mark the chosen person present, or as sending apologies (Enter)")
        self.toggle_button.clicked.connect(lambda: self._with_current(self.model.toggle))
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the chosen person off the list (Delete)")
        self.remove_button.clicked.connect(self.remove_current)
        self.staff_box = QComboBox()
        self.staff_box.setObjectName("addStaff")
        self.staff_box.setAccessibleName("Add a member of the locality team")
        self.staff_box.setPlaceholderText("Add a team member…")
        self.staff_box.setMinimumWidth(260)
        self.staff_box.activated.connect(self._staff_chosen)
        marks.addWidget(self.staff_box)
        marks.addStretch(1)
        marks.addWidget(self.toggle_button)
        marks.addWidget(self.remove_button)
        box.addLayout(marks)

        visitor = button_bar()
        self.visitor_name = QLineEdit()
        self.visitor_name.setObjectName("visitorName")
        self.visitor_name.setAccessibleName("Visitor's name")
        self.visitor_name.setPlaceholderText("Visitor's name")
        self.visitor_role = QLineEdit()
        self.visitor_role.setObjectName("visitorRole")
        self.visitor_role.setAccessibleName("Visitor's role")
        self.visitor_role.setPlaceholderText("Role, e.g. care home manager")
        self.visitor_org = QComboBox()
        self.visitor_org.setObjectName("visitorOrganisation")
        self.visitor_org.setAccessibleName("Visitor's organisation")
        self.visitor_org.setPlaceholderText("Organisation…")
        for org in ORGANISATIONS:
            self.visitor_org.addItem(formats.sentence_case(org), org)
        self.visitor_org.setCurrentIndex(-1)
        self.add_visitor_button = QPushButton("Add visitor")
        self.add_visitor_button.clicked.connect(self.add_visitor)
        for widget in (self.visitor_name, self.visitor_role, self.visitor_org):
            visitor.addWidget(widget, 1)
        visitor.addWidget(self.add_visitor_button)
        box.addLayout(visitor)
        for signal in (self.visitor_name.textChanged, self.visitor_org.currentIndexChanged):
            signal.connect(self._update_buttons)
        self.visitor_name.returnPressed.connect(self.add_visitor)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self._update_buttons()

    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        self.staff = {s["id"]: s for s in staff}
        self.staff_box.clear()
        for s in staff:
            self.staff_box.addItem(f"{s['name']} · {formats.sentence_case(s['role'])}", s["id"])
        self.staff_box.setCurrentIndex(-1)

    def set_people(self, people: Sequence[Mapping[str, Any]]) -> None:
        self.model.set_people(people)

    def people(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.model.people]

    def add_staff(self, staff_id: str) -> bool:
        s = self.staff[staff_id]
        return self.model.add(
            {"name": s["name"], "role": s["role"], "organisation": s["organisation"], "staff_id": s["id"]}
        )

    def add_visitor(self) -> None:
        if not self.add_visitor_button.isEnabled():
            return
        self.model.add(
            {
                "name": self.visitor_name.text().strip(),
                "role": self.visitor_role.text().strip(),
                "organisation": self.visitor_org.currentData(),
                "staff_id": None,
            }
        )
        self.visitor_name.clear()
        self.visitor_role.clear()
        self.visitor_org.setCurrentIndex(-1)
        self.visitor_name.setFocus()

    def remove_current(self) -> None:
        self._with_current(self.model.remove)

    def _with_current(self, fn) -> None:
        index = self.table.currentIndex()
        if index.isValid():
            fn(index.row())
        self._update_buttons()

    def _staff_chosen(self, index: int) -> None:
        self.add_staff(self.staff_box.itemData(index))
        self.staff_box.setCurrentIndex(-1)

    def _update_buttons(self, *_args) -> None:
        chosen = self.table.currentIndex().isValid()
        self.toggle_button.setEnabled(chosen)
        self.remove_button.setEnabled(chosen)
        self.add_visitor_button.setEnabled(
            bool(self.visitor_name.text().strip()) and self.visitor_org.currentIndex() >= 0
        )
