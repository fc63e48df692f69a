"""Export system report → "The Board is asked to …": the draft in an editable box, OK exports the text as edited
once it passes the identifier check, an identifier keeps the dialog open and says what and where (never the
identifier), and Cancel writes nothing."""

from __future__ import annotations

import pytest
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog
from task_helpers import finish_tasks

from desktop.models import quarters
from desktop.reports import system_report
from desktop.views.kit import messages
from desktop.views.reports.system_summary import SystemSummaryDialog

QUARTER = quarters.parse("2026-27-Q2")


@pytest.fixture
def dialog(qtbot, mdt_session):
    d = SystemSummaryDialog(mdt_session.db, QUARTER, ["note the position", "ask CHA for a plan"], False)
    qtbot.addWidget(d)
    d.show()
    return d


def test_ok_returns_the_requests_as_edited(dialog, qtbot):
    assert dialog.editor.toPlainText() == "• note the position\n• ask CHA for a plan"
    dialog.editor.setPlainText("• note the position\n\n2. ask CHA and HAB for a joint plan by June\n")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.chosen == ["note the position", "ask CHA and HAB for a joint plan by June"]


def test_an_identifier_keeps_the_dialog_open_and_is_named_not_shown(dialog, qtbot):
    dialog.editor.setPlainText("note the position\ndiscuss 943 476 5919 at the next meeting")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.chosen is None
    said = dialog.problem.text()
    assert dialog.problem.isVisible() and "Board request 2" in said and "NHS number" in said
    assert "943" not in said
    qtbot.mouseClick(dialog.restore, Qt.MouseButton.LeftButton)
    assert dialog.editor.toPlainText().startswith("• note the position") and not dialog.problem.isVisible()


def test_the_reports_screen_exports_with_the_edited_requests_and_cancel_writes_nothing(
    mdt_window, qtbot, monkeypatch, tmp_path
):
    mdt_window.show_screen("reports")
    page = mdt_window.current_page()
    qtbot.waitUntil(lambda: page.system_button.isEnabled(), timeout=30_000)
    db = page.session.db
    before = db.execute("SELECT COUNT(*) FROM audit WHERE action = 'export'").fetchone()[0]
    seen: dict = {}

    def cancelled(self):
        seen["draft"] = self.editor.toPlainText()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(SystemSummaryDialog, "exec", cancelled)
    assert page.export_system() is None  # no file asked for (an unanswered file dialog fails the test)
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'export'").fetchone()[0] == before
    assert seen["draft"].startswith("• note the position of the integrated locality teams in")

    def edited(self):
        self.editor.setPlainText(self.editor.toPlainText() + "\n• ask the leads for a falls deep dive in June")
        self.accept()
        return self.result()

    monkeypatch.setattr(SystemSummaryDialog, "exec", edited)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(tmp_path / "system.pdf"), ""))
    monkeypatch.setattr(messages, "ask", lambda *_a: "Close")
    written: dict = {}

    def export(_db, _actor, quarter, out, **kw):  # the report itself: tests/unit/test_system_report.py
        written.update(kw, quarter=quarter, out=out)
        return 0

    monkeypatch.setattr(system_report, "export", export)
    assert page.export_system() == tmp_path / "system.pdf"
    finish_tasks(qtbot)
    assert written["quarter"] == page.quarter and written["asks"][-1] == "ask the leads for a falls deep dive in June"
    assert written["asks"][0].startswith("note the position of the integrated locality teams in")
