"""The KPI list of the Reports screen: one row per KPI of a locality's quarter (locality_figures.KpiRow) with its
value, its RAG letter on the RAG colour, and its Making Data Count variation and assurance in words beside a
small drawn icon, so neither colour nor icon is ever the only cue. The icons are drawn as the PDF's
(mdc_icons): a ring for improvement and pass, a filled disc for concern and fail, the MDC letters inside.

The assurance is the board's verdict on the row (KpiRow.assurance); where it is withheld the cell says "No
target" or "Withheld" and its tooltip says why, from the row's assurance_note."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen, QPixmap

from ...reports.charts import mdc_style
from ..kit.style import rag_background
from ..kit.table_model import Column, Index, RowsModel
from ..returns.model import DASH, RAG_NAMES, with_unit

COLUMNS = (
    Column("code", "KPI"),
    Column("name", "Indicator"),
    Column("value", "Value"),
    Column("rag", "RAG"),
    Column("variation", "Variation", tip="Making Data Count variation of the latest period"),
    Column("assurance", "Assurance", tip="Making Data Count assurance: will the process meet the target?"),
)
CODE, NAME, VALUE, RAG, VARIATION, ASSURANCE = range(len(COLUMNS))
TRIAL = "Trial limits"
NO_CHART = "No chart"
NO_TARGET = "No target"
WITHHELD = "Withheld"
# KpiRow.assurance → its icon, as locality_figures.ICONS (not imported: the figures load lazily, off start-up)
VERDICT_ICONS = {"pass": "consistent_pass", "fail": "consistent_fail", "hit-and-miss": "inconsistent"}


def icon_pixmap(kind: str, size: int = 16) -> QPixmap:
    """The variation or assurance icon *kind* (mdc_style.ICONS) as a small pixmap, as mdc_icons draws it."""
    colour, letter, filled = mdc_style.ICONS[kind]
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    ink = QColor(colour)
    painter.setPen(QPen(ink, 1.3))
    painter.setBrush(ink if filled else QColor("white"))
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    if letter:
        font = QFont()
        font.setBold(True)
        font.setPixelSize(int(size * 0.6))
        painter.setFont(font)
        painter.setPen(QColor("white") if filled else ink)
        painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    else:  # common cause: a grey zig-zag of dots
        painter.setPen(QPen(ink, 1))
        c = size / 2
        xs = [c - size * 0.28 + i * size * 0.14 for i in range(5)]
        ys = [c + (size * 0.08 if i % 2 else -size * 0.08) for i in range(5)]
        for i in range(4):
            painter.drawLine(int(xs[i]), int(ys[i]), int(xs[i + 1]), int(ys[i + 1]))
    painter.end()
    return pixmap


class SpcListModel(RowsModel):
    """A row per locality_figures.KpiRow."""

    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        self._icons: dict[str, QIcon] = {}

    @staticmethod
    def id_of(record: Any) -> str:
        return record.kpi.code

    @staticmethod
    def variation_text(row: Any) -> str:
        if row.spc is None:
            return NO_CHART
        if row.spc.trial_limits:
            return TRIAL
        return mdc_style.SHORT[row.spc.variation_icon]

    @staticmethod
    def assurance_kind(row: Any) -> str | None:
        """The assurance icon of the row's verdict (mdc_style names); None when it is withheld."""
        return VERDICT_ICONS.get(row.assurance or "")

    @classmethod
    def assurance_text(cls, row: Any) -> str:
        if row.spc is None or row.spc.trial_limits:
            return DASH
        kind = cls.assurance_kind(row)
        if kind is not None:
            return mdc_style.SHORT[kind]
        return NO_TARGET if (row.assurance_note or "no target") == "no target" else WITHHELD

    @staticmethod
    def withheld_tip(row: Any) -> str:
        """Why the row has no assurance icon, in a line."""
        note = row.assurance_note or "no target on this chart"
        return f"No assurance icon: {mdc_style.brief(note)}."

    def _icon(self, kind: str | None) -> QIcon | None:
        if kind is None:
            return None
        if kind not in self._icons:
            self._icons[kind] = QIcon(icon_pixmap(kind))
        return self._icons[kind]

    # -- Qt -----------------------------------------------------------------------------------------------
    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        r = self.record(index.row())
        column = index.column()
        spc = r.spc if r.spc is not None and not r.spc.trial_limits else None
        if role == Qt.ItemDataRole.DisplayRole:
            return (
                r.kpi.code,
                r.kpi.name,
                with_unit(r.kpi, r.value),
                r.rag or DASH,
                self.variation_text(r),
                self.assurance_text(r),
            )[column]
        if role == Qt.ItemDataRole.DecorationRole:
            if column == VARIATION and spc is not None:
                return self._icon(spc.variation_icon)
            if column == ASSURANCE and spc is not None:
                return self._icon(self.assurance_kind(r))
            return None
        if role == Qt.ItemDataRole.BackgroundRole and column == RAG:
            return rag_background(r.rag)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == VALUE:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if column == RAG:
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tip(r, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column == RAG:
                return RAG_NAMES.get(r.rag or "", "No RAG: this KPI has no target.")
            if column in (VARIATION, ASSURANCE) and spc is not None:
                kind = spc.variation_icon if column == VARIATION else self.assurance_kind(r)
                return mdc_style.LABELS[kind] if kind else self.withheld_tip(r)
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        return None

    @staticmethod
    def _tip(r: Any, column: int) -> str | None:
        if column in (CODE, NAME):
            return f"{r.kpi.code} {r.kpi.name}"
        if column == RAG:
            return RAG_NAMES.get(r.rag or "", "No RAG: this KPI has no target.")
        if r.spc is None:
            return "Not enough values for a chart yet." if column in (VARIATION, ASSURANCE) else None
        if r.spc.trial_limits and column in (VARIATION, ASSURANCE):
            segment = r.spc.segments[-1] if r.spc.segments else None
            held = segment.end - segment.start if segment else len(r.spc.points)
            since = " since the last step change" if r.rebases else ""
            return f"Trial limits: only {held} points{since} (MDC fixes limits from 13); no icons."
        if column == VARIATION:
            return mdc_style.LABELS[r.spc.variation_icon] + " in the latest period"
        if column == ASSURANCE:
            kind = SpcListModel.assurance_kind(r)
            return mdc_style.LABELS[kind] if kind else SpcListModel.withheld_tip(r)
        return None
