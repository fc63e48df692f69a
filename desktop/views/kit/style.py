"""The NHS identity palette, its light and dark variants, and the application style sheet (resources/style.qss).

The style sheet names colours and font sizes by token (@text@, @size*1.7@); apply_style fills them in from the
scheme in use and the platform's own font size, so a user who has asked the system for larger text or a dark
desktop gets it here too. Views that paint colours themselves (RAG cells, charts) ask `colours()`, which reads
the scheme back from the application palette rather than from a module global.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtGui import QActionGroup, QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from ... import paths

RESOURCES = paths.resources_dir()

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_LIGHT_BLUE = "#41B6E6"
NHS_PALE_GREY = "#E8EDEE"
NHS_TEXT = "#212B32"
NHS_SECONDARY_TEXT = "#4C6272"
NHS_RED = "#D5281B"
NHS_WARM_YELLOW = "#FFB81C"
# A pale tint of warm yellow: enough to catch the eye behind dark text, still readable.
AMBER_BACKGROUND = QColor("#FFE9B0")

SCHEMES = ("system", "light", "dark")
SCHEME_LABELS = {"system": "Follow the &system", "light": "&Light", "dark": "&Dark"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Colours:
    """Every colour the style sheet and the self-painting views use, by role."""

    name: str
    window: str  # page and dialog background
    base: str  # fields and tables
    text: str
    secondary: str  # captions, counts
    muted: str  # an empty worklist, a file name aside
    strong: str  # titles of tiles, the selected navigation row: NHS dark blue on light
    accent: str  # button text and outlines: NHS blue on light
    fill: str  # filled buttons, selections and the header bar: NHS blue in both
    on_fill: str  # text on `fill`
    pale: str  # navigation, table headers, status bar: NHS pale grey on light
    divider: str
    field_border: str
    hover: str
    nav_hover: str
    hover_border: str
    alternate: str  # every other table row, tiles
    tile_border: str
    notice: str  # pale warm yellow behind a notice
    notice_edge: str
    notice_text: str  # brown on pale yellow (an unheld meeting)
    error: str  # red text and borders
    success: str  # a passed check's tick
    danger_fill: str  # a red banner behind `on_fill`
    disabled: str
    disabled_border: str
    tooltip_border: str
    rag: dict[str, QColor] = field(default_factory=dict)  # RAG letter -> cell background behind `text`
    overdue: QColor = field(default_factory=QColor)  # an overdue action's row background
    overdue_text: QColor = field(default_factory=QColor)
    chart_background: str = "#FFFFFF"
    chart_ink: str = NHS_TEXT  # mean and centre lines, a chosen team's code
    icons: str = ""  # the style sheet's icons in this scheme: chevron-down{icons}.svg


LIGHT = Colours(
    name="light",
    window="#FFFFFF",
    base="#FFFFFF",
    text=NHS_TEXT,
    secondary=NHS_SECONDARY_TEXT,
    muted="#768692",
    strong=NHS_DARK_BLUE,
    accent=NHS_BLUE,
    fill=NHS_BLUE,
    on_fill="#FFFFFF",
    pale=NHS_PALE_GREY,
    divider="#D8DDE0",
    field_border="#AEB7BD",
    hover="#EEF4FA",
    nav_hover="#DDE3E5",
    hover_border="#7FAFDC",
    alternate="#F4F6F7",
    tile_border="#E0E5E7",
    notice="#FFF4D6",
    notice_edge=NHS_WARM_YELLOW,
    notice_text="#6B3D00",
    error=NHS_RED,
    success="#007F3B",
    danger_fill=NHS_RED,
    disabled="#AEB7BD",
    disabled_border="#D8DDE0",
    tooltip_border="#AEB7BD",
    rag={"G": QColor("#D8EFE0"), "A": AMBER_BACKGROUND, "R": QColor("#F7D4D1")},
    overdue=QColor("#FBE1DE"),
    overdue_text=QColor("#8A1A10"),
    chart_background="#FFFFFF",
    chart_ink=NHS_TEXT,
)

# The same roles on a dark ground: NHS blue stays the fill (white text on it still passes), NHS light blue
# takes over as the accent for text, and the RAG and notice tints become deep ones behind light text.
DARK = Colours(
    name="dark",
    window="#1B2229",
    base="#232C34",
    text="#E8EDEE",
    secondary="#AEB7BD",
    muted="#8A9BA6",
    strong=NHS_LIGHT_BLUE,
    accent=NHS_LIGHT_BLUE,
    fill=NHS_BLUE,
    on_fill="#FFFFFF",
    pale="#2A343C",
    divider="#3A4650",
    field_border="#5A6B77",
    hover="#24364A",
    nav_hover="#33404A",
    hover_border="#4F86BF",
    alternate="#1F272E",
    tile_border="#3A4650",
    notice="#4A3A10",
    notice_edge=NHS_WARM_YELLOW,
    notice_text="#FFD98A",
    error="#FF8A7D",
    success="#78BE20",
    danger_fill=NHS_RED,
    disabled="#5A6B77",
    disabled_border="#3A4650",
    tooltip_border="#5A6B77",
    rag={"G": QColor("#1E4D31"), "A": QColor("#5C4710"), "R": QColor("#6A2620")},
    overdue=QColor("#4E2420"),
    overdue_text=QColor("#FFB4AB"),
    chart_background="#232C34",
    chart_ink="#E8EDEE",
    icons="-dark",
)


def colours() -> Colours:
    """The scheme in use, read back from the application palette (light when there is no application)."""
    app = QGuiApplication.instance()
    if app is None:
        return LIGHT
    return DARK if QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128 else LIGHT


def fits(widget: QWidget, sample: str, at_least: int) -> int:
    """A width that holds *sample* in *widget*'s font with the sheet's padding, and never less than *at_least*:
    a width picked at 9 or 10 pt cuts the text off for a user whose system text is larger."""
    return max(at_least, widget.fontMetrics().horizontalAdvance(sample) + 28)


def lines_high(widget: QWidget, lines: int, at_least: int) -> int:
    """The height of *lines* lines of text in *widget*'s font with its padding, and never less than *at_least*."""
    return max(at_least, widget.fontMetrics().lineSpacing() * lines + 14)


