"""The Care homes screen on the small demo world (two years of visits and residents): the home-round grid,
logging a visit from a missed week, residents and their PCSPs, and the visit report."""

from __future__ import annotations

import datetime as dt

import pytest
from cohort_helpers import locality_id
from mdt_fixtures import *  # noqa: F403 - the demo world with history, copied per test
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit, clock
from desktop.models.care_homes import residents, visits
from desktop.models.mdt import actions
from desktop.models.quarters import of
from desktop.views.care_homes import page as care_homes_page
from desktop.views.care_homes.round_grid import HELD, MISSED, STATE_ROLE, THIS_WEEK
from desktop.views.kit import messages, pdf_export


@pytest.fixture
def page(mdt_window):
    """The Care homes screen of Charnwood, shown."""
    from cohort_helpers import choose_locality

    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("care_homes")
    return mdt_window.current_page()


def _grid_states(page) -> list[list[str | None]]:
    model = page.grid.model_
    return [
        [model.index(r, c).data(STATE_ROLE) for c in range(1, model.coverage_column())] for r in range(model.rowCount())
    ]


def _missed_cell(page) -> tuple[int, int]:
    model = page.grid.model_
    return next(
        (r, c)
        for r in range(model.rowCount())
        for c in range(1, model.coverage_column())
        if model.state(r, c) == MISSED
    )


def test_the_grid_has_a_row_per_home_with_the_rounds_of_the_domain(page, mdt_session):
    page.set_quarter(of(clock.today()).previous())
    grid = visits.round_grid(mdt_session.db, locality_id(mdt_session.db), page.quarter)
    model = page.grid.model_
    assert model.rowCount() == len(grid["homes"]) > 0
    assert model.columnCount() == len(grid["weeks"]) + 2
    states = _grid_states(page)
    for home, row in zip(grid["homes"], states, strict=True):
        assert row.count(HELD) == sum(1 for cell in home["cells"] if cell)
        assert row.count(MISSED) == home["due"] - home["covered"]
    assert sum(row.count(MISSED) for row in states) > 0, "the demo has gaps in its rounds"
    coverage = model.index(0, model.coverage_column()).data()
    assert coverage == f"{grid['homes'][0]['covered']} / {grid['homes'][0]['due']}"
    # The marker is text, not only colour.
    assert model.index(*_missed_cell(page)).data() == MISSED


def test_this_week_is_not_a_miss_until_it_is_over(page, mdt_session):
    grid = visits.round_grid(mdt_session.db, locality_id(mdt_session.db), page.quarter)
    today = clock.today()
    this_week = next(n for n, w in enumerate(grid["weeks"]) if w <= today < w + dt.timedelta(days=7))
    for home, row in zip(grid["homes"], _grid_states(page), strict=True):
        assert row[this_week] == (HELD if home["cells"][this_week] else THIS_WEEK)
        assert MISSED not in row[this_week + 1 :] and HELD not in row[this_week + 1 :]
        # The week under way is not counted as due until it is over (or its round is held).
        assert row.count(MISSED) == home["due"] - home["covered"]


def test_register_gaps_are_marked_with_their_problems(page, mdt_session):
    gaps = visits.register_gaps(mdt_session.db, locality_id(mdt_session.db))
    model = page.grid.model_
    for gap in gaps:
        row = model.row_of(gap["id"])
        assert model.index(row, 0).data().startswith("⚠")
        assert gap["problems"][0] in model.index(row, 0).data(Qt.ItemDataRole.ToolTipRole)
    flagged = [r for r in range(model.rowCount()) if model.index(r, 0).data().startswith("⚠")]
    assert len(flagged) == len(gaps)


def test_quarter_buttons_move_the_grid(qtbot, page):
    current = page.quarter
    assert current == of(clock.today())
    assert not page.next_button.isEnabled()
    qtbot.mouseClick(page.previous_button, Qt.MouseButton.LeftButton)
    assert page.quarter == current.previous()
    assert current.previous().label in page.quarter_label.text()
    assert page.grid.model_.weeks == current.previous().weeks()
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    assert page.quarter == current


def _log_from_missed_cell(qtbot, page, monkeypatch):
    page.set_quarter(of(clock.today()).previous())
    row, column = _missed_cell(page)
    asked = []
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: asked.append(text) or options[0])
    view = page.grid
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(view.model_.index(row, column)).center()
    )
    assert asked and "No weekly home round" in asked[0]
    dialog = page.dialog
    assert dialog.home.currentData() == view.model_.home(row)["id"]
    assert dialog.date.value() == view.model_.week_of(column).isoformat()
    assert dialog.type.currentData() == "weekly home round"
    return row, column, dialog


