"""Editing the cohort criteria (DESIGN §6.3): eFI bands, multimorbidity, high cost and review intervals.

Saved with cohort_rules.save, audited, and applied from the next import: every run keeps the criteria it
was stratified with, so what was imported is never silently re-sorted.
"""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...models.cohort import rules as cohort_rules
from ...models.cohort.rules import CohortRules
from ...models.errors import DeskError
from ..kit import messages
from ..kit.field_help import explain, help_label
from ..kit.form_dialog import FormScroll, widened
from ..kit.session import Session
from ..kit.style import fits
from . import operations

EFI_NOTE = (
    "<b>Why whole deficits, not the score.</b> Published eFI cut-points disagree at their edges: some say fit "
    "up to 0.12, mild to 0.24, moderate to 0.36; others start each band at those values. No whole number of "
    "the 36 deficits gives exactly 0.12, 0.24 or 0.36, so on unrounded scores they agree: fit 0–4, mild 5–8, "
    "moderate 9–12, severe 13 or more. They part only on rounded scores: 13/36 = 0.361 shows as 0.36, which "
    "the “0.25–0.36” banding calls moderate. When an extract gives only the score, deficits = score × 36, "
    "rounded to the nearest whole number."
)
FIELDS = (  # (name, label, suffix)
    ("mild_frailty_min_deficits", "Mild frailty from", " deficits"),
    ("frailty_min_deficits", "Moderate frailty from", " deficits"),
    ("severe_frailty_min_deficits", "Severe frailty from", " deficits"),
    ("multimorbidity_min_ltc", "Multimorbidity from", " long-term conditions"),
    ("high_cost_min_ratio", "High cost from", "× the expected cost"),
    ("review_interval_months", "Review every", " months"),
    ("severe_frailty_review_interval_months", "Severe frailty: review every", " months"),
)


class CohortRulesDialog(QDialog):
    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Cohort criteria")
        self.setMinimumWidth(widened(self, 640))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        heading = QLabel("Cohort criteria")
        heading.setObjectName("dialogHeading")
        layout.addWidget(heading)
        sub = QLabel(
            "A patient joins the cohort when they meet any one criterion: moderate or severe frailty, "
            "multimorbidity, or high predicted cost. <b>Changes apply from the next import</b>; "
            "extracts already imported keep the criteria they were sorted with."
        )
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
        self.explanation = sub
        layout.addSpacing(6)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setVerticalSpacing(8)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.editors: dict[str, QSpinBox | QDoubleSpinBox] = {}
        self.scores: dict[str, QLabel] = {}
        for name, label, suffix in FIELDS:
            form.addRow(label, self._editor(name, suffix))
        layout.addLayout(form)
        box = QFrame()
        box.setObjectName("notice")
        inner = QVBoxLayout(box)
        inner.setContentsMargins(12, 8, 12, 8)
        note = QLabel(EFI_NOTE)
        note.setWordWrap(True)
        inner.addWidget(note)
        layout.addSpacing(10)
        # At a large font the long note scrolls, down to a few lines, rather than squeeze the criteria above it.
        body = QWidget()  # as tall as the note at its width: it scrolls when the dialog gives it less
        holder = QVBoxLayout(body)
        holder.setContentsMargins(0, 0, 0, 0)
        holder.addWidget(box)
        self.note_scroll = FormScroll(body)
        self.note_scroll.most = 5 * self.fontMetrics().lineSpacing()
        layout.addWidget(self.note_scroll)
        layout.addStretch(1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setProperty("primary", True)
        self.defaults_button = QPushButton("Restore defaults")
        self.defaults_button.setToolTip("Put back the criteria Locality Desk ships with (not yet saved)")
        buttons.addButton(self.defaults_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.defaults_button.clicked.connect(lambda: self.set_rules(cohort_rules.defaults()))
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.set_rules(cohort_rules.load(session.db))
        self._initial = self.rules()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # Qt sizes a new window for its wrapped text at another width: at a large font the rows were squeezed over
        # one another. As tall as the text needs at this width, as far as the screen allows.
        layout = self.layout()
        layout.activate()
        needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else self.height()
        room = self.screen().availableGeometry().height() - 60 if self.screen() is not None else needed
        if needed > self.height():
            self.resize(self.width(), min(needed, max(room, self.height())))

    def rules(self) -> CohortRules:
        values = {name: editor.value() for name, editor in self.editors.items()}
        return CohortRules(**{f.name: values[f.name] for f in fields(CohortRules)})

    def set_rules(self, rules: CohortRules) -> None:
        for name, editor in self.editors.items():
            editor.setValue(getattr(rules, name))

    def try_save(self) -> None:
        self.banner.hide()
        try:
            operations.save_cohort_rules(self.session, self.rules())
        except DeskError as exc:
            self.banner.setText(f"⚠ {exc} Nothing was saved.")
            self.banner.show()
            return
        self.accept()

    def reject(self) -> None:
        if self.rules() != self._initial and not messages.confirm(
            self, "Discard changes?", "Close without saving the criteria you changed?", "Discard changes"
        ):
            return
        super().reject()

    def _editor(self, name: str, suffix: str) -> QWidget:
        if name == "high_cost_min_ratio":
            editor: QSpinBox | QDoubleSpinBox = QDoubleSpinBox()
            editor.setDecimals(1)
            editor.setSingleStep(0.5)
            editor.setRange(0.5, 50.0)
        else:
            editor = QSpinBox()
            editor.setRange(0, 60)
        editor.setObjectName(f"field_{name}")
        editor.setSuffix(suffix)
        editor.setFixedWidth(fits(editor, "3.0× the expected cost", 240))
        editor.setAccessibleName(name.replace("_", " "))
        explain(editor, cohort_rules.HELP[name])
        self.editors[name] = editor
        if "deficits" not in name:
            return editor
        # The score each deficit threshold equals, for those who think in scores.
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(editor)
        score = help_label("")
        row.addWidget(score, 1)
        self.scores[name] = score
        editor.valueChanged.connect(lambda v, label=score: label.setText(f"a score of {v / 36:.3f} or more"))
        return box
