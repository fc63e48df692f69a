"""The Commissioner screen: in a new commissioner workspace, return files imported through the dialog (a dry run
first, nothing written until confirmed) from the button or dropped on the screen; on the demo world with
history (a locality workspace holding all 11 teams' returns for eight quarters), the consolidated grid against
the domain, the completeness line, paging quarters, the funnel and trend of the chosen KPI, and the Excel
workbook."""

from __future__ import annotations

from pathlib import Path

import pytest
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from openpyxl import load_workbook
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog
from return_files import return_doc, write
from shiboken6 import isValid
from task_helpers import finish_tasks

from desktop.models.errors import StorageUnavailable
from desktop.models.kpi import consolidated, return_import
from desktop.models.kpi.catalogue import by_code, catalogue
from desktop.models.kpi.return_import import Outcome
from desktop.models.quarters import parse
from desktop.views.commissioner.consolidated_model import ConsolidatedModel, bare
from desktop.views.commissioner.outcomes_model import OutcomesModel
from desktop.views.kit.messages import NOTHING_WRITTEN

TEAMS = ("BAL", "CHA", "CTE", "CTN", "CTS", "CTW", "HAB", "MHA", "MSR", "NWL", "OAW")
PERIOD = "2025-26-Q3"


@pytest.fixture
def icb(commissioner_window):
    """The Commissioner screen of a new, empty commissioner workspace."""
    commissioner_window.show_screen("commissioner")
    return commissioner_window.current_page()


@pytest.fixture
def files(tmp_path) -> list[Path]:
    """The 11 teams' signed-off returns for one quarter, and one file damaged after it was exported."""
    folder = tmp_path / "returns"
    folder.mkdir()
    good = [
        write(folder / f"kpi-return-{code}-{PERIOD}-r1.json", return_doc(code, PERIOD, 1, scale=n % 4))
        for n, code in enumerate(TEAMS)
    ]
    damaged = return_doc("CHA", "2025-26-Q4")
    damaged["values"][0]["numerator"] += 1  # changed by hand: the digest no longer matches
    return good + [write(folder / "kpi-return-CHA-2025-26-Q4-r1.json", damaged, redigest=False)]


@pytest.fixture
def demo(mdt_window):
    """The Commissioner screen of the demo world with history: a locality workspace holding all 11 teams'
    returns for eight quarters."""
    mdt_window.show_screen("commissioner")
    return mdt_window.current_page()


def _statuses(dialog) -> dict[str, tuple[str, str]]:
    """File name -> (outcome shown, code shown)."""
    model = dialog.model
    return {
        model.index(r, 0).data(): (model.index(r, 1).data(), model.index(r, 2).data()) for r in range(model.rowCount())
    }


