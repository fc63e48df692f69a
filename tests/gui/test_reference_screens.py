"""Reference screens: editing through the real dialog, validation, deletion, filtering, gaps, counts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from desktop.models import audit, reference
from desktop.views.kit import messages
from desktop.views.kit.table_model import MISSING, Column, RecordsModel


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: shown.append((title, text)))
    return shown


@pytest.fixture
def confirmations(monkeypatch):
    asked = []

    def confirm(parent, title, text, action):
        asked.append(text)
        return True

    monkeypatch.setattr(messages, "confirm", confirm)
    return asked


def open_editor(qtbot, page, row_id):
    assert page.select(row_id)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert page.dialog is not None and page.dialog.isVisible()
    return page.dialog


def test_editing_a_list_size_saves_it_and_writes_an_audit_row(qtbot, practices, session):
    target = practices.visible_rows()[0]
    dialog = open_editor(qtbot, practices, target["id"])
    spin = dialog.editor("list_size")
    spin.selectAll()
    qtbot.keyClicks(spin, "12345")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    assert reference.get(session.db, "practices", target["id"])["list_size"] == 12345
    trail = audit.entries(session.db, "practices", target["id"])
    assert trail[0]["action"] == "update" and "list_size" in trail[0]["summary"]
    shown = next(r for r in practices.visible_rows() if r["id"] == target["id"])
    assert shown["list_size"] == 12345
    assert practices.selected_id() == target["id"]


def test_an_invalid_ods_code_is_shown_by_its_field_and_nothing_is_written(qtbot, practices, session):
    target = practices.visible_rows()[0]
    before = audit.entries(session.db)
    dialog = open_editor(qtbot, practices, target["id"])
    dialog.editor("name").setText("Renamed Surgery")
    code = dialog.editor("ods_code")
    code.clear()
    qtbot.keyClicks(code, "12345X")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.isVisible()
    assert dialog.errors["ods_code"].isVisible()
    assert "not a GP practice ODS code" in dialog.errors["ods_code"].text()
    assert code.property("invalid") is True
    assert dialog.editor("name").text() == "Renamed Surgery"  # what was typed is kept
    assert reference.get(session.db, "practices", target["id"])["ods_code"] == target["ods_code"]
    assert audit.entries(session.db) == before

    code.clear()
    qtbot.keyClicks(code, "c82999")
    assert not dialog.errors["ods_code"].isVisible()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    saved = reference.get(session.db, "practices", target["id"])
    assert (saved["ods_code"], saved["name"]) == ("C82999", "Renamed Surgery")


def _aligned_practice_id(session):
    homes = reference.list_rows(session.db, "care_homes")
    return next(p for h in homes if (p := reference.get(session.db, "care_homes", h["id"])["aligned_practice_id"]))


def test_deleting_a_practice_a_care_home_is_aligned_to_is_refused(
    qtbot, window, practices, session, warnings, confirmations
):
    practices.all_localities_button.click()
    practice_id = _aligned_practice_id(session)
    name = reference.get(session.db, "practices", practice_id)["name"]
    assert practices.select(practice_id)
    practices.table.setFocus()
    qtbot.keyClick(practices.table, Qt.Key.Key_Delete)

    assert name in confirmations[0]
    assert len(warnings) == 1 and name in warnings[0][1] and "care home" in warnings[0][1]
    assert reference.get(session.db, "practices", practice_id)["name"] == name
    assert not [e for e in audit.entries(session.db, "practices") if e["action"] == "delete"]


def test_deleting_an_unused_practice_asks_first_then_removes_it(qtbot, practices, session, monkeypatch):
    used = {
        reference.get(session.db, "care_homes", h["id"])["aligned_practice_id"]
        for h in reference.list_rows(session.db, "care_homes")
    }
    target = next(r for r in practices.visible_rows() if r["id"] not in used)
    monkeypatch.setattr(messages, "confirm", lambda *a: False)
    practices.select(target["id"])
    practices.delete_button.click()
    assert target["id"] in [r["id"] for r in practices.visible_rows()]

    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    practices.delete_button.click()
    assert target["id"] not in [r["id"] for r in practices.visible_rows()]
    assert audit.entries(session.db, "practices", target["id"])[0]["action"] == "delete"


def test_insert_adds_a_practice_in_the_current_locality(qtbot, window, practices, session):
    practices.table.setFocus()
    qtbot.keyClick(practices.table, Qt.Key.Key_Insert)
    dialog = practices.dialog
    assert dialog.values()["locality_id"] == window.current_locality()["id"]
    qtbot.keyClicks(dialog.editor("ods_code"), "C81234")
    qtbot.keyClicks(dialog.editor("name"), "Riverside Health Centre")
    dialog.editor("list_size").setValue(6400)
    system = dialog.editor("clinical_system")
    system.setCurrentIndex(system.findText("SystmOne"))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert not dialog.isVisible()
    added = next(r for r in practices.visible_rows() if r["ods_code"] == "C81234")
    assert practices.selected_id() == added["id"]
    assert added["locality"] == window.current_locality()["name"]
    assert audit.entries(session.db, "practices", added["id"])[0]["action"] == "create"


def test_filter_box_narrows_the_table_and_escape_clears_it(qtbot, practices):
    practices.all_localities_button.click()
    everything = practices.visible_rows()
    wanted = everything[3]["name"]
    qtbot.keyClicks(practices.filter, wanted)
    shown = practices.visible_rows()
    assert 1 <= len(shown) < len(everything)
    assert all(wanted.lower() in " ".join(str(v) for v in r.values()).lower() for r in shown)
    assert practices.count.text() == f"{len(shown)} of {len(everything)} practices"

    qtbot.keyClicks(practices.filter, "no such practice")
    assert practices.visible_rows() == []
    assert practices.stack.currentWidget() is practices.empty
    assert "match" in practices.empty.text()
    qtbot.keyClick(practices.filter, Qt.Key.Key_Escape)
    assert len(practices.visible_rows()) == len(everything)


def test_care_homes_without_a_lead_or_practice_stand_out(window, session):
    window.show_screen("care_home_register")
    page = window.current_page()
    page.all_localities_button.click()
    model = page.model
    lead = [k for k, _ in page.entity.columns].index("clinical_lead")
    gaps = [r for r in range(model.rowCount()) if model.record(r)["clinical_lead"] is None]
    assert gaps, "the demo world leaves some homes without a lead"
    index = model.index(gaps[0], lead)
    assert index.data() == MISSING
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "clinical lead" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert page.summary.isVisible() and f"{len(gaps)} homes have no named clinical lead" in page.summary.notice.text()


def test_renaming_a_practice_refreshes_the_care_home_register(qtbot, window, practices, session):
    practices.all_localities_button.click()
    practice_id = _aligned_practice_id(session)
    dialog = open_editor(qtbot, practices, practice_id)
    dialog.editor("name").setText("Newly Named Surgery")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    window.show_screen("care_home_register")
    page = window.current_page()
    page.all_localities_button.click()
    assert "Newly Named Surgery" in {r["aligned_practice"] for r in page.visible_rows()}


def test_localities_screen_sums_up_its_localities(window, session):
    window.show_screen("localities")
    page = window.current_page()
    tiles = {k: int(v.text().replace(",", "")) for k, v in page.summary.tiles.items()}
    assert tiles["localities"] == 11
    assert tiles["practices"] == len(reference.list_rows(session.db, "practices"))
    assert tiles["care_homes"] == len(reference.list_rows(session.db, "care_homes"))
    assert tiles["list_size"] == sum(r["list_size"] for r in reference.list_rows(session.db, "practices"))


def test_records_model_passes_the_qt_model_tester(qtmodeltester, session):
    model = RecordsModel(
        [
            Column("ods_code", "ODS code"),
            Column("name", "Name"),
            Column("list_size", "List size"),
            Column("pcn", "PCN", missing_means="No PCN"),
        ]
    )
    model.set_rows(reference.list_rows(session.db, "practices"))
    qtmodeltester.check(model)


def test_cancelling_a_changed_form_asks_before_losing_the_changes(qtbot, practices, session, monkeypatch):
    target = practices.visible_rows()[0]
    dialog = open_editor(qtbot, practices, target["id"])
    dialog.editor("name").setText("Half-typed name")
    monkeypatch.setattr(messages, "confirm", lambda *a: False)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and dialog.editor("name").text() == "Half-typed name"

    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert reference.get(session.db, "practices", target["id"])["name"] == target["name"]


def test_clicking_a_heading_sorts_numbers_as_numbers(qtbot, practices):
    practices.all_localities_button.click()
    header = practices.table.horizontalHeader()
    column = [k for k, _ in practices.entity.columns].index("list_size")
    qtbot.mouseClick(
        header.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(header.sectionViewportPosition(column) + 10, header.height() // 2),
    )
    sizes = [r["list_size"] for r in practices.visible_rows()]
    assert sizes == sorted(sizes) or sizes == sorted(sizes, reverse=True)
    assert sizes != [r["list_size"] for r in sorted(practices.visible_rows(), key=lambda r: str(r["list_size"]))]
