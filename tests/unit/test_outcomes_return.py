"""The return carries the outcome estimate (issue 27 point 4): the section a team's sign-off freezes and its export
signs, aggregates only; the commissioner's import checks it, keeps it and supersedes it with the return's revision,
refusing a hand-edited or ill-formed one with nothing written; and the forest plot's rows for the 11 teams."""

from __future__ import annotations

import copy
import functools
import hashlib
import json

import pytest
from corpus_returns import NUMBERS, spaced
from return_files import return_doc, trust_teams, write
from worlds import copy_world

from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.cohort import store as risk_store
from desktop.models.db import open_workspace
from desktop.models.kpi import consolidated, return_outcomes, returns, signing
from desktop.models.kpi.return_import import import_returns
from desktop.models.outcomes import evaluation, from_store, simulate
from desktop.models.outcomes.periods import joining_quarter
from desktop.models.outcomes.records import OUTCOMES
from desktop.models.workspace import create_workspace

ICB = Actor(user="commissioner", device_id="icb-laptop")
TEAM = Actor(user="fed.manager", device_id="demo-laptop", role="federation manager")
TEAMS = ("BAL", "CHA", "CTE", "CTN", "CTS", "CTW", "HAB", "MHA", "MSR", "NWL", "OAW")
PERIOD = "2025-26-Q3"  # return_doc's quarter: its joiners are those of 2024-25-Q3
DEMO_QUARTER = quarters.parse("2025-26-Q4")  # the history world's quarter with most teams estimated


def sim_section(seed: int, period: str = PERIOD, effect: float = -0.3) -> list[dict]:
    return copy.deepcopy(_simulated_section(seed, period, effect))  # tests spoil their copy


@functools.cache  # a simulated world and its evaluation cost ~0.3 s: once per seed for the whole run
def _simulated_section(seed: int, period: str, effect: float) -> list[dict]:
    world = simulate.simulate(seed, effect_per_year=effect)
    found = evaluation.evaluate(world.subjects, joining_quarter(quarters.parse(period)))
    return return_outcomes.section(found.as_json())


def with_outcomes(code: str = "CHA", section: list | None = None, seed: int = 1, **kw) -> dict:
    doc = return_doc(code, **kw)
    doc["version"] = returns.OUTCOMES_VERSION
    doc["outcomes"] = section if section is not None else sim_section(seed, doc["period"])
    return doc


@pytest.fixture
def icb(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    trust_teams(db)
    yield db
    db.close()


@pytest.fixture
def new_icb(tmp_path):
    """A commissioner workspace that trusts no key yet: the demo world's returns are signed with its own."""
    db = create_workspace(tmp_path / "new-icb.sqlite", "commissioner")
    yield db
    db.close()


@pytest.fixture
def history(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "history.sqlite"))
    yield db
    db.close()


def content(db) -> str:
    """A digest of everything the import could write."""
    tables = ("returns", "return_values", "return_outcomes", "audit")
    rows = [list(db.query(f"SELECT * FROM {t} ORDER BY 1")) for t in tables]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def one(db, path, **kw):
    outcomes, _ = import_returns(db, ICB, [path], **kw)
    return outcomes[0]


def held_section(db, code: str, period: str = PERIOD):
    ret = consolidated.latest(db, quarters.parse(period))[code]
    return return_outcomes.held(db, ret["id"])


def _export(db, code: str, quarter, path):
    ret = consolidated.latest(db, quarter)[code]
    return returns.export(db, TEAM, ret["id"], path, "0.1.0")


# -- the section -------------------------------------------------------------------------------------------------


def test_the_section_lists_every_outcome_with_aggregates_only():
    section = sim_section(3)
    assert [e["outcome"] for e in section] == list(OUTCOMES)
    for entry in section:
        assert tuple(entry) == return_outcomes.FIELDS
        assert entry["joining_quarter"] == "2024-25-Q3" and entry["follow_up_quarters"] == 4
        assert entry["status"] == "estimated"
        assert entry["ci_low"] <= entry["estimate"] <= entry["ci_high"]
        assert entry["matched"] >= 10 and entry["unmatched"] >= 0
        assert entry["by_intervention"] and all(
            tuple(g) == return_outcomes.GROUP_FIELDS for g in entry["by_intervention"]
        )
    text = json.dumps(section)
    world = simulate.simulate(3, effect_per_year=-0.3)
    assert not [s.id for s in world.subjects if f'"{s.id}"' in text]


