"""What a screen reader can name: the accessible-name rules the accessibility tests and the dialogs' tests share."""

from __future__ import annotations

import re
from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QGraphicsView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
    QTextEdit,
    QGraphicsView,
)  # the charts: pyqtgraph's PlotWidget is one


def accessible_name(widget: QWidget) -> str:
    """What Qt's accessibility gives a screen reader as the name: the widget's own, a button's text, or as Qt
    looks for one, the text of a label beside it (same parent) whose buddy it is (QFormLayout.addRow makes its
    label the field's buddy) or the title of the group box it is in."""
    if widget.accessibleName().strip():
        return widget.accessibleName()
    if isinstance(widget, QAbstractButton) and widget.text().replace("&", "").strip():
        return widget.text()
    parent = widget.parentWidget()
    for label in parent.findChildren(QLabel, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if label.buddy() is widget and label.text().strip():
            return label.text()
    if isinstance(parent, QGroupBox):
        return parent.title()
    return ""


def reachable(root: QWidget) -> list[QWidget]:
    """The visible controls and charts of *root* (Qt's own parts of a control, such as a table's header or a spin
    box's inner line, are named with the control)."""
    found = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or not widget.isVisible() or isinstance(widget, QHeaderView):
            continue
        if widget.objectName().startswith("qt_") or isinstance(widget.parentWidget(), QAbstractSpinBox | QComboBox):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus and not isinstance(widget, QAbstractItemView | QGraphicsView):
            continue
        found.append(widget)
    return found


def unnamed(root: QWidget) -> list[str]:
    return [
        f"{type(w).__name__} {w.objectName() or '(no object name)'} in {type(w.parentWidget()).__name__}"
        for w in reachable(root)
        if not accessible_name(w)
    ]


def alt_letters(window: QWidget) -> Counter:
    """Alt+letter of every visible menu title, button, buddy label and tab: what the user can press now."""
    texts = [action.text() for action in window.menuBar().actions() if action.isVisible()]
    texts += [w.text() for w in window.findChildren(QAbstractButton) if w.isVisible()]
    texts += [w.text() for w in window.findChildren(QLabel) if w.isVisible() and w.buddy() is not None]
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            texts += [bar.tabText(i) for i in range(bar.count())]
    return Counter(m.group(1).upper() for t in texts if (m := re.search(r"&([^&\s])", t.replace("&&", ""))))
