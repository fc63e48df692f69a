"""A layout that lays its widgets in a row and wraps onto further rows when the row is too narrow (after Qt's Flow
Layout example), so a bar of buttons never elides its labels ("No case m…er") or runs off the window on a narrow
window or at a large font.

It takes the calls a QHBoxLayout takes (addWidget with a stretch, addStretch, addSpacing, insertWidget), so a bar
changes layout by changing one name; a stretch shares out the room left on its own row, which keeps "buttons on the
left, buttons on the right" while the row fits. It reports its height for a width (heightForWidth), which a
QVBoxLayout above it asks, so the rows it wraps onto get their room rather than being drawn over what is below.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem

Policy = QSizePolicy.Policy


class FlowLayout(QLayout):
    def __init__(
        self,
        parent: QWidget | None = None,
        spacing: int = 6,
        alignment: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    ):
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._grow: list[int] = []  # each item's stretch, as in a QHBoxLayout
        self._spacing = spacing
        self._rows_alignment = alignment  # of a row with nothing that stretches
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    # -- what QHBoxLayout offers --------------------------------------------------------------------------
    def addWidget(self, widget: QWidget, stretch: int = 0, alignment: object = None) -> None:
        """As QHBoxLayout.addWidget; *alignment* is taken and ignored (an item fills its row's height, or is centred
        in it when it may not grow)."""
        super().addWidget(widget)
        self._grow[-1] = stretch

    def insertWidget(self, index: int, widget: QWidget, stretch: int = 0) -> None:
        self.addChildWidget(widget)
        index = len(self._items) if index < 0 else min(index, len(self._items))
        self._items.insert(index, QWidgetItem(widget))
        self._grow.insert(index, stretch)
        self.invalidate()

    def addStretch(self, stretch: int = 1) -> None:
        self.addItem(QSpacerItem(0, 0, Policy.Expanding, Policy.Minimum))
        self._grow[-1] = max(stretch, 1)

    def addSpacing(self, size: int) -> None:
        self.addItem(QSpacerItem(size, 0, Policy.Fixed, Policy.Minimum))

    def setStretch(self, index: int, stretch: int) -> None:
        if 0 <= index < len(self._grow):
            self._grow[index] = stretch
            self.invalidate()

    def stretch(self, index: int) -> int:
        return self._grow[index] if 0 <= index < len(self._grow) else 0

    def setSpacing(self, spacing: int) -> None:
        self._spacing = spacing
        self.invalidate()

    def spacing(self) -> int:
        return self._spacing

    # -- QLayout --------------------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self._grow.append(0)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        self._grow.pop(index)
        item = self._items.pop(index)
        self.invalidate()
        return item

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal if any(self._grow) else Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        m = self.contentsMargins()
        inner = max(0, width - m.left() - m.right())
        return self._place(QRect(0, 0, inner, 0), move=False) + m.top() + m.bottom()

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(self.contentsRect(), move=True)

    def sizeHint(self) -> QSize:
        """Everything on one row."""
        width = height = 0
        for item, _grow, hint in self._shown():
            width += hint.width() + (self._spacing if width and not _is_stretch(item) else 0)
            height = max(height, hint.height())
        return self._with_margins(QSize(width, height))

    def minimumSize(self) -> QSize:
        """The widest item alone on a row."""
        size = QSize(0, 0)
        for item, _grow, _hint in self._shown():
            if not _is_stretch(item):
                size = size.expandedTo(item.minimumSize())
        return self._with_margins(size)

    # -- laying out ---------------------------------------------------------------------------------------
    def _with_margins(self, size: QSize) -> QSize:
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _shown(self) -> list[tuple[QLayoutItem, int, QSize]]:
        # A hidden widget takes no room (a QSpacerItem counts as empty too, but is kept).
        return [
            (item, grow, item.sizeHint())
            for item, grow in zip(self._items, self._grow, strict=True)
            if item.spacerItem() is not None or not item.isEmpty()
        ]

    def _rows(self, width: int) -> list[list[tuple[QLayoutItem, int, int]]]:
        """The items row by row, each with its stretch and the width it takes before any stretching."""
        rows: list[list[tuple[QLayoutItem, int, int]]] = [[]]
        used = 0
        for item, grow, hint in self._shown():
            spacer = item.spacerItem() is not None
            # What stretches, or may shrink (a combo, a wrapped label; never a button), needs only its minimum on a
            # row, and grows from there.
            wanted = item.minimumSize().width() if grow or _shrinks(item) else hint.width()
            w = hint.width() if spacer else max(min(wanted, width), item.minimumSize().width())
            gap = self._spacing if used and not _is_stretch(item) else 0
            if not spacer and used and used + gap + w > width:
                rows.append([])
                used, gap = 0, 0
            if spacer and not rows[-1] and len(rows) > 1 and not _is_stretch(item):
                continue  # fixed spacing at the start of a wrapped row would only indent it
            rows[-1].append((item, grow, w))
            used += gap + w
        return [row for row in rows if row]

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in *rect* (or only measure them); the height they take."""
        y = rect.y()
        for number, row in enumerate(self._rows(rect.width())):
            if number:
                y += self._spacing
            widths = self._widths(row, rect.width())
            # A widget whose height depends on its width (wrapped text) is as tall as its width makes it.
            heights = [
                (item.heightForWidth(w) if item.hasHeightForWidth() else item.sizeHint().height())
                if item.spacerItem() is None
                else 0
                for (item, _g, _w), w in zip(row, widths, strict=True)
            ]
            height = max(heights, default=0)
            if move:
                self._place_row(row, widths, rect, y, height)
            y += height
        return y - rect.y()

    def _widths(self, row: list[tuple[QLayoutItem, int, int]], width: int) -> list[int]:
        """The width of each item of *row* once the room left is shared among what stretches, in proportion to
        their stretch as a QHBoxLayout shares it, none narrower than it needs nor wider than its maximum."""
        widths = [w for _i, _g, w in row]
        gaps = self._spacing * max(0, sum(1 for item, _g, _w in row if not _is_stretch(item)) - 1)
        # What sat on the row at less than its size hint (a combo, a wrapped label) gets back what room allows.
        short = {n: item.sizeHint().width() - w for n, (item, g, w) in enumerate(row) if not g}
        short = {n: gap for n, gap in short.items() if gap > 0}
        spare = width - gaps - sum(widths)
        if short and spare > 0:
            wanted = sum(short.values())
            for n, gap in short.items():
                widths[n] += gap if spare >= wanted else gap * spare // wanted
        flexible = {n for n, (_i, g, _w) in enumerate(row) if g}
        room = width - gaps - sum(w for n, w in enumerate(widths) if n not in flexible)
        settled: set[int] = set()
        while True:  # an item that needs more than its share keeps what it needs; the rest share what is left
            pool = flexible - settled
            growth = sum(row[n][1] for n in pool)
            left = room - sum(widths[n] for n in settled)
            greedy = {n for n in pool if row[n][2] > left * row[n][1] // max(growth, 1)}
            if not greedy:
                break
            settled |= greedy
        for n in pool:
            widths[n] = left * row[n][1] // max(growth, 1)
        # A widget grows no wider than its maximum; what it cannot take goes to the row's stretches.
        lost = 0
        for n in pool:
            item = row[n][0]
            if item.spacerItem() is None and widths[n] > item.maximumSize().width():
                lost += widths[n] - item.maximumSize().width()
                widths[n] = item.maximumSize().width()
        stretches = [n for n in pool if row[n][0].spacerItem() is not None]
        for n in stretches:
            widths[n] += lost // len(stretches)
        return widths

    def _place_row(
        self,
        row: list[tuple[QLayoutItem, int, int]],
        widths: list[int],
        rect: QRect,
        y: int,
        height: int,
    ) -> None:
        gaps = self._spacing * max(0, sum(1 for item, _g, _w in row if not _is_stretch(item)) - 1)
        spare = max(0, rect.width() - sum(widths) - gaps)
        x = rect.x()
        if self._rows_alignment & Qt.AlignmentFlag.AlignRight:
            x += spare
        elif self._rows_alignment & Qt.AlignmentFlag.AlignHCenter:
            x += spare // 2
        first = True
        for (item, _g, _w), w in zip(row, widths, strict=True):
            if not first and not _is_stretch(item):
                x += self._spacing
            if item.spacerItem() is None:
                # The row's height, as a QHBoxLayout gives it: what may not grow (a button) is centred in it by
                # QWidgetItem, what may (a card, a label) fills it.
                item.setGeometry(QRect(QPoint(x, y), QSize(w, height)))
                first = False
            x += w


def _is_stretch(item: QLayoutItem) -> bool:
    spacer = item.spacerItem()
    return spacer is not None and spacer.sizePolicy().horizontalPolicy() == Policy.Expanding


def _shrinks(item: QLayoutItem) -> bool:
    widget = item.widget()
    shrink = QSizePolicy.PolicyFlag.ShrinkFlag.value
    return widget is not None and bool(widget.sizePolicy().horizontalPolicy().value & shrink)
