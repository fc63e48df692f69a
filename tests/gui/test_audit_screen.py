"""The audit-log screen (issue 10, point 5) and who is using the app (point 6): filters, the detail pane, the
export of the log, the worklist export's marking, and the name and role every change is recorded with."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from PySide6.QtCore import QDate, QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit, reference
from desktop.models.clock import Actor
from desktop.views.audit.page import COLUMNS
from desktop.views.kit import messages
from desktop.views.reference import operations
from desktop.views.shell import who_dialog
from desktop.views.shell.who_dialog import WhoDialog


def menu_action(window, menu_title, text):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == menu_title)
    return next(a for a in menu.actions() if a.text().replace("&", "") == text)


@pytest.fixture
def logged(session):
    """Three entries of known shape on top of the small world's own log."""
    db = session.db
    audit.record(
        db,
        Actor("Dr Ann Example", "dev-1", "2031-02-03T10:00:00+00:00", "GP"),
        "sign-off",
        "returns",
        "q1",
        "Signed off the zebra quarter",
        {"revision": 2, "kpis": {"MDT-01": "G"}},
    )
    audit.record(
        db,
        Actor("Bea Matron", "dev-2", "2031-02-04T10:00:00+00:00", "community matron"),
        "delete",
        "meeting_items",
        "m1",
        "Took the zebra item off the agenda",
        {},
    )
    audit.record(
        db,
        Actor("=2+3", "dev-3", "2031-02-05T10:00:00+00:00"),
        "reopen",
        "returns",
        "q1",
        "-Reopened the zebra quarter",
        {"reason": "@late figures"},
    )
    return session


@pytest.fixture
def page(window, logged):
    window.show_screen("audit")
    return window.current_page()


def shown(page):
    return [
        page.model.record(page.proxy.mapToSource(page.proxy.index(r, 0)).row())["summary"]
        for r in range(page.proxy.rowCount())
    ]


def test_the_audit_log_is_the_last_screen_so_the_ctrl_digits_stay(window):
    keys = [window.nav.item(r).data(Qt.ItemDataRole.UserRole) for r in range(window.nav.count())]
    assert keys[-1] == "audit" and window.current_screen().key != "audit"


def test_newest_first_with_the_detail_of_the_chosen_entry(page, logged):
    assert shown(page)[:3] == [
        "-Reopened the zebra quarter",
        "Took the zebra item off the agenda",
        "Signed off the zebra quarter",
    ]
    total = audit.count(logged.db)
    assert page.filters.count.text() == (
        f"{total:,} entries" if total <= audit.SEARCH_LIMIT else f"newest {audit.SEARCH_LIMIT:,} of {total:,} entries"
    )
    page.filters.text.setText("zebra")
    page.filters.flush()
    assert shown(page) == [
        "-Reopened the zebra quarter",
        "Took the zebra item off the agenda",
        "Signed off the zebra quarter",
    ]
    assert page.filters.count.text() == "3 entries"
    page.table.selectRow(2)
    text = page.detail.toPlainText()
    assert "Dr Ann Example (GP) on device dev-1" in text
    assert json.dumps({"kpis": {"MDT-01": "G"}, "revision": 2}, indent=2, sort_keys=True) in text


def test_filters_by_action_user_text_and_dates(page):
    bar = page.filters
    bar.choose(bar.action, "delete")
    assert "Took the zebra item off the agenda" in shown(page)
    assert {page.model.record(r)["action"] for r in range(page.model.rowCount())} == {"delete"}
    bar.clear()
    bar.choose(bar.user, "Bea Matron")
    assert shown(page) == ["Took the zebra item off the agenda"]
    assert page.model.record(0)["role"] == "community matron"
    bar.clear()
    bar.set_dates(QDate(2031, 2, 4), QDate(2031, 2, 5))
    assert shown(page) == ["-Reopened the zebra quarter", "Took the zebra item off the agenda"]
    assert "from 4 Feb 2031" in bar.describe() and bar.clear_button.isEnabled()
    bar.text.setText("late figures")  # found in the JSON detail
    bar.flush()
    assert shown(page) == ["-Reopened the zebra quarter"]
    bar.clear()
    assert bar.is_clear() and len(shown(page)) > 3


def test_clicking_a_heading_sorts_what_is_listed(qtbot, page):
    page.filters.text.setText("zebra")
    page.filters.flush()
    header = page.table.horizontalHeader()
    column = [c.key for c in COLUMNS].index("summary")
    centre = QPoint(header.sectionViewportPosition(column) + header.sectionSize(column) // 2, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert shown(page) == [
        "-Reopened the zebra quarter",
        "Signed off the zebra quarter",
        "Took the zebra item off the agenda",
    ]


def test_exporting_the_log_asks_then_writes_a_formula_safe_csv_and_is_audited(
    page, logged, tmp_path, monkeypatch, qtbot
):
    asked, suggested = [], []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text, action: asked.append(text) or True)
    out = tmp_path / "log.csv"
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda parent, title, name, *a: suggested.append(name) or (str(out), "CSV file (*.csv)"),
    )
    page.filters.text.setText("zebra")
    page.filters.flush()
    page.export_button.click()
    finish_tasks(qtbot)
    assert "OFFICIAL-SENSITIVE" in asked[0] and "3 entries" in asked[0]
    assert "OFFICIAL-SENSITIVE" in suggested[0]
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) == 4
    newest = dict(zip(rows[0], rows[1], strict=True))
    assert newest["User"] == "'=2+3" and newest["Summary"] == "'-Reopened the zebra quarter"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
    latest = audit.search(logged.db, limit=1)[0]
    assert (latest["action"], latest["entity"]) == ("export", "audit")
    assert shown(page)[0].startswith("Exported 3 audit log entries")  # the screen shows its own export at once


