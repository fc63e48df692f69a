"""Every revision of a quarter's return: who signed it off and when, why it was reopened, and which figures
and comments changed from the revision before."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..kit import formats

FIELDS = {"numerator": "numerator", "denominator": "denominator", "value": "value", "comment": "comment"}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def revision_line(ret: dict[str, Any]) -> str:
    made = formats.date(ret["created_at"][:10])
    parts = [f"Revision {ret['revision']}", f"started {made}"]
    if ret.get("reopened_reason"):
        parts.append(f"reopened: {ret['reopened_reason']}")
    if ret["signed_off_at"]:
        parts.append(f"signed off by {ret['signed_off_by']} on {formats.date(ret['signed_off_at'][:10])}")
    else:
        parts.append("draft")
    if ret.get("exported_at"):
        parts.append(f"exported {formats.date(ret['exported_at'][:10])}")
    return " · ".join(parts)


class RevisionsDialog(QDialog):
    def __init__(self, title: str, revisions: list[dict[str, Any]], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 420)
        box = QVBoxLayout(self)
        intro = QLabel("Newest first. Under each revision: what changed from the one before it.")
        intro.setObjectName("fieldHelp")
        box.addWidget(intro)
        self.tree = QTreeWidget()
        self.tree.setObjectName("revisionTree")
        self.tree.setHeaderLabels(["Revision and change", "Before", "After"])
        self.tree.setColumnWidth(0, 420)
        self.tree.setAccessibleName("Revisions of the return")
        for ret in revisions:
            top = QTreeWidgetItem([revision_line(ret), "", ""])
            self.tree.addTopLevelItem(top)
            top.setFirstColumnSpanned(True)
            top.setToolTip(0, top.text(0))
            if ret["revision"] > 1 and not ret["changes"]:
                top.addChild(QTreeWidgetItem(["No figure or comment changed", "", ""]))
            for kpi, field, before, after in ret["changes"]:
                top.addChild(QTreeWidgetItem([f"{kpi} {FIELDS[field]}", _shown(before), _shown(after)]))
            top.setExpanded(True)
        box.addWidget(self.tree, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)
        self.tree.setFocus()

    def lines(self) -> list[str]:
        out = []
        for n in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(n)
            out.append(top.text(0))
            out += [
                f"  {top.child(c).text(0)}: {top.child(c).text(1)} → {top.child(c).text(2)}"
                for c in range(top.childCount())
            ]
        return out
