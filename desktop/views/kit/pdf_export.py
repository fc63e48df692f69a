"""Saving a patient-identifiable PDF: ask where, remember the folder, write it under a busy cursor, say what
went wrong in words, and offer to open it. The warning before, and the report itself, are the caller's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from ...models.errors import DeskError
from ...settings import Settings
from . import messages

CLOSE = "Close"


def save_pdf(
    parent: QWidget,
    settings: Settings | None,
    noun: str,
    file_name: str,
    write: Callable[[Path], object],
    open_label: str,
) -> Path | None:
    """Ask for a file (suggesting *file_name* in the last export folder), run *write(path)*, then offer to
    open it with a button labelled *open_label*. Returns the path written, or None."""
    folder = settings.state("export_directory") if settings else ""
    suggested = str(Path(folder or Path.home()) / file_name)
    name, _ = QFileDialog.getSaveFileName(parent, f"Save the {noun}", suggested, "PDF document (*.pdf)")
    if not name:
        return None
    out = Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf")
    if settings:
        settings.set_state("export_directory", str(out.parent))
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        write(out)
    except OSError as exc:
        QApplication.restoreOverrideCursor()
        messages.not_written(parent, exc, out, "a PDF viewer", f"Cannot write the {noun}")
        return None
    except DeskError as exc:
        QApplication.restoreOverrideCursor()
        messages.warn(parent, f"Cannot export the {noun}", str(exc))
        return None
    QApplication.restoreOverrideCursor()
    messages.show_status(parent, f"{noun[0].upper()}{noun[1:]} saved to {out}.")
    if (
        messages.ask(
            parent,
            f"{noun[0].upper()}{noun[1:]} saved",
            f"The {noun} is saved as {out.name} in {out.parent}.",
            [open_label, CLOSE],
        )
        == open_label
    ):
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))
    return out
