"""A form dialog that never decides what is valid: it hands its values to a save function (a
desktop.views.cohort.operations or mdt_operations call) and, on a ValidationError, shows the message next to the field
it names (or in the banner above the form) and stays open with everything typed kept. Cancel with changes asks
first, unless the dialog says otherwise."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...models.errors import DeskError, ValidationError
from . import messages
from .date_field import DateField
from .field_help import explain
from .style import lines_high

QWIDGETSIZE_MAX = (1 << 24) - 1

Save = Callable[[dict[str, Any]], Any]
# The least a combo in a form shows before it elides its choice (the popup lists them whole).
COMBO_CHARACTERS = 12
# Fields a domain error may name that are edited elsewhere on the form.
ALIASES = {"owner_staff_id": "owner_name", "escalated_on": "escalated_to", "meeting_id": None}


class FormDialog(QDialog):
    """Heading, explanation, a banner for refusals that name no field, a form, and Save/Cancel."""

    # False for a short dialog whose values() may refuse before anything is chosen: Cancel just closes it.
    ask_before_discarding = True
    # Field name -> the rule the domain checks it against (a HELP mapping of the domain module that saves).
    rules: Mapping[str, str] = {}
    # The part of the user guide F1 opens, "page.md#heading"; empty: help_window.DIALOG_PAGES, else the screen's page.
    help_page = ""

    def __init__(
        self,
        title: str,
        heading: str,
        explanation: str,
        save_label: str,
        save: Save,
        parent: QWidget | None = None,
        width: int = 600,
    ):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(widened(self, width))
        self._save = save
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        head = QLabel(heading)
        head.setObjectName("dialogHeading")
        head.setWordWrap(True)
        layout.addWidget(head)
        sub = QLabel(explanation)
        sub.setObjectName("pageSubtitle")
        sub.setWordWrap(True)
        layout.addWidget(sub)
        layout.addSpacing(6)
        self.banner = QLabel()
        self.banner.setObjectName("formBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        layout.addWidget(self.banner)
        # The form scrolls only when the screen is too short for it (a large font): the heading and the buttons
        # stay in sight, and no row is drawn over another.
        body = FormBody()
        body.setObjectName("formBody")
        self.form = QFormLayout(body)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.form.setVerticalSpacing(8)
        self.form.setHorizontalSpacing(14)
        # A field too wide to sit beside its label (a large font) goes under it, rather than off the dialog's edge.
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.scroll = FormScroll(body)
        layout.addWidget(self.scroll)
        layout.addStretch(1)
        layout.addSpacing(8)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = buttons.addButton(save_label, QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setProperty("primary", True)
        buttons.accepted.connect(self.try_save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        # Only now, with the buttons in the dialog: set before, Qt forgets it and Enter presses
        # the first button it finds instead.
        self.save_button.setDefault(True)

    def add_field(self, name: str, label: str, editor: QWidget, hint: str = "") -> QWidget:
        block = FieldBlock()
        box = QVBoxLayout(block)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(3)
        box.addWidget(editor)
        narrow_combos(editor)
        help_label = explain(editor, self.rules.get(name, ""), hint)
        if help_label is not None:
            box.addWidget(help_label)
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        box.addWidget(error)
        self.editors[name], self.errors[name] = editor, error
        caption = QLabel(label)
        caption.setContentsMargins(0, 5, 0, 0)
        self.form.addRow(caption, block)
        return block

    def add_row(self, label: str, editor: QWidget, name: str = "") -> None:
        """A field whose refusals are shown in the banner above the form, not beside it."""
        explain(editor, self.rules.get(name, ""))
        narrow_combos(editor)
        caption = QLabel(label)
        caption.setContentsMargins(0, 5, 0, 0)
        self.form.addRow(caption, editor)

    def section(self, title: str) -> None:
        heading = QLabel(title)
        heading.setObjectName("sectionTitle")
        heading.setContentsMargins(0, 8, 0, 0)
        self.form.addRow(heading)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    _initial: dict[str, Any] | None = None

    def showEvent(self, event) -> None:
        if self._initial is None and self.ask_before_discarding:
            self._initial = self.values()  # what Cancel compares with, once the subclass has filled the form
        super().showEvent(event)
        self._grow_to_fit()  # a row of buttons or text that wraps at a large font

    def reject(self) -> None:
        if (
            self._initial is not None
            and self.values() != self._initial
            and not messages.confirm(
                self, "Discard changes?", "Close this form and lose what you typed?", "Discard changes"
            )
        ):
            return
        super().reject()

    def try_save(self) -> None:
        self.clear_errors()
        try:
            self._save(self.values())
        except ValidationError as exc:
            self.show_error(str(exc), ALIASES.get(exc.field, exc.field) if exc.field else None)
            return
        except DeskError as exc:  # e.g. deleted meanwhile: say so, keep the form open
            self.show_error(str(exc), None)
            return
        self.accept()

    def show_error(self, message: str, field: str | None) -> None:
        if field in self.errors and self.errors[field].parentWidget().isVisibleTo(self):
            self.errors[field].setText(f"⚠ {message}")
            self.errors[field].show()
            editor = self.editors[field]
            target = editor.line if isinstance(editor, DateField) else editor
            target.setProperty("invalid", True)
            target.style().unpolish(target)
            target.style().polish(target)
            target.setFocus()
        else:
            self.banner.setText(f"⚠ {message}")
            self.banner.show()
        self._grow_to_fit()

    def _grow_to_fit(self) -> None:
        # A message that wraps needs more height than the dialog had; Qt does not grow a shown window for
        # wrapped text, so the buttons would be pushed out of sight.
        layout = self.layout()
        layout.activate()
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        # The form's least width first (the width set in __init__ overrides the layout's minimum): squeezed below
        # it, the rows overlap and the buttons elide their text.
        wide = layout.totalMinimumSize().width()
        if wide > self.width():
            self.resize(min(wide, screen.width() - 40) if screen is not None else wide, self.height())
            layout.activate()
        if screen is not None:
            # The form scrolls rather than make the dialog taller than the screen; eight lines of it at the least.
            self.scroll.most = QWIDGETSIZE_MAX
            self.scroll.updateGeometry()
            layout.activate()
            rest = layout.totalMinimumSize().height() - self.scroll.minimumSizeHint().height()
            self.scroll.most = max(8 * self.fontMetrics().height(), screen.height() - 60 - rest)
            self.scroll.updateGeometry()
            layout.activate()
        needed = (
            layout.totalHeightForWidth(self.width())
            if layout.hasHeightForWidth()
            else layout.totalMinimumSize().height()
        )
        room = screen.height() if screen is not None else needed
        # Its title bar stays on screen: a dialog first shown at the height it would like is made shorter, and
        # its form scrolls.
        if needed > self.height() or self.height() > room - 60:
            self.resize(self.width(), max(min(needed, room - 60), self.minimumHeight()))

    def clear_errors(self) -> None:
        self.banner.hide()
        for name, label in self.errors.items():
            label.hide()
            editor = self.editors[name]
            target = editor.line if isinstance(editor, DateField) else editor
            if target.property("invalid"):
                target.setProperty("invalid", False)
                target.style().unpolish(target)
                target.style().polish(target)


class FormBody(QWidget):
    """What the form's scroll area holds: as tall as the viewport, or the form's least height at its width when that
    is more (then it scrolls). QFormLayout's own height for a width is what the rows would like, not their least."""

    def heightForWidth(self, width: int) -> int:
        layout = self.layout()
        return layout.minimumSize().height() + max(0, layout.heightForWidth(width) - layout.sizeHint().height())


