"""At a large system font (20 pt) the forms and the patient panel are whole: no field, hint or button is drawn
over another, a hint that wraps gets the lines it needs, and no button is squeezed until its text is cut (the date
field's Calendar)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QWidget,
)
from test_large_fonts import SIZE, large_font  # noqa: F401  (the fixture, used by name)

from desktop.views.kit.date_field import DateField

pytestmark = pytest.mark.usefixtures("large_font")
SEEN = (QLabel, QAbstractButton, QLineEdit, QComboBox, QPlainTextEdit, QAbstractItemView)


def _open(qtbot, trigger) -> QDialog:
    trigger()
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog))
    dialog = QApplication.activeModalWidget()
    qtbot.waitExposed(dialog)
    qtbot.wait(1)  # the layouts the first show asked for
    return dialog


def _shown_part(widget: QWidget, window: QWidget) -> QRect:
    """What of *widget* can be seen in *window*: its rectangle less what the widgets it sits in cut off."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    holder = widget.parentWidget()
    while holder is not None and holder is not window:
        rect &= QRect(holder.mapTo(window, QPoint(0, 0)), holder.size())
        holder = holder.parentWidget()
    return rect


def crowded(area: QWidget) -> list[str]:
    """Each pair of visible labels, fields and buttons in *area* drawn over one another, each wrapped text shorter
    than its lines and each button narrower than its text."""
    window = area.window()
    shown = [
        w
        for w in area.findChildren(QWidget)
        if isinstance(w, SEEN) and w.isVisible() and w.window() is window and not _inside_another(w)
    ]
    parts = {w: _shown_part(w, window) for w in shown}
    problems = []
    for number, one in enumerate(shown):
        for other in shown[number + 1 :]:
            if parts[one].intersects(parts[other]):
                problems.append(f"{_name(one)} and {_name(other)} overlap")
        if isinstance(one, QLabel) and one.wordWrap() and one.height() < one.heightForWidth(one.width()):
            problems.append(f"{_name(one)} has {one.height()} of the {one.heightForWidth(one.width())} px it needs")
        if isinstance(one, QAbstractButton) and one.text() and one.width() < one.minimumSizeHint().width():
            problems.append(f"{_name(one)} squeezed to {one.width()} of {one.minimumSizeHint().width()} px")
    return problems


def _inside_another(widget: QWidget) -> bool:
    # A combo's line, a table's header: part of the field they belong to.
    holder = widget.parentWidget()
    while holder is not None and not holder.isWindow():
        if isinstance(holder, SEEN):
            return True
        holder = holder.parentWidget()
    return False


def _scroll_to(widget: QWidget) -> None:
    """Scroll each scroll area *widget* sits in, the innermost first, until it is in sight."""
    holder = widget.parentWidget()
    while holder is not None:
        if isinstance(holder, QScrollArea):
            holder.ensureWidgetVisible(widget, 0, 0)
        holder = holder.parentWidget()


def _name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    return f"{type(widget).__name__} {(text or widget.accessibleName() or widget.objectName())[:30]!r}"


def _mdt(window):
    window.show_screen("mdt")
    return window.current_page()


def _care_homes(window):
    window.show_screen("care_homes")
    return window.current_page()


@pytest.mark.parametrize(
    "trigger",
    [
        lambda w: _mdt(w).actions.new_action(),
        lambda w: _mdt(w).meetings.plan_meeting(),
        lambda w: _care_homes(w).log_visit(),
    ],
    ids=["new action", "plan meeting", "log visit"],
)
def test_a_form_at_20_points_has_nothing_drawn_over_anything(history_window, qtbot, trigger):
    history_window.resize(SIZE)
    dialog = _open(qtbot, lambda: trigger(history_window))
    problems = crowded(dialog)
    dates = [d for d in dialog.findChildren(DateField) if d.isVisible()]
    assert dates
    for date in dates:  # "Calendar", not "C…r"
        button = date.button
        assert button.width() >= button.fontMetrics().horizontalAdvance(button.text()), button.accessibleName()
    assert dialog.height() <= dialog.screen().availableGeometry().height(), "taller than the screen"
    dialog.done(0)
    assert not problems, "\n".join(problems)


def test_the_patient_panel_at_20_points_shows_each_line_and_button_whole(history_window, qtbot):
    """The worklists and filters take much of the height: the patient's lines and tabs scroll in the panel rather
    than being drawn over one another, and each button can be scrolled to and seen whole."""
    history_window.resize(SIZE)
    history_window.show_screen("cohort")
    page = history_window.current_page()
    qtbot.waitUntil(lambda: page.model.rowCount() > 0)
    page.table.select_row(0)
    panel = page.panel
    qtbot.waitUntil(lambda: panel.patient is not None)
    qtbot.wait(1)
    assert panel.flag.flag_button.isVisible()
    problems = crowded(panel)
    window = history_window
    for button in panel.findChildren(QAbstractButton):
        if button.isVisible() and button.text():
            _scroll_to(button)
            whole = QRect(button.mapTo(window, QPoint(0, 0)), button.size())
            if _shown_part(button, window) != whole:
                problems.append(f"{_name(button)} cannot be seen whole")
    assert not problems, "\n".join(problems)
