"""Quarterly returns: draft, entered figures, validation, sign-off lock, reopen, the file and its digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from extract_helpers import patient, write_csv

from desktop.cli import main
from desktop.models import audit, quarters
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import ValidationError
from desktop.models.kpi import returns, signing
from desktop.models.kpi.catalogue import catalogue

ACTOR = Actor(user="fed.manager", device_id="laptop-5", role="federation manager")
Q = quarters.parse("2025-26-Q4")
TODAY = dt.date(2026, 4, 10)
ENTERED = {"OUT-01": (41, 900), "OUT-02": (120, 900), "OUT-03": (12, 1000), "OUT-04": (30, None)}


@pytest.fixture
def ret(small_world, cha, tmp_path):
    code, mine, _ = cha
    import_extract(
        small_world,
        ACTOR,
        code,
        write_csv(tmp_path / "x.csv", [patient(n, mine[0]) for n in range(1, 6)]),
        dt.date(2026, 2, 1),
    )
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    return_id, _ = returns.draft(small_world, ACTOR, loc, Q, TODAY)
    return small_world, loc, return_id


def fill(db, return_id):
    for kpi, (n, d) in ENTERED.items():
        returns.enter(db, ACTOR, return_id, kpi, n, d)
    for issue in returns.check(db, return_id, TODAY):
        if issue["kind"] in ("red", "rule", "implausible"):
            returns.comment(db, ACTOR, return_id, issue["kpi"], "New team; recovery plan agreed with the ICB.")


def test_a_draft_holds_every_kpi_and_blocks_sign_off_until_complete(ret):
    db, loc, return_id = ret
    held = returns.values(db, return_id)
    assert len(held) == len(catalogue()) and held["COH-01"]["numerator"] == 5
    blocking = [i for i in returns.check(db, return_id, TODAY) if i["blocking"]]
    assert {i["kpi"] for i in blocking if i["kind"] == "missing"} == set(ENTERED)
    with pytest.raises(ValidationError, match="block sign-off"):
        returns.sign_off(db, ACTOR, return_id, TODAY)
    fill(db, return_id)
    assert not [i for i in returns.check(db, return_id, TODAY) if i["blocking"]]
    returns.sign_off(db, ACTOR, return_id, TODAY)
    signed = returns.get(db, return_id)
    assert (signed["status"], signed["signed_off_by"]) == ("signed_off", "fed.manager")


def test_a_quarter_can_be_looked_at_before_its_return_is_started(ret):
    """preview and check_figures give what a draft started now would hold and what its checks would say, and
    write nothing: a screen shows a quarter without starting its return."""
    db, loc, _ = ret
    quarter = Q.previous()  # no return yet

    def counts() -> list[int]:
        return [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("returns", "return_values", "audit")]

    before = counts()
    shown = returns.preview(db, loc, quarter, TODAY)
    shown_issues = returns.check_figures(db, loc, quarter, shown, TODAY)
    assert counts() == before and returns.current(db, loc, quarter) is None

    started, changes = returns.draft(db, ACTOR, loc, quarter, TODAY)
    assert changes.tables == {"returns"}
    fields = ("numerator", "denominator", "value", "rag", "comment")
    assert {k: {f: v[f] for f in fields} for k, v in returns.values(db, started).items()} == {
        k: {f: v[f] for f in fields} for k, v in shown.items()
    }
    assert shown_issues == returns.check(db, started, TODAY)


def test_check_entry_refuses_what_enter_refuses_and_writes_nothing():
    assert returns.check_entry("OUT-01", "1,230", "9000") == (1230, 9000)
    assert returns.check_entry("OUT-04", "15") == (15, None)
    for code, numerator, denominator, match in (
        ("COH-01", 5, None, "computed"),
        ("OUT-01", "lots", 900, "number"),
        ("OUT-01", 3, 0, "cannot be 0"),
        ("OUT-01", "", 900, "Enter"),
    ):
        with pytest.raises(ValidationError, match=match):
            returns.check_entry(code, numerator, denominator)


def test_a_quarter_still_under_way_cannot_be_signed_off(ret):
    db, _, return_id = ret
    fill(db, return_id)
    last_day = Q.end
    blocking = [i for i in returns.check(db, return_id, last_day) if i["blocking"]]
    assert [i["kind"] for i in blocking] == ["open quarter"]
    assert "from 01/04/2026" in blocking[0]["message"]
    with pytest.raises(ValidationError, match="runs until 31/03/2026"):
        returns.sign_off(db, ACTOR, return_id, last_day)
    assert returns.get(db, return_id)["status"] == "draft"
    returns.sign_off(db, ACTOR, return_id, last_day + dt.timedelta(days=1))
    assert returns.get(db, return_id)["status"] == "signed_off"


def test_revisions_list_who_signed_off_why_reopened_and_what_changed(ret):
    db, loc, return_id = ret
    fill(db, return_id)
    returns.sign_off(db, ACTOR, return_id, TODAY)
    second, _ = returns.reopen(db, ACTOR, return_id, "OUT-01 corrected by the acute trust", TODAY)
    returns.enter(db, ACTOR, second, "OUT-01", 45, 900)
    listed = returns.revisions(db, loc, Q)
    assert [r["revision"] for r in listed] == [2, 1]
    assert listed[0]["reopened_reason"] == "OUT-01 corrected by the acute trust"
    assert (listed[1]["status"], listed[1]["signed_off_by"]) == ("signed_off", "fed.manager")
    assert ("OUT-01", "numerator", 41, 45) in listed[0]["changes"]
    assert listed[1]["changes"] == []


def test_entered_figures_are_checked(ret):
    db, _, return_id = ret
    with pytest.raises(ValidationError, match="computed"):
        returns.enter(db, ACTOR, return_id, "COH-01", 5)
    with pytest.raises(ValidationError, match="number"):
        returns.enter(db, ACTOR, return_id, "OUT-01", "lots", 900)
    with pytest.raises(ValidationError, match="between 0"):
        returns.enter(db, ACTOR, return_id, "OUT-01", -3, 900)
    with pytest.raises(ValidationError, match="cannot be 0"):
        returns.enter(db, ACTOR, return_id, "OUT-01", 3, 0)
    returns.enter(db, ACTOR, return_id, "OUT-01", "1,230", 9000)
    assert returns.values(db, return_id)["OUT-01"]["value"] == 136.7  # per 1,000


def test_a_red_needs_a_comment_and_a_failed_rule_is_reported(ret):
    db, _, return_id = ret
    reds = [i for i in returns.check(db, return_id, TODAY) if i["kind"] == "red"]
    assert reds and all(i["blocking"] for i in reds)
    returns.comment(db, ACTOR, return_id, reds[0]["kpi"], "Explained")
    assert reds[0]["kpi"] not in {i["kpi"] for i in returns.check(db, return_id, TODAY) if i["kind"] == "red"}
    # MDT-01 is 0 this quarter: the medium rule R07 asks for a comment
    rule = [i for i in returns.check(db, return_id, TODAY) if i["kind"] == "rule" and i["message"].startswith("R07")]
    assert rule and rule[0]["importance"] == "medium"


def test_signed_off_is_locked_and_reopen_makes_a_new_revision(ret):
    db, loc, return_id = ret
    fill(db, return_id)
    returns.sign_off(db, ACTOR, return_id, TODAY)
    with pytest.raises(ValidationError, match="locked: Signed off by fed.manager"):
        returns.enter(db, ACTOR, return_id, "OUT-04", 31)
    with pytest.raises(ValidationError, match="why"):
        returns.reopen(db, ACTOR, return_id, " ")
    second, _ = returns.reopen(db, ACTOR, return_id, "OUT-02 figure corrected by the acute trust")
    assert returns.get(db, second)["revision"] == 2 and returns.get(db, second)["status"] == "draft"
    assert returns.values(db, second)["OUT-04"]["numerator"] == 30  # carried over
    assert returns.current(db, loc, Q)["id"] == second
    actions = [e["action"] for e in audit.entries(db, "returns")]
    assert {"create", "sign-off", "reopen"} <= set(actions)


def test_the_return_file_digest_and_no_identifiers(ret, tmp_path):
    db, _, return_id = ret
    with pytest.raises(ValidationError, match="draft"):
        returns.export(db, ACTOR, return_id, tmp_path / "r.json", "0.1.0")
    draft_file = returns.export(db, ACTOR, return_id, tmp_path / "draft.json", "0.1.0", allow_draft=True)
    assert json.loads(draft_file.read_text())["status"] == "draft"
    fill(db, return_id)
    returns.sign_off(db, ACTOR, return_id, TODAY)
    out = returns.export(db, ACTOR, return_id, tmp_path / "r.json", "0.1.0")
    doc = json.loads(out.read_text(encoding="utf-8"))
    body = {k: v for k, v in doc.items() if k != "sha256" and k not in signing.FIELDS}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    assert doc["sha256"] == expected
    assert (doc["format"], doc["version"], doc["period"], doc["status"]) == (
        "locality-desk/kpi-return",
        1,
        "2025-26-Q4",
        "signed_off",
    )
    assert returns.get(db, return_id)["status"] == "exported"
    text = out.read_text(encoding="utf-8")
    for row in db.query("SELECT nhs_number, family_name, postcode FROM patients"):
        for field in row.values():
            assert field not in text
    from extract_helpers import synthetic_nhs

    for n in range(1, 6):
        assert synthetic_nhs(n) not in text and f"Family{n}" not in text
    assert "LE11 2AB" not in text and "1938" not in text  # the patients' postcode and year of birth


def test_return_export_cli(ret, tmp_path, capsys):
    db, _, return_id = ret
    path = db.execute("PRAGMA database_list").fetchone()[2]
    assert (
        main(
            [
                "return",
                "export",
                "--db",
                path,
                "--locality",
                "CHA",
                "--quarter",
                "2025-26-Q4",
                "--out",
                str(tmp_path / "a.json"),
            ]
        )
        == 1
    )
    assert "draft" in capsys.readouterr().err
    assert (
        main(
            [
                "return",
                "export",
                "--db",
                path,
                "--locality",
                "CHA",
                "--quarter",
                "2025-26-Q4",
                "--out",
                str(tmp_path / "a.json"),
                "--draft",
            ]
        )
        == 0
    )
    assert json.loads((tmp_path / "a.json").read_text())["status"] == "draft"


@pytest.mark.parametrize("rule", [r["id"] for r in returns.rules()])
def test_every_validation_rule_reports_a_breach(ret, rule):
    db, _, return_id = ret
    spec = next(r for r in returns.rules() if r["id"] == rule)
    held = returns.values(db, return_id)

    def put(side, number):
        code, field = side.split(".")
        db.execute(f"UPDATE return_values SET {field} = ? WHERE return_id = ? AND kpi = ?", [number, return_id, code])

    def read(side):
        if returns._is_number(side):
            return float(side)
        code, field = side.split(".")
        return held[code][field]

    # Make the left side break the rule against whatever the right side holds (or a number for it).
    right = read(spec["right"])
    if right is None:
        right = 10.0
        put(spec["right"], right)
    breach = {"<=": right + 1, "<": right, ">=": right - 1, ">": right, "==": right + 1, "!=": right}[spec["operator"]]
    put(spec["left"], breach)
    found = [i for i in returns.check(db, return_id, TODAY) if i["kind"] == "rule" and i["message"].startswith(rule)]
    assert found and found[0]["importance"] == spec["importance"]
    assert found[0]["blocking"]  # high rules always block; medium ones until a comment explains them
