"""Saving a PDF: ask where, remember the folder, write it, say what went wrong in words, and offer to open it.
The warning before, and the report itself, are the caller's.

`export_pdf` writes off the GUI thread as a task (desktop.views.kit.tasks), with a progress dialog whose Cancel
the report builders honour."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from ...models.progress import CancelCheck, Progress
from ...settings import Settings
from . import messages, output_guard
from .tasks import start_task

CLOSE = "Close"
PdfJob = Callable[[sqlite_utils.Database, Progress, CancelCheck, Path], Any]


def _capital(noun: str) -> str:
    return f"{noun[0].upper()}{noun[1:]}"


def choose_pdf(parent: QWidget, settings: Settings | None, noun: str, file_name: str) -> Path | None:
    """Ask for a file, suggesting *file_name* in the last export folder, and remember its folder; None when
    the user cancels."""
    folder = settings.state("export_directory") if settings else ""
    suggested = str(Path(folder or Path.home()) / file_name)
    name, _ = QFileDialog.getSaveFileName(parent, f"Save the {noun}", suggested, "PDF document (*.pdf)")
    if not name:
        return None
    out = Path(name) if name.lower().endswith(".pdf") else Path(name + ".pdf")
    if settings:
        settings.set_state("export_directory", str(out.parent))
    return out


def not_written(parent: QWidget, noun: str, out: Path, exc: BaseException) -> None:
    """Why the PDF was not written: a file the system refused is named with what to do (a PDF viewer holding
    it is the usual cause); anything else is shown by its kind."""
    if isinstance(exc, OSError):
        messages.not_written(parent, exc, out, "a PDF viewer", f"Cannot write the {noun}")
    else:
        messages.show_error(parent, f"Cannot export the {noun}", exc)


def saved(parent: QWidget, noun: str, out: Path, open_label: str) -> None:
    """Say where the PDF is, and open it if the user asks, with a button labelled *open_label*."""
    messages.show_status(parent, f"{_capital(noun)} saved to {out}.")
    text = f"The {noun} is saved as {out.name} in {out.parent}."
    if messages.ask(parent, f"{_capital(noun)} saved", text, [open_label, CLOSE]) == open_label:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(out)))


def export_pdf(
    parent: QWidget,
    settings: Settings | None,
    noun: str,
    file_name: str,
    title: str,
    path: Path,
    job: PdfJob,
    open_label: str,
    done: Callable[[Path, Any], None] | None = None,
) -> Path | None:
    """Ask for a file, then write it off the GUI thread: *job(db, progress, cancel, out)* runs as a task titled
    *title* on its own connection to the workspace at *path*. When it is done the user hears where the PDF is
    and may open it, then *done(out, result)* runs; a failure is explained, and a Cancel noted in the status
    bar (the builders leave no partial file). Returns the file chosen, written later, or None."""
    out = choose_pdf(parent, settings, noun, file_name)
    if out is None or not output_guard.allowed(parent, out, path):
        return None

    def finished(result: Any) -> None:
        saved(parent, noun, out, open_label)
        if done is not None:
            done(out, result)

    start_task(
        parent,
        title,
        path,
        lambda db, progress, cancel: job(db, progress, cancel, out),
        finished,
        failed=lambda exc: not_written(parent, noun, out, exc),
        failure_title=f"Cannot export the {noun}",
    )
    return out