def test_an_outcome_the_team_does_not_measure_says_so_and_no_data_at_all_sends_no_section():
    world = simulate.simulate(4, outcomes=("emergency_admissions",))
    section = return_outcomes.section(
        evaluation.evaluate(world.subjects, joining_quarter(quarters.parse(PERIOD))).as_json()
    )
    statuses = {e["outcome"]: e["status"] for e in section}
    assert statuses == {
        "emergency_admissions": "estimated",
        "ae_attendances": "not measured",
        "emergency_bed_days": "not measured",
        "cost": "not measured",
    }
    unmeasured = next(e for e in section if e["outcome"] == "cost")
    assert (unmeasured["estimate"], unmeasured["matched"], unmeasured["by_intervention"]) == (None, 0, [])
    nothing = simulate.simulate(4, outcomes=())
    assert (
        return_outcomes.section(evaluation.evaluate(nothing.subjects, quarters.parse("2024-25-Q3")).as_json()) is None
    )


# -- the team's export, on the demo world with its history ---------------------------------------------------------


def test_sign_off_freezes_the_real_evaluation_and_the_export_signs_it_as_version_2(history, new_icb, tmp_path):
    icb = new_icb
    ret = consolidated.latest(history, DEMO_QUARTER)["OAW"]
    section = return_outcomes.held(history, ret["id"])
    entry = next(e for e in section if e["outcome"] == "emergency_admissions")
    assert entry["status"] == "estimated" and entry["joining_quarter"] == "2024-25-Q4"
    # The figure the demo's sign-off froze is the method's, on the team's own records.
    fresh = from_store.evaluate_locality(history, ret["locality_id"], quarters.parse("2024-25-Q4"), follow_up=4)
    assert entry["estimate"] == pytest.approx(fresh.outcome("emergency_admissions").overall.estimate, abs=1e-4)

    path = _export(history, "OAW", DEMO_QUARTER, tmp_path / "oaw.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["version"] == 2 and doc["outcomes"] == section
    assert doc["sha256"] == returns.digest(doc) and signing.damage(doc) is None

    got = one(icb, path, accept_keys=[doc["key_fingerprint"]])
    assert got.status == "imported", got.reason
    assert held_section(icb, "OAW", DEMO_QUARTER.code) == section
    before = content(icb)
    assert one(icb, path).status == "ignored" and content(icb) == before


def test_a_return_of_a_team_without_outcome_data_is_still_version_1(history, tmp_path):
    # The joiners of 2023-24 Q4 came before the team's first risk run: nothing to measure them from.
    quarter = quarters.parse("2024-25-Q4")
    ret = consolidated.latest(history, quarter)["CHA"]
    assert return_outcomes.held(history, ret["id"]) is None
    doc = json.loads(_export(history, "CHA", quarter, tmp_path / "cha.json").read_text(encoding="utf-8"))
    assert doc["version"] == 1 and "outcomes" not in doc


def test_no_cohort_patient_id_or_nhs_number_is_in_any_exported_return(history, tmp_path):
    identifiers = set()
    for pid, nhs in history.execute("SELECT id, nhs_number FROM patients"):
        identifiers |= {pid, nhs}
    for (run_id,) in history.execute("SELECT id FROM risk_runs"):
        identifiers |= set(risk_store.run_patient_ids(history, run_id).to_pylist())
        identifiers |= set(risk_store.run_nhs_numbers(history, run_id).to_pylist())
    identifiers = {str(i) for i in identifiers if i is not None}  # a run keeps the NHS number as an integer
    assert len(identifiers) > 1000
    texts = []
    for code in TEAMS:
        for quarter in (DEMO_QUARTER, DEMO_QUARTER.next()):
            texts.append(_export(history, code, quarter, tmp_path / f"{code}-{quarter.code}.json").read_text("utf-8"))
    assert sum('"outcomes"' in t for t in texts) >= 11  # the check looks at files that carry the section
    everything = "\n".join(texts)
    assert [i for i in identifiers if i in everything] == []


# -- the commissioner's import --------------------------------------------------------------------------------------


def test_a_hand_edited_estimate_is_refused_and_nothing_is_written(history, new_icb, tmp_path):
    icb = new_icb
    path = _export(history, "OAW", DEMO_QUARTER, tmp_path / "oaw.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    entry = next(e for e in doc["outcomes"] if e["outcome"] == "emergency_admissions")
    entry["estimate"] = entry["ci_low"]  # a better-looking figure, still inside its interval
    before = content(icb)
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc), encoding="utf-8")
    got = one(icb, edited, accept_keys=[doc["key_fingerprint"]])
    assert (got.status, got.code) == ("rejected", "digest-mismatch")
    doc["sha256"] = returns.digest(doc)  # the digest made again does not make the signature
    edited.write_text(json.dumps(doc), encoding="utf-8")
    got = one(icb, edited, accept_keys=[doc["key_fingerprint"]])
    assert (got.status, got.code) == ("rejected", "bad-signature")
    assert content(icb) == before


