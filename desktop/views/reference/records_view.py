"""The table view of a reference screen: columns sized to their contents and to the space there is."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

CELL_PADDING = 26  # the style sheet's cell and header padding, plus the sort arrow's room
MIN_COLUMN = 70
MAX_GROWTH = 1.4  # spare width widens columns up to this much; beyond it, white space reads better


class RecordsView(QTableView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._natural: list[int] = []
        self.stretch_column: int | None = None  # takes whatever width is left over (the name, usually)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)  # arrows move between cells; Tab leaves the table
        self.setAlternatingRowColors(True)
        self.setSortingEnabled(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(30)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def fit_columns(self) -> None:
        """Measure every cell (hundreds of rows at most) rather than only the visible ones, as Qt does."""
        model = self.model()
        if model is None:
            return
        cells = QFontMetrics(self.font())
        bold = QFont(self.font())
        bold.setBold(True)
        headings = QFontMetrics(bold)
        # A RecordsModel lists its columns' distinct texts at once, when a sorting proxy shows all its rows.
        source = model.sourceModel() if isinstance(model, QSortFilterProxyModel) else model
        whole = source is model or source.rowCount() == model.rowCount()
        texts_of = getattr(source, "display_texts", None) if whole else None
        self._natural = []
        for column in range(model.columnCount()):
            heading = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            width = headings.horizontalAdvance(heading)
            texts = texts_of(column) if texts_of is not None else None
            if texts is None:
                texts = (model.index(row, column).data() for row in range(model.rowCount()))
            for text in texts:
                if text:
                    width = max(width, cells.horizontalAdvance(str(text)))
            self._natural.append(max(MIN_COLUMN, width + CELL_PADDING))
        self._apply_widths()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_widths()

    def _apply_widths(self) -> None:
        shown = [c for c in range(len(self._natural)) if not self.isColumnHidden(c)]
        if not shown:
            return
        natural = {c: self._natural[c] for c in shown}
        available = self.viewport().width() - 2
        widths = _fit(natural, available)
        spare = available - sum(widths.values())
        if spare > 0 and self.stretch_column in widths:
            widths[self.stretch_column] += spare
        header = self.horizontalHeader()
        for column, width in widths.items():
            header.resizeSection(column, width)


def _fit(natural: dict[int, int], available: int) -> dict[int, int]:
    total = sum(natural.values())
    if total <= available:
        growth = min(MAX_GROWTH, available / total) if total else 1.0
        return {c: int(w * growth) for c, w in natural.items()}
    # Too wide: cap the widest columns at one common width so that narrow ones (codes, counts) stay whole.
    low, high = MIN_COLUMN, max(natural.values())
    while low < high:
        cap = (low + high + 1) // 2
        if sum(min(w, cap) for w in natural.values()) <= available:
            low = cap
        else:
            high = cap - 1
    return {c: min(w, low) for c, w in natural.items()}
