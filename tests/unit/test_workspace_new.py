"""A new workspace (issue 21, point 1): truly empty but for the 11 real localities, unless the demo's invented
reference set is asked for; `locality-desk new` says what it holds and what to do next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import return_files

from desktop.cli import main
from desktop.models.clock import Actor
from desktop.models.demo.reference_world import locality_table
from desktop.models.errors import ValidationError
from desktop.models.kpi.return_import import import_returns
from desktop.models.reference_import import import_files
from desktop.models.workspace import create_workspace, info

REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference"
ACTOR = Actor("Test User", "test-device")
INVENTED = ("pcns", "practices", "care_homes", "staff")


@pytest.mark.parametrize("kind", ["locality", "commissioner"])
def test_a_new_workspace_holds_only_the_11_real_localities(tmp_path, kind):
    db = create_workspace(tmp_path / "w.sqlite", kind)
    counts = info(db)["counts"]
    assert {t: counts[t] for t in INVENTED} == dict.fromkeys(INVENTED, 0)
    rows = list(db.query("SELECT code, name, ccg, federation, updated_by FROM localities ORDER BY code"))
    assert [(r["code"], r["name"], r["ccg"]) for r in rows] == sorted(
        (loc["code"], loc["name"], loc["ccg"]) for loc in locality_table()
    )
    # The federation names and the demo generator's name belong to the invented world.
    assert {r["federation"] for r in rows} == {""}
    assert "demo" not in {r["updated_by"] for r in rows}.pop()
    db.close()


def test_the_demo_reference_set_is_there_only_when_asked_for_with_the_same_locality_ids(tmp_path):
    empty = create_workspace(tmp_path / "empty.sqlite", "locality")
    demo = create_workspace(tmp_path / "demo.sqlite", "locality", reference="demo")
    assert info(demo)["counts"]["practices"] == 138
    assert all(code.startswith("Z82") for (code,) in demo.execute("SELECT ods_code FROM practices"))
    # One id per locality in every workspace, so a team's workspace and the commissioner's sync however made.
    ids = "SELECT code, id FROM localities ORDER BY code"
    assert empty.execute(ids).fetchall() == demo.execute(ids).fetchall()
    empty.close()
    demo.close()


def test_an_unknown_reference_is_refused_and_nothing_is_written(tmp_path):
    path = tmp_path / "w.sqlite"
    with pytest.raises(ValidationError, match="Reference must be one of localities, demo"):
        create_workspace(path, "locality", reference="llr")
    assert not path.exists()


def test_an_empty_workspace_takes_the_real_ods_files_with_no_invented_practice_left_over(tmp_path):
    db = create_workspace(tmp_path / "team.sqlite", "locality")
    plan = import_files(db, ACTOR, [REFERENCE / "epraccur-2019-12.csv", REFERENCE / "ePCN-2019-12.xlsx"])
    assert (plan.practices_in_area, plan.pcns_in_area) == (134, 25)
    assert plan.not_in_file == []
    assert not any(code.startswith("Z") for (code,) in db.execute("SELECT ods_code FROM practices"))
    db.close()


def test_an_empty_commissioner_workspace_imports_the_teams_returns(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    return_files.trust_teams(db)
    codes = [loc["code"] for loc in locality_table()]
    files = [return_files.write(tmp_path / f"{c}.json", return_files.return_doc(c, "2025-26-Q1")) for c in codes]
    outcomes, _ = import_returns(db, ACTOR, files)
    assert [o.status for o in outcomes] == ["imported"] * 11
    assert db.execute("SELECT COUNT(*) FROM returns").fetchone()[0] == 11
    db.close()


def test_new_says_what_the_workspace_holds_and_what_to_do_next(tmp_path, capsys):
    path = tmp_path / "team.sqlite"
    assert main(["new", "--db", str(path), "--kind", "locality"]) == 0
    out = capsys.readouterr().out
    assert "only the 11 localities" in out and "no practices, PCNs, care homes or staff" in out
    assert f"locality-desk reference import --db {path}" in out and "Update reference data from NHS files" in out
    assert "locality-desk demo" in out
    assert "LLR reference data" not in out
    main(["info", "--db", str(path), "--json"])
    counts = json.loads(capsys.readouterr().out)["counts"]
    assert counts["localities"] == 11 and counts["practices"] == 0


def test_new_json_says_it_is_the_empty_one(tmp_path, capsys):
    path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner", "--json"]) == 0
    written = json.loads(capsys.readouterr().out)
    assert written["kind"] == "commissioner" and written["reference"] == "localities"


def test_new_help_never_calls_the_reference_data_llrs(capsys):
    with pytest.raises(SystemExit):
        main(["new", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "LLR reference data" not in out and "11 localities" in out and "reference import" in out
