"""Storage problems reach the user as messages, not the crash dialog: a damaged workspace at start offers
another file; a busy workspace's failed write is a plain message."""

from __future__ import annotations

import sys

from storage_helpers import damage
from task_helpers import finish_tasks
from worlds import copy_world

from desktop.models.db import open_workspace
from desktop.models.errors import StorageError
from desktop.models.workspace import set_meta
from desktop.views.kit import messages
from desktop.views.shell import startup
from desktop.views.shell.crash import ExceptionHandler


def _open_at_start(qtbot, target, settings):
    opened = []
    startup.open_at_start(target, settings, opened.append)
    finish_tasks(qtbot)
    (session,) = opened
    return session


def test_a_damaged_workspace_at_start_says_so_and_offers_another(
    qtbot, monkeypatch, settings, small_world_path, small_world_template, tmp_path
):
    damage(small_world_path)
    good = copy_world(small_world_template, tmp_path / "good.sqlite")
    questions = []

    def ask(parent, title, text, options):
        questions.append((text, options))
        return startup.OPEN_OTHER

    monkeypatch.setattr(messages, "ask", ask)
    monkeypatch.setattr(startup.QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    session = _open_at_start(qtbot, small_world_path, settings)
    assert session is not None and session.path == good.resolve()
    session.close()
    ((text, options),) = questions
    assert "damaged" in text and "Restore from backup" in text and "open another workspace" in text
    assert startup.OPEN_OTHER in options and startup.QUIT in options


def test_a_busy_workspace_write_is_a_message_not_the_crash_dialog(qtbot, monkeypatch, small_world_path, tmp_path):
    shown = []
    monkeypatch.setattr(messages, "warn", lambda parent, title, text: shown.append(text))
    holder = open_workspace(small_world_path)
    holder.conn.execute("BEGIN IMMEDIATE")
    window = open_workspace(small_world_path, busy_timeout_ms=100)
    handler = ExceptionHandler(tmp_path / "app.log")
    try:
        with window.atomic():
            set_meta(window, note="a save in the second window")
    except StorageError:
        handler(*sys.exc_info())  # as a Qt slot's exception reaches sys.excepthook
    else:
        raise AssertionError("the write did not wait for the other window")
    finally:
        holder.conn.rollback()
        holder.close()
        window.close()
    assert handler.open_dialog is None
    assert len(shown) == 1 and "busy in another window" in shown[0]


def test_a_damaged_workspace_at_start_is_restored_from_its_latest_backup(
    qtbot, monkeypatch, settings, small_world_path
):
    from desktop.models import backups

    db = open_workspace(small_world_path)
    kept = backups.rolling(db, keep=10, reason="close")
    practices = db.execute("SELECT COUNT(*) FROM practices").fetchone()[0]
    db.close()
    damage(small_world_path)
    informed = []
    monkeypatch.setattr(messages, "ask", lambda parent, title, text, options: startup.RESTORE)
    monkeypatch.setattr(messages, "inform", lambda parent, title, text: informed.append(text))

    def choose(dialog):
        assert dialog.selected() == kept  # the newest backup is offered first
        dialog._restore_selected()
        return True

    monkeypatch.setattr(startup, "choose_backup", choose)
    session = _open_at_start(qtbot, small_world_path, settings)
    assert session is not None and session.path == small_world_path.resolve()
    assert session.db.execute("SELECT COUNT(*) FROM practices").fetchone()[0] == practices
    assert session.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert session.db.execute("SELECT action FROM audit ORDER BY rowid DESC LIMIT 1").fetchone()[0] == "restore"
    session.close()
    aside = [f for f in backups.default_folder(small_world_path).iterdir() if "-damaged" in f.name]
    assert len(aside) == 1 and "kept as" in informed[0]
    # The damaged file is kept, but never offered as a backup to restore from.
    assert all("-damaged" not in b.path.name for b in backups.list_backups(backups.default_folder(small_world_path)))
