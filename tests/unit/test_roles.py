"""Sign-off and reopen need the federation manager's or the locality lead's role, enforced in the models
(issue 20, point 4): before, `returns.sign_off` never looked at the role, so a GP, a commissioner or a script
with no role at all froze a return in their name."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from extract_helpers import patient, write_csv
from worlds import copy_world

from desktop.models import quarters, roles
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import returns

Q = quarters.parse("2025-26-Q4")
TODAY = dt.date(2026, 4, 10)
FED = Actor(user="Fed Manager", device_id="laptop-5", role="federation manager")
ENTERED = {"OUT-01": (41, 900), "OUT-02": (120, 900), "OUT-03": (12, 1000), "OUT-04": (30, None)}


@pytest.mark.parametrize(
    "role",
    ["federation manager", "Federation Manager", "federation-manager", " FEDERATION_MANAGER ", "locality lead",
     "Locality-Lead", "LOCALITY  LEAD"],
)  # fmt: skip
def test_the_federation_manager_and_the_locality_lead_may_sign_off_however_the_role_is_written(role):
    assert roles.may_sign_off(role)
    roles.require_sign_off(replace(FED, role=role))


@pytest.mark.parametrize(
    "role", [None, "", "GP", "community matron", "care coordinator", "commissioner", "analyst", "federation", "lead"]
)
def test_anyone_else_may_not_and_is_told_who_may(role):
    assert not roles.may_sign_off(role)
    with pytest.raises(ValidationError) as caught:
        roles.require_sign_off(replace(FED, user="Dr Ann Example", role=role), "reopen")
    said = str(caught.value)
    assert said.startswith("Only a federation manager or a locality lead may reopen a return")
    assert "Dr Ann Example is recorded " + (f"as {role}" if role else "with no role") in said
    assert caught.value.field == "role"


@pytest.fixture
def ready(small_world, cha, tmp_path):
    """A Charnwood return of 2025/26 Q4 with nothing blocking its sign-off."""
    code, mine, _ = cha
    rows = [patient(n, mine[0]) for n in range(1, 6)]
    import_extract(small_world, FED, code, write_csv(tmp_path / "x.csv", rows), dt.date(2026, 2, 1))
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    return_id, _ = returns.draft(small_world, FED, loc, Q, TODAY)
    for kpi, (n, d) in ENTERED.items():
        returns.enter(small_world, FED, return_id, kpi, n, d)
    for issue in returns.check(small_world, return_id, TODAY):
        if issue["blocking"] and issue["kpi"]:
            returns.comment(small_world, FED, return_id, issue["kpi"], "Recovery plan agreed with the ICB.")
    return small_world, return_id


def _state(db) -> tuple:
    return tuple(db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("returns", "audit")) + tuple(
        db.execute("SELECT status, revision FROM returns ORDER BY revision").fetchall()
    )


@pytest.mark.parametrize("role", [None, "GP", "commissioner"])
def test_sign_off_and_reopen_are_refused_in_the_models_and_change_nothing(ready, role):
    db, return_id = ready
    other = Actor(user="Dr Ann Example", device_id="laptop-9", role=role)
    before = _state(db)
    with pytest.raises(ValidationError, match="Only a federation manager or a locality lead may sign off"):
        returns.sign_off(db, other, return_id, TODAY)
    assert _state(db) == before
    returns.sign_off(db, FED, return_id, TODAY)
    before = _state(db)
    with pytest.raises(ValidationError, match="may reopen a return"):
        returns.reopen(db, other, return_id, "A late correction", TODAY)
    assert _state(db) == before


def test_a_locality_lead_signs_off_and_reopens_and_the_audit_says_so(ready):
    db, return_id = ready
    lead = Actor(user="Lee Lead", device_id="laptop-7", role="Locality Lead")
    returns.sign_off(db, lead, return_id, TODAY)
    new_id, _ = returns.reopen(db, lead, return_id, "A late correction", TODAY)
    assert returns.get(db, new_id)["status"] == "draft"
    audited = db.execute(
        "SELECT action, user, role FROM audit WHERE action IN ('sign-off', 'reopen') ORDER BY seq"
    ).fetchall()
    assert audited == [("sign-off", "Lee Lead", "Locality Lead"), ("reopen", "Lee Lead", "Locality Lead")]


def test_the_demo_world_signs_its_returns_off_as_the_federation_manager(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    try:
        signed = db.execute("SELECT role, COUNT(*) FROM audit WHERE action = 'sign-off' GROUP BY role").fetchall()
        assert [role for role, _ in signed] == [roles.FEDERATION_MANAGER] and signed[0][1] >= 8
    finally:
        db.close()
