"""Issue 11 in the app: sending and applying change bundles from the File menu, the preview, and conflicts."""

from __future__ import annotations

import pytest
from a11y_helpers import reachable, unnamed
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks
from worlds import copy_world

from desktop.models import backups, reference
from desktop.models.changes import Changes
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import conflicts as sync_conflicts
from desktop.models.sync import merge as sync_merge
from desktop.views.kit import messages
from desktop.views.kit.session import Session
from desktop.views.shell import sync_dialogs

PASS = "correct horse battery staple"


pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py


def _actor(user: str, at: str) -> Actor:
    return Actor(user, f"laptop-{user}", fixed_time=at)


def _save(path, row_id: str, actor: Actor, **values) -> None:
    db = open_workspace(path)
    try:
        reference.save(db, actor, "practices", {**reference.get(db, "practices", row_id), **values}, row_id)
    finally:
        db.close()


@pytest.fixture
def laptops(small_world_path, tmp_path, settings, make_window, monkeypatch):
    """Two laptops after a first exchange; then both edit one practice (B later) and B renames another."""
    a = small_world_path
    sync_bundle.ensure_team_id(a)
    b = copy_world(a, tmp_path / "b.sqlite")
    first = tmp_path / "first.ldsync"
    sync_bundle.export_bundle(b, first, PASS, actor=_actor("bob", "2026-06-01T00:00:00+00:00"))
    sync_merge.import_bundle(a, first, PASS, actor=_actor("ann", "2026-06-01T00:00:00+00:00"))
    win_a = make_window(Session.open(a, settings))
    win_a.show_screen("practices")
    rows = win_a.current_page().visible_rows()
    clash, renamed = rows[0]["id"], rows[1]["id"]
    # A's edit is made on A's device: a conflict is an edit made on this laptop that a teammate's crossed.
    ann = Actor("ann", win_a.session.actor.device_id, fixed_time="2026-07-01T09:00:00+00:00")
    _save(a, clash, ann, list_size="11111")
    _save(b, clash, _actor("bob", "2026-07-01T10:00:00+00:00"), list_size="22222")
    _save(b, renamed, _actor("bob", "2026-07-01T10:05:00+00:00"), name="Renamed on B")
    win_a.session.publish(Changes.of("practices"))  # A's edit was made beside the window: show it
    win_b = make_window(Session.open(b, settings))
    warned: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "warn", lambda _parent, title, text: warned.append((title, text)))
    return {"a": win_a, "b": win_b, "clash": clash, "renamed": renamed, "warned": warned, "tmp": tmp_path}


def _passphrase(monkeypatch, value: str, asked: list | None = None) -> None:
    def ask(_parent, title, intro, confirm=False, **kwargs):
        if asked is not None:
            asked.append((title, intro, confirm, kwargs))
        return value

    monkeypatch.setattr(sync_dialogs, "ask_passphrase", ask)


def _apply(qtbot, win, bundle=None):
    """File → Apply a teammate's changes… up to its preview, once the dry run has reported back; None if refused."""
    win.sync_preview = None
    sync_dialogs.apply_changes(win, bundle)
    finish_tasks(qtbot)
    return win.sync_preview


def _send(laptops, monkeypatch, qtbot):
    out = laptops["tmp"] / "from-b.ldsync"
    asked: list = []
    _passphrase(monkeypatch, PASS, asked)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(out), ""))
    laptops["b"].session.set_user("bob")
    sync_dialogs.send_changes(laptops["b"])
    finish_tasks(qtbot)
    assert out.exists()
    assert asked[0][2] is False  # B sent a bundle before: the passphrase is asked once
    assert "written to from-b.ldsync" in laptops["b"].statusBar().currentMessage()
    return out


def _shown(win, row_id):
    return next(r for r in win.current_page().visible_rows() if r["id"] == row_id)


def test_send_preview_and_apply_change_what_is_shown(laptops, monkeypatch, qtbot):
    bundle = _send(laptops, monkeypatch, qtbot)
    win = laptops["a"]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(bundle), ""))
    asked: list = []
    _passphrase(monkeypatch, PASS, asked)
    preview = _apply(qtbot, win)
    assert preview is not None and preview.isVisible()
    practices = win.session.db.execute("SELECT COUNT(*) FROM practices").fetchone()[0]
    # The header, before the passphrase; B has never heard back from A, so it sends every practice it holds.
    assert "From bob" in asked[0][1] and f"Practices {practices}" in asked[0][1]
    counts = {
        preview.counts.topLevelItem(i).text(0): preview.counts.topLevelItem(i)
        for i in range(preview.counts.topLevelItemCount())
    }
    headers = [preview.counts.headerItem().text(i) for i in range(preview.counts.columnCount())]
    assert counts["Practices"].text(headers.index("Updated")) == "2"
    assert preview.conflicts.topLevelItemCount() == 1
    conflict = preview.conflicts.topLevelItem(0)
    clash = open_workspace(win.session.path)
    name, code = clash.execute("SELECT name, ods_code FROM practices WHERE id = ?", [laptops["clash"]]).fetchone()
    clash.close()
    assert (conflict.text(1), conflict.text(5)) == (f"{name} ({code})", "theirs")  # named as people know it
    assert _shown(win, laptops["clash"])["list_size"] == 11111  # nothing changed yet

    session = win.session
    preview.apply_button.click()
    assert not preview.isVisible()
    finish_tasks(qtbot)
    assert win.session is session  # sync ran in a child process: the window kept its connection, nothing reopened
    assert _shown(win, laptops["clash"])["list_size"] == 22222
    assert _shown(win, laptops["renamed"])["name"] == "Renamed on B"
    assert "1 conflict" in win.statusBar().currentMessage()
    assert not laptops["warned"]
    for laptop in (win, laptops["b"]):  # the window's connection still works after sync used the file
        assert backups.rolling(laptop.session.db, keep=3, reason="test", actor=laptop.session.actor) is not None


