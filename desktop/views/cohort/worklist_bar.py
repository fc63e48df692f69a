"""The Monday-morning worklists as a row of toggle buttons with their counts (worklists.WORKLISTS)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QSizePolicy, QToolButton, QWidget

from ...models.cohort.worklists import WORKLISTS
from ..kit.flow_layout import FlowLayout

EVERYONE = "all"
SHORT = {"left_on_caseload": "Left, on caseload"}  # the full title is in the tooltip


class WorklistBar(QWidget):
    """Exactly one button is on: everyone, or one worklist. `chosen` sends its key (None for everyone)."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        # The buttons wrap onto a second row rather than elide their labels on a narrow window or a large font.
        holder = QWidget()
        flow = FlowLayout(holder)
        holder.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        row.addWidget(holder, 1)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.buttons: dict[str, QToolButton] = {}
        self._titles = {EVERYONE: "All patients", **{w.key: SHORT.get(w.key, w.title) for w in WORKLISTS}}
        tips = {
            EVERYONE: "Every patient in the cohort, and those who left it but are still being worked with",
            **{w.key: f"{w.title}: {w.explanation}" for w in WORKLISTS},
        }
        for number, key in enumerate(self._titles):
            button = QToolButton()
            button.setObjectName("worklist")
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            button.setChecked(key == EVERYONE)
            button.setToolTip(tips[key])
            button.setAccessibleName(self._titles[key])
            button.setAccessibleDescription(tips[key])
            self._group.addButton(button, number)
            self.buttons[key] = button
            flow.addWidget(button)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the chosen worklist as an Excel or CSV file")
        self.export_button.setAccessibleName("Export the chosen worklist")
        row.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignTop)
        self._group.idToggled.connect(self._toggled)
        self.set_counts(0, {})

    def current(self) -> str | None:
        key = next(k for k, b in self.buttons.items() if b.isChecked())
        return None if key == EVERYONE else key

    def select(self, key: str | None) -> None:
        self.buttons[key or EVERYONE].setChecked(True)

    def set_counts(self, total: int, counts: Mapping[str, int]) -> None:
        self.counts = {EVERYONE: total, **counts}
        for key, button in self.buttons.items():
            n = self.counts.get(key, 0)
            button.setText(f"{self._titles[key]}  {n:,}")
            button.setProperty("empty", n == 0 and key != EVERYONE)
            button.style().unpolish(button)
            button.style().polish(button)
        self._update_export()

    def _toggled(self, number: int, on: bool) -> None:
        if on:
            self._update_export()
            self.chosen.emit(self.current())

    def _update_export(self) -> None:
        key = self.current()
        self.export_button.setEnabled(key is not None and self.counts.get(key, 0) > 0)
        self.export_button.setToolTip(
            "Save this worklist as an Excel or CSV file" if key else "Choose a worklist to export it"
        )
