"""The top of the Cohort screen: the title, the latest run in one line, the import and criteria buttons, and
the honest empty states (no extract yet; a commissioner workspace, which holds no patients)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from ..kit import formats
from ..kit.page import EmptyCard
from ..kit.style import colours
from ..kit.widgets import button_bar
from ..shell.screens import Screen

CHANGED_LINK = "changed-risk"


class CohortHeader(QWidget):
    changed_risk_requested = Signal()  # the "N with changed risk" link was followed

    def __init__(self, screen: Screen, commissioner: bool, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        top = button_bar()
        title = QLabel(screen.title)
        title.setObjectName("pageTitle")
        top.addWidget(title)
        top.addStretch(1)
        self.criteria_button = QPushButton("Criteria…")
        self.criteria_button.setToolTip(
            "The cohort criteria: eFI bands, long-term conditions, cost ratio and review intervals"
        )
        self.history_button = QPushButton("Import history…")
        self.history_button.setToolTip("This locality's extract imports; roll back the last one")
        self.import_button = QPushButton("Import risk extract…")
        self.import_button.setProperty("primary", True)
        self.import_button.setToolTip("Import the latest risk extract for this locality (Ctrl+I)")
        for button in (self.criteria_button, self.history_button, self.import_button):
            button.setEnabled(not commissioner)
            top.addWidget(button)
        layout.addLayout(top)
        self.run_label = QLabel(screen.summary)
        self.run_label.setObjectName("pageSubtitle")
        self.run_label.setWordWrap(True)
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        # The count of changed patients is a link to the Changed risk worklist, by mouse or by Tab and Enter.
        self.run_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.run_label.setOpenExternalLinks(False)
        self.run_label.linkActivated.connect(self._link)
        layout.addWidget(self.run_label)

        self.empty_card = EmptyCard(button="Import risk extract…")
        self.empty_heading, self.note, self.empty_import_button = (
            self.empty_card.heading,
            self.empty_card.body,
            self.empty_card.button,
        )
        self._screen = screen

    def show_run(self, run: Mapping[str, Any] | None, locality: Mapping[str, Any]) -> None:
        if run is None:
            self.run_label.setText(self._screen.summary)
            return
        imported = formats.date(run["imported_at"][:10])
        changed = f"<b>{run['changed']:,}</b> with changed risk"
        if run["changed"]:
            changed = f"<a href='{CHANGED_LINK}' style='color:{colours().accent}'>{changed}</a>"
        self.run_label.setText(
            f"Latest extract <b>{formats.date(run['extract_date'])}</b> · <b>{run['cohort_total']:,}</b> in the "
            f"cohort: <b>{run['new']:,}</b> new, <b>{run['left']:,}</b> left, {changed} "
            f"<span style='color:{colours().muted}'>· {run['file_name']}</span>"
        )
        self.run_label.setToolTip(
            f"Imported {imported} by {run['imported_by']}. New, left and changed compare "
            f"with the extract before this one. {run['rows']:,} rows in the file, "
            f"{run['imported']:,} imported, "
            f"{run['rejected']:,} rejected. In the cohort: {run['frailty']:,} for frailty, "
            f"{run['multimorbidity']:,} for multimorbidity, {run['high_cost']:,} for high "
            "cost (a patient may meet several)."
            + (" Choose the count of patients with changed risk to list them." if run["changed"] else "")
        )

    def _link(self, href: str) -> None:
        if href == CHANGED_LINK:
            self.changed_risk_requested.emit()

    def show_empty(self, commissioner: bool, locality: Mapping[str, Any] | None, has_run: bool) -> None:
        """Show the empty card when there is nothing to list, saying why and what to do."""
        self.empty_import_button.setVisible(not commissioner and locality is not None)
        if commissioner:
            self.empty_heading.setText("No patients in a commissioner workspace")
            self.note.setText(
                "This is a commissioner workspace, which never holds patient-identifiable data, so "
                "there is no cohort here. Open a locality workspace (File → Open workspace) to work "
                "with a team's cohort."
            )
            self.run_label.setText("The cohort lives in each locality team's own workspace.")
        elif locality is None:
            self.empty_heading.setText("No locality chosen")
            self.note.setText(
                "This workspace has no localities yet. Add one under Reference data → Localities, "
                "then import its risk extract here."
            )
        elif not has_run:
            self.empty_heading.setText(f"No risk extract imported for {locality['name']} yet")
            self.note.setText(
                "Import the latest risk extract (the CSV from the ACG and electronic frailty index "
                "tools) to find the patients who meet the cohort criteria. Every row is checked "
                "first, and nothing is written until you press Import."
            )
            self.run_label.setText(self._screen.summary)
        self.empty_card.setVisible(commissioner or locality is None or not has_run)
