"""Beside the return's grid: the chosen KPI explained (definition, numerator and denominator, target, history
and what the checks say about it), and the completeness checklist that says what still blocks sign-off."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QListWidget, QListWidgetItem, QScrollArea, QVBoxLayout, QWidget

from ...models import quarters
from ...models.kpi.catalogue import Kpi
from .model import figures_text, history_text, target_text, with_unit

DIRECTIONS = {"high": "higher is better", "low": "lower is better", "neutral": "no direction of good", None: "—"}
SOURCES = {"entered": "typed in from secondary-care data", "computed": "computed from the records"}
BLOCKS, PASSES = "✗", "✓"
READY = "Ready to sign off"


class KpiPanel(QFrame):
    """The selected KPI, in words."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("kpiPanel")
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        self.body = QLabel()
        self.body.setObjectName("kpiBody")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.body)
        box.addWidget(self.title)
        box.addWidget(scroll, 1)
        self.show_kpi(None, {}, [], [])

    def show_kpi(
        self,
        kpi: Kpi | None,
        row: dict[str, Any],
        history: list[tuple[str, float | None]],
        issues: list[dict[str, Any]],
    ) -> None:
        if kpi is None:
            self.title.setText("No KPI chosen")
            self.body.setText("Choose a row of the return to see what the KPI means and what the checks say.")
            return
        esc = html.escape
        self.title.setText(f"{kpi.code} {kpi.name}")
        parts = [
            f"<p>{esc(kpi.definition)}</p>",
            f"<p><b>Numerator:</b> {esc(kpi.numerator)}"
            + (f"<br><b>Denominator:</b> {esc(kpi.denominator)}" if kpi.denominator else "")
            + "</p>",
            f"<p><b>This quarter:</b> {esc(figures_text(kpi, row))} → {esc(with_unit(kpi, row.get('value')))}"
            + (f" ({esc(row['rag'])})" if row.get("rag") else "")
            + "</p>",
            "<p><b>Target:</b> "
            + (esc(target_text(kpi)) if kpi.target is not None else "none")
            + (f", tolerance {kpi.tolerance:g}" if kpi.tolerance is not None else "")
            + f"; {esc(DIRECTIONS.get(kpi.direction, str(kpi.direction)))}"
            + f"<br><b>Source:</b> {SOURCES[kpi.source]}</p>",
            "<p><b>Last four quarters</b> ("
            + esc(", ".join(quarters.parse(p).label for p, _ in history))
            + "):<br>"
            + esc(history_text(kpi, history))
            + "</p>",
        ]
        if row.get("comment"):
            parts.append(f"<p><b>Comment:</b> {esc(row['comment'])}</p>")
        if issues:
            items = "".join(f"<li>{BLOCKS if i['blocking'] else PASSES} {esc(i['message'])}</li>" for i in issues)
            parts.append(f"<p><b>Checks</b></p><ul style='margin-left:-20px'>{items}</ul>")
        else:
            parts.append("<p><b>Checks:</b> nothing to look at.</p>")
        self.body.setText("".join(parts))


class Checklist(QFrame):
    """What the checks found, blocking items first; 'Ready to sign off' when nothing blocks. Before the return is
    started, what they find in the figures computed so far."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("returnChecklist")
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        self.summary = QLabel()
        self.summary.setObjectName("sectionTitle")
        self.summary.setWordWrap(True)
        self.items = QListWidget()
        self.items.setObjectName("checklistItems")
        self.items.setAccessibleName("Checks before sign-off")
        self.items.setWordWrap(True)
        box.addWidget(self.summary)
        box.addWidget(self.items, 1)
        self.issues: list[dict[str, Any]] = []

    def show_issues(self, issues: list[dict[str, Any]], locked: bool, started: bool = True) -> None:
        self.issues = sorted(issues, key=lambda i: not i["blocking"])
        blocking = sum(1 for i in issues if i["blocking"])
        if locked:
            self.summary.setText("Signed off: the figures are frozen.")
        elif not started:
            self.summary.setText(
                f"Not started: {blocking} item{'s' if blocking != 1 else ''} would block sign-off"
                if blocking
                else "Not started: nothing would block sign-off"
            )
        elif blocking:
            self.summary.setText(f"{blocking} item{'s' if blocking != 1 else ''} block sign-off")
        else:
            self.summary.setText(READY)
        self.items.clear()
        for issue in self.issues:
            item = QListWidgetItem(f"{BLOCKS if issue['blocking'] else PASSES} {issue['message']}")
            item.setData(Qt.ItemDataRole.UserRole, issue["kpi"])
            item.setToolTip("Blocks sign-off" if issue["blocking"] else "Noted; does not block sign-off")
            self.items.addItem(item)
        if not self.issues:
            self.items.addItem(f"{PASSES} Every check passes: no rule fails, nothing is missing or unexplained.")

    def lines(self) -> list[str]:
        return [self.items.item(n).text() for n in range(self.items.count())]
