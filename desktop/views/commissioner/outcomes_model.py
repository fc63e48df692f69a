"""What the commissioner import did, or would do, with each return file (DESIGN §10, REFERENCE §5.6): one row
per file with its outcome, the stable code and reason of a rejection, and the return it holds. Rejected files
are listed first, so the ones that need a word with a team are never below the fold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ...models.kpi.return_import import CODES, Outcome
from ..kit.style import colours

Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("File", "Outcome", "Code", "Reason", "Locality", "Period", "Revision")
ORDER = {"rejected": 0, "superseded": 1, "imported": 2, "ignored": 3}
PLANNED = {"imported": "Would be imported", "superseded": "Would supersede", "ignored": "Ignored",
           "rejected": "Rejected"}
DONE = {"imported": "Imported", "superseded": "Superseded", "ignored": "Ignored", "rejected": "Rejected"}
NOTE = {"imported": "A new return for this team and quarter.",
        "superseded": "A later revision: it replaces the one held.",
        "ignored": "Identical to the return already held: nothing changes."}


def summary(outcomes: Sequence[Outcome], dry_run: bool) -> str:
    """"40 would be imported, 2 superseded, 1 ignored, 1 rejected" (without "would be" once done)."""
    counts = Counter(o.status for o in outcomes)
    parts = [f"{counts[s]} {s}" for s in ("imported", "superseded", "ignored", "rejected") if counts[s]]
    if not parts:
        return "No files."
    if dry_run and parts[0].split()[1] in ("imported", "superseded", "ignored"):
        parts[0] = parts[0].replace(" ", " would be ", 1)
    return ", ".join(parts)


class OutcomesModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.outcomes: list[Outcome] = []
        self.dry_run = True

    def set_outcomes(self, outcomes: Sequence[Outcome], dry_run: bool) -> None:
        self.beginResetModel()
        self.outcomes = sorted(outcomes, key=lambda o: ORDER.get(o.status, 9))  # stable: files keep their order
        self.dry_run = dry_run
        self.endResetModel()

    def outcome(self, row: int) -> Outcome:
        return self.outcomes[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.outcomes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        o = self.outcomes[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(o, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == "File":
                return o.file
            if column == "Code" and o.code:
                return CODES.get(o.code, o.code)
            if column == "Reason":
                return self._text(o, column)
        if role == Qt.ItemDataRole.BackgroundRole and o.status == "rejected" and column in ("Outcome", "Code"):
            return colours().rag["R"]
        return None

    def _text(self, o: Outcome, column: str) -> str:
        if column == "File":
            return Path(o.file).name
        if column == "Outcome":
            return (PLANNED if self.dry_run else DONE).get(o.status, o.status)
        if column == "Code":
            return o.code or ""
        if column == "Reason":
            return o.reason or NOTE.get(o.status, "")
        if column == "Locality":
            return o.locality or ""
        if column == "Period":
            return o.period or ""
        return "" if o.revision is None else str(o.revision)
