"""Reference-data edits: validated, landing in the store and the audit log, or refused leaving nothing."""

from __future__ import annotations

import pytest

from desktop.models import audit, reference
from desktop.models.clock import Actor
from desktop.models.errors import ValidationError

ACTOR = Actor(user="m.matron", device_id="laptop-42")


def _practice(db, code=None):
    q = "SELECT * FROM practices ORDER BY ods_code LIMIT 1"
    return (
        next(iter(db.query(q)))
        if code is None
        else next(iter(db.query("SELECT * FROM practices WHERE ods_code = ?", [code])))
    )


def _snapshot(db):
    return [list(db.execute(f"SELECT * FROM {t} ORDER BY 1")) for t in ("practices", "care_homes", "audit")]


def test_editing_a_practice_lands_in_the_store_and_the_audit_log(small_world):
    p = _practice(small_world)
    values = {**p, "list_size": "12,345", "name": "Brookside Surgery (renamed)"}
    row_id, changes = reference.save(small_world, ACTOR, "practices", values, p["id"])
    after = _practice(small_world, p["ods_code"])
    assert (after["list_size"], after["name"]) == (12345, "Brookside Surgery (renamed)")
    assert (after["updated_by"], after["device_id"]) == ("m.matron", "laptop-42")
    assert changes.touches("practices")
    entry = audit.entries(small_world, "practices", row_id)[0]
    assert entry["action"] == "update" and entry["user"] == "m.matron"
    assert "list_size" in entry["summary"] and "name" in entry["summary"]


def test_saving_without_a_change_writes_nothing(small_world):
    p = _practice(small_world)
    before = _snapshot(small_world)
    _, changes = reference.save(small_world, ACTOR, "practices", dict(p), p["id"])
    assert not changes.tables
    assert _snapshot(small_world) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ods_code": "C8200"}, "ods_code", "not a GP practice ODS code"),
        ({"ods_code": ""}, "ods_code", "required"),
        ({"list_size": "lots"}, "list_size", "whole number"),
        ({"list_size": "-4"}, "list_size", "zero or more"),
        ({"clinical_system": "Lotus Notes"}, "clinical_system", "one of"),
        ({"locality_id": "no-such-locality"}, "locality_id", "no longer exists"),
    ],
)
def test_bad_practice_edits_are_refused_and_change_nothing(small_world, change, field, message):
    p = _practice(small_world)
    before = _snapshot(small_world)
    with pytest.raises(ValidationError, match=message) as caught:
        reference.save(small_world, ACTOR, "practices", {**p, **change}, p["id"])
    assert caught.value.field == field
    assert _snapshot(small_world) == before


def test_a_duplicate_ods_code_names_the_practice_that_has_it(small_world):
    first, second = list(small_world.query("SELECT * FROM practices ORDER BY ods_code LIMIT 2"))
    with pytest.raises(ValidationError, match=f"already used by {first['name']}"):
        reference.save(small_world, ACTOR, "practices", {**second, "ods_code": first["ods_code"]}, second["id"])


def test_a_new_care_home_needs_a_valid_cqc_id_and_beds(small_world):
    loc = next(iter(small_world.query("SELECT id FROM localities LIMIT 1")))["id"]
    home = {"cqc_id": "1-123", "name": "Test House", "locality_id": loc, "home_type": "nursing", "beds": "20"}
    with pytest.raises(ValidationError, match="CQC location id"):
        reference.save(small_world, ACTOR, "care_homes", home)
    with pytest.raises(ValidationError, match="at least 1"):
        reference.save(small_world, ACTOR, "care_homes", {**home, "cqc_id": "1-123456789", "beds": "0"})
    row_id, _ = reference.save(small_world, ACTOR, "care_homes", {**home, "cqc_id": "1-123456789"})
    assert reference.get(small_world, "care_homes", row_id)["beds"] == 20
    assert audit.entries(small_world, "care_homes", row_id)[0]["action"] == "create"


def test_a_home_cannot_be_aligned_to_a_practice_in_another_locality(small_world):
    home = next(iter(small_world.query("SELECT * FROM care_homes LIMIT 1")))
    other = next(
        iter(small_world.query("SELECT id FROM practices WHERE locality_id != ? LIMIT 1", [home["locality_id"]]))
    )
    with pytest.raises(ValidationError, match="another locality") as caught:
        reference.save(small_world, ACTOR, "care_homes", {**home, "aligned_practice_id": other["id"]}, home["id"])
    assert caught.value.field == "aligned_practice_id"


def test_deleting_a_practice_a_home_is_aligned_to_is_refused(small_world):
    home = next(iter(small_world.query("SELECT * FROM care_homes WHERE aligned_practice_id IS NOT NULL LIMIT 1")))
    before = _snapshot(small_world)
    with pytest.raises(ValidationError, match="care homes aligned to it"):
        reference.delete(small_world, ACTOR, "practices", home["aligned_practice_id"])
    assert _snapshot(small_world) == before


def test_deleting_an_unreferenced_practice_is_audited_with_its_contents(small_world):
    p = next(
        iter(
            small_world.query(
                "SELECT * FROM practices WHERE id NOT IN (SELECT aligned_practice_id FROM care_homes "
                "WHERE aligned_practice_id IS NOT NULL) LIMIT 1"
            )
        )
    )
    reference.delete(small_world, ACTOR, "practices", p["id"])
    assert not list(small_world.query("SELECT 1 FROM practices WHERE id = ?", [p["id"]]))
    entry = audit.entries(small_world, "practices", p["id"])[0]
    assert entry["action"] == "delete" and p["ods_code"] in entry["summary"] and p["name"] in entry["detail"]


def test_list_rows_filters_by_locality(small_world):
    loc = next(iter(small_world.query("SELECT id FROM localities ORDER BY code LIMIT 1")))["id"]
    everyone = reference.list_rows(small_world, "practices")
    mine = reference.list_rows(small_world, "practices", loc)
    assert 0 < len(mine) < len(everyone)
    assert {r["locality_id"] for r in mine} == {loc}