def test_an_export_that_cannot_be_written_says_so_and_is_not_audited(page, logged, tmp_path, monkeypatch, qtbot):
    monkeypatch.setattr(messages, "confirm", lambda *a: True)
    out = tmp_path / "gone" / "log.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(out), "CSV file (*.csv)"))
    warned: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warned.append((title, text)))
    before = audit.count(logged.db)
    page.export_button.click()
    finish_tasks(qtbot)
    [(title, text)] = warned
    assert title == "Cannot write the file" and str(out) in text and "Excel" in text
    assert audit.count(logged.db) == before


def test_an_export_not_confirmed_writes_nothing(page, logged, monkeypatch):
    monkeypatch.setattr(messages, "confirm", lambda *a: False)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("no file should be asked for"))
    before = audit.count(logged.db)
    page.export_button.click()
    assert audit.count(logged.db) == before


# -- who is using the app ---------------------------------------------------------------------------------------
def test_the_who_dialog_is_prefilled_from_settings_so_enter_keeps_it(qtbot, window, settings):
    who_dialog.remember(settings, window.session.path, "Dr Jo Example", "social worker")
    dialog = WhoDialog(window.session, settings, window)
    qtbot.addWidget(dialog)
    assert dialog.name.text() == "Dr Jo Example" and dialog.role.currentData() == "social worker"
    assert dialog.ok.isEnabled() and dialog.ok.isDefault()
    dialog.show()
    qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    assert dialog.result() == WhoDialog.DialogCode.Accepted
    assert window.session.actor.role == "social worker"


def test_choosing_a_role_stamps_every_following_audit_entry_and_the_status_bar(qtbot, window, practices, settings):
    menu_action(window, "File", "Who is using this…").trigger()
    dialog = window.who
    assert dialog.isVisible() and not dialog.ok.isEnabled()  # nothing remembered yet: a role must be chosen
    dialog.name.setText("  Dr Jo Example ")
    dialog.role.setCurrentIndex(dialog.role.findData("community matron"))
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert window.who_label.text() == "Dr Jo Example · community matron"
    assert settings.get("user_name") == "Dr Jo Example"
    start = audit.count(window.session.db)
    for target in practices.visible_rows()[:2]:
        operations.save_record(
            window.session,
            "practices",
            {**reference.get(window.session.db, "practices", target["id"]), "list_size": 4321},
            target["id"],
        )
    written = audit.search(window.session.db, limit=audit.count(window.session.db) - start)
    assert len(written) == 2
    assert {(e["user"], e["role"]) for e in written} == {("Dr Jo Example", "community matron")}
    row = reference.get(window.session.db, "practices", practices.visible_rows()[0]["id"])
    assert row["updated_by"] == "Dr Jo Example"  # the row keeps the name; the audit entry has the role too


def test_reopening_the_workspace_applies_the_remembered_choice(make_window, window, settings, small_world_path):
    who_dialog.remember(settings, small_world_path, "Dr Jo Example", "GP")
    assert window.open_path(small_world_path)
    assert (window.session.actor.user, window.session.actor.role) == ("Dr Jo Example", "GP")
    assert window.who_label.text() == "Dr Jo Example · GP"


def test_a_commissioner_workspace_offers_the_commissioners_roles(qtbot, commissioner_window, settings):
    dialog = WhoDialog(commissioner_window.session, settings, commissioner_window)
    qtbot.addWidget(dialog)
    assert [dialog.role.itemData(i) for i in range(1, dialog.role.count())] == ["commissioner", "analyst"]


def test_a_role_a_workspace_does_not_offer_is_not_carried_over(settings, tmp_path):
    who_dialog.remember(settings, tmp_path / "team.sqlite", "Dr Jo Example", "GP")
    assert who_dialog.remembered(settings, tmp_path / "icb.sqlite", "commissioner") == ("Dr Jo Example", None)
    assert who_dialog.remembered(settings, tmp_path / "team.sqlite", "locality") == ("Dr Jo Example", "GP")


# -- the computer account and the hash chain (issue 20, point 4) -----------------------------------------------------
def wait_for_the_check(qtbot, page):
    qtbot.waitUntil(lambda: not page.checking, timeout=10_000)


def test_the_computer_account_is_shown_beside_the_typed_name(page, logged):
    audit.record(
        logged.db,
        Actor("Dr Typed Name", "dev-4", "2031-02-06T10:00:00+00:00", "GP", os_account="jexample01"),
        "sign-off",
        "returns",
        "q2",
        "Signed off the yak quarter",
    )
    page.reload()
    headings = [c.heading for c in COLUMNS]
    assert headings[headings.index("Who") + 1] == "Computer account"
    assert page.model.record(0)["os_account"] == "jexample01"
    page.table.selectRow(0)
    text = page.detail.toPlainText()
    assert "Dr Typed Name (GP) on device dev-4, signed in to the computer as jexample01" in text
    assert f"Hash {audit.entries(logged.db)[0]['hash']}" in text


def test_the_screen_says_whether_the_log_is_intact_and_where_it_breaks(qtbot, page, logged):
    wait_for_the_check(qtbot, page)
    entries = audit.count(logged.db)
    assert page.chain_result.intact and page.chain.objectName() == "countLabel"
    assert page.chain.text().startswith(f"The audit log is intact: {entries:,} entries")

    doomed = audit.search(logged.db, text="zebra item")[0]["seq"]
    raw = sqlite3.connect(logged.path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq = ?", [doomed])
    raw.commit()
    raw.close()
    page.reload()
    wait_for_the_check(qtbot, page)
    assert page.chain_result.broken_at == doomed and page.chain.objectName() == "inlineNotice"
    assert f"broken at entry {doomed}: entry {doomed} is missing (deleted)" in page.chain.text()