def test_logging_a_visit_from_a_missed_week_turns_it_green(qtbot, page, mdt_session, monkeypatch):
    row, column, dialog = _log_from_missed_cell(qtbot, page, monkeypatch)
    home_id = page.grid.model_.home(row)["id"]
    assert dialog.rows, "the home has residents to tick"
    first = dialog.rows[0]
    first.check.setChecked(True)
    first.outcome.setCurrentIndex(first.outcome.findData("referred on"))
    first.note.setText("Chest clear")
    before = len(audit.entries(mdt_session.db, "visits"))
    dialog.try_save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert page.grid.model_.state(row, column) == HELD
    logged = visits.get(mdt_session.db, page.grid.model_.visit_ids(row, column)[0])
    assert logged["care_home_id"] == home_id and logged["type"] == "weekly home round"
    assert [(r["resident_id"], r["outcome"], r["note"]) for r in logged["residents"]] == [
        (first.resident_id, "referred on", "Chest clear")
    ]
    assert len(audit.entries(mdt_session.db, "visits")) == before + 1


def test_a_follow_up_action_lands_in_the_action_log(qtbot, page, mdt_session, monkeypatch):
    _row, _column, dialog = _log_from_missed_cell(qtbot, page, monkeypatch)
    follow = dialog.follow_ups[0]
    follow.description.setText("Review falls risk with the home manager")
    follow.owner.setCurrentIndex(0)
    follow.due.line.setText(clock.today().strftime("%d/%m/%Y"))
    follow.resident.setCurrentIndex(1)
    dialog.try_save()
    assert dialog.result() == dialog.DialogCode.Accepted
    listed = actions.listing(mdt_session.db, locality_id(mdt_session.db), actions.ActionFilter(), clock.today())
    # A resident outside the cohort is named in the action's text, so the log says who it is about.
    made = [a for a in listed if a["description"].startswith("Review falls risk with the home manager")]
    assert len(made) == 1
    assert actions.get(mdt_session.db, made[0]["id"])["visit_id"] in page.grid.model_.visit_ids(_row, _column)


def test_a_bad_visit_date_is_shown_at_the_field_and_nothing_is_written(qtbot, page, mdt_session, monkeypatch):
    _row, _column, dialog = _log_from_missed_cell(qtbot, page, monkeypatch)
    dialog.rows[0].check.setChecked(True)
    dialog.date.line.setText("31/02/2026")
    count = mdt_session.db["visits"].count
    dialog.try_save()
    assert dialog.isVisible()
    assert dialog.errors["visited_on"].isVisible() and dialog.errors["visited_on"].text().startswith("⚠")
    assert mdt_session.db["visits"].count == count
    assert dialog.rows[0].check.isChecked(), "nothing typed is lost"
    tomorrow = clock.today() + dt.timedelta(days=1)
    dialog.date.line.setText(tomorrow.strftime("%d/%m/%Y"))
    dialog.try_save()
    assert "future" in dialog.errors["visited_on"].text()
    assert mdt_session.db["visits"].count == count


def test_a_held_week_opens_its_round(qtbot, page, mdt_session):
    model = page.grid.model_
    row, column = next(
        (r, c) for r in range(model.rowCount()) for c in range(1, model.coverage_column()) if model.state(r, c) == HELD
    )
    page.grid.setCurrentIndex(model.index(row, column))
    page.grid.setFocus()
    qtbot.keyClick(page.grid, Qt.Key.Key_Return)
    text = page.dialog.findChild(type(page.quarter_label), "visitText").text()
    assert "Weekly home round" in text and model.home(row)["name"] in text
    page.dialog.reject()


def test_admitting_a_resident_shows_their_pcsp_due_date(qtbot, page, mdt_session):
    page.tabs.setCurrentIndex(care_homes_page.DETAIL)
    home_id = page.detail.current_home_id()
    page.edit_resident(None)
    dialog = page.dialog
    dialog.lines["nhs_number"].setText("9434765919")
    dialog.lines["given_name"].setText("Edna")
    dialog.lines["family_name"].setText("Testbridge")
    admitted = clock.today() - dt.timedelta(days=2)
    dialog.dates["admitted_on"].line.setText(admitted.strftime("%d/%m/%Y"))
    dialog.try_save()
    assert dialog.result() == dialog.DialogCode.Accepted, dialog.banner.text()
    listed = residents.listing(mdt_session.db, home_id)
    edna = next(r for r in listed if r["family_name"] == "Testbridge")
    model = page.detail.residents_model
    row = model.row_of(edna["id"])
    due = dt.date.fromisoformat(edna["pcsp_due"]).strftime("%d/%m/%Y")
    assert model.record(row)["pcsp_due"] == due
    assert model.record(row)["name"] == "TESTBRIDGE, Edna"


