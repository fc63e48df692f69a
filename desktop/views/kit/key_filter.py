"""A key that does something in one widget (Delete on a list, Space on a row, Ctrl+Enter in a text box).

An event filter rather than a QShortcut: it acts whenever the widget has the key event, with no window
activation or shortcut context to get wrong, and the widget's own handling of other keys is untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget


class KeyFilter(QObject):
    def __init__(self, widget: QWidget, keys: dict[tuple[Qt.Key, Qt.KeyboardModifier], Callable[[], object]]):
        super().__init__(widget)
        self._keys = keys
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            slot = self._keys.get((Qt.Key(event.key()), modifiers))
            if slot is not None:
                slot()
                return True
        return super().eventFilter(watched, event)


def on_key(
    widget: QWidget,
    key: Qt.Key,
    slot: Callable[[], object],
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> KeyFilter:
    """Call *slot* when *key* (with exactly *modifiers*) is pressed in *widget*."""
    return KeyFilter(widget, {(key, modifiers): slot})
