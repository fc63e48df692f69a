"""The warning at a return comment's field (issue 20, point 2): as each character is typed, the comment is read by
the detector of patient identifiers (models/free_text.py) and what it holds is named under the grid, on the
editor's tooltip and in its accessible description, so the team can word it otherwise before it is saved. It
warns and does not refuse: the model refuses what no return may hold, and sign-off and export refuse the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, Signal
from PySide6.QtWidgets import QLineEdit, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from ...models import free_text

LEAVES = "A return goes to the commissioner and must never identify a patient"


def warning(code: str, text: str, patients: free_text.Patients) -> str:
    """What to tell the user about *text* as the comment on *code*; "" when it names nobody."""
    kinds = free_text.kinds_in(text, patients)
    if not kinds:
        return ""
    found = f"The comment on {code} holds what looks like {free_text.listed(kinds)}. {LEAVES}"
    if free_text.kinds_in(text):  # what returns.comment refuses whatever the workspace holds
        return f"{found}, so it will not be saved: describe the issue without it."
    return (
        f"{found}: the draft keeps it, but the return cannot be signed off or exported until the comment is "
        "worded without it."
    )


class CommentDelegate(QStyledItemDelegate):
    """Edits the Comment column with a line that is checked as it is typed; `warned(code, text)` says what the
    text being typed holds ("" once it holds nothing)."""

    warned = Signal(str, str)

    def __init__(
        self,
        patients: Callable[[], free_text.Patients],
        code_of: Callable[[QModelIndex], str],
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self._patients, self._code_of = patients, code_of

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:
        editor = super().createEditor(parent, option, index)
        if isinstance(editor, QLineEdit):
            # Read once per edit: the list does not change while one comment is typed, and a keystroke must not
            # wait for the workspace.
            patients, code = self._patients(), self._code_of(index)
            editor.textChanged.connect(lambda text, e=editor: self._check(e, code, text, patients))
        return editor

    def _check(self, editor: QLineEdit, code: str, text: str, patients: free_text.Patients) -> None:
        said = warning(code, text, patients)
        editor.setProperty("invalid", bool(said))
        editor.style().unpolish(editor)
        editor.style().polish(editor)
        editor.setToolTip(said)
        editor.setAccessibleDescription(said)
        self.warned.emit(code, said)