def paint_chart(chart) -> bool:
    """Give a pyqtgraph chart the ground, axes and axis titles of the scheme in use, if it has another's; charts
    call it each time they draw, so a change of scheme reaches them. True when it repainted."""
    c = colours()
    if chart.property("scheme") == c.name:
        return False  # each set redraws the axis: only when the scheme changed
    chart.setProperty("scheme", c.name)
    chart.setBackground(c.chart_background)
    for name in ("left", "bottom"):
        axis = chart.getAxis(name)
        axis.setPen(c.secondary)
        axis.setTextPen(c.secondary)
        if axis.labelText:
            axis.setLabel(axis.labelText, color=c.secondary)
    return True


def still_chart(object_name: str):
    """A pyqtgraph plot in the screens' chart style: read, not explored (no menu, no mouse zoom, no focus), a faint
    horizontal grid and small axis text in the scheme's secondary colour."""
    import pyqtgraph as pg  # ~0.1 s: only when a screen first draws a chart

    chart = pg.PlotWidget(background=colours().chart_background)
    chart.setObjectName(object_name)
    chart.setMenuEnabled(False)
    chart.setMouseEnabled(x=False, y=False)
    chart.hideButtons()
    chart.showGrid(x=False, y=True, alpha=0.12)
    font = QFont()
    font.setPointSize(8)
    for axis in ("left", "bottom"):
        chart.getAxis(axis).setTextPen(colours().secondary)
        chart.getAxis(axis).setPen(colours().secondary)
        chart.getAxis(axis).setStyle(tickFont=font)
    chart.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return chart


def rag_background(rag: str | None) -> QColor | None:
    return colours().rag.get(rag or "")


