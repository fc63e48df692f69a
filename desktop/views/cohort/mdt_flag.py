"""Flag for MDT, in the cohort's patient panel: ask for a patient to be discussed at the next MDT meeting, with
an optional reason. A flagged patient is listed under "Flagged" when the meeting's agenda is drawn up
(meetings.suggest_agenda); once they are on an agenda the reasons go with them onto it and into the pack. Each
colleague's reason is kept: the panel shows them all, another can be added, and the waiting ones cleared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextLayout
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from ...models.mdt import flags
from ..kit import formats, messages
from ..kit.form_dialog import FormDialog, Save, text_box
from ..kit.session import Session
from ..kit.widgets import button_bar
from ..mdt import operations as mdt_operations


def flag_line(flag: Mapping[str, Any]) -> str:
    """One flag as the screens show it: 'Carer struggling — Sam Patel, 20/10/2026'."""
    return f"{flag['reason'] or 'No reason given'} — {flag['flagged_by']}, {formats.date(flag['flagged_on'])}"


class FlagDialog(FormDialog):
    """A new reason for discussing the patient, below the reasons colleagues gave before (kept as they are)."""

    def __init__(
        self, patient_name: str, earlier: Sequence[Mapping[str, Any]], save: Save, parent: QWidget | None = None
    ):
        super().__init__(
            "Flag for MDT",
            f"Add a reason to discuss {patient_name}" if earlier else f"Flag {patient_name} for the next MDT",
            "The patient is listed under Flagged when the next meeting's agenda is drawn up; every reason "
            "given, with who gave it and when, goes onto the agenda and into the MDT pack.",
            "Add reason" if earlier else "Flag for MDT",
            save,
            parent,
            560,
        )
        self.earlier = QLabel("\n".join(f"• {flag_line(f)}" for f in earlier))
        self.earlier.setObjectName("mdtFlagReasons")
        self.earlier.setWordWrap(True)
        self.earlier.setAccessibleName("Reasons already given")
        self.earlier.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if earlier:
            self.add_row("Already flagged", self.earlier)
        self.note = text_box("flag_note", 72)
        self.note.setAccessibleName("Why discuss this patient")
        self.note.setPlaceholderText("Optional: why, e.g. carer struggling, two falls this month…")
        self.add_field("flag_note", "Why" if not earlier else "Another reason", self.note)
        self.note.setFocus()

    def values(self) -> dict[str, Any]:
        return {"note": self.note.toPlainText().strip()}


class ElidedLabel(QLabel):
    """Text wrapped to at most *lines* lines of the width it is given, the last cut short with …; the whole
    text is in the tooltip."""

    def __init__(self, lines: int = 2, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self._lines = lines
        self.setMinimumWidth(60)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def full_text(self) -> str:
        return self._full

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.contentsRect().width(), 1)
        layout = QTextLayout(self._full, self.font())
        layout.beginLayout()
        starts: list[int] = []
        while len(starts) < self._lines:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(width)
            starts.append(line.textStart())
        layout.endLayout()
        shown = [self._full[a:b].rstrip() for a, b in zip(starts, starts[1:], strict=False)]
        rest = self._full[starts[-1] :] if starts else ""
        text = "\n".join([*shown, self.fontMetrics().elidedText(rest, Qt.TextElideMode.ElideRight, width)])
        if text != self.text():
            self.setText(text)


class MdtFlag(QWidget):
    """One row: a button to flag the patient, or the flag with its reasons (whole, with who and when, in the
    tooltip), Add a reason and Clear. One line either way, so the caseload form below keeps its height."""

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.patient_id: str | None = None
        self.patient_name = ""
        self.note = ""
        self.flagged = False
        self.waiting: list[dict[str, Any]] = []
        self.dialog: FlagDialog | None = None
        row = button_bar(spacing=6)  # the buttons go under the flag when the panel is narrow
        self.setLayout(row)
        self.notice = QFrame()
        self.notice.setObjectName("notice")
        inner = QHBoxLayout(self.notice)
        inner.setContentsMargins(8, 4, 6, 4)
        self.label = ElidedLabel()
        self.label.setObjectName("mdtFlag")
        inner.addWidget(self.label)
        row.addWidget(self.notice, 1)
        self.flag_button = QPushButton("Flag for MDT…")
        self.flag_button.setToolTip("Ask for this patient to be discussed at the next MDT meeting")
        self.flag_button.clicked.connect(self.ask_note)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the flags: no longer ask for this patient at the next MDT")
        self.clear_button.setAccessibleName("Clear the MDT flag")
        self.clear_button.clicked.connect(self.clear)
        row.addWidget(self.flag_button)
        row.addWidget(self.clear_button)
        row.addStretch(1)
        self.show_flag(None, "")

    def show_flag(self, patient: Mapping[str, Any] | None, name: str) -> None:
        """The flags of *patient* (a caseload.get_patient row; None for nobody) still waiting for an agenda."""
        self.patient_id = patient["id"] if patient else None
        self.patient_name = name
        self._show(flags.waiting(self.session.db, [self.patient_id]).get(self.patient_id, []) if patient else [])

    def _show(self, waiting: list[dict[str, Any]]) -> None:
        self.waiting = waiting
        self.flagged = bool(waiting)
        self.note = flags.note(waiting)
        self.label.set_full_text(f"MDT: {self.note}" if self.note else "Flagged for the next MDT")
        self.label.setToolTip("\n".join(flag_line(f) for f in waiting))
        self.notice.setVisible(self.flagged)
        self.flag_button.setText("Add a reason…" if self.flagged else "Flag for MDT…")
        self.flag_button.setToolTip(
            "Add another reason to discuss this patient; the earlier ones are kept"
            if self.flagged
            else "Ask for this patient to be discussed at the next MDT meeting"
        )
        self.clear_button.setVisible(self.flagged)
        self.layout().setStretch(self.layout().count() - 1, 0 if self.flagged else 1)

    def ask_note(self) -> None:
        if self.patient_id is None:
            return
        patient_id = self.patient_id

        def save(values: dict[str, Any]) -> None:
            mdt_operations.flag_for_mdt(self.session, patient_id, values["note"])

        self.dialog = FlagDialog(self.patient_name, self.waiting, save, self)
        self.dialog.accepted.connect(
            lambda: self._done(patient_id, f"{self.patient_name} is flagged for the next MDT.")
        )
        self.dialog.open()

    def clear(self) -> None:
        if self.patient_id is None or not self.flagged:
            return
        patient_id = self.patient_id
        with messages.reported(self, "MDT flag not cleared") as failed:
            mdt_operations.flag_for_mdt(self.session, patient_id, "", flagged=False)
        if failed:
            return
        self._done(patient_id, f"MDT flag cleared for {self.patient_name}.")

    def _done(self, patient_id: str, message: str) -> None:
        # Shown from the store at once: the panel may keep unsaved caseload edits and not reload the patient.
        if patient_id == self.patient_id:
            self._show(flags.waiting(self.session.db, [patient_id]).get(patient_id, []))
        messages.show_status(self, message)