class FormScroll(QScrollArea):
    """Asks for the form's full height (a QScrollArea would ask for 24 lines at most), lets the dialog squeeze the
    form down to its least height, as a form without a scroll area, and below that, down to *most* (what the
    screen leaves it, FormDialog._grow_to_fit), scrolls."""

    def __init__(self, body: QWidget):
        super().__init__()
        self.setObjectName("dialogFormScroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no stop of its own in the form's Tab order
        self.setWidget(body)
        self.most = QWIDGETSIZE_MAX

    def _width(self) -> int:
        return max(self.viewport().width(), self.widget().minimumSizeHint().width())

    def sizeHint(self) -> QSize:
        body = self.widget()
        return QSize(body.sizeHint().width(), body.layout().heightForWidth(self._width()))

    def minimumSizeHint(self) -> QSize:
        body = self.widget()
        # Room for the scroll bar beside the form's least width, or the bar covers the fields' right edge.
        width = body.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
        return QSize(width, min(body.heightForWidth(self._width()), self.most))


class FieldBlock(QWidget):
    """A field with the hint and the error under it. A hint or a bar of buttons that wraps needs more height at
    its width than QFormLayout allows for it (it works the row out for another width), so the next row was drawn
    over it: the block asks for that height as its least."""

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        layout = self.layout()
        if layout is not None and layout.hasHeightForWidth():
            needed = layout.totalHeightForWidth(self.width())
            if needed != self.minimumHeight():
                self.setMinimumHeight(needed)


def widened(dialog: QWidget, width: int) -> int:
    """*width*, chosen for text of 9 or 10 pt, up to 1.6 times as wide at a large font, as far as the screen allows:
    the wrapped text then needs fewer lines."""
    wider = round(width * min(1.6, max(1.0, dialog.fontMetrics().averageCharWidth() / 7)))
    room = dialog.screen().availableGeometry().width() - 40 if dialog.screen() is not None else wider
    return max(width, min(wider, room))


def narrow_combos(editor: QWidget) -> None:
    """A combo sized to its longest choice (a KPI's name, an organisation's) would make the whole form that wide,
    too wide for the screen at a large font: it asks for a few characters and takes the width the form gives it."""
    for box in [editor, *editor.findChildren(QComboBox)]:
        if (
            isinstance(box, QComboBox)
            and box.sizeAdjustPolicy() == QComboBox.SizeAdjustPolicy.AdjustToContentsOnFirstShow
        ):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(max(box.minimumContentsLength(), COMBO_CHARACTERS))


def text_box(name: str, height: int = 64) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setObjectName(f"field_{name}")
    box.setAccessibleName(name.replace("_", " "))
    box.setTabChangesFocus(True)
    box.setFixedHeight(lines_high(box, max(2, (height - 14) // 17), height))  # *height* is at 10 pt
    return box


def combo(name: str, options: Sequence[tuple[str, Any]], placeholder: str = "") -> QComboBox:
    """A choice of (text, value); with a placeholder it starts with nothing chosen."""
    combo = QComboBox()
    combo.setObjectName(f"field_{name}")
    combo.setAccessibleName(name.replace("_", " "))
    if placeholder:
        combo.setPlaceholderText(placeholder)
    for text, value in options:
        combo.addItem(text, value)
    if placeholder:
        combo.setCurrentIndex(-1)
    return combo