def wanted_scheme(choice: str, app: QGuiApplication) -> Colours:
    """*choice* (light, dark or system) made concrete: system follows the desktop's colour scheme (Qt ≥ 6.5)."""
    if choice == "dark":
        return DARK
    if choice == "light":
        return LIGHT
    return DARK if app.styleHints().colorScheme() == Qt.ColorScheme.Dark else LIGHT


def palette_for(c: Colours) -> QPalette:
    """A Qt palette that agrees with the style sheet, for what the sheet does not reach (scroll bars, menus)."""
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, c.window),
        (role.WindowText, c.text),
        (role.Base, c.base),
        (role.AlternateBase, c.alternate),
        (role.Text, c.text),
        (role.Button, c.pale),
        (role.ButtonText, c.text),
        (role.Highlight, c.fill),
        (role.HighlightedText, c.on_fill),
        (role.ToolTipBase, c.base),
        (role.ToolTipText, c.text),
        (role.PlaceholderText, c.muted),
        (role.Link, c.accent),
        (role.BrightText, c.error),
        (role.Mid, c.divider),
        (role.Light, c.pale),
        (role.Dark, c.field_border),
        (role.Shadow, c.field_border),
    ):
        pal.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, QColor(c.disabled))
    return pal


_SIZE = re.compile(r"@size\*([0-9.]+)@")
_TOKEN = re.compile(r"@([a-z_]+)@")


def style_sheet(template: str, c: Colours, base_points: float) -> str:
    """The sheet with its tokens filled in: @size*F@ is F times the platform font size, @role@ a colour."""
    sheet = _SIZE.sub(lambda m: f"{base_points * float(m.group(1)):.1f}pt", template)
    values = {"resources": RESOURCES.as_posix()} | {k: v for k, v in vars(c).items() if isinstance(v, str)}
    return _TOKEN.sub(
        lambda m: values[m.group(1).lower()] if m.group(1).lower() in values else m.group(0),
        sheet.replace("@RESOURCES@", "@resources@"),
    )


def apply_style(app: QApplication, choice: str = "system") -> Colours:
    """Style *app* in the scheme *choice* (light, dark or system) at the platform's font size; with system,
    follow the desktop when it switches. Returns the colours used."""
    choice = choice if choice in SCHEMES else "system"
    chosen = wanted_scheme(choice, app)
    app.setPalette(palette_for(chosen))
    sheet = RESOURCES / "style.qss"
    try:
        template = sheet.read_text(encoding="utf-8")
    except OSError:
        # Still usable without it (an unusual install); the log says why it looks plain.
        log.warning("Style sheet %s not found; using the platform style", sheet)
    else:
        # The platform's size, not a fixed one: a user who asked the system for larger text gets it here.
        points = app.font().pointSizeF() if app.font().pointSizeF() > 0 else 10.0
        app.setStyleSheet(style_sheet(template, chosen, points))
    hints = app.styleHints()
    if not app.property("followsColourScheme"):
        app.setProperty("followsColourScheme", True)
        hints.colorSchemeChanged.connect(lambda _scheme: _follow(app))
    app.setProperty("colourChoice", choice)
    return chosen


def _follow(app: QApplication) -> None:
    if app.property("colourChoice") == "system":
        apply_style(app, "system")


def fill_scheme_menu(menu: QMenu, settings, on_chosen=None) -> QActionGroup:
    """Settings → Colours: light, dark or the system's, kept in the colour_scheme setting and applied at once.
    *on_chosen(choice)* is told afterwards (the window says what changes only at the next start)."""
    group = QActionGroup(menu)
    group.setExclusive(True)
    for key in SCHEMES:
        action = menu.addAction(SCHEME_LABELS[key])
        action.setCheckable(True)
        action.setChecked(key == settings.get("colour_scheme"))
        action.setData(key)
        group.addAction(action)

    def choose(action) -> None:
        settings.set("colour_scheme", action.data())
        apply_style(QApplication.instance(), action.data())
        if on_chosen is not None:
            on_chosen(action.data())

    group.triggered.connect(choose)
    return group
