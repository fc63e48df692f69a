"""Edit → Undo and Redo, named for the step each would take (the session's UndoStack, desktop/models/undo.py).

Text fields keep Ctrl+Z: a focused QLineEdit or QTextEdit claims its own undo keys (Qt's ShortcutOverride) before
a window shortcut sees them, so the keys undo data only when the focus is not in a text field; choosing the menu
item always undoes data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from ..kit import messages

if TYPE_CHECKING:
    from .main_window import MainWindow


class EditMenu:
    def __init__(self, window: MainWindow, menu: QMenu):
        self.window = window
        self.undo_action = self._add(menu, QKeySequence.StandardKey.Undo, lambda: self._take("undo"))
        self.redo_action = self._add(menu, QKeySequence.StandardKey.Redo, lambda: self._take("redo"))
        menu.aboutToShow.connect(self.refresh)
        self.refresh()

    def _add(self, menu: QMenu, keys: QKeySequence.StandardKey, slot) -> QAction:
        action = QAction(self.window)
        action.setShortcuts(keys)  # every platform binding: Ctrl+Shift+Z and Ctrl+Y both redo on Windows
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def refresh(self) -> None:
        """Name the steps on offer, or disable the items when there are none (after each op and on opening)."""
        session = self.window.session
        status = session.undo.undo_status() if session is not None else None
        for action, verb, name in (
            (self.undo_action, "Undo", status and status.undo),
            (self.redo_action, "Redo", status and status.redo),
        ):
            action.setText(f"&{verb} {name.replace('&', '&&')}" if name else f"&{verb}")
            action.setEnabled(bool(name))

    def _take(self, verb: str) -> None:
        session = self.window.session
        with messages.reported(self.window, f"Nothing was {verb}ne") as failed:
            name, changes = getattr(session.undo, verb)(session.db, session.actor)
        if failed:  # changed since (the step is dropped), or storage trouble: nothing was written
            self.refresh()
            return
        session.publish(changes)  # the views reload; the main window refreshes this menu on the same signal
        self.refresh()
        messages.show_status(self.window, f"{verb.capitalize()}ne: {name}")
