"""The monthly exception report from the Reports screen: the button on the locality card asks for the month (the
last complete one chosen to start with), then a file, and writes the one-page PDF through the export task."""

from __future__ import annotations

import pytest
from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from pinned import TODAY
from pypdf import PdfReader
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from task_helpers import finish_tasks

from desktop.models.quarters import Month
from desktop.views.kit import messages
from desktop.views.reports import page as reports_page
from desktop.views.reports.monthly_dialog import MonthDialog

THIS_MONTH = Month(TODAY.year, TODAY.month)


@pytest.fixture
def page(mdt_window, monkeypatch):
    """The Reports screen of Charnwood, on the demo's day."""
    monkeypatch.setattr(reports_page.ReportsPage, "today", staticmethod(lambda: TODAY))
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    return mdt_window.current_page()


@pytest.fixture
def saved(monkeypatch, tmp_path) -> dict:
    seen: dict = {"asked": []}

    def save(_parent, _title, suggested, _filter):
        seen["suggested"] = suggested
        return str(tmp_path / "monthly.pdf"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    monkeypatch.setattr(messages, "ask", lambda _p, title, _t, _o: seen["asked"].append(title) or "Close")
    return seen


def _answer_month(qtbot, choose: Month | None, seen: dict) -> None:
    """When the month dialog opens, note what it offers, choose *choose* (None: cancel) and close it."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, MonthDialog):
            QTimer.singleShot(20, answer)
            return
        seen["default"] = dialog.chosen()
        seen["offered"] = [dialog.month.itemText(i) for i in range(dialog.month.count())]
        if choose is None:
            dialog.reject()
        else:
            dialog.choose(choose)
            dialog.accept()

    QTimer.singleShot(0, answer)


def test_the_button_asks_for_the_month_and_writes_the_report(page, saved, qtbot, tmp_path):
    assert page.monthly_button.isEnabled()
    seen: dict = {}
    october = THIS_MONTH.previous()
    _answer_month(qtbot, october.previous(), seen)
    page.monthly_button.click()
    finish_tasks(qtbot)
    assert seen["default"] == october  # the last complete month
    assert seen["offered"][0] == f"{THIS_MONTH.start:%B %Y} (month to date)"
    assert saved["suggested"].endswith(f"monthly-report-CHA-{october.previous().code}.pdf")
    pdf = PdfReader(tmp_path / "monthly.pdf")
    assert len(pdf.pages) == 1
    assert f"{october.previous().start:%B %Y}" in pdf.pages[0].extract_text()
    assert saved["asked"] == ["Monthly exception report saved"]


def test_cancelling_the_month_writes_nothing(page, saved, qtbot, tmp_path):
    seen: dict = {}
    _answer_month(qtbot, None, seen)
    page.monthly_button.click()
    finish_tasks(qtbot)
    assert "suggested" not in saved and not (tmp_path / "monthly.pdf").exists()
