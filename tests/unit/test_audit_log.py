"""The audit trail's query, export and role (issue 10): search by action, user, text and day; a formula-safe,
audited CSV export; every entry written by an actor with a role carries it; the other CSV writers are safe."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.cohort import worklists
from desktop.models.cohort.extract_rules import Rejection
from desktop.models.cohort.rejections_export import write_rejections
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.workspace import create_workspace


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.sqlite"
    create_workspace(path, "locality").close()
    db = open_workspace(path)
    db.execute("DELETE FROM audit")
    gp = Actor("Dr Ann Example", "dev-1", "2026-03-01T10:00:00+00:00", role="GP")
    matron = Actor("Bea Matron", "dev-2", "2026-03-05T23:59:00+00:00", role="community matron")
    audit.record(db, gp, "import", "risk_runs", "r1", "Imported the March extract", {"rows": 120})
    audit.record(db, matron, "update", "patients", "p1", "Changed status", {"changes": {"status": "contacted"}})
    audit.record(db, gp, "sign-off", "returns", "q1", "Signed off 2025-26 Q4", {"revision": 1})
    audit.record(
        db,
        Actor("=cmd|' /C calc'!A0", "dev-3", "2026-03-06T08:00:00+00:00"),
        "export",
        "worklist",
        "new",
        "+Exported '@SUM(1)'",
        {"file": "-x.csv"},
    )
    yield db
    db.close()


def test_search_is_newest_first_and_filters_by_action_user_text_and_day(db):
    assert [e["summary"] for e in audit.search(db)][:2] == ["+Exported '@SUM(1)'", "Signed off 2025-26 Q4"]
    assert [e["action"] for e in audit.search(db, action="update")] == ["update"]
    assert {e["user"] for e in audit.search(db, user="Dr Ann Example")} == {"Dr Ann Example"}
    assert [e["entity_id"] for e in audit.search(db, text="march")] == ["r1"]
    assert [e["entity_id"] for e in audit.search(db, text="contacted")] == ["p1"]  # the JSON detail is searched
    assert [e["entity_id"] for e in audit.search(db, text="matron")] == ["p1"]  # so is the role
    assert audit.search(db, text="100%") == []  # LIKE wildcards are taken literally
    # Whole days, both ends included: 23:59 on the last day is in, the next morning is out.
    assert [e["entity_id"] for e in audit.search(db, since=dt.date(2026, 3, 2), until=dt.date(2026, 3, 5))] == ["p1"]
    assert [e["entity_id"] for e in audit.search(db, since=dt.date(2026, 3, 6))] == ["new"]
    assert [e["entity_id"] for e in audit.search(db, until=dt.date(2026, 3, 1))] == ["q1", "r1"]
    assert len(audit.search(db, limit=2)) == 2
    assert audit.count(db) == 4 and audit.count(db, user="Bea Matron") == 1
    assert audit.actions(db) == ["export", "import", "sign-off", "update"]


def test_every_entry_carries_the_role_of_whoever_wrote_it(db):
    roles = {e["user"]: e["role"] for e in audit.search(db)}
    assert roles["Dr Ann Example"] == "GP" and roles["Bea Matron"] == "community matron"
    assert roles["=cmd|' /C calc'!A0"] is None  # an actor without a role, as every existing caller makes


def test_an_actor_keeps_its_old_shape_and_says_name_and_role():
    old = Actor("Jo", "dev")
    assert old.role is None and old.label == "Jo" and old.stamp()["updated_by"] == "Jo"
    new = Actor.local("dev", "Jo", "care coordinator")
    assert new.label == "Jo · care coordinator" and new.stamp()["updated_by"] == "Jo"


def test_exporting_the_log_writes_a_formula_safe_csv_and_is_audited(db, tmp_path):
    out = tmp_path / "log.csv"
    exporter = Actor("Auditor", "dev-9", "2026-04-01T09:00:00+00:00", role="analyst")
    assert audit.export_csv(db, exporter, out, action="export") == 1
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["Entry", "When (UTC)", "User"] and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["User"] == "'=cmd|' /C calc'!A0" and row["Summary"] == "'+Exported '@SUM(1)'"
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in rows[1])
    logged = audit.search(db, action="export", user="Auditor")[0]
    assert logged["entity"] == "audit" and logged["role"] == "analyst"
    assert json.loads(logged["detail"]) == {"entries": 1, "file": str(out), "filters": {"action": "export"}}
    with pytest.raises(ValidationError):
        audit.export_csv(db, exporter, tmp_path / "log.xlsx")


def test_the_rejections_csv_is_formula_safe(db, tmp_path):
    out = tmp_path / "rejected.csv"
    rejected = [Rejection(2, '=HYPERLINK("x")', "@not a date"), Rejection(3, "nhs_number", "too short")]
    write_rejections(db, Actor("Jo", "dev"), rejected, out, "Charnwood")
    with open(out, encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    # Row 0 is the OFFICIAL-SENSITIVE marking line, row 1 the headings.
    assert rows[2] == ["2", '\'=HYPERLINK("x")', "'@not a date"] and rows[3] == ["3", "nhs_number", "too short"]


def test_a_worklist_file_name_carries_the_marking_once(tmp_path):
    assert worklists.marked(tmp_path / "cha-new.csv").name == "cha-new.OFFICIAL-SENSITIVE.csv"
    assert worklists.marked(tmp_path / "cha-new.official-sensitive.xlsx").name == "cha-new.official-sensitive.xlsx"
