"""The add/edit form for any reference record, built from its Entity declaration.

The dialog never decides what is valid: it hands the values to a save function (which calls
desktop.models.reference.save) and, on a ValidationError, shows the message under the field at fault
and stays open, so nothing the user typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlite_utils
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...models import reference
from ...models.errors import DeskError, ValidationError
from ...models.reference import Entity, Field
from ..kit import messages
from ..kit.field_help import explain
from ..kit.style import colours, fits

Editor = QLineEdit | QSpinBox | QComboBox
NONE_LABEL = "— none —"


class RecordDialog(QDialog):
    saved = Signal(str)  # the id of the record written

    def __init__(
        self,
        db: sqlite_utils.Database,
        entity: Entity,
        row: Mapping[str, Any] | None,
        default_locality_id: str | None,
        save: Callable[[dict[str, Any]], str],
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._db, self._entity, self._save = db, entity, save
        self.row_id: str | None = row["id"] if row else None
        what = entity.singular
        self.setWindowTitle(f"Edit {what}: {row['name']}" if row else f"Add {what}")
        self.setMinimumWidth(580)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        heading = QLabel(f"{row['name']}" if row else f"New {what}")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        sub = QLabel("Saving writes to the workspace and notes the change in the audit trail.")
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
        layout.addSpacing(10)
        layout.addWidget(self.banner)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setVerticalSpacing(10)
        form.setHorizontalSpacing(14)
        self.editors: dict[str, Editor] = {}
        self.errors: dict[str, QLabel] = {}
        for f in entity.fields:
            form.addRow(self._label(f), self._field_block(f))
        layout.addLayout(form)
        layout.addStretch(1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setProperty("primary", True)
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        self.save_button.setDefault(True)

        values = dict(row) if row else {"locality_id": default_locality_id}
        self._fill_refs(values.get("locality_id"))
        for name, editor in self.editors.items():
            _set_value(editor, values.get(name))
        self._initial = self.values()
        if "locality_id" in self.editors:
            self.editors["locality_id"].currentIndexChanged.connect(self._locality_changed)

    # -- reading and writing the form -------------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        return {name: _value(editor) for name, editor in self.editors.items()}

    def editor(self, name: str) -> Editor:
        return self.editors[name]

    def try_save(self) -> None:
        self._clear_errors()
        try:
            row_id = self._save(self.values())
        except ValidationError as exc:
            self.show_error(str(exc), exc.field)
            return
        except DeskError as exc:  # e.g. the record was deleted meanwhile: say so, keep the form open
            self.show_error(str(exc), None)
            return
        self.row_id = row_id
        self.saved.emit(row_id)
        self.accept()

    def show_error(self, message: str, field: str | None) -> None:
        if field in self.errors:
            label = self.errors[field]
            label.setText(f"⚠ {message}")
            label.show()
            editor = self.editors[field]
            _set_invalid(editor, True)
            editor.setFocus()
            if isinstance(editor, QLineEdit):
                editor.selectAll()
        else:
            self.banner.setText(message)
            self.banner.show()

    def reject(self) -> None:
        if self.values() != self._initial and not messages.confirm(
            self, "Discard changes?", "Close this form and lose the changes you made?", "Discard changes"
        ):
            return
        super().reject()

    # -- building -------------------------------------------------------------------------------------------
    @staticmethod
    def _label(f: Field) -> QLabel:
        text = f.label if f.required else f"{f.label} <span style='color:{colours().secondary}'>(optional)</span>"
        label = QLabel(text)
        label.setContentsMargins(0, 5, 0, 0)
        return label

    def _field_block(self, f: Field) -> QWidget:
        block = QWidget()
        box = QVBoxLayout(block)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(3)
        editor = self._make_editor(f)
        editor.setObjectName(f"field_{f.name}")
        editor.setAccessibleName(f.label)  # the label sits outside its block, where Qt does not look
        box.addWidget(editor)
        hint = explain(editor, reference.rule_text(self._entity.name, f.name), f.help)
        if hint is not None:
            box.addWidget(hint)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        box.addWidget(error)
        self.editors[f.name] = editor
        self.errors[f.name] = error
        return block

    def _make_editor(self, f: Field) -> Editor:
        if f.kind == "int":
            spin = QSpinBox()
            spin.setRange(f.minimum, 9_999_999)
            spin.setGroupSeparatorShown(True)
            spin.setMaximumWidth(fits(spin, "9,999,999", 160))
            spin.findChild(QLineEdit).setTextMargins(4, 0, 0, 0)  # style sheet padding misses the inner edit
            spin.valueChanged.connect(lambda _v, n=f.name: self._field_edited(n))
            return spin
        if f.kind in ("choice", "ref"):
            combo = QComboBox()
            combo.setPlaceholderText("Choose…")
            if f.kind == "choice":
                self._fill_combo(combo, f, [(c, c) for c in f.choices])
            combo.currentIndexChanged.connect(lambda _i, n=f.name: self._field_edited(n))
            return combo
        line = QLineEdit()
        line.textEdited.connect(lambda _t, n=f.name: self._field_edited(n))
        return line

    @staticmethod
    def _fill_combo(combo: QComboBox, f: Field, options: list[tuple[str, str]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        if not f.required:
            combo.addItem(NONE_LABEL, None)
        for value, label in options:
            combo.addItem(label, value)
        combo.setCurrentIndex(combo.findData(current) if current is not None else -1)
        combo.blockSignals(False)

    def _fill_refs(self, locality_id: str | None) -> None:
        """Reference pickers offer only the records of the chosen locality (a practice's PCN, a home's lead)."""
        for f in self._entity.fields:
            if f.kind != "ref":
                continue
            scope = None if f.ref == "localities" else locality_id
            if f.ref != "localities" and locality_id is None:
                options: list[tuple[str, str]] = []
            else:
                options = reference.choices_for(self._db, f.ref, scope)
            self._fill_combo(self.editors[f.name], f, options)

    def _locality_changed(self) -> None:
        self._fill_refs(_value(self.editors["locality_id"]))

    def _field_edited(self, name: str) -> None:
        if self.errors[name].isVisible():
            self.errors[name].hide()
            _set_invalid(self.editors[name], False)

    def _clear_errors(self) -> None:
        self.banner.hide()
        for name in self.errors:
            self._field_edited(name)


def _value(editor: Editor) -> Any:
    if isinstance(editor, QSpinBox):
        return editor.value()
    if isinstance(editor, QComboBox):
        return editor.currentData() if editor.currentIndex() >= 0 else None
    return editor.text()


def _set_value(editor: Editor, value: Any) -> None:
    if isinstance(editor, QSpinBox):
        editor.setValue(int(value) if value is not None else editor.minimum())
    elif isinstance(editor, QComboBox):
        index = editor.findData(value) if value is not None else -1
        if index < 0 and value is None and editor.count() and editor.itemData(0) is None:
            index = 0  # an optional picker left empty shows "— none —"
        editor.setCurrentIndex(index)
    else:
        editor.setText("" if value is None else str(value))


def _set_invalid(editor: QWidget, invalid: bool) -> None:
    editor.setProperty("invalid", invalid)
    editor.style().unpolish(editor)
    editor.style().polish(editor)
