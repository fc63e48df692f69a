"""At a large system font (20 pt in a 1400×900 window) every button of every screen is whole and on screen: the
button bars wrap onto a second row (kit.flow_layout) rather than squeeze their buttons or push them off the page."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QPushButton,
    QTabBar,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.views.kit.flow_layout import FlowLayout
from desktop.views.kit.style import apply_style
from desktop.views.kit.widgets import STRETCH, button_bar
from desktop.views.shell.screens import SCREENS

SIZE = QSize(1400, 900)


@pytest.fixture
def large_font(styled_app):
    """The application at 20 pt, as for a user who asked the system for large text; put back afterwards."""
    before = QFont(styled_app.font())
    large = QFont(before)
    large.setPointSizeF(20)
    styled_app.setFont(large)
    apply_style(styled_app)  # the style sheet's sizes follow the application's font
    yield
    styled_app.setFont(before)
    apply_style(styled_app)


def cut_off(page: QWidget, window: QWidget) -> list[str]:
    """Each visible button of *page* that is narrower than its text needs, clipped by a widget it sits in, or off
    the window. What a scroll area holds need only be inside what it scrolls: scrolling shows it."""
    problems = []
    screen = QRect(QPoint(0, 0), SIZE)
    for button in page.findChildren(QAbstractButton):
        if not button.isVisible() or isinstance(button.parentWidget(), QTabBar):  # the tab bar's own arrows
            continue
        name = f"{page.screen.key}: {button.text() or button.toolTip() or button.objectName()!r}"
        if button.width() < button.minimumSizeHint().width():
            problems.append(f"{name} squeezed to {button.width()} of {button.minimumSizeHint().width()} px")
            continue
        rect = QRect(button.mapTo(window, QPoint(0, 0)), button.size())
        holder = button.parentWidget()
        while holder is not None and holder is not window:
            scroller = holder.parentWidget()
            if isinstance(scroller, QAbstractScrollArea) and holder is scroller.viewport():
                break
            if not QRect(holder.mapTo(window, QPoint(0, 0)), holder.size()).contains(rect):
                problems.append(f"{name} cut off by {type(holder).__name__} {holder.objectName()!r}")
                break
            holder = holder.parentWidget()
        else:  # not in a scroll area
            if not screen.contains(rect):
                problems.append(f"{name} off the window at {rect.getRect()}")
    return problems


def test_every_screen_shows_its_buttons_whole_at_20_points(large_font, history_window, qtbot):
    window = history_window
    window.resize(SIZE)
    problems = []
    for screen in SCREENS:
        window.show_screen(screen.key)
        page = window.current_page()
        qtbot.waitUntil(lambda p=page: p.isVisible() and not p.stale)
        qtbot.wait(1)
        problems += cut_off(page, window)
        for tabs in page.findChildren(QTabWidget):  # each tab of the page's own tab widgets too
            if tabs.isVisible():
                for number in range(1, tabs.count()):
                    tabs.setCurrentIndex(number)
                    qtbot.wait(1)  # the layouts the tab's change asked for
                    problems += cut_off(page, window)
                tabs.setCurrentIndex(0)
    assert window.size() == SIZE
    assert not problems, "\n".join(problems)


def test_a_bar_wraps_and_takes_the_height_of_its_rows(qtbot):
    """The wrapped row gets its room (heightForWidth), stretches keep buttons at the right end while the row
    fits, and Tab goes left to right, row by row."""
    holder = QWidget()
    qtbot.addWidget(holder)
    buttons = [QPushButton(f"Button number {n}") for n in range(4)]
    below = QLabel("Under the bar")
    box = QVBoxLayout(holder)
    bar = button_bar(buttons[0], STRETCH, *buttons[1:])
    box.addLayout(bar)
    box.addWidget(below)
    box.addStretch(1)
    holder.resize(2000, 400)
    holder.show()
    qtbot.waitExposed(holder)
    assert len({b.y() for b in buttons}) == 1
    assert buttons[-1].geometry().right() == holder.contentsRect().right() - box.contentsMargins().right()
    one_row = bar.geometry().height()

    narrow = buttons[0].sizeHint().width() * 2 + 40
    holder.resize(narrow, 400)
    box.activate()
    assert isinstance(bar, FlowLayout)
    assert len({b.y() for b in buttons}) >= 2
    assert bar.geometry().height() > one_row
    assert below.y() >= max(b.geometry().bottom() for b in buttons)
    for button in buttons:
        assert holder.rect().contains(button.geometry())
        assert button.width() >= button.minimumSizeHint().width()
    order = [buttons[0]]
    while len(order) < len(buttons):
        order.append(order[-1].nextInFocusChain())
    assert order == buttons
