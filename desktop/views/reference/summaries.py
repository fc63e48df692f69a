"""The strip above a reference table: headline counts for localities, EHCH gaps for care homes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..shell.screens import Screen

Rows = Sequence[Mapping[str, Any]]


class SummaryArea(QWidget):
    """Hidden for screens with nothing to sum up."""

    def __init__(self, screen: Screen, parent: QWidget | None = None):
        super().__init__(parent)
        self._screen = screen
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 14)
        self._layout.setSpacing(12)
        self.tiles: dict[str, QLabel] = {}
        self.notice: QLabel | None = None
        if screen.entity == "localities":
            for key, label in (
                ("localities", "Localities"),
                ("practices", "Practices"),
                ("list_size", "Registered patients"),
                ("care_homes", "Care homes"),
            ):
                self._layout.addWidget(self._tile(key, label))
            self._layout.addStretch(1)
        elif screen.missing:
            frame = QFrame()
            frame.setObjectName("notice")
            inner = QVBoxLayout(frame)
            inner.setContentsMargins(12, 8, 12, 8)
            self.notice = QLabel()
            self.notice.setWordWrap(True)
            inner.addWidget(self.notice)
            self._layout.addWidget(frame, 1)
        self.setVisible(bool(self.tiles))

    def update_rows(self, rows: Rows, scope_name: str | None) -> None:
        if self.tiles:
            totals = {"localities": len(rows)}
            for key in ("practices", "list_size", "care_homes"):
                totals[key] = sum(r.get(key) or 0 for r in rows)
            for key, label in self.tiles.items():
                label.setText(f"{totals[key]:,}")
        elif self.notice is not None:
            text = self._gaps(rows, scope_name)
            self.notice.setText(text)
            self.setVisible(bool(text))

    def _gaps(self, rows: Rows, scope_name: str | None) -> str:
        parts = []
        for column, why in self._screen.missing.items():
            count = sum(1 for r in rows if r.get(column) in (None, ""))
            if count:
                what = why.split(":")[0].lower()  # "No named clinical lead: ..." -> "no named clinical lead"
                parts.append(f"{count} {'home has' if count == 1 else 'homes have'} {what}")
        if not parts:
            return ""
        where = f"In {scope_name}, " if scope_name else "Across all localities, "
        return (
            f"⚠  {where}{' and '.join(parts)}. Under EHCH every home has an aligned practice and a named "
            "clinical lead. They are marked “⚠ none” below; type “none” in the filter to list only them."
        )

    def _tile(self, key: str, label: str) -> QFrame:
        frame = QFrame()
        frame.setObjectName("tile")
        frame.setMinimumWidth(170)
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(14, 10, 14, 10)
        inner.setSpacing(2)
        value = QLabel("–")
        value.setObjectName("tileValue")
        caption = QLabel(label)
        caption.setObjectName("tileLabel")
        inner.addWidget(value)
        inner.addWidget(caption)
        self.tiles[key] = value
        return frame
