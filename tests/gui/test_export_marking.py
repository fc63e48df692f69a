"""Exports of patient-identifiable data (issue 10, point 5): the worklist export asks first, says it is
OFFICIAL-SENSITIVE, suggests a marked file name, writes formula-safe cells and is audited with the role."""

from __future__ import annotations

import json

import pytest
from openpyxl import load_workbook
from PySide6.QtWidgets import QFileDialog
from task_helpers import finish_tasks

from desktop.models import audit
from desktop.models.cohort import caseload
from desktop.views.kit import messages
from desktop.views.shell import who_dialog


@pytest.fixture
def worked(loaded, session):
    ids = [loaded.model.patient_id(r) for r in range(3)]
    session.publish(caseload.update_patients(session.db, session.actor, ids, {"status": "on caseload"}))
    return loaded


def test_a_worklist_export_asks_first_says_official_sensitive_and_is_audited(
    qtbot, worked, session, settings, tmp_path, monkeypatch
):
    who_dialog.apply(session, "Dr Jo Example", "care coordinator")
    worked.worklists.select("no_care_plan")
    asked, suggested = [], []
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text, action: asked.append((title, text)) or True)
    out = tmp_path / "list.xlsx"
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda parent, title, name, *a: suggested.append(name) or (str(out), "Excel workbook (*.xlsx)"),
    )
    worked.export_worklist()
    finish_tasks(qtbot)
    title, text = asked[0]
    assert title == "Export patient-identifiable data?" and "OFFICIAL-SENSITIVE" in text
    assert suggested[0].endswith(".OFFICIAL-SENSITIVE.xlsx")
    sheet = load_workbook(out).active
    assert sheet["C1"].value == "OFFICIAL-SENSITIVE: patient-identifiable"
    entry = audit.entries(session.db, "worklist")[0]
    assert (entry["action"], entry["user"], entry["role"]) == ("export", "Dr Jo Example", "care coordinator")
    assert json.loads(entry["detail"])["marking"] == "OFFICIAL-SENSITIVE"
