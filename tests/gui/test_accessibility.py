"""Accessibility and comfort: every control a user can reach has a name a screen reader can say, on every screen
and in the main dialogs; RAG is never told by colour alone; the app takes the platform's font size; the dark
scheme is really dark and every text colour of both schemes is readable on its ground; and no button's Alt
letter is dead because another control or a menu has it too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from a11y_helpers import alt_letters, reachable, unnamed
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QGraphicsView,
    QLabel,
)
from task_helpers import finish_tasks

from desktop.views.kit import style
from desktop.views.shell.screens import SCREENS


def test_every_control_on_every_screen_has_a_name(history_window, commissioner_window, qtbot):
    missing, charts = {}, set()
    for window in (history_window, commissioner_window):
        for screen in SCREENS:
            if screen.key not in window.pages:
                continue
            window.show_screen(screen.key)
            if screen.key == "reports":  # its figures come from a background read: named once they are shown
                qtbot.waitUntil(lambda w=window: not w.current_page().is_loading)
            assert len(reachable(window)) > 3  # the check looks at something: the switcher, the list, the page
            charts |= {w.objectName() for w in reachable(window) if isinstance(w, QGraphicsView)}
            if unnamed(window):
                missing[f"{window.session.kind} {screen.key}"] = unnamed(window)
    history_window.show_screen("commissioner")
    history_window.current_page().select_kpi("COH-02", "BAL")  # a percentage: its funnel and trend are drawn
    charts |= {w.objectName() for w in reachable(history_window) if isinstance(w, QGraphicsView)}
    assert unnamed(history_window) == []
    assert missing == {}
    assert {"spcChart", "funnelChart", "trendChart"} <= charts  # the charts were looked at too


def test_every_control_of_the_main_dialogs_has_a_name(history_window, qtbot, monkeypatch, extract):
    from desktop.views.cohort.import_dialog import QFileDialog

    window = history_window
    opened = {}

    def check(name: str, dialog) -> None:
        qtbot.waitExposed(dialog)
        assert len(reachable(dialog)) >= 2
        opened[name] = unnamed(dialog)
        dialog.reject()

    window.show_screen("mdt")
    tab = window.current_page().meetings
    tab.plan_meeting()
    check("plan meeting", tab.dialog)
    tab.detail.add_patients_button.click()
    check("agenda picker", tab.dialog)
    tab.detail.new_action_button.click()
    check("new action", tab.dialog)
    window.show_screen("care_homes")
    window.current_page().log_visit()
    check("log a visit", window.current_page().dialog)
    window.show_screen("practices")
    practices = window.current_page()
    practices.select(practices.visible_rows()[0]["id"])
    practices.edit()
    check("edit a practice", practices.dialog)
    window.show_screen("cohort")
    cohort = window.current_page()
    cohort.edit_rules()
    check("cohort criteria", cohort.dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(extract), "")))
    cohort.import_extract()
    check("import a risk extract", cohort.dialog)
    window.set_user_name()
    check("who is using this", window.who)
    window.new_workspace()
    check("new workspace", window.new_dialog)
    assert opened == dict.fromkeys(opened, [])


def test_the_import_returns_dialog_names_every_control(commissioner_window, qtbot, tmp_path):
    from return_files import return_doc, write

    files = [
        write(tmp_path / f"kpi-return-{c}-2025-26-Q3-r1.json", return_doc(c, "2025-26-Q3")) for c in ("BAL", "CHA")
    ]
    commissioner_window.show_screen("commissioner")
    dialog = commissioner_window.current_page().import_files(files)
    finish_tasks(qtbot)  # the dialog opens once the dry run is done
    qtbot.waitExposed(dialog)
    assert len(reachable(dialog)) >= 3 and unnamed(dialog) == []
    dialog.reject()


# -- Alt letters ---------------------------------------------------------------------------------------------------


def test_no_two_controls_share_an_alt_letter_on_any_screen(history_window, commissioner_window, qtbot):
    clashes = {}
    for window in (history_window, commissioner_window):
        for screen in SCREENS:
            if screen.key not in window.pages:
                continue
            window.show_screen(screen.key)
            if screen.key == "reports":
                qtbot.waitUntil(lambda w=window: not w.current_page().is_loading)
            letters = alt_letters(window)
            assert {"F", "G", "H"} <= set(letters)  # the menus' own are counted
            if doubled := sorted(k for k, n in letters.items() if n > 1):
                clashes[f"{window.session.kind} {screen.key}"] = doubled
    assert clashes == {}


# -- RAG is never colour alone -------------------------------------------------------------------------------------
RAG_WORDS = {"R": "Red", "A": "Amber", "G": "Green"}


def _rag_cells(model, columns) -> list[tuple[str, str | None]]:
    """(display text, accessible text) of every cell of *columns* painted with a RAG colour."""
    tints = {c.name() for c in style.colours().rag.values()}
    cells = []
    for row in range(model.rowCount()):
        for column in columns:
            index = model.index(row, column)
            background = index.data(Qt.ItemDataRole.BackgroundRole)
            if isinstance(background, QColor) and background.name() in tints:
                cells.append((index.data(), index.data(Qt.ItemDataRole.AccessibleTextRole)))
    return cells


def test_the_returns_grid_says_each_rag_as_a_letter_and_a_word(history_window):
    from desktop.views.returns.model import KEYS

    history_window.show_screen("returns")
    cells = _rag_cells(history_window.current_page().model, [KEYS.index("rag")])
    assert len({text for text, _ in cells}) == 3  # the demo quarter has reds, ambers and greens
    for text, spoken in cells:
        assert text in RAG_WORDS and spoken == RAG_WORDS[text]


def test_the_consolidated_grid_and_the_reports_list_show_the_rag_letter(history_window, qtbot):
    history_window.show_screen("commissioner")
    model = history_window.current_page().model
    cells = _rag_cells(model, range(1, model.columnCount()))
    assert len(cells) > 50
    for text, spoken in cells:
        letter = text.rsplit(" ", 1)[-1]
        assert letter in RAG_WORDS and spoken.endswith(RAG_WORDS[letter].lower())
    history_window.show_screen("reports")
    page = history_window.current_page()
    qtbot.waitUntil(lambda: not page.is_loading)
    listed = page.list.model()
    cells = _rag_cells(listed, range(listed.columnCount()))
    assert cells and all(text in RAG_WORDS for text, _ in cells)


# -- comfort: font size, dark scheme, contrast -----------------------------------------------------------------------
@pytest.fixture
def restyled(styled_app):
    """Lets a test restyle the application; the usual style and font are put back afterwards."""
    font = styled_app.font()
    yield styled_app
    styled_app.setFont(font)
    style.apply_style(styled_app)


def test_text_follows_the_platform_font_size(restyled, qtbot):
    sheet = (style.RESOURCES / "style.qss").read_text(encoding="utf-8")
    assert not re.search(r"font-size:\s*[\d.]+\s*(px|pt)", sheet)  # every size is relative: @size*F@
    bigger = restyled.font()
    bigger.setPointSizeF(20)  # a user who asked the system for much larger text
    restyled.setFont(bigger)
    style.apply_style(restyled, "light")
    title, body = QLabel("Returns"), QLabel("The quarterly KPI return")
    title.setObjectName("pageTitle")
    for label in (title, body):
        qtbot.addWidget(label)
        label.ensurePolished()
    assert body.font().pointSizeF() == 20
    assert title.font().pointSizeF() == pytest.approx(20 * 1.7, abs=0.1)
    from desktop.views.kit.date_field import DateField

    field = DateField("held_on", "2026-12-15")  # sized for its text at 20 pt, not the 130 px that fits 10 pt
    qtbot.addWidget(field)
    assert field.line.maximumWidth() > field.line.fontMetrics().horizontalAdvance("15/12/2026") + 12 > 130


def test_the_dark_scheme_darkens_the_window_the_sheet_and_the_rag_tints(restyled, history_window):
    from desktop.views.returns.model import KEYS

    assert style.apply_style(restyled, "dark") is style.DARK
    assert style.colours() is style.DARK
    assert restyled.palette().color(QPalette.ColorRole.Window).lightness() < 60
    assert style.DARK.window in restyled.styleSheet() and style.LIGHT.alternate not in restyled.styleSheet()
    history_window.show_screen("returns")
    model = history_window.current_page().model
    painted = [model.index(r, KEYS.index("rag")).data(Qt.ItemDataRole.BackgroundRole) for r in range(model.rowCount())]
    assert {c.name() for c in painted if c is not None} == {c.name() for c in style.DARK.rag.values()}
    assert style.apply_style(restyled, "light") is style.LIGHT and style.colours() is style.LIGHT


def _contrast(a: str | QColor, b: str | QColor) -> float:
    """WCAG 2 contrast ratio of two colours."""

    def luminance(colour: QColor) -> float:
        def channel(v: int) -> float:
            v /= 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())

    high, low = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", [style.LIGHT, style.DARK], ids=lambda s: s.name)
def test_every_text_colour_of_a_scheme_is_readable_on_its_ground(scheme):
    c = scheme
    pairs = {
        "text on window": (c.text, c.window),
        "text on field": (c.text, c.base),
        "secondary on window": (c.secondary, c.window),
        "secondary on pale": (c.secondary, c.pale),
        "text on pale": (c.text, c.pale),
        "accent on field": (c.accent, c.base),
        "strong on field": (c.strong, c.base),
        "strong on tile": (c.strong, c.alternate),
        "white on NHS blue": (c.on_fill, c.fill),
        "white on red": (c.on_fill, c.danger_fill),
        "error on field": (c.error, c.base),
        "success on field": (c.success, c.base),
        "text on notice": (c.text, c.notice),
        "notice text on notice": (c.notice_text, c.notice),
        "overdue text": (c.overdue_text, c.overdue),
        **{f"text on RAG {k}": (c.text, tint) for k, tint in c.rag.items()},
    }
    low = {name: round(_contrast(*pair), 2) for name, pair in pairs.items() if _contrast(*pair) < 4.5}
    assert low == {}  # WCAG AA for normal text
    assert _contrast(c.muted, c.base) >= 3  # asides only (an empty worklist, a file name)


def test_settings_colours_switches_the_scheme_and_remembers_it(restyled, history_window, settings, qtbot):
    history_window.show_screen("reports")
    page = history_window.current_page()
    qtbot.waitUntil(lambda: not page.is_loading)
    page.list.setCurrentIndex(page.model.index(1, 0))
    chart = page.view.chart
    assert chart.backgroundBrush().color().name() == style.LIGHT.chart_background.lower()
    dark = next(a for a in history_window.scheme_actions.actions() if a.data() == "dark")
    assert [a.data() for a in history_window.scheme_actions.actions() if a.isChecked()] == ["system"]
    dark.trigger()
    assert settings.get("colour_scheme") == "dark" and style.colours() is style.DARK
    assert "next time it is drawn" in history_window.statusBar().currentMessage()
    page.list.setCurrentIndex(page.model.index(2, 0))  # the chart is drawn again, in the dark scheme
    assert chart.backgroundBrush().color().name() == style.DARK.chart_background.lower()
    assert chart.getAxis("left").textPen().color().name() == style.DARK.secondary.lower()
    light = next(a for a in history_window.scheme_actions.actions() if a.data() == "light")
    light.trigger()
    assert settings.get("colour_scheme") == "light" and style.colours() is style.LIGHT


@pytest.mark.parametrize("scheme", [style.LIGHT, style.DARK], ids=lambda s: s.name)
def test_the_style_sheet_of_a_scheme_is_complete_and_its_icons_exist(scheme):
    sheet = style.style_sheet((style.RESOURCES / "style.qss").read_text(encoding="utf-8"), scheme, 10)
    assert "@" not in sheet  # every token filled in
    icons = re.findall(r"url\(([^)]+)\)", sheet)
    assert len(icons) >= 2 and all(Path(icon).is_file() for icon in icons)


def test_system_follows_the_desktops_colour_scheme_and_a_choice_overrides_it():
    class Desktop:  # what QStyleHints reports (the offscreen platform used by tests has no scheme of its own)
        def __init__(self, scheme):
            self.scheme = scheme

        def styleHints(self):
            return self

        def colorScheme(self):
            return self.scheme

    dark, light, unknown = Desktop(Qt.ColorScheme.Dark), Desktop(Qt.ColorScheme.Light), Desktop(Qt.ColorScheme.Unknown)
    assert [style.wanted_scheme("system", d) for d in (dark, light, unknown)] == [style.DARK, style.LIGHT, style.LIGHT]
    assert style.wanted_scheme("light", dark) is style.LIGHT and style.wanted_scheme("dark", light) is style.DARK
