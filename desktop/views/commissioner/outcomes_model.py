"""What the commissioner import did, or would do, with each return file (DESIGN §10, REFERENCE §5.6): one row
per file with its outcome, the stable code and reason of a rejection, and the return it holds. Rejected files
are listed first, so the ones that need a word with a team are never below the fold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt

from ...models.kpi.return_import import CODES, Outcome
from ..kit.style import colours
from ..kit.table_model import Column, Index, RowsModel

COLUMNS = tuple(
    Column(heading.lower(), heading)
    for heading in ("File", "Outcome", "Code", "Reason", "Locality", "Period", "Revision")
)
ORDER = {"rejected": 0, "superseded": 1, "imported": 2, "ignored": 3}
PLANNED = {
    "imported": "Would be imported",
    "superseded": "Would supersede",
    "ignored": "Ignored",
    "rejected": "Rejected",
}
DONE = {"imported": "Imported", "superseded": "Superseded", "ignored": "Ignored", "rejected": "Rejected"}
NOTE = {
    "imported": "A new return for this team and quarter.",
    "superseded": "A later revision: it replaces the one held.",
    "ignored": "Identical to the return already held: nothing changes.",
}


def summary(outcomes: Sequence[Outcome], dry_run: bool) -> str:
    """ "40 would be imported, 2 superseded, 1 ignored, 1 rejected" (without "would be" once done)."""
    counts = Counter(o.status for o in outcomes)
    parts = [f"{counts[s]} {s}" for s in ("imported", "superseded", "ignored", "rejected") if counts[s]]
    if not parts:
        return "No files."
    if dry_run and parts[0].split()[1] in ("imported", "superseded", "ignored"):
        parts[0] = parts[0].replace(" ", " would be ", 1)
    return ", ".join(parts)


class OutcomesModel(RowsModel):
    def __init__(self, parent=None):
        super().__init__(COLUMNS, parent)
        self.dry_run = True

    def set_outcomes(self, outcomes: Sequence[Outcome], dry_run: bool) -> None:
        with self.resetting():
            self._rows = sorted(outcomes, key=lambda o: ORDER.get(o.status, 9))  # stable: files keep their order
            self.dry_run = dry_run

    def outcome(self, row: int) -> Outcome:
        return self.record(row)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        o = self.outcome(index.row())
        key = self.key(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(o, key)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "file":
                return o.file
            if key == "code" and o.code:
                return CODES.get(o.code, o.code)
            if key == "reason":
                return self._text(o, key)
        if role == Qt.ItemDataRole.BackgroundRole and o.status == "rejected" and key in ("outcome", "code"):
            return colours().rag["R"]
        return None

    def _text(self, o: Outcome, key: str) -> str:
        if key == "file":
            return Path(o.file).name
        if key == "outcome":
            return (PLANNED if self.dry_run else DONE).get(o.status, o.status)
        if key == "code":
            return o.code or ""
        if key == "reason":
            return o.reason or NOTE.get(o.status, "")
        if key == "locality":
            return o.locality or ""
        if key == "period":
            return o.period or ""
        return "" if o.revision is None else str(o.revision)
