"""The few message boxes the app shows, and its status-bar notes, in one place so they stay consistent.

Tests replace these functions (or QMessageBox.warning) with monkeypatch, since a modal box would block.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """An expected problem (a DeskError's message): say what happened and what to do next."""
    QMessageBox.warning(parent, title, text)


def not_written(
    parent: QWidget | None, exc: OSError, out, held_by: str = "Excel", title: str = "Cannot write the file"
) -> None:
    """An export the system refused to write: most often the file is open in *held_by*, which locks it."""
    warn(
        parent,
        title,
        f"{exc.strerror or exc}: {out}\n\nIs it open in {held_by}? Close it there, or choose another name or folder.",
    )


def inform(parent: QWidget | None, title: str, text: str) -> None:
    """Something went as asked and the user should know where things are now."""
    QMessageBox.information(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str, action: str) -> bool:
    """Ask before a destructive step; Cancel is the default so Enter never destroys anything."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is go


def ask(parent: QWidget | None, title: str, text: str, options: list[str]) -> str | None:
    """Let the user pick one of *options* (the first is the default); None when the box is closed."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    buttons = {box.addButton(label, QMessageBox.ButtonRole.AcceptRole): label for label in options}
    box.setDefaultButton(next(iter(buttons)))
    box.exec()
    return buttons.get(box.clickedButton())


def show_status(widget: QWidget, text: str, ms: int = 10_000) -> None:
    """A passing note in the status bar of *widget*'s window ("Outcome saved."), when it has one."""
    window = widget.window()
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(text, ms)
