"""Small coloured tags that say why a patient is in the cohort, and whether they are new, changed or left.

Painted by a delegate rather than built as widgets, so a 60,000-row table costs nothing to scroll. Every
tag carries words as well as a colour, so the meaning never rests on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

CHIPS_ROLE = Qt.ItemDataRole.UserRole + 3
GAP = 4
PAD_X = 6


@dataclass(frozen=True)
class Chip:
    text: str
    background: str
    foreground: str
    border: str


FRAILTY = Chip("Frailty", "#EFE6F5", "#330072", "#B69CCB")
HIGH_COST = Chip("High cost", "#FDEDD6", "#6B3D00", "#EDB366")
NEW = Chip("New", "#005EB8", "#FFFFFF", "#FFFFFF")  # white edge: still a tag on a selected (blue) row
CHANGED = Chip("Changed", "#FFFFFF", "#005EB8", "#7FAFDC")
LEFT = Chip("Left", "#E8EDEE", "#425563", "#AEB7BD")


def multimorbidity(ltc_min: int) -> Chip:
    return Chip(f"LTC {ltc_min}+", "#E1F2EB", "#00513A", "#86C4AC")


def chips_for(
    criteria: str, ltc_min: int, in_cohort: bool = True, new: bool = False, changed: bool = False
) -> list[Chip]:
    """The tags of one patient: criteria letters (F, M, C) in a fixed order, then membership."""
    out = []
    if "F" in criteria:
        out.append(FRAILTY)
    if "M" in criteria:
        out.append(multimorbidity(ltc_min))
    if "C" in criteria:
        out.append(HIGH_COST)
    if not in_cohort:
        out.append(LEFT)
    elif new:
        out.append(NEW)
    elif changed:
        out.append(CHANGED)
    return out


def chip_font(base: QFont) -> QFont:
    font = QFont(base)
    font.setPointSizeF(max(7.5, base.pointSizeF() * 0.86))
    font.setWeight(QFont.Weight.DemiBold)
    return font


def chips_width(chips: Sequence[Chip], font: QFont) -> int:
    metrics = QFontMetrics(font)
    return sum(metrics.horizontalAdvance(c.text) + 2 * PAD_X for c in chips) + GAP * max(0, len(chips) - 1)


def paint_chips(painter: QPainter, rect: QRect, chips: Sequence[Chip], font: QFont) -> None:
    metrics = QFontMetrics(font)
    height = metrics.height() + 4
    top = rect.top() + (rect.height() - height) / 2
    x = float(rect.left())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(font)
    for chip in chips:
        width = metrics.horizontalAdvance(chip.text) + 2 * PAD_X
        if x + width > rect.right() + 1:
            break  # a narrow column shows the tags that fit; the tooltip lists them all
        box = QRectF(x + 0.5, top + 0.5, width - 1, height - 1)
        painter.setPen(QPen(QColor(chip.border), 1))
        painter.setBrush(QColor(chip.background))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(chip.foreground))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, chip.text)
        x += width + GAP
    painter.restore()


class ChipDelegate(QStyledItemDelegate):
    """Draws the cell's background and selection as usual, then its tags instead of its text."""

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        chips = index.data(CHIPS_ROLE)
        if not chips:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        paint_chips(painter, opt.rect.adjusted(PAD_X, 0, -2, 0), chips, chip_font(opt.font))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        hint = super().sizeHint(option, index)
        chips = index.data(CHIPS_ROLE)
        if chips:
            hint.setWidth(chips_width(chips, chip_font(option.font)) + 2 * PAD_X)
        return hint


class ChipStrip(QWidget):
    """The same tags as a widget, for the detail panel."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._chips: list[Chip] = []

    def set_chips(self, chips: Sequence[Chip]) -> None:
        self._chips = list(chips)
        self.setAccessibleName("Why in the cohort: " + ", ".join(c.text for c in chips))
        self.updateGeometry()
        self.update()

    def texts(self) -> list[str]:
        return [c.text for c in self._chips]

    def sizeHint(self) -> QSize:
        font = chip_font(self.font())
        return QSize(chips_width(self._chips, font) + 2, QFontMetrics(font).height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        paint_chips(painter, self.rect(), self._chips, chip_font(self.font()))
        painter.end()
