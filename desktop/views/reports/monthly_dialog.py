"""Asking which month the monthly exception report is for: the months the locality has figures for, newest
first, the month under way marked "month to date", the last complete month chosen to start with."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from ...models.quarters import Month


class MonthDialog(QDialog):
    def __init__(
        self, locality_name: str, months: Sequence[Month], current: Month, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Monthly exception report")
        self.months = list(months)
        intro = QLabel(
            f"The KPIs of {locality_name} that can be computed month by month, with their RAG, and each red "
            "with the open actions raised against it, on one page. Choose the month:"
        )
        intro.setWordWrap(True)
        self.month = QComboBox()
        self.month.setAccessibleName("Month")
        for m in self.months:
            self.month.addItem(f"{m.start:%B %Y}" + (" (month to date)" if m == current else ""), m)
        default = current.previous()
        self.month.setCurrentIndex(self.months.index(default) if default in self.months else 0)
        label = QLabel("&Month:")
        label.setBuddy(self.month)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Export…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(intro)
        box.addWidget(label)
        box.addWidget(self.month)
        box.addWidget(buttons)
        self.setMinimumWidth(420)

    def chosen(self) -> Month | None:
        return self.month.currentData()

    def choose(self, month: Month) -> None:
        """Select *month* (what a user does with the list; tests use it too)."""
        self.month.setCurrentIndex(self.months.index(month))


def ask_month(parent: QWidget, locality_name: str, months: Sequence[Month], current: Month) -> Month | None:
    """The month chosen, or None when the user cancels."""
    dialog = MonthDialog(locality_name, months, current, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()
