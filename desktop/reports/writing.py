"""Writing a report's PDF so that an export is whole or absent (STYLE practice 6): the PDF is laid out into a
temporary file next to the one asked for and moved into place in the transaction that audits it, so a cancelled
or failed export leaves no partial PDF, no audit entry, and never clobbers an earlier report of the same name.

Each builder takes the `progress`/`cancel` pair of desktop.models.progress (no-ops by default, as the CLI passes
nothing), checks `cancel` between its sections, charts and pages, and says which section it is on."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from ..models import audit
from ..models.clock import Actor
from ..models.progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress

# Where the layout starts and ends on the progress bar: gathering the figures and building the story come first.
LAYOUT_FROM, LAYOUT_TO = 0.7, 0.97


class PartFile:
    """The temporary file a PDF is written to; `keep()` moves it to the file asked for."""

    def __init__(self, out: Path):
        self.out = out
        # Beside the target, so the move is a rename on one volume; hidden, unique so two exports never meet, and
        # named as desktop.models.outputs names its partial files, so one a killed export left is cleaned up.
        self.path = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
        self.kept = False

    def keep(self) -> None:
        os.replace(self.path, self.out)
        self.kept = True


@contextmanager
def part_file(out: Path) -> Iterator[PartFile]:
    """A PartFile for *out*, deleted on the way out unless it was kept."""
    part = PartFile(out)
    try:
        yield part
    except OSError as exc:
        if exc.filename == str(part.path):  # say which file the user asked for, not the temporary one
            exc.filename = str(out)
        raise
    finally:
        if not part.kept:
            part.path.unlink(missing_ok=True)


def record_export(
    db: sqlite_utils.Database,
    part: PartFile,
    actor: Actor,
    table: str,
    row_id: str | None,
    summary: str,
    detail: dict[str, Any],
    progress: Progress,
    cancel: CancelCheck,
) -> None:
    """Audit the export and move the PDF into place, both or neither: a Cancel pressed up to here, or a file that
    cannot be moved (open in a PDF viewer on Windows), rolls the audit entry back."""
    progress(0.98, "Recording the export in the audit trail…")
    with db.atomic():
        check_cancel(cancel)
        audit.record(db, actor, "export", table, row_id, summary, detail)
        part.keep()


def layout_progress(
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    start: float = LAYOUT_FROM,
    end: float = LAYOUT_TO,
) -> Callable[[str, int], None]:
    """A reportlab progress callback (DocTemplate.setProgressCallBack) for the layout, which comes without
    checks of its own: Cancel is checked after every flowable and at every new page, and each page is reported."""
    seen = {"flowables": 1, "done": 0}

    def on_progress(kind: str, value: int) -> None:
        if kind == "SIZE_EST":
            seen["flowables"] = max(value, 1)
        elif kind == "PROGRESS":
            # reportlab counts what is left, and a flowable split over pages adds pieces: never report going back.
            seen["done"] = max(seen["done"], value)
            check_cancel(cancel)
        elif kind == "PAGE":
            check_cancel(cancel)  # a long table is one flowable over many pages
            progress(start + (end - start) * seen["done"] / seen["flowables"], f"Laying out page {value}…")

    return on_progress


def stage(progress: Progress, cancel: CancelCheck, fraction: float, message: str) -> None:
    """Between two sections: stop if Cancel was pressed, else say what comes next."""
    check_cancel(cancel)
    progress(fraction, message)
