"""A filter bar over a table: a text box applied after a pause in typing, one combo per facet, Clear filters and
the count of rows shown. desktop.views.cohort.filters and desktop.views.mdt.action_filters add their facets and
read them as the domain's filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget

from .flow_layout import FlowLayout
from .widgets import FilterEdit

# Long enough to let a quick typist finish a word, short enough to feel instant.
DEBOUNCE_MS = 150
COMBO_MAX_WIDTH = 260


class FilterBar(QWidget):
    """Emits `changed` at once for a combo, and DEBOUNCE_MS after the last keystroke in the text box.

    Two rows: the text box with Clear and the count of rows shown (`top`, where a page may add buttons at
    the end), then one combo per facet, added by the subclass with `set_combos`.
    """

    changed = Signal()

    def __init__(
        self, placeholder: str, text_name: str, text_width: int, count_name: str, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.combos: tuple[QComboBox, ...] = ()
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(8)
        # Both rows wrap rather than squeeze their combos and buttons at a large font.
        self.top = FlowLayout(spacing=8)
        rows.addLayout(self.top)
        self._facets = FlowLayout(spacing=6)
        rows.addLayout(self._facets)
        self.text = FilterEdit(placeholder)
        self.text.setMaximumWidth(text_width)
        # Wide enough to show its hint whole (room for the clear button too), up to text_width.
        hint = self.text.fontMetrics().horizontalAdvance(placeholder) + 44
        self.text.setMinimumWidth(min(max(hint, self.text.minimumWidth()), text_width))
        self.text.setAccessibleName(text_name)
        self.top.addWidget(self.text, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self.text.textChanged.connect(self._timer.start)
        self.text.textChanged.connect(self._update_clear)
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setToolTip("Clear the text and every filter (Esc in the table)")
        self.clear_button.setAccessibleName("Clear every filter")
        self.clear_button.clicked.connect(self.clear)
        self.top.addWidget(self.clear_button)
        self.top.addStretch(1)
        self.count = QLabel()
        self.count.setObjectName("countLabel")
        self.count.setAccessibleName(count_name)
        self.top.addWidget(self.count)

    def set_combos(self, *combos: QComboBox) -> None:
        """The facets, in the order they are laid out, described and cleared."""
        self.combos = combos
        for combo in combos:
            self._facets.addWidget(combo)
        self._facets.addStretch(1)
        self._update_clear()

    # -- reading ---------------------------------------------------------------------------------------------
    def is_clear(self) -> bool:
        return not self.text.text().strip() and all(c.currentIndex() == 0 for c in self.combos)

    def describe(self) -> str:
        """What is filtered on, for an empty table's message: “Frailty, Overdue”."""
        parts = [f"“{self.text.text().strip()}”"] if self.text.text().strip() else []
        return ", ".join(parts + [c.currentText() for c in self.combos if c.currentIndex() > 0])

    # -- changing --------------------------------------------------------------------------------------------
    def choose(self, combo: QComboBox, value: Any) -> None:
        """Set one facet (a test, or a shortcut such as 'show the overdue')."""
        combo.setCurrentIndex(max(combo.findData(value), 0))

    def clear(self) -> None:
        self._timer.stop()
        for widget in (*self.combos, self.text):
            widget.blockSignals(True)
        for combo in self.combos:
            combo.setCurrentIndex(0)
        self.text.clear()
        for widget in (*self.combos, self.text):
            widget.blockSignals(False)
        self._update_clear()
        self.changed.emit()

    def flush(self) -> None:
        """Apply typed text now rather than after the pause (Enter, or a test)."""
        if self._timer.isActive():
            self._timer.stop()
            self.changed.emit()

    def refill(self, combo: QComboBox, options: Sequence[tuple[str, Any]]) -> None:
        """New choices after the first ("All …"); the current choice is kept when still there."""
        current = combo.currentData() if combo.currentIndex() > 0 else None
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for label, value in options:
            combo.addItem(label, value)
        found = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(found, 0))
        combo.blockSignals(False)
        if current is not None and found < 0:
            self._combo_changed()

    def combo(self, name: str, anything: str, options: Sequence[tuple[str, Any]]) -> QComboBox:
        """A facet: *anything* first (no filter), then (label, value) for each choice."""
        combo = QComboBox()
        combo.setObjectName(f"filter_{name.lower().replace(' ', '_')}")
        combo.setAccessibleName(f"Filter by {name.lower()}")
        combo.setToolTip(f"Filter by {name.lower()}")
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setMaximumWidth(COMBO_MAX_WIDTH)
        combo.setProperty("filtering", False)
        combo.addItem(anything, None)
        for label, value in options:
            combo.addItem(label, value)
        combo.currentIndexChanged.connect(self._combo_changed)
        return combo

    # -- internals -------------------------------------------------------------------------------------------
    def _combo_changed(self) -> None:
        self._update_clear()
        self.changed.emit()

    def _update_clear(self) -> None:
        # A combo that filters is drawn in blue, so a narrowed list never looks like the whole list.
        for combo in self.combos:
            on = combo.currentIndex() > 0
            if combo.property("filtering") != on:
                combo.setProperty("filtering", on)
                combo.style().unpolish(combo)
                combo.style().polish(combo)
        self.clear_button.setEnabled(bool(self.text.text()) or any(c.currentIndex() > 0 for c in self.combos))
