"""The error tiers at the UI boundary: a DeskError is a plain message, anything else the crash dialog."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from desktop.models.errors import ValidationError
from desktop.views.kit import messages
from desktop.views.shell.crash import CrashDialog, ExceptionHandler


def _raise(exc):
    try:
        raise exc
    except Exception:
        return sys.exc_info()


def test_an_expected_error_is_shown_as_a_plain_message(qtbot, monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr(messages, "warn", lambda parent, title, text: shown.append(text))
    handler = ExceptionHandler(tmp_path / "app.log")
    handler(*_raise(ValidationError("List size must be zero or more.", "list_size")))
    assert shown == ["List size must be zero or more."]
    assert handler.open_dialog is None


def test_a_bug_opens_the_crash_dialog_with_traceback_and_log_path(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(messages, "warn", lambda *a: (_ for _ in ()).throw(AssertionError("not a DeskError")))
    log_path = tmp_path / "app.log"
    handler = ExceptionHandler(log_path)
    handler(*_raise(RuntimeError("boom")))
    dialog = handler.open_dialog
    qtbot.addWidget(dialog)
    assert isinstance(dialog, CrashDialog) and dialog.isVisible()
    assert "RuntimeError: boom" in dialog.details.toPlainText()
    assert str(log_path) in dialog.log_label.text()

    handler(*_raise(KeyError("second")))  # a cascade does not pile up dialogs
    assert handler.open_dialog is dialog
    dialog._copy()
    assert "RuntimeError: boom" in QApplication.clipboard().text()