def _drop(page, paths, qtbot) -> QDropEvent:
    """Drop *paths* on the page and wait for the dry run the drop starts."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    assert page.accepts_drop(mime)
    drop = QDropEvent(
        QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    page.dropEvent(drop)
    finish_tasks(qtbot)
    return drop


# -- a commissioner workspace -----------------------------------------------------------------------------------
def test_an_empty_commissioner_workspace_says_how_to_import_returns(icb):
    assert icb.empty.isVisible() and not icb.splitter.isVisible()
    assert "drop the .json files" in icb.empty_card.body.text()
    assert icb.import_button.isEnabled() and icb.empty_card.button is not None
    assert not icb.export_button.isEnabled()


def test_importing_shows_the_dry_run_writes_nothing_until_confirmed_then_imports(icb, files, monkeypatch, qtbot):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([str(f) for f in files], "")))
    icb.import_button.click()
    finish_tasks(qtbot)
    dialog = icb.dialog
    assert dialog is not None and dialog.isVisible()
    shown = _statuses(dialog)
    assert shown["kpi-return-CHA-2025-26-Q4-r1.json"] == ("Rejected", "digest-mismatch")
    assert dialog.model.outcome(0).status == "rejected"  # the file that needs a word with its team comes first
    assert all(shown[f.name] == ("Would be imported", "") for f in files[:11])
    assert dialog.summary.text() == "11 would be imported, 1 rejected"
    assert dialog.import_button.text() == "Import 11 files" and dialog.import_button.isEnabled()
    assert consolidated.held_quarters(icb.session.db) == []  # the dry run wrote nothing

    dialog.import_button.click()
    finish_tasks(qtbot)
    assert dialog.summary.text() == "11 imported, 1 rejected"
    assert _statuses(dialog)["kpi-return-CHA-2025-26-Q4-r1.json"] == ("Rejected", "digest-mismatch")
    assert not dialog.import_button.isVisible() and dialog.close_button.text() == "Close"
    assert consolidated.held_quarters(icb.session.db) == [parse(PERIOD)]
    # The screen shows what came in, on the quarter imported.
    assert icb.splitter.isVisible() and not icb.empty.isVisible()
    assert icb.quarter == parse(PERIOD)
    assert icb.completeness.text().startswith("Received 11 of 11 · on time 11 · signed off 11")
    assert icb.completeness.text().endswith("missing: none")
    assert "11 imported, 1 rejected" in icb.window().statusBar().currentMessage()


def test_files_dropped_on_the_screen_open_the_dialog_which_reports_superseded_and_ignored(icb, files, tmp_path, qtbot):
    _drop(icb, files[:3], qtbot)
    icb.dialog.import_button.click()
    finish_tasks(qtbot)
    later = write(tmp_path / "kpi-return-BAL-r2.json", return_doc("BAL", PERIOD, 2, scale=2))
    _drop(icb, [later, files[1], tmp_path / "returns" / "nothing-here.json"], qtbot)
    shown = _statuses(icb.dialog)
    assert shown["kpi-return-BAL-r2.json"] == ("Would supersede", "")
    assert shown[files[1].name] == ("Ignored", "")
    assert shown["nothing-here.json"] == ("Rejected", "unreadable")
    assert icb.dialog.summary.text() == "1 would be superseded, 1 ignored, 1 rejected"
    assert icb.dialog.import_button.text() == "Import 1 file"


def test_a_folder_dropped_imports_its_return_files(icb, files, qtbot):
    _drop(icb, [files[0].parent], qtbot)
    assert icb.dialog.model.rowCount() == len(files)


def test_a_batch_with_nothing_to_import_cannot_be_confirmed(icb, tmp_path, qtbot):
    _drop(icb, [write(tmp_path / "x.json", {"format": "something else"}, redigest=False)], qtbot)
    assert _statuses(icb.dialog)["x.json"] == ("Rejected", "unknown-format")
    assert not icb.dialog.import_button.isEnabled()


def test_a_check_that_cannot_run_says_why_and_opens_no_dialog(icb, files, warnings, monkeypatch, qtbot):
    def locked(*_a, **_k):
        raise StorageUnavailable("The workspace is locked by another program.")

    monkeypatch.setattr(return_import, "import_returns", locked)
    dialog = icb.import_files(files)
    finish_tasks(qtbot)
    assert warnings == [
        ("Cannot import the returns", f"The workspace is locked by another program.\n\n{NOTHING_WRITTEN}")
    ]
    assert icb.dialog is None
    qtbot.waitUntil(lambda: not isValid(dialog))  # never shown, and gone


# -- the demo world: a locality workspace holding all 11 teams' returns -----------------------------------------
def test_the_grid_shows_each_teams_value_and_rag_letter_for_the_latest_quarter_held(demo, mdt_session):
    db = mdt_session.db
    quarter = consolidated.held_quarters(db)[-1]
    assert demo.quarter == quarter
    cells = consolidated.grid(db, quarter)
    model = demo.model
    assert model.rowCount() == len(catalogue()) and model.columnCount() == 12
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(1, 12)] == list(TEAMS)
    names = {t["code"]: t["name"] for t in consolidated.localities(db)}
    assert model.headerData(2, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == names["CHA"]
    for row, kpi in enumerate(catalogue()):
        for column, team in enumerate(TEAMS, start=1):
            held = cells[(kpi.code, team)]
            text = model.index(row, column).data()
            assert text == bare(kpi, held["value"]) + (f" {held['rag']}" if held["rag"] else "")
    comment = next(((k, t) for (k, t), v in cells.items() if v["comment"]), None)
    if comment:
        tip = model.index(model.row_of(comment[0]), model.column_of(comment[1])).data(Qt.ItemDataRole.ToolTipRole)
        assert cells[comment]["comment"] in tip


def test_the_grid_model_passes_qt_model_checks(demo, mdt_session, qtmodeltester):
    grid = ConsolidatedModel()
    assert grid.columnCount() == 0  # no returns held: no rows, no columns
    grid.set_grid(catalogue(), demo.teams, consolidated.grid(mdt_session.db, demo.quarter))
    assert grid.rowCount() == len(catalogue()) and grid.columnCount() == 12
    qtmodeltester.check(grid, force_py=True)


def test_the_import_outcomes_model_passes_qt_model_checks(qtmodeltester):
    outcomes = OutcomesModel()
    outcomes.set_outcomes(
        [
            Outcome("kpi-return-BAL.json", "imported", locality="BAL", period=PERIOD, revision=1),
            Outcome("kpi-return-CHA.json", "rejected", "digest-mismatch", "Changed after export"),
            Outcome("kpi-return-CTE.json", "ignored", locality="CTE", period=PERIOD, revision=1),
        ],
        True,
    )
    assert [outcomes.outcome(n).status for n in range(3)] == ["rejected", "imported", "ignored"]
    qtmodeltester.check(outcomes, force_py=True)


def test_the_completeness_line_counts_the_quarters_returns(demo, mdt_session):
    done = consolidated.completeness(mdt_session.db, demo.quarter)
    assert demo.completeness.text() == (
        f"Received {done.received} of 11 · on time {done.on_time} · signed off {done.signed_off} · on-time deadline "
        f"{done.deadline:%d/%m/%Y} · missing: none"
    )


def test_paging_to_the_quarter_before_shows_its_returns(demo, mdt_session):
    held = consolidated.held_quarters(mdt_session.db)
    demo.previous_button.click()
    assert demo.quarter == held[-2]
    assert held[-2].label in demo.quarter_label.text()
    cell = consolidated.grid(mdt_session.db, held[-2])[("COH-02", "BAL")]
    assert demo.model.index(demo.model.row_of("COH-02"), 1).data().startswith(bare(by_code()["COH-02"], cell["value"]))
    demo.previous_button.click()
    demo.next_button.click()
    assert demo.quarter == held[-2]  # the quarter chosen stays chosen


def test_choosing_a_percent_kpi_cell_shows_its_funnel_and_trend_with_the_team_picked_out(demo, mdt_session):
    demo.select_kpi("COH-02", "CHA")
    charts = demo.charts
    funnel = consolidated.funnel(mdt_session.db, "COH-02", demo.quarter)
    assert charts.funnel_chart.isVisible()
    assert len(charts.funnel_points.data) == len(funnel.points) == 11
    assert set(charts.limit_curves) == {(0.95, "lower"), (0.95, "upper"), (0.998, "lower"), (0.998, "upper")}
    assert list(charts.limit_curves[(0.95, "upper")].getData()[1]) == pytest.approx(list(funnel.limits[0.95][1]))
    assert charts.centre_line.getData()[1][0] == pytest.approx(funnel.centre)
    chosen = [p for p in charts.funnel_points.points() if p.data() == "CHA"][0]
    assert chosen.size() > [p for p in charts.funnel_points.points() if p.data() == "BAL"][0].size()
    assert "Charnwood (CHA)" in charts.detail.text() and "95% limits" in charts.detail.text()
    assert "95% limits" in charts.legend.text() and "99.8% limits" in charts.legend.text()
    assert charts.trend_chart.isVisible() and set(charts.trend_lines) == set(TEAMS)
    assert charts.trend_lines["CHA"].opts["pen"].width() > charts.trend_lines["BAL"].opts["pen"].width()
    assert charts.funnel_chart.accessibleName().startswith("Funnel plot of COH-02")


def test_a_count_kpi_shows_no_funnel_says_why_and_shows_the_trend(demo):
    demo.select_kpi("COH-02", "CHA")  # draw a funnel first, so it must go away
    demo.select_kpi("COH-01", "BAL")
    charts = demo.charts
    assert not charts.funnel_chart.isVisible() and not charts.legend.isVisible()
    assert "is a count" in charts.funnel_note.text() and "numerator and a denominator" in charts.funnel_note.text()
    assert charts.trend_chart.isVisible() and "BAL" in charts.trend_lines


def test_the_arrow_keys_move_through_the_grid_and_the_charts_follow(qtbot, demo):
    demo.select_kpi("COH-02", "BAL")
    demo.grid.setFocus()
    qtbot.keyClick(demo.grid, Qt.Key.Key_Right)
    assert demo.model.team(demo.grid.currentIndex().column())["code"] == "CHA"
    assert "(CHA)" in demo.charts.detail.text()
    qtbot.keyClick(demo.grid, Qt.Key.Key_Down)
    assert demo.charts.heading.text().startswith("COH-03")


def test_clicking_a_teams_line_chooses_its_cell(demo):
    demo.select_kpi("COH-02", "BAL")
    line = demo.charts.trend_lines["OAW"]
    line.sigClicked.emit(line, object())
    assert demo.model.team(demo.grid.currentIndex().column())["code"] == "OAW"


def test_export_to_excel_writes_the_consolidated_workbook(demo, tmp_path, monkeypatch):
    asked: list[str] = []

    def save_as(_parent, _title, name, _filter):
        asked.append(name)
        return str(tmp_path / "board"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_as))
    demo.export_button.click()
    assert asked == [f"llr-returns-{demo.quarter.code}.xlsx"]
    book = load_workbook(tmp_path / "board.xlsx")
    sheet = book["Consolidated"]
    codes = {k.code for k in catalogue()}
    assert sum(1 for row in sheet.iter_rows(min_col=1, max_col=1, values_only=True) if row[0] in codes) == len(
        catalogue()
    )
    assert "board.xlsx" in demo.window().statusBar().currentMessage()


def test_an_export_that_cannot_be_written_is_refused_by_name(demo, warnings, tmp_path, monkeypatch):
    gone = tmp_path / "gone" / "board.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a: (str(gone), "")))
    demo.export_button.click()
    [(title, text)] = warnings
    assert title == "Not exported" and str(gone) in text and "another name or folder" in text


def test_a_locality_workspace_shows_its_own_returns_and_imports_none(demo, warnings, files, qtbot):
    assert demo.splitter.isVisible() and demo.model.rowCount() == len(catalogue())
    assert not demo.import_button.isEnabled()
    assert "commissioner workspace" in demo.import_button.toolTip()
    _drop(demo, files[:1], qtbot)
    assert demo.dialog is None
    assert warnings and "commissioner workspace" in warnings[0][1]
