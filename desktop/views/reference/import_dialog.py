"""Reference data → Update from NHS files…: the preview of what the ODS files would change, then Apply or Cancel.

The preview is built from the Plan's own lists (every field holding a list of records is a section, in the order
below when known, else in the Plan's order), so a section the domain adds later shows without a change here.
Records the team's work refers to are listed first and flagged: they are kept, never dropped. A new PCN or
practice whose locality is a guess says "to confirm", since locality membership is the team's choice.

Reading and planning run off the GUI thread (operations.plan_update); the dialog opens only once the plan is
there, so a refused file is one plain message and no dialog. Apply writes the very plan shown, as one audited
step that Edit → Undo takes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...models.reference_import import Plan
from ...models.reference_import.plan import TO_CONFIRM
from ..kit import formats, messages
from ..kit.field_help import help_label
from ..kit.session import Session
from ..kit.table_model import SORT_ROLE, Column, RecordsModel
from ..kit.tables import list_table
from ..kit.widgets import button_bar
from . import operations

FILE_FILTER = "NHS files (*.csv *.xlsx *.xls *.xlsm *.ods);;All files (*)"
REFERRED = "referenced"
# Lists the Plan derives (properties, not fields) that need the team's eye: shown first.
FLAGGED = (REFERRED, "homes_with_residents")
# Section titles by Plan field; a field not named here is titled from its name.
TITLES = {
    REFERRED: "Kept: the team's work refers to them",
    "homes_with_residents": "Deregistered homes with residents (kept)",
    "new_pcns": "New PCNs",
    "new_practices": "New practices",
    "renamed_pcns": "Renamed PCNs",
    "renamed": "Renamed practices",
    "moved": "Moved to another PCN",
    "changed": "Postcode changed",
    "closed": "Closed or left the area (kept)",
    "not_in_file": "Not in the NHS file (kept)",
    "to_close": "Marked closed",
    "new_homes": "New care homes",
    "changed_homes": "Care homes changed",
    "deregistered_homes": "Deregistered care homes (kept)",
}
HEADINGS = {
    "code": "Code",
    "name": "Name",
    "postcode": "Postcode",
    "pcn": "PCN",
    "locality": "Locality",
    "basis": "Locality from",
    "before": "Before",
    "after": "After",
    "patients": "Patients",
    "on_caseload": "On caseload",
    "care_homes": "Care homes aligned",
    "why": "Why",
    "other_locality": "PCN of another locality",
    "check": "Check",
    "changes": "Changes",
    "residents": "Residents",
}
# Identifiers that mean nothing to a reader.
HIDDEN = {"id"}
# What a kept record's team work is counted in; any of them non-zero flags the record.
REFERENCE_COUNTS = ("patients", "on_caseload", "care_homes", "residents")
AREA_WORDS = {"pcns": "PCNs", "homes": "care homes"}


def sections(planned: Plan) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(key, title, records) for every non-empty list of records the plan holds, the flagged ones first."""
    found = [(name, list(getattr(planned, name, None) or [])) for name in FLAGGED]
    for f in fields(planned):
        value = getattr(planned, f.name)
        if isinstance(value, list) and value and all(isinstance(r, dict) for r in value):
            found.append((f.name, value))
    order = list(TITLES)
    found.sort(key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    return [(key, TITLES.get(key) or _words(key).capitalize(), rows) for key, rows in found if rows]


def summary(planned: Plan) -> str:
    held = [
        f"{value:,} {AREA_WORDS.get(name, _words(name))}"
        for f in fields(planned)
        if f.name.endswith("_in_area") and isinstance(value := getattr(planned, f.name), int) and value
        for name in [f.name.removesuffix("_in_area")]
    ]
    area = f"commissioner codes {', '.join(planned.commissioners)}"
    if authorities := getattr(planned, "local_authorities", ()):
        area += f"; local authorities {', '.join(authorities)}"
    lines = [f"The files hold {_and(held) or 'nothing'} for the area this workspace covers ({area})."]
    counts = [f"{n:,} {what}" for what, n in planned.counts().items() if n]
    lines.append(("Would change: " + "; ".join(counts) + ".") if counts else "Nothing would change.")
    guesses = sum(1 for _, _, rows in sections(planned) for r in rows if r.get("basis") == TO_CONFIRM)
    if guesses:
        lines.append(
            f"{formats.count(guesses, 'new record')} take a locality guessed from the CCG area, marked “to confirm”: "
            "check them on the PCNs and Practices screens after applying."
        )
    if planned.skipped:
        left = "; ".join(f"{n:,} {reason}" for reason, n in planned.skipped.items())
        lines.append(f"Left out of the area's rows: {left}.")
    return "\n".join(lines)


def _and(parts: list[str]) -> str:
    return " and ".join([", ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else "".join(parts)


def _words(key: str) -> str:
    return key.replace("_", " ")


def _change(value: Any) -> str:
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{value[0] or '—'} → {value[1] or '—'}"
    return str(value)


def writes(planned: Plan) -> bool:
    """Whether Apply has anything to write: a change, or the area's codes to remember (store_…)."""
    return planned.writes or any(getattr(planned, f.name) for f in fields(planned) if f.name.startswith("store_"))


def _shown(row: dict[str, Any], number: int) -> dict[str, Any]:
    """A record as the table shows it: plain words for flags and lists, and what needs the team's eye."""
    out: dict[str, Any] = {"id": number}
    for key, value in row.items():
        if key in HIDDEN or key.endswith("_id"):
            continue
        if isinstance(value, bool):
            value = "yes" if value else ""
        elif isinstance(value, list | tuple | set):
            value = ", ".join(map(str, value))
        elif isinstance(value, dict):
            value = "; ".join(f"{_words(k)}: {_change(v)}" for k, v in value.items())
        out[key] = value
    # A guessed locality already says "to confirm" in its Locality from column.
    check = []
    if any(row.get(k) for k in REFERENCE_COUNTS):
        check.append("⚠ in use: kept")
    if row.get("other_locality"):
        check.append("PCN in another locality")
    out["check"] = "; ".join(check)
    return out


def _table(key: str, title: str, rows: list[dict[str, Any]], parent: QWidget) -> QTableView:
    shown = [_shown(r, n) for n, r in enumerate(rows)]
    keys = [k for k in dict.fromkeys(k for r in shown for k in r) if k != "id"]
    if not any(r["check"] for r in shown):
        keys.remove("check")
    model = RecordsModel([Column(k, HEADINGS.get(k) or _words(k).capitalize()) for k in keys], parent)
    model.set_rows(shown)
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    table = list_table(proxy, f"preview_{key}", [])
    table.setAccessibleName(title)
    table.setSortingEnabled(True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the plan's own order until a heading is clicked
    table.resizeColumnsToContents()
    table.source_model = model  # tests and the screenshot read the rows shown
    return table


class ReferenceUpdateDialog(QDialog):
    """The preview of one planned update; `applied` is set once Apply has written it."""

    def __init__(self, session: Session, planned: Plan, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.planned = planned
        self.applied = False
        self.setWindowTitle("Update reference data from NHS files")
        self.setObjectName("referenceUpdateDialog")
        self.setWindowModality(Qt.WindowModality.ApplicationModal)  # the plan must still hold when applied
        self.resize(1100, 620)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        heading = QLabel("Update reference data from NHS files")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        files = QLabel(" · ".join(planned.files))
        files.setObjectName("muted")
        files.setWordWrap(True)
        layout.addWidget(files)
        self.summary = help_label(summary(planned))
        layout.addWidget(self.summary)
        intro = help_label(
            "A preview: nothing has been written yet. Records are matched by their NHS code, so a renamed practice "
            "stays the same practice. Nothing is ever deleted, and a practice or PCN you already have keeps its "
            "locality. Apply writes it all as one step, which Edit → Undo takes back."
        )
        layout.addWidget(intro)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("previewSections")
        self.sections: dict[str, QTableView] = {}
        for key, title, rows in sections(planned):
            table = _table(key, title, rows, self)
            self.sections[key] = table
            self.tabs.addTab(table, f"{title} ({len(rows):,})")
        if self.sections:
            layout.addWidget(self.tabs, 1)
        else:
            self.tabs.hide()
            layout.addStretch(1)

        buttons = button_bar()
        buttons.addStretch(1)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setProperty("primary", True)
        self.apply_button.setToolTip("Write these changes to the workspace, as one step Edit → Undo takes back")
        self.apply_button.clicked.connect(self.apply)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Close without writing anything")
        self.cancel_button.clicked.connect(self.reject)
        if not writes(planned):
            self.apply_button.setEnabled(False)
            self.apply_button.setToolTip("The workspace already matches these files")
            self.cancel_button.setText("Close")
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        (self.apply_button if self.apply_button.isEnabled() else self.cancel_button).setDefault(True)

    def rows(self, key: str) -> list[dict[str, Any]]:
        """The records a section shows (empty when the plan has none)."""
        table = self.sections.get(key)
        return table.source_model.records() if table is not None else []

    def apply(self) -> None:
        with messages.reported(self, "Reference data not updated") as failed:
            operations.apply_update(self.session, self.planned)
        if failed:
            return
        self.applied = True
        counts = [f"{n:,} {what}" for what, n in self.planned.counts().items() if n]
        messages.show_status(
            self.parentWidget() or self,
            "Reference data updated from the NHS files"
            + (f": {'; '.join(counts)}" if counts else "")
            + ". Edit → Undo takes it back.",
            20_000,
        )
        self.accept()


def update_from_nhs_files(
    parent: QWidget, session: Session, opened: Callable[[ReferenceUpdateDialog], None] | None = None
) -> None:
    """Ask for the files, plan off the GUI thread, then open the preview (handed to *opened*); a refused file is
    shown as the plain message the domain words, and nothing is written."""
    files, _ = QFileDialog.getOpenFileNames(
        parent,
        "Choose the NHS files (epraccur .csv and ePCN .xlsx)",
        str(session.path.parent),
        FILE_FILTER,
    )
    if not files:
        return

    def planned(plan: Plan) -> None:
        dialog = ReferenceUpdateDialog(session, plan, parent)
        dialog.finished.connect(dialog.deleteLater)
        if opened is not None:
            opened(dialog)
        dialog.open()

    operations.plan_update(
        parent,
        session,
        list(files),
        planned,
        lambda exc: messages.show_error(parent, "Reference data not updated", exc),
    )
