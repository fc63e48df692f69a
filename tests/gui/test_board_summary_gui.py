"""The recommendations to the board, edited before the locality report is exported (issue 24, point 4): Reports →
Export locality report shows the draft asks one a line; OK writes the report with the edited text, Cancel
writes nothing, and an NHS number in the text is refused with the dialog left open."""

from __future__ import annotations

import pytest
from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models.kpi import board
from desktop.views.kit import messages
from desktop.views.reports import page as reports_page
from desktop.views.reports.board_summary import BoardAsksDialog

LOAD_MS = 30_000
NHS_NUMBER = "943 476 5919"  # valid modulus 11


@pytest.fixture
def page(mdt_window, monkeypatch, qtbot, tmp_path):
    """The Reports screen of Charnwood with its figures loaded; save dialogs answer with a file in tmp_path."""
    monkeypatch.setattr(reports_page.ReportsPage, "today", staticmethod(lambda: DEMO_TODAY))
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    shown = mdt_window.current_page()
    qtbot.waitUntil(lambda: shown.figures is not None, timeout=LOAD_MS)
    shown.asked_for_file = 0

    def save(*_args):
        shown.asked_for_file += 1
        return str(tmp_path / "out.pdf"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    monkeypatch.setattr(messages, "ask", lambda *_a: "Close")
    return shown


def _answer(monkeypatch, seen: dict, text: str | None):
    """The dialog, when shown, is read into *seen*, then given *text* and OK (None: Cancel)."""

    def exec_(dialog: BoardAsksDialog) -> int:
        seen["draft"] = dialog.box.toPlainText()
        if text is None:
            dialog.reject()
        else:
            dialog.box.setPlainText(text)
            dialog.try_save()
            seen["banner"] = dialog.banner.text() if dialog.banner.isVisibleTo(dialog) else ""
            seen["error"] = dialog.errors["asks"].text() if dialog.errors["asks"].isVisibleTo(dialog) else ""
            if not dialog.result():
                dialog.reject()  # the user gives up after the refusal
        return dialog.result()

    monkeypatch.setattr(BoardAsksDialog, "exec", exec_)


def _exports(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit WHERE action = 'export'").fetchone()[0]


def test_ok_exports_the_edited_asks(page, monkeypatch, qtbot):
    seen: dict = {}
    draft = board.draft_asks(page.figures)
    edited = "\n".join([*draft[:2], "agree a winter plan for the care-home rounds by the next board"])
    _answer(monkeypatch, seen, edited)
    out = page.export_locality()
    finish_tasks(qtbot)
    assert seen["draft"] == "\n".join(draft)  # the draft, one a line
    assert out is not None and out.exists()
    front = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "(c) agree a winter plan for the care-home rounds by the next board." in front
    assert len(draft) <= 2 or draft[2].rstrip(".;") not in front


def test_cancel_exports_nothing(page, monkeypatch, qtbot, tmp_path):
    before = _exports(page.session.db)
    _answer(monkeypatch, {}, None)
    assert page.export_locality() is None
    finish_tasks(qtbot)
    assert page.asked_for_file == 0 and not (tmp_path / "out.pdf").exists()
    assert _exports(page.session.db) == before


def test_an_nhs_number_is_refused_and_nothing_is_exported(page, monkeypatch, qtbot, tmp_path):
    seen: dict = {}
    before = _exports(page.session.db)
    _answer(monkeypatch, seen, f"note the report\nfollow up the patient {NHS_NUMBER}")
    assert page.export_locality() is None
    finish_tasks(qtbot)
    said = seen["error"] or seen["banner"]
    assert "recommendation (b) to the board holds what looks like an NHS number" in said
    assert NHS_NUMBER not in said and "5919" not in said  # the identifier is never echoed
    assert page.asked_for_file == 0 and not (tmp_path / "out.pdf").exists()
    assert _exports(page.session.db) == before
