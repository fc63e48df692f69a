"""What a check found (rows, valid, rejected, and why) and what an import did (the cohort by criterion, who
is new, who left, whose risk changed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...models.cohort.extract_rules import CheckedExtract, Rejection
from ...models.cohort.patient_files import MARKING
from ...models.cohort.rejections_export import suggested_name
from ...models.cohort.risk_import import ImportResult
from ...settings import Settings
from ..kit import messages, output_guard
from ..kit.session import Session
from ..kit.widgets import button_bar
from . import operations
from .import_mapping import RejectionsModel, rejections_view


def save_rejections(
    parent: QWidget,
    rejections: list[Rejection],
    extract: Path | None,
    settings: Settings,
    session: Session,
    locality: Mapping[str, Any],
) -> Path | None:
    """Ask where, then write the rejected rows as a CSV to open beside the extract and fix (never onto the
    session's workspace), marked OFFICIAL-SENSITIVE and audited; None if not saved."""
    folder = settings.state("extract_directory") or (str(extract.parent) if extract else "")
    suggested = str(Path(folder) / suggested_name(extract))
    name, _ = QFileDialog.getSaveFileName(parent, f"Save rejections as CSV ({MARKING})", suggested, "CSV files (*.csv)")
    if not name:
        return None
    out = Path(name)
    if out.suffix.lower() != ".csv":
        out = out.with_name(out.name + ".csv")
    if not output_guard.allowed(parent, out, session.path):
        return None
    with messages.reported(parent, "Cannot save the rejections") as failed:
        operations.save_rejections(session, rejections, out, locality["name"], extract.name if extract else None)
    return None if failed else out


def saved_note(count: int, path: Path) -> str:
    return (
        f"Saved {count:,} rejected {'row' if count == 1 else 'rows'} to {path.name} ({MARKING}; the save is in the "
        "audit trail)."
    )


class CheckResults(QFrame):
    """Under the import dialog's columns after Check: the counts, and the rejected rows to sort and save."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("results")
        inner = QVBoxLayout(self)
        inner.setContentsMargins(0, 6, 0, 0)
        top = button_bar()
        self.label = QLabel()
        self.label.setObjectName("resultsLabel")
        self.label.setWordWrap(True)
        top.addWidget(self.label, 1)
        self.save_button = QPushButton("Save rejections as CSV…")
        top.addWidget(self.save_button)
        inner.addLayout(top)
        self.model = RejectionsModel(self)
        self.view = rejections_view(self.model)
        inner.addWidget(self.view, 1)

    def show_checked(self, checked: CheckedExtract | None) -> bool:
        """Show what *checked* found (None: hide); True when rejected rows are listed."""
        self.setVisible(checked is not None)
        if checked is None:
            self.model.set_rows([])
            return False
        rejected = checked.rows - checked.imported
        listed = len(checked.rejections)
        if rejected:
            text = (
                f"<b>{checked.rows:,}</b> rows read: <b>{checked.imported:,}</b> can be imported, "
                f"<b>{rejected:,}</b> {'is' if rejected == 1 else 'are'} rejected (listed below). Nothing has "
                "been written yet."
            )
        else:
            text = f"<b>{checked.rows:,}</b> rows read, and every one can be imported. Nothing has been written yet."
        if listed < rejected:
            text += f" The first {listed:,} rejected rows are listed."
        self.label.setText(text)
        self.model.set_rows(checked.rejections)
        self.view.setVisible(bool(listed))
        self.save_button.setVisible(bool(listed))
        return bool(listed)


class ImportSummary(QWidget):
    def __init__(self, session: Session, locality: Mapping[str, Any], parent: QWidget | None = None):
        super().__init__(parent)
        self.session, self.locality = session, locality
        self._locality_name = locality["name"]
        self.rejections: list[Rejection] = []
        self.extract: Path | None = None
        self.settings: Settings | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        self.heading = QLabel()
        self.heading.setObjectName("dialogHeading")
        layout.addWidget(self.heading)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setWordWrap(True)
        layout.addWidget(self.subtitle)
        layout.addSpacing(6)
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(12)
        self.tiles: dict[str, QLabel] = {}
        for col, (key, caption) in enumerate(
            (
                ("total", "In the cohort"),
                ("frailty", "Frailty"),
                ("multimorbidity", "Multimorbidity"),
                ("high_cost", "High cost"),
            )
        ):
            grid.addWidget(self._tile(key, caption), 0, col)
        for col, (key, caption) in enumerate(
            (
                ("new", "New to the cohort"),
                ("left", "Left the cohort"),
                ("changed", "Risk changed"),
                ("rejected", "Rows rejected"),
            )
        ):
            grid.addWidget(self._tile(key, caption), 1, col)
        layout.addLayout(grid)
        self.detail = QLabel()
        self.detail.setObjectName("summaryDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.detail)
        self.save_button = QPushButton("Save rejections as CSV…")
        self.save_button.clicked.connect(self._save)
        layout.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.saved = QLabel()
        self.saved.setObjectName("fieldHelp")
        layout.addWidget(self.saved)
        layout.addStretch(1)

    def show_result(
        self, result: ImportResult, file_name: str, extract: Path | None = None, settings: Settings | None = None
    ) -> None:
        self.rejections, self.extract, self.settings = result.rejections, extract, settings
        self.heading.setText(f"Imported {file_name}")
        self.subtitle.setText(
            f"{result.imported:,} of {result.rows:,} rows imported for {self._locality_name}. "
            "The run is saved, the change is in the audit trail, and the Cohort screen now "
            "shows it."
        )
        values = {
            **result.cohort,
            "new": result.new,
            "left": result.left,
            "changed": result.changed,
            "rejected": result.rejected,
        }
        for key, label in self.tiles.items():
            label.setText(f"{values.get(key, 0):,}")
        notes = ["Patients may meet more than one criterion, so the three criteria add up to more than the cohort."]
        if result.new or result.left or result.changed:
            notes.append(
                "New, changed and left patients carry a tag in the cohort list; the “New this run” and "
                "“Left the cohort, still on caseload” worklists gather them. The team's own notes, "
                "case managers and care plans are kept for everyone who stays."
            )
        if result.rejected:
            notes.append(
                f"{result.rejected:,} rows were not imported. Save them as a CSV to see why, fix them in "
                "the extract, and import it again."
            )
        self.detail.setText("<p>" + "</p><p>".join(notes) + "</p>")
        self.save_button.setVisible(bool(self.rejections))

    def _save(self) -> None:
        if self.settings is not None:
            path = save_rejections(self, self.rejections, self.extract, self.settings, self.session, self.locality)
            if path is not None:
                self.saved.setText(saved_note(len(self.rejections), path))

    def _tile(self, key: str, caption: str) -> QFrame:
        frame = QFrame()
        frame.setObjectName("tile")
        inner = QVBoxLayout(frame)
        inner.setContentsMargins(14, 10, 14, 10)
        inner.setSpacing(2)
        value = QLabel("–")
        value.setObjectName("tileValue")
        value.setAccessibleName(caption)
        label = QLabel(caption)
        label.setObjectName("tileLabel")
        inner.addWidget(value)
        inner.addWidget(label)
        self.tiles[key] = value
        return frame
