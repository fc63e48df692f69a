"""The caseload part of the patient panel: status, stream, named GP, case manager, care plan, review, notes.

The form only gathers values; desktop.models.cohort.caseload validates and saves them, and a refusal comes back
as a message shown beside the field it names, with everything typed kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...models import clock
from ...models.cohort import caseload
from ..kit import formats
from ..kit.field_help import explain
from ..kit.style import fits, lines_high
from ..kit.widgets import OptionalDate

Editor = QComboBox | QSpinBox | QPlainTextEdit | OptionalDate


class CaseloadForm(QWidget):
    edited = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        outer.addWidget(self.banner)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(6)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(self.form)
        self.editors: dict[str, Editor] = {}
        self.errors: dict[str, QLabel] = {}

        self.status = self._combo("status", "Status", [(formats.sentence_case(s), s) for s in caseload.STATUSES])
        self.discharge_reason = self._combo(
            "discharge_reason",
            "Reason",
            [(formats.sentence_case(r), r) for r in caseload.DISCHARGE_REASONS],
            placeholder="Choose why…",
        )
        self.stream = self._combo(
            "stream", "Stream", [("Not set", ""), *[(formats.sentence_case(s), s) for s in caseload.STREAMS]]
        )
        self.named_gp = self._combo("named_gp_id", "Named GP", [("None named", None)])
        self.case_manager = self._combo("case_manager_id", "Case manager", [("Nobody named", None)])
        self.care_plan = OptionalDate("Agreed on", QDate(clock.today()))
        self.care_plan.setAccessibleName("Care plan agreed on")
        self.care_plan.changed.connect(lambda: self._edited("care_plan_date"))
        self._add("care_plan_date", "Care plan", self.care_plan)
        self.interval = QSpinBox()
        self.interval.setRange(0, 24)
        self.interval.setSuffix(" months")
        self.interval.setSpecialValueText("Default")
        self.interval.setAccessibleName("Review interval in months")
        self.interval.setMaximumWidth(fits(self.interval, "24 months", 130))
        self.interval.valueChanged.connect(lambda _v: self._edited("review_interval_months"))
        self._add("review_interval_months", "Review every", self.interval)
        self.next_review = QLabel()
        self.next_review.setObjectName("nextReview")
        self.next_review.setAccessibleName("Next review due")
        self.next_review.setToolTip("Worked out from the care plan or the last care-plan review, plus the interval")
        self.next_review.setContentsMargins(0, 4, 0, 4)
        self.form.addRow(_label("Next review due"), self.next_review)
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setPlaceholderText("What the team should know: who to call, what was agreed…")
        # A fixed height: with only a maximum, the form centres the box in a taller row, below its label.
        self.notes.setFixedHeight(lines_high(self.notes, 5, 100))
        self.notes.setTabChangesFocus(True)
        self.notes.textChanged.connect(lambda: self._edited("notes"))
        self._add("notes", "Notes", self.notes)
        self.status.currentIndexChanged.connect(self._status_changed)
        outer.addStretch(1)  # spare height goes below the form, not into its rows
        self._initial: dict[str, Any] = {}

    # -- filling ------------------------------------------------------------------------------------------------
    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        gps = [(s["name"], s["id"]) for s in staff if s["role"] == "GP"]
        everyone = [(f"{s['name']} ({s['role']})", s["id"]) for s in staff]
        _refill(self.named_gp, [("None named", None), *gps])
        _refill(self.case_manager, [("Nobody named", None), *everyone])

    def set_patient(self, patient: Mapping[str, Any], staff_names: Mapping[str, str], today: dt.date) -> None:
        """Show *patient*'s saved values; a named person no longer listed (moved on) is still shown."""
        for combo, key in ((self.named_gp, "named_gp_id"), (self.case_manager, "case_manager_id")):
            if patient[key] and combo.findData(patient[key]) < 0:
                combo.addItem(staff_names.get(patient[key], "Someone no longer on the staff list"), patient[key])
        for widget in self.editors.values():
            widget.blockSignals(True)
        _choose(self.status, patient["status"])
        _choose(self.discharge_reason, patient["discharge_reason"] or None)
        _choose(self.stream, patient["stream"] or "")
        _choose(self.named_gp, patient["named_gp_id"])
        _choose(self.case_manager, patient["case_manager_id"])
        self.care_plan.set_value(patient["care_plan_date"])
        self.interval.setValue(patient["review_interval_months"] or 0)
        self.notes.setPlainText(patient["notes"] or "")
        for widget in self.editors.values():
            widget.blockSignals(False)
        due = patient["next_review_due"]
        overdue = bool(due) and due < today.isoformat()
        self.next_review.setText(f"⚠ {formats.date(due)} — overdue" if overdue else (formats.date(due) or "Not set"))
        self.next_review.setProperty("overdue", overdue)
        self.next_review.style().unpolish(self.next_review)
        self.next_review.style().polish(self.next_review)
        self._status_changed()
        self.clear_errors()
        self._initial = self.values()

    # -- reading ------------------------------------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        discharged = self.status.currentData() == "discharged"
        return {
            "status": self.status.currentData(),
            "discharge_reason": self.discharge_reason.currentData() if discharged else "",
            "stream": self.stream.currentData() or "",
            "named_gp_id": self.named_gp.currentData(),
            "case_manager_id": self.case_manager.currentData(),
            "care_plan_date": self.care_plan.value(),
            "review_interval_months": self.interval.value() or None,
            "notes": self.notes.toPlainText(),
        }

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in self.values().items() if self._initial.get(k) != v}

    def is_dirty(self) -> bool:
        return bool(self._initial) and bool(self.changes())

    # -- errors ---------------------------------------------------------------------------------------------------
    def show_error(self, message: str, field: str | None) -> None:
        if field in self.errors:
            self.errors[field].setText(f"⚠ {message}")
            self.errors[field].show()
            editor = self.editors[field]
            _set_invalid(editor, True)
            editor.setFocus()
        else:
            self.banner.setText(message)
            self.banner.show()

    def clear_errors(self) -> None:
        self.banner.hide()
        for name in self.errors:
            self._clear_error(name)

    def focus_first(self) -> None:
        self.status.setFocus(Qt.FocusReason.ShortcutFocusReason)

    # -- building ---------------------------------------------------------------------------------------------------
    def _combo(self, name: str, label: str, options: list[tuple[str, Any]], placeholder: str = "") -> QComboBox:
        combo = QComboBox()
        combo.setAccessibleName(label)
        # Sized to the panel, not to the longest name; the open list is as wide as it needs to be.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)
        if placeholder:
            combo.setPlaceholderText(placeholder)
        for text, value in options:
            combo.addItem(text, value)
        combo.currentIndexChanged.connect(lambda _i: self._edited(name))
        self._add(name, label, combo)
        return combo

    def _add(self, name: str, label: str, editor: Editor) -> None:
        editor.setObjectName(f"field_{name}")
        explain(editor, caseload.HELP.get(name, ""))
        block = QWidget()
        box = QVBoxLayout(block)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.setAlignment(Qt.AlignmentFlag.AlignTop)
        box.addWidget(editor)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        box.addWidget(error)
        self.form.addRow(_label(label), block)
        self.editors[name] = editor
        self.errors[name] = error

    def _status_changed(self) -> None:
        # The reason matters only for a discharge, so its row is shown only then.
        self.form.setRowVisible(self._row_of("discharge_reason"), self.status.currentData() == "discharged")

    def _row_of(self, name: str) -> int:
        row, _role = self.form.getWidgetPosition(self.editors[name].parentWidget())
        return row

    def _edited(self, name: str) -> None:
        self._clear_error(name)
        if name == "status":
            self._clear_error("discharge_reason")
        self.banner.hide()
        self.edited.emit()

    def _clear_error(self, name: str) -> None:
        if self.errors[name].isVisible():
            self.errors[name].hide()
            _set_invalid(self.editors[name], False)


def _label(text: str) -> QLabel:
    label = QLabel(text)
    label.setContentsMargins(0, 5, 0, 0)  # level with the text inside the editor beside it
    return label


def _fit_popup(combo: QComboBox) -> None:
    combo.view().setMinimumWidth(combo.view().sizeHintForColumn(0) + 24)


def _choose(combo: QComboBox, value: Any) -> None:
    combo.setCurrentIndex(combo.findData(value) if value is not None else (0 if combo.itemData(0) is None else -1))


def _refill(combo: QComboBox, options: list[tuple[str, Any]]) -> None:
    current = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    for text, value in options:
        combo.addItem(text, value)
    _choose(combo, current)
    combo.blockSignals(False)
    _fit_popup(combo)


def _set_invalid(editor: QWidget, invalid: bool) -> None:
    editor.setProperty("invalid", invalid)
    editor.style().unpolish(editor)
    editor.style().polish(editor)
