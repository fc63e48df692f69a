"""The check every save dialog's answer passes before anything is written (issue 19: an export must never land on
the workspace, its -wal/-shm files, a link to it or the backups folder)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from ...models import outputs
from . import messages


def allowed(parent: QWidget | None, out: str | Path, workspace: Path, *, backup: bool = False) -> bool:
    """True when *out* may be written; otherwise the reason (and what to do) is shown and False returned.

    A name the file system itself refuses (a folder, a missing folder) is left to the writer, whose message names
    what usually holds the file (Excel, a PDF viewer); what only this check can catch is a name that reaches the
    workspace."""
    if Path(out).is_dir() or not Path(out).parent.is_dir():
        return True
    try:
        outputs.check_output(out, [workspace], backup=backup)
    except outputs.OutputRefused as exc:
        messages.show_error(parent, "Not written", exc)
        return False
    return True
