"""What the screens that page through NHS quarters share: the ◀ Previous / quarter / Next ▶ controls, and a
Next that stops at the quarter under way. Another quarter is another load, left to Page.mark_stale."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from ...models import clock
from ...models.quarters import Quarter
from . import formats
from .flow_layout import FlowLayout


class QuarterPaging:
    """Mixed into a Page that has a `quarter`."""

    quarter: Quarter

    @staticmethod
    def today() -> dt.date:
        return clock.today()

    def quarter_controls(self) -> list:
        """The previous button, the quarter's label and the next button, wired to set_quarter."""
        self.previous_button = QPushButton("◀ Previous")
        self.previous_button.setToolTip("The quarter before (Alt+Left)")
        self.previous_button.setShortcut("Alt+Left")
        self.quarter_label = QLabel()
        self.quarter_label.setObjectName("sectionTitle")
        self.next_button = QPushButton("Next ▶")
        self.next_button.setToolTip("The quarter after (Alt+Right)")
        self.next_button.setShortcut("Alt+Right")
        self.previous_button.clicked.connect(lambda: self.set_quarter(self.quarter.previous()))
        self.next_button.clicked.connect(lambda: self.set_quarter(self.quarter.next()))
        return [self.previous_button, self.quarter_label, self.next_button]

    def quarter_bar(self, *after: QWidget) -> FlowLayout:
        """A bar with the paging controls, then *after*, then room for the page's own buttons on the right; it
        wraps at a large font."""
        bar = FlowLayout()
        for widget in (*self.quarter_controls(), *after):
            bar.addWidget(widget)
        bar.addStretch(1)
        return bar

    def set_quarter(self, quarter: Quarter) -> None:
        self.quarter = quarter
        self._show_quarter_label()
        self.mark_stale()

    def _show_quarter_label(self) -> None:
        q = self.quarter
        self.quarter_label.setText(f"  {q.label}: {formats.date(q.start)} to {formats.date(q.end)}  ")
        self.next_button.setEnabled(q.next().start <= self.today())