def _entry(doc, outcome="emergency_admissions"):
    return next(e for e in doc["outcomes"] if e["outcome"] == outcome)


def _set(key, value, outcome="emergency_admissions"):
    return lambda doc: _entry(doc, outcome).__setitem__(key, value)


def _group(key, value):
    return lambda doc: _entry(doc)["by_intervention"][0].__setitem__(key, value)


ILL_FORMED = {
    "interval-not-holding-estimate": ("impossible-value", _set("ci_low", 99.0), "does not hold the estimate"),
    "huge-estimate": ("impossible-value", _set("estimate", 1e12), "beyond any change"),
    "estimate-as-text": ("bad-field", _set("estimate", "a fall"), "must be a number"),
    "negative-count": ("impossible-value", _set("matched", -3), "not a number of joiners"),
    "fractional-count": ("bad-field", _set("unmatched", 2.5), "whole number"),
    "count-as-true": ("bad-field", _set("matched", True), "whole number"),
    "unknown-status": ("bad-field", _set("status", "great"), "status must be"),
    "too-few-with-estimate": ("impossible-value", _set("status", "too few"), "yet the file gives it an estimate"),
    "wrong-joiners": ("impossible-value", _set("joining_quarter", "2025-26-Q1"), "evaluates the joiners of 2024-25-Q3"),
    "follow-up-of-9": ("bad-field", _set("follow_up_quarters", 9), "2, 3 or 4 quarters"),
    "unknown-outcome": ("bad-field", _set("outcome", "readmissions"), "not an outcome this app knows"),
    "outcome-twice": ("bad-field", lambda doc: doc["outcomes"].append(copy.deepcopy(doc["outcomes"][0])), "twice"),
    "missing-field": ("bad-field", lambda doc: _entry(doc).pop("ci_high"), "'ci_high'"),
    "section-not-a-list": ("bad-field", lambda doc: doc.__setitem__("outcomes", {"estimate": 1}), "list of outcomes"),
    "unknown-intervention": ("bad-field", _group("intervention", "magic"), "not an intervention type"),
    "subgroup-larger-than-caseload": ("impossible-value", _group("matched", 10_000), "more than the"),
    "section-in-version-1": ("bad-field", lambda doc: doc.__setitem__("version", 1), "Unexpected field 'outcomes'"),
    "nhs-number-in-section": (
        "patient-data",
        _group("intervention", f"review of {spaced(NUMBERS[7], (3, 3, 4), ' ')}"),
        "NHS number",
    ),
}


@pytest.mark.parametrize("name", sorted(ILL_FORMED))
def test_an_ill_formed_section_refuses_the_file_with_a_clear_reason_and_writes_nothing(icb, tmp_path, name):
    code, spoil, says = ILL_FORMED[name]
    doc = with_outcomes()
    spoil(doc)
    path = write(tmp_path / f"{name}.json", doc)  # digested and signed as spoiled: only the section is wrong
    before = content(icb)
    got = one(icb, path)
    assert (got.status, got.code) == ("rejected", code), got.reason
    assert says in got.reason and len(got.reason) > 40
    assert content(icb) == before


def test_a_version_this_app_does_not_read_names_the_versions_it_does(icb, tmp_path):
    doc = with_outcomes()
    doc["version"] = 3
    got = one(icb, write(tmp_path / "v3.json", doc))
    assert got.code == "unknown-format" and "versions 1 and 2" in got.reason


