"""The command line: exit codes, JSON shapes, and messages instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from desktop.cli import main
from desktop.models.identifiers import is_synthetic_nhs_number


def run(*args):
    return subprocess.run([sys.executable, "-m", "desktop", *args], capture_output=True, text=True)


def test_info_json_lists_localities_practices_homes_and_counts(small_world_path, capsys):
    assert main(["info", "--db", str(small_world_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["schema_version"] >= 1 and summary["kind"] == "locality"
    assert len(summary["localities"]) == 11
    first = summary["localities"][0]
    assert set(first) == {"code", "name", "practices", "care_homes"}
    assert sum(len(loc["practices"]) for loc in summary["localities"]) == summary["counts"]["practices"]
    assert sum(len(loc["care_homes"]) for loc in summary["localities"]) == summary["counts"]["care_homes"]
    assert summary["counts"]["localities"] == 11


def test_new_commissioner_workspace_holds_the_11_localities_and_no_invented_practices(tmp_path, capsys):
    path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner"]) == 0
    capsys.readouterr()
    main(["info", "--db", str(path), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "commissioner" and summary["counts"]["localities"] == 11
    assert summary["counts"]["practices"] == 0


def test_new_refuses_to_overwrite(small_world_path, capsys):
    assert main(["new", "--db", str(small_world_path), "--kind", "locality"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_info_on_a_missing_file_says_so_with_exit_1(tmp_path, capsys):
    assert main(["info", "--db", str(tmp_path / "nope.sqlite")]) == 1
    assert "No workspace" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite").exists()


def test_usage_errors_exit_2():
    result = run("info")
    assert result.returncode == 2 and "--db" in result.stderr
    assert run("no-such-command").returncode == 2


def test_demo_extract_via_python_m(tmp_path):
    out = tmp_path / "x.csv"
    result = run("demo-extract", "--locality", "OAW", "--rows", "500", "--out", str(out))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out, dtype=str)
    assert len(frame) == 500 and frame["nhs_number"].map(is_synthetic_nhs_number).all()
    bad = run("demo-extract", "--locality", "NOPE", "--rows", "5", "--out", str(tmp_path / "y.csv"))
    assert bad.returncode == 1 and "Unknown locality" in bad.stderr and "Traceback" not in bad.stderr


def test_demo_small_then_refuses_to_rebuild(tmp_path):
    path = tmp_path / "d.sqlite"
    built = run("demo", "--db", str(path), "--small", "--today", "2026-06-30")
    assert built.returncode == 0 and "history up to 30/06/2026" in built.stdout
    summary = json.loads(run("info", "--db", str(path), "--json").stdout)
    assert summary["data_ends"] == "2026-06-30"
    again = run("demo", "--db", str(path), "--small")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_demo_today_after_today_or_a_malformed_day_is_refused_in_plain_words(tmp_path, monkeypatch):
    # The tests live on pinned.TODAY (20/11/2026), which LOCALITY_DESK_TODAY carries into this command line.
    later = run("demo", "--db", str(tmp_path / "later.sqlite"), "--small", "--today", "2026-12-01")
    assert later.returncode == 1 and "can only run up to today" in later.stderr and "Traceback" not in later.stderr
    assert not (tmp_path / "later.sqlite").exists()
    monkeypatch.setenv("LOCALITY_DESK_TODAY", "31/02/2027")
    odd = run("info", "--db", str(tmp_path / "nope.sqlite"))
    assert odd.returncode == 1 and "LOCALITY_DESK_TODAY" in odd.stderr and "YYYY-MM-DD" in odd.stderr


def test_import_risk_json_has_exactly_the_documented_keys(small_world_path, tmp_path, capsys):
    from extract_helpers import patient, write_csv

    from desktop.models.db import open_workspace

    db = open_workspace(small_world_path)
    code = next(
        iter(
            db.query(
                "SELECT ods_code FROM practices p JOIN localities l ON l.id = p.locality_id "
                "WHERE l.code = 'CHA' ORDER BY ods_code LIMIT 1"
            )
        )
    )["ods_code"]
    db.close()
    path = write_csv(tmp_path / "x.csv", [patient(1, code), patient(2, code, sex="?"), {}])
    assert (
        main(
            [
                "import-risk",
                "--db",
                str(small_world_path),
                "--locality",
                "CHA",
                str(path),
                "--extract-date",
                "2026-10-01",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert list(out) == [
        "rows",
        "imported",
        "rejected",
        "cohort",
        "new",
        "left",
        "changed",
        "rejections",
        "findings",
        "partial",
    ]
    assert (out["rows"], out["imported"], out["rejected"]) == (2, 1, 1)
    assert list(out["cohort"]) == ["frailty", "multimorbidity", "high_cost", "total"]
    reason = "'?' is not a recognised sex (M, F, U, I or O)."
    assert out["rejections"] == [{"row": 3, "column": "sex", "reason": reason}]


def test_import_risk_refuses_a_bad_file_with_exit_1_and_writes_nothing(small_world_path, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("this,is,not\nan,extract,at all\n")
    assert main(["import-risk", "--db", str(small_world_path), "--locality", "CHA", str(bad), "--json"]) == 1
    err = capsys.readouterr().err
    assert "no column for nhs_number" in err and "Traceback" not in err
    main(["info", "--db", str(small_world_path), "--json"])
    assert json.loads(capsys.readouterr().out)["counts"]["risk_runs"] == 0