def test_a_wrong_passphrase_is_shown_and_changes_nothing(laptops, monkeypatch, qtbot):
    bundle = _send(laptops, monkeypatch, qtbot)
    win = laptops["a"]
    audits = win.session.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(bundle), ""))
    _passphrase(monkeypatch, "not the passphrase")
    assert _apply(qtbot, win) is None
    assert laptops["warned"] and "passphrase does not open" in laptops["warned"][0][1]
    assert laptops["warned"][0][0] == "The changes were not applied"
    assert _shown(win, laptops["clash"])["list_size"] == 11111
    assert win.session.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == audits


def test_conflicts_dialog_shows_both_versions_and_keep_mine_writes_mine_back(laptops, monkeypatch, qtbot):
    bundle = _send(laptops, monkeypatch, qtbot)
    win = laptops["a"]
    _passphrase(monkeypatch, PASS)
    _apply(qtbot, win, bundle).apply_button.click()
    finish_tasks(qtbot)
    assert _shown(win, laptops["clash"])["list_size"] == 22222

    dialog = sync_dialogs.show_conflicts(win)
    assert dialog.list.topLevelItemCount() == 1
    table = dialog.versions
    fields = [table.verticalHeaderItem(r).text() for r in range(table.rowCount())]
    row = fields.index("list size")
    assert (table.item(row, 0).text(), table.item(row, 1).text()) == ("11111", "22222")
    mine_head, theirs_head = (table.horizontalHeaderItem(c).text() for c in (0, 1))
    assert "ann" in mine_head and "bob" in theirs_head
    assert sync_dialogs.WINNER_MARK in theirs_head and sync_dialogs.WINNER_MARK not in mine_head

    qtbot.mouseClick(dialog.keep_mine_button, Qt.MouseButton.LeftButton)
    assert dialog.list.topLevelItemCount() == 0 and dialog.empty.isVisibleTo(dialog)
    shown = _shown(win, laptops["clash"])
    assert shown["list_size"] == 11111
    assert sync_conflicts.conflicts(win.session.db) == []
    assert reference.get(win.session.db, "practices", laptops["clash"])["updated_by"] == win.session.actor.user
    assert not laptops["warned"]


def test_the_passphrase_dialog_hides_the_text_and_asks_twice_the_first_time(qtbot):
    dialog = sync_dialogs.PassphraseDialog("Send", "Choose one", confirm=True)
    qtbot.addWidget(dialog)
    assert dialog.passphrase.echoMode() == dialog.passphrase.EchoMode.Password
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.passphrase, "secret words")
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.confirm, "secret words")
    assert dialog.ok_button.isEnabled() and dialog.value() == "secret words"


def test_the_passphrase_for_a_new_bundle_shows_the_rule_and_waits_for_one_that_keeps_it(qtbot):
    dialog = sync_dialogs.PassphraseDialog("Send", "Choose one", confirm=True, rule=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.rule.isVisible() and "at least 12 characters, or four words" in dialog.rule.text()
    qtbot.keyClicks(dialog.passphrase, "secret")
    qtbot.keyClicks(dialog.confirm, "secret")
    assert not dialog.ok_button.isEnabled()
    assert "Too short" in dialog.hint.text() and sync_bundle.PASSPHRASE_RULE in dialog.hint.text()
    qtbot.keyClicks(dialog.passphrase, " words")
    qtbot.keyClicks(dialog.confirm, " words")
    assert dialog.ok_button.isEnabled() and dialog.hint.text() == ""
    # Opening a bundle asks for the passphrase that made it, however short: no rule there.
    opening = sync_dialogs.PassphraseDialog("Apply", "The team's passphrase")
    qtbot.addWidget(opening)
    qtbot.keyClicks(opening.passphrase, "a")
    assert opening.ok_button.isEnabled() and not opening.rule.isVisibleTo(opening)


def test_send_asks_with_the_rule_and_a_short_passphrase_is_refused_and_writes_nothing(laptops, monkeypatch, qtbot):
    out = laptops["tmp"] / "short.ldsync"
    asked: list = []
    _passphrase(monkeypatch, "secret", asked)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(out), ""))
    sync_dialogs.send_changes(laptops["b"])
    finish_tasks(qtbot)
    assert asked[0][3] == {"rule": True}
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    assert laptops["warned"], "the refusal is shown"
    assert "at least 12 characters, or four words" in laptops["warned"][0][1]


def test_the_file_menu_has_the_three_sync_items(window):
    texts = [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]
    assert {"Send changes to the team…", "Apply a teammate's changes…", "Sync conflicts…"} <= set(texts)


def test_every_control_of_the_sync_dialogs_has_a_name(laptops, monkeypatch, qtbot):
    asking = sync_dialogs.PassphraseDialog("Send", "Choose one", confirm=True)
    qtbot.addWidget(asking)
    asking.show()
    qtbot.waitExposed(asking)
    assert len(reachable(asking)) >= 3 and unnamed(asking) == []

    bundle = _send(laptops, monkeypatch, qtbot)
    _passphrase(monkeypatch, PASS)
    preview = _apply(qtbot, laptops["a"], bundle)
    qtbot.waitExposed(preview)
    assert len(reachable(preview)) >= 3 and unnamed(preview) == []
    preview.apply_button.click()
    finish_tasks(qtbot)
    conflicts = sync_dialogs.show_conflicts(laptops["a"])
    qtbot.waitExposed(conflicts)
    assert len(reachable(conflicts)) >= 4 and unnamed(conflicts) == []
