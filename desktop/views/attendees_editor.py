"""Who is at a meeting: the locality's staff added with one choice, visitors typed with their role and
organisation, each marked present or sending apologies. The list is only a draft until the form saves it
through meetings.create or meetings.update, which decide what is valid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..models.reference import ORGANISATIONS
from . import formats
from .key_filter import on_key

Index = QModelIndex | QPersistentModelIndex
HEADINGS = ("Present", "Name", "Role", "Organisation")


class AttendeesModel(QAbstractTableModel):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.people: list[dict[str, Any]] = []

    def set_people(self, people: Sequence[Mapping[str, Any]]) -> None:
        self.beginResetModel()
        self.people = [{"name": p["name"], "role": p.get("role") or "", "organisation": p.get("organisation"),
                        "staff_id": p.get("staff_id"), "present": bool(p.get("present", True))} for p in people]
        self.endResetModel()

    def add(self, person: Mapping[str, Any]) -> bool:
        """Add someone not yet listed (staff by id, visitors by name); False when already there."""
        for p in self.people:
            if (person.get("staff_id") and p["staff_id"] == person["staff_id"]) or \
                    (not person.get("staff_id") and p["name"].casefold() == person["name"].casefold()):
                return False
        self.beginInsertRows(QModelIndex(), len(self.people), len(self.people))
        self.people.append({"present": True, "role": "", **person})
        self.endInsertRows()
        self.changed.emit()
        return True

    def remove(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        del self.people[row]
        self.endRemoveRows()
        self.changed.emit()

    def toggle(self, row: int) -> None:
        self.people[row]["present"] = not self.people[row]["present"]
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADINGS) - 1))
        self.changed.emit()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self.people)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADINGS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADINGS):
            return HEADINGS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.people):
            return None
        p, column = self.people[index.row()], index.column()
        if role == Qt.ItemDataRole.CheckStateRole and column == 0:
            return Qt.CheckState.Checked if p["present"] else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.DisplayRole:
            return ("Present" if p["present"] else "Apologies", p["name"], formats.sentence_case(p["role"]),
                    formats.sentence_case(p["organisation"]))[column]
        if role == Qt.ItemDataRole.ForegroundRole and not p["present"]:
            return Qt.GlobalColor.darkGray
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if index.isValid() and index.column() == 0 and role == Qt.ItemDataRole.CheckStateRole:
            present = Qt.CheckState(value) == Qt.CheckState.Checked
            if present != self.people[index.row()]["present"]:
                self.toggle(index.row())
            return True
        return False

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else base


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
        self.table = QTableView()
        self.table.setObjectName("attendees")
        self.table.setAccessibleName("Attendees")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((105, 200, 190)):
            self.table.setColumnWidth(column, width)
        self.table.activated.connect(lambda index: self.model.toggle(index.row()))
        on_key(self.table, Qt.Key.Key_Delete, self.remove_current)
        box.addWidget(self.table, 1)

        marks = QHBoxLayout()
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

        visitor = QHBoxLayout()
        self.visitor_name = QLineEdit()
        self.visitor_name.setObjectName("visitorName")
        self.visitor_name.setPlaceholderText("Visitor's name")
        self.visitor_role = QLineEdit()
        self.visitor_role.setObjectName("visitorRole")
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
        return self.model.add({"name": s["name"], "role": s["role"], "organisation": s["organisation"],
                               "staff_id": s["id"]})

    def add_visitor(self) -> None:
        if not self.add_visitor_button.isEnabled():
            return
        self.model.add({"name": self.visitor_name.text().strip(), "role": self.visitor_role.text().strip(),
                        "organisation": self.visitor_org.currentData(), "staff_id": None})
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
        self.add_visitor_button.setEnabled(bool(self.visitor_name.text().strip())
                                           and self.visitor_org.currentIndex() >= 0)
