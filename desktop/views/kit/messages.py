"""The few message boxes the app shows, and its status-bar notes, in one place so they stay consistent.

Tests replace these functions (or QMessageBox.warning) with monkeypatch, since a modal box would block.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from ...models.errors import DeskError, StorageUnavailable, ValidationError
from ...models.progress import Cancelled

NOTHING_WRITTEN = "Nothing was written: the workspace is as it was."


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


def show_error(parent: QWidget | None, title: str, exc: BaseException) -> None:
    """Show a failure by its kind, worded in one place (STYLE practice 5, the two error tiers):

    - Cancelled: a note in the status bar; the job rolled back.
    - storage failure (StorageUnavailable): the workspace could not be read or written.
    - refused input (any other DeskError): its message already says what was wrong and what to do.
    - a file the system would not read or write (OSError).
    - anything else is a bug: it goes to the crash handler (sys.excepthook) with its traceback.
    """
    if isinstance(exc, Cancelled):
        if parent is not None:
            show_status(parent, f"{title}: cancelled. Nothing was changed.")
    elif isinstance(exc, StorageUnavailable) and not isinstance(exc, ValidationError):
        warn(parent, title, f"{exc}\n\n{NOTHING_WRITTEN}")
    elif isinstance(exc, DeskError):
        warn(parent, title, str(exc))
    elif isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        warn(
            parent,
            title,
            f"{exc.strerror or exc}{where}\n\nIs the file open in another program? Close it there, or choose "
            "another name or folder.",
        )
    else:
        sys.excepthook(type(exc), exc, exc.__traceback__)


class Failure:
    """What `reported` caught: false while nothing went wrong, so `if failed: return` reads naturally."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextmanager
def reported(parent: QWidget | None, title: str) -> Iterator[Failure]:
    """Run a step and show what stopped it by its kind (show_error); bugs still propagate to the crash handler.

    with messages.reported(self, "Not signed off") as failed:
        changes = returns.sign_off(...)
    if failed:
        return
    """
    failure = Failure()
    try:
        yield failure
    except (DeskError, OSError) as exc:
        failure.error = exc
        show_error(parent, title, exc)