def test_a_bad_admission_is_refused_at_the_field(qtbot, page, mdt_session):
    page.edit_resident(None)
    dialog = page.dialog
    dialog.lines["nhs_number"].setText("123")
    count = mdt_session.db["residents"].count
    dialog.try_save()
    assert dialog.errors["nhs_number"].isVisible()
    assert mdt_session.db["residents"].count == count
    dialog.done(0)


def test_late_and_overdue_pcsps_are_marked(page):
    model = page.detail.residents_model
    for row in range(model.rowCount()):
        record = model.record(row)
        status = model.index(row, 5)
        if record["late"]:
            assert status.data().startswith("⚠")
            assert status.data(Qt.ItemDataRole.ForegroundRole) is not None


def test_exporting_the_visit_report_warns_then_writes_and_audits(qtbot, page, mdt_session, tmp_path, monkeypatch):
    page.set_quarter(of(clock.today()).previous())
    page.tabs.setCurrentIndex(care_homes_page.DETAIL)
    out = tmp_path / "visits.pdf"
    warned, offered, opened = [], [], []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text, action: warned.append(text) or True)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF document (*.pdf)"))
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: offered.append(options) or options[0])
    monkeypatch.setattr(pdf_export.QDesktopServices, "openUrl", lambda url: opened.append(url))
    qtbot.mouseClick(page.detail.export_button, Qt.MouseButton.LeftButton)
    finish_tasks(qtbot)
    assert "OFFICIAL-SENSITIVE" in warned[0]
    assert out.read_bytes().startswith(b"%PDF")
    entry = audit.entries(mdt_session.db, "care_homes", page.detail.current_home_id())[0]
    assert entry["action"] == "export" and page.quarter.label in entry["summary"]
    assert opened and opened[0].toLocalFile() == str(out)


def test_editing_a_resident_records_their_pcsp(qtbot, page, mdt_session):
    page.tabs.setCurrentIndex(care_homes_page.DETAIL)
    box = page.detail.home_box
    model = page.detail.residents_model
    overdue = None
    for number in range(box.count()):
        box.setCurrentIndex(number)
        overdue = next((r for r in range(model.rowCount()) if model.record(r)["status"] == "⚠ overdue"), None)
        if overdue is not None:
            break
    assert overdue is not None, "the demo has a resident whose PCSP is overdue"
    resident_id = model.row_id(overdue)
    qtbot.mouseClick(page.detail.edit_button, Qt.MouseButton.LeftButton)
    assert page.dialog is None or not page.dialog.isVisible(), "Edit with no resident chosen opens nothing"
    page.detail.residents.setCurrentIndex(model.index(overdue, 0))
    qtbot.mouseClick(page.detail.edit_button, Qt.MouseButton.LeftButton)
    dialog = page.dialog
    assert dialog.lines["family_name"].text() == residents.get(mdt_session.db, resident_id)["family_name"]
    dialog.dates["pcsp_on"].line.setText(clock.today().strftime("%d/%m/%Y"))
    dialog.try_save()
    assert dialog.result() == dialog.DialogCode.Accepted, dialog.banner.text()
    assert residents.get(mdt_session.db, resident_id)["pcsp_on"] == clock.today().isoformat()
    assert model.record(model.row_of(resident_id))["status"] == "⚠ late"


def test_the_grid_model_passes_qt_model_checks(qtmodeltester, mdt_session):
    from desktop.views.care_homes.round_grid import RoundGridModel

    model = RoundGridModel()
    lid = locality_id(mdt_session.db)
    quarter = of(clock.today())
    model.set_grid(
        visits.round_grid(mdt_session.db, lid, quarter), visits.register_gaps(mdt_session.db, lid), clock.today()
    )
    qtmodeltester.check(model, force_py=True)


def test_enter_on_a_missed_week_offers_to_log_a_visit_and_close_writes_nothing(qtbot, page, mdt_session, monkeypatch):
    page.set_quarter(of(clock.today()).previous())
    row, column = _missed_cell(page)
    offered = []
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: offered.append(options) or "Close")
    page.grid.setCurrentIndex(page.grid.model_.index(row, column))
    page.grid.setFocus()
    count = mdt_session.db["visits"].count
    qtbot.keyClick(page.grid, Qt.Key.Key_Return)
    assert offered == [[care_homes_page.LOG_VISIT, care_homes_page.CLOSE]]
    assert page.dialog is None
    assert mdt_session.db["visits"].count == count
    assert page.detail.current_home_id() == page.grid.model_.home(row)["id"]
