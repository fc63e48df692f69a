"""The Reports screen on the demo world with history (Charnwood): the KPI list against the figures the locality
report prints (locality_figures.gather), the in-app XmR chart of the chosen KPI read back from its plot items,
the locality and system reports written as PDFs, and a commissioner workspace, which has no locality report and
a system report only once returns are held."""

from __future__ import annotations

import datetime as dt

import pytest
from cohort_helpers import choose_locality
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from return_files import return_doc, write
from task_helpers import finish_tasks

from desktop.models.kpi import board, return_import
from desktop.models.kpi.catalogue import catalogue
from desktop.models.kpi.locality_figures import gather
from desktop.models.quarters import of
from desktop.reports import system_report
from desktop.reports.charts import mdc_style
from desktop.views.kit import messages, tasks
from desktop.views.reports import board_summary, system_summary
from desktop.views.reports import page as reports_page
from desktop.views.reports.page import NO_RECORDS, WORKING
from desktop.views.reports.spc_list_model import ASSURANCE, CODE, RAG, VALUE, VARIATION, SpcListModel
from desktop.views.reports.spc_view import SYMBOLS
from desktop.views.returns.model import DASH, with_unit

LOAD_MS = 30_000


@pytest.fixture
def saved(monkeypatch, tmp_path) -> dict:
    """Save dialogs answer with a file in tmp_path (recording the suggested name); the 'saved' question is
    answered Close."""
    seen: dict = {"asked": []}

    def save(_parent, _title, suggested, _filter):
        seen["suggested"] = suggested
        return str(tmp_path / "out.pdf"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    # The board's recommendations are exported as drafted (their dialog: tests/gui/test_board_summary_gui.py).
    monkeypatch.setattr(board_summary, "edit_asks", lambda _p, _db, figures: board.draft_asks(figures))
    # The system report's requests to the Board likewise (tests/gui/test_system_summary_gui.py).
    monkeypatch.setattr(system_summary, "ask_board", lambda _p, db, q, pub: system_report.draft_asks(db, q, pub))
    monkeypatch.setattr(messages, "ask", lambda _p, title, _t, _o: seen["asked"].append(title) or "Close")
    monkeypatch.setattr(messages, "warn", lambda _p, title, text: pytest.fail(f"warned: {title}: {text}"))
    return seen


@pytest.fixture
def page(mdt_window, monkeypatch, qtbot):
    """The Reports screen of Charnwood, shown, its charts loaded; the screen's today is the demo's."""
    monkeypatch.setattr(reports_page.ReportsPage, "today", staticmethod(lambda: DEMO_TODAY))
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    shown = mdt_window.current_page()
    qtbot.waitUntil(lambda: shown.figures is not None, timeout=LOAD_MS)
    return shown


@pytest.fixture
def expected(page, mdt_session):
    return gather(mdt_session.db, "CHA", page.quarter, DEMO_TODAY)


def _text(model: SpcListModel, row: int, column: int) -> str:
    return model.index(row, column).data()


def test_the_kpi_list_shows_the_reports_figures(page, expected):
    assert page.quarter == of(DEMO_TODAY).previous()
    model = page.model
    assert model.rowCount() == len(expected.rows) == len(catalogue())
    for n, row in enumerate(expected.rows):
        assert _text(model, n, CODE) == row.kpi.code
        assert _text(model, n, VALUE) == with_unit(row.kpi, row.value)
        assert _text(model, n, RAG) == (row.rag or DASH)
        if row.spc is not None and not row.spc.trial_limits:
            assert _text(model, n, VARIATION) == mdc_style.SHORT[row.spc.variation_icon]
            assert (
                model.index(n, VARIATION).data(Qt.ItemDataRole.AccessibleTextRole)
                == mdc_style.LABELS[row.spc.variation_icon]
            )
            if row.spc.assurance_icon:
                assert _text(model, n, ASSURANCE) == mdc_style.SHORT[row.spc.assurance_icon]
    assert any(r.rag == "R" for r in expected.rows) and any(r.rag == "G" for r in expected.rows)
    assert page.list.accessibleName()
    assert "signed off by" in page.locality_body.text()


def test_the_kpi_list_passes_qt_model_checks(page, qtmodeltester):
    model = SpcListModel()
    model.set_rows(page.figures.rows)
    qtmodeltester.check(model, force_py=True)


def _special(expected):
    """A KPI whose chart has special causes of a kind other than common cause, and a target."""
    return next(
        r
        for r in expected.rows
        if r.spc is not None
        and r.chart_target is not None
        and r.spc.variation_icon is not None
        and any(p.point_type != "common_cause" for p in r.spc.points)
    )


def test_choosing_a_kpi_draws_its_xmr_chart_from_the_spc_result(page, expected):
    row = _special(expected)
    page.select_kpi(row.kpi.code)
    view, spc = page.view, row.spc
    assert view.heading.text().startswith(row.kpi.code)
    xs, ys = view.points.getData()
    assert len(xs) == len(spc.points) == len(row.labels)
    assert list(ys) == pytest.approx([p.value for p in spc.points])
    assert list(view.upl_line.yData) == pytest.approx([spc.upl] * 2)
    assert list(view.lpl_line.yData) == pytest.approx([spc.lpl] * 2)
    assert list(view.mean_line.yData) == pytest.approx([spc.mean] * 2)
    assert view.target_line.isVisible() and list(view.target_line.yData) == pytest.approx([row.chart_target] * 2)
    # Special causes are shaped and coloured as on paper.
    for point, spot in zip(spc.points, view.points.points(), strict=True):
        shape, fill = mdc_style.MARKERS[point.point_type]
        assert spot.symbol() == SYMBOLS[shape]
        assert spot.brush().color().name().upper() == fill.upper()
    assert mdc_style.LABELS[spc.variation_icon] in view.words.text()
    assert f"({len(spc.points)} points)" in view.caption.text() and row.labels[0] in view.caption.text()
    assert row.kpi.code in view.chart.accessibleName()


def test_arrow_keys_move_the_chart_through_the_kpis(page, expected, qtbot):
    page.select_kpi(expected.rows[0].kpi.code)
    page.list.setFocus()
    for n in range(1, 4):
        qtbot.keyClick(page.list, Qt.Key.Key_Down)
        row = expected.rows[n]
        assert page.view.heading.text() == f"{row.kpi.code} {row.kpi.name}"
        if row.spc is not None:
            assert len(page.view.points.getData()[0]) == len(row.spc.points)


def test_another_quarter_is_worked_out_then_kept(page, qtbot):
    first = page.figures
    page.previous_button.click()
    assert page.spc_state.text() == WORKING and page.figures is None
    qtbot.waitUntil(lambda: page.figures is not None, timeout=LOAD_MS)
    assert page.figures.quarter == first.quarter.previous()
    page.next_button.click()
    assert page.figures is first  # from the cache, no second load


def _exports(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit WHERE action = 'export'").fetchone()[0]


def test_the_locality_report_is_written(page, saved, expected, qtbot):
    before = _exports(page.session.db)
    out = page.export_locality()
    finish_tasks(qtbot)
    assert out is not None and out.exists()
    assert _exports(page.session.db) == before + 1
    assert saved["suggested"].endswith(f"locality-report-CHA-{page.quarter.code}.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(out).pages)
    assert "Charnwood" in text
    for row in expected.rows:
        assert row.kpi.code in text
    assert saved["asked"] == ["Locality report saved"]


def test_the_system_report_for_publication_is_written(page, saved, qtbot):
    assert page.system_button.isEnabled()
    page.publication.setChecked(True)
    out = page.export_system()
    finish_tasks(qtbot)
    assert saved["suggested"].endswith(f"system-report-{page.quarter.code}-publication.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert system_report.PUBLICATION_NOTE in text and system_report.NOT_FOR_PUBLICATION not in text
    assert saved["asked"] == ["System report saved"]
    status = page.window().statusBar().currentMessage()
    assert status.startswith(f"System report for publication saved to {out}:") and "suppressed or rounded" in status


@pytest.mark.parametrize("export", ["export_locality", "export_system"])
def test_cancel_in_the_progress_dialog_leaves_no_file_and_no_audit_entry(page, saved, qtbot, tmp_path, export):
    before = _exports(page.session.db)
    out = getattr(page, export)()
    [task] = tasks.running()
    task.dialog.canceled.emit()  # the dialog's Cancel button
    finish_tasks(qtbot)
    assert out is not None and not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith((".out.pdf", "out.pdf"))] == []
    assert _exports(page.session.db) == before
    assert saved["asked"] == []  # nothing offered to open
    assert "cancelled" in page.window().statusBar().currentMessage()


def test_a_report_that_cannot_be_written_says_where_and_what_to_do(page, saved, qtbot, tmp_path, monkeypatch):
    gone = tmp_path / "gone" / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a: (str(gone), ""))
    warned: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "warn", lambda _p, title, text: warned.append((title, text)))
    before = _exports(page.session.db)
    page.export_system()
    finish_tasks(qtbot)
    [(title, text)] = warned
    assert title == "Cannot write the system report" and str(gone) in text and "PDF viewer" in text
    assert _exports(page.session.db) == before and saved["asked"] == []


def _signed_off(code: str, quarter) -> dict:
    """A return of *quarter* signed off two weeks after it ended (a return signed off earlier is refused)."""
    doc = return_doc(code, quarter.code)
    doc["signed_off_at"] = f"{quarter.end + dt.timedelta(days=14)}T16:00:00+00:00"
    doc["generated_at"] = f"{quarter.end + dt.timedelta(days=14)}T16:05:00+00:00"
    return doc


# -- a commissioner workspace -----------------------------------------------------------------------------------
def test_a_commissioner_workspace_has_the_system_report_once_returns_are_held(commissioner_window, tmp_path):
    commissioner_window.show_screen("reports")
    page = commissioner_window.current_page()
    assert page.no_locality.isVisible() and page.no_locality.body.text() == NO_RECORDS
    assert "not their records" in NO_RECORDS
    assert not page.locality_card.isVisible() and not page.spc.isVisible()
    assert not page.system_button.isEnabled()
    assert f"no signed-off return for {page.quarter.label}" in page.system_reason.text()
    assert page.system_reason.isVisible()

    files = [write(tmp_path / f"kpi-return-{code}.json", _signed_off(code, page.quarter)) for code in ("CHA", "MSR")]
    session = page.session
    _outcomes, changes = return_import.import_returns(session.db, session.actor, files)
    session.publish(changes)
    assert page.system_button.isEnabled() and not page.system_reason.isVisible()
    assert "2 of 11" in page.system_body.text()


def test_figures_that_arrive_after_the_window_closed_are_dropped_quietly(mdt_window, qtbot):
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("reports")
    loading = mdt_window.current_page()
    assert loading.is_loading
    mdt_window.close()
    tasks.wait_for_workers()
    qtbot.wait(50)  # the finished load's signal still reaches the page: it must not touch the closed file
    assert loading.figures is None