def test_a_later_revision_supersedes_the_section_with_the_rest(icb, tmp_path):
    first = with_outcomes(seed=1)
    assert one(icb, write(tmp_path / "r1.json", first)).status == "imported"
    assert held_section(icb, "CHA") == first["outcomes"]
    second = with_outcomes(seed=2, revision=2, scale=2)
    assert second["outcomes"] != first["outcomes"]
    assert one(icb, write(tmp_path / "r2.json", second)).status == "superseded"
    assert held_section(icb, "CHA") == second["outcomes"]
    # Revision 3 without the section: the team's data went, and the commissioner no longer shows revision 2's.
    assert one(icb, write(tmp_path / "r3.json", return_doc("CHA", revision=3))).status == "superseded"
    assert held_section(icb, "CHA") is None
    forest = return_outcomes.forest(icb, quarters.parse(PERIOD), "emergency_admissions")
    assert ("CHA", "Charnwood") in forest.not_measured


def test_the_same_revision_with_another_section_is_a_conflict_not_ignored(icb, tmp_path):
    assert one(icb, write(tmp_path / "r1.json", with_outcomes(seed=1))).status == "imported"
    before = content(icb)
    got = one(icb, write(tmp_path / "again.json", with_outcomes(seed=5)))
    assert (got.status, got.code) == ("rejected", "revision-conflict")
    assert content(icb) == before


# -- the forest plot's rows -----------------------------------------------------------------------------------------


def test_the_forest_has_a_row_per_team_sorted_by_estimate(icb, tmp_path):
    files = [write(tmp_path / f"{code}.json", with_outcomes(code, seed=n)) for n, code in enumerate(TEAMS)]
    assert [o.status for o in import_returns(icb, ICB, files)[0]] == ["imported"] * 11
    quarter = quarters.parse(PERIOD)
    assert return_outcomes.outcomes_held(icb, quarter) == list(OUTCOMES)
    forest = return_outcomes.forest(icb, quarter, "emergency_admissions")
    assert sorted(r.code for r in forest.rows) == list(TEAMS)
    assert [r.estimate for r in forest.rows] == sorted(r.estimate for r in forest.rows)
    assert all(r.ci_low <= r.estimate <= r.ci_high for r in forest.rows)
    assert (forest.joining_quarter, forest.follow_up_quarters) == ("2024-25-Q3", 4)
    assert forest.too_few == forest.not_measured == forest.no_return == []
    cha = next(r for r in forest.rows if r.code == "CHA")
    sent = _entry(with_outcomes("CHA", seed=TEAMS.index("CHA")))
    assert (cha.estimate, cha.ci_low, cha.ci_high, cha.matched) == (
        sent["estimate"],
        sent["ci_low"],
        sent["ci_high"],
        sent["matched"],
    )


def test_teams_not_estimated_are_listed_beside_the_forest_not_in_it(icb, tmp_path):
    docs = {code: with_outcomes(code, seed=n) for n, code in enumerate(TEAMS[:8])}
    few = _entry(docs["CHA"])
    few.update(status="too few", estimate=None, ci_low=None, ci_high=None, matched=6)
    few["by_intervention"] = [g for g in few["by_intervention"] if g["matched"] <= 6]
    gone = _entry(docs["BAL"])
    gone.update(status="not measured", estimate=None, ci_low=None, ci_high=None, naive_estimate=None)
    gone.update(matched=0, unmatched=0, by_intervention=[])
    files = [write(tmp_path / f"{code}.json", doc) for code, doc in docs.items()]
    files += [write(tmp_path / f"{code}.json", return_doc(code)) for code in TEAMS[8:10]]  # no section: version 1
    outcomes, _ = import_returns(icb, ICB, files)
    assert [o.status for o in outcomes] == ["imported"] * 10, [o.reason for o in outcomes]
    forest = return_outcomes.forest(icb, quarters.parse(PERIOD), "emergency_admissions")
    assert [r.code for r in forest.rows] == sorted(
        ["CTE", "CTN", "CTS", "CTW", "HAB", "MHA"], key=lambda c: _entry(docs[c])["estimate"]
    )
    assert forest.too_few == [("CHA", "Charnwood", 6)]
    assert [c for c, _ in forest.not_measured] == ["BAL", "MSR", "NWL"]
    assert [c for c, _ in forest.no_return] == ["OAW"]


def test_no_outcomes_to_choose_when_no_return_of_the_quarter_carries_any(icb, tmp_path):
    one(icb, write(tmp_path / "plain.json", return_doc("CHA")))
    assert return_outcomes.outcomes_held(icb, quarters.parse(PERIOD)) == []
    assert return_outcomes.outcomes_held(icb, quarters.parse("2024-25-Q1")) == []
