"""One way to explain a form field: the rule the domain checks it against, as tooltip and What's This, and a
short hint in grey under it when the form wants one.

The rule text is never written here or in a form: it comes from the domain module that enforces the rule
(a HELP mapping next to the check, or a reference Field), so the explanation cannot drift from the check.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QAbstractSpinBox, QCheckBox, QComboBox, QLabel, QLineEdit, QPlainTextEdit, QWidget

HELP_LABEL = "fieldHelp"  # the style sheet's grey, smaller text under a field
INPUTS = (QLineEdit, QPlainTextEdit, QComboBox, QAbstractSpinBox, QCheckBox)


def explain(widget: QWidget, rule: str, hint: str = "") -> QLabel | None:
    """Give *widget* its *rule* (and *hint*, when it adds something) as tooltip and What's This; return a grey
    label showing *hint* for the form to place under the field, or None when there is no hint."""
    words = " ".join(part for part in (rule, hint if hint not in rule else "") if part)
    if words:
        # Rich text, so a long rule wraps in the tooltip instead of running across the screen.
        rich = f"<p>{html.escape(words)}</p>"
        for target in _targets(widget):
            target.setToolTip(rich)
            target.setWhatsThis(rich)
    return help_label(hint) if hint else None


def help_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(HELP_LABEL)
    label.setWordWrap(True)
    return label


def plain(rich: str) -> str:
    """The words of a tooltip set by explain(), for tests and for comparing with the rule."""
    return html.unescape(rich.removeprefix("<p>").removesuffix("</p>"))


def _targets(widget: QWidget) -> list[QWidget]:
    # What takes the focus and the hover needs the words too, or Shift+F1 on it says nothing: an editable
    # combo's line, and the inputs inside a composite field (a date field's text box, an optional date's tick
    # and date). A calendar's popup is a window of its own and is left alone.
    targets = [widget]
    edit = getattr(widget, "lineEdit", None)
    if callable(edit) and isinstance(edit(), QWidget):
        targets.append(edit())
    if not isinstance(widget, INPUTS):
        targets += [
            w
            for w in widget.findChildren(QWidget)
            if isinstance(w, INPUTS)
            and w.window() is widget.window()
            and not isinstance(w.parentWidget(), (QAbstractSpinBox, QComboBox))
        ]
    return targets
