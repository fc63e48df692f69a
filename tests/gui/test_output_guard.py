"""A save dialog answered with the workspace itself (or its -wal file) is refused before anything is written:
the workspace stays byte for byte as it was and nothing is audited (issue 19.1, for the GUI's exports)."""

from __future__ import annotations

import hashlib

import pytest
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.views.shell import backups as backup_dialogs
from desktop.views.shell import sync_dialogs


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _export_audit_log(window):
    window.show_screen("audit")
    window.current_page().export()


def _back_up(window):
    backup_dialogs.back_up_now(window)


def _send_changes(window):
    sync_dialogs.send_changes(window)


# The audit export gives any other name a .csv suffix, so only a link named .csv reaches the workspace from it.
CASES = [
    (_export_audit_log, ".csv", "a-link"),
    *[
        (export, suffix, target)
        for export, suffix in ((_back_up, ".sqlite"), (_send_changes, ".ldsync"))
        for target in ("itself", "its-wal", "a-link")
    ],
]


@pytest.mark.parametrize(("export", "suffix", "target"), CASES, ids=lambda v: getattr(v, "__name__", v))
def test_an_export_onto_the_workspace_is_refused_and_changes_nothing(
    export, suffix, target, window, session, qtbot, monkeypatch, warnings, confirmed
):
    if target == "a-link":  # named as the export would name its file, so no suffix added can save it
        chosen = session.path.with_name(f"shortcut{suffix}")
        chosen.symlink_to(session.path)
    else:
        chosen = session.path.with_name(session.path.name + ("-wal" if target == "its-wal" else ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(chosen), ""))
    monkeypatch.setattr(sync_dialogs, "ask_passphrase", lambda *a, **k: "a long team passphrase")
    session.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before, entries = _digest(session.path), len(audit.entries(session.db))
    export(window)
    finish_tasks(qtbot)
    [(title, text)] = warnings
    assert title == "Not written" and "nothing was written" in text.lower()
    assert text.lower().count("nothing was written") == 1  # said once, not again by the storage wording
    assert _digest(session.path) == before and len(audit.entries(session.db)) == entries
