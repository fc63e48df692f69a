"""The commissioner's import of return files: each outcome and each error code from a file built for it, a
batch that keeps its good files, re-import that changes nothing, the dry run, and patient data refused."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
from return_files import return_doc, trust_teams, write

from desktop.cli import main
from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import consolidated
from desktop.models.kpi.catalogue import catalogue
from desktop.models.kpi.return_import import CODES, import_returns
from desktop.models.workspace import create_workspace, info

ACTOR = Actor(user="commissioner", device_id="icb-laptop")


@pytest.fixture
def commissioner(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    trust_teams(db)
    yield db
    db.close()


def content(db) -> str:
    """A digest of everything the import could write."""
    rows = [list(db.query(f"SELECT * FROM {t} ORDER BY 1")) for t in ("returns", "return_values", "audit")]
    return hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()


def figures(db, quarter) -> dict:
    return {
        key: (v["numerator"], v["denominator"], v["value"], v["rag"], v["comment"])
        for key, v in consolidated.grid(db, quarter).items()
    }


def one(db, path, **kw):
    outcomes, _ = import_returns(db, ACTOR, [path], **kw)
    return outcomes[0]


def test_imported_then_ignored_then_superseded(commissioner, tmp_path):
    first = write(tmp_path / "r1.json", return_doc())
    got = one(commissioner, first)
    assert (got.status, got.code, got.reason) == ("imported", None, None)
    held = consolidated.latest(commissioner, quarters.parse("2025-26-Q3"))["CHA"]
    assert held["revision"] == 1 and held["source_file"] == "r1.json"
    before = content(commissioner)
    # The same file again, or the same revision exported again later: nothing changes.
    assert one(commissioner, first).status == "ignored"
    again = return_doc()
    again["generated_at"] = "2026-02-01T09:00:00+00:00"
    assert one(commissioner, write(tmp_path / "again.json", again)).status == "ignored"
    assert content(commissioner) == before
    # Revision 2 replaces it; revision 1 is kept as history.
    assert one(commissioner, write(tmp_path / "r2.json", return_doc(revision=2, scale=2))).status == "superseded"
    assert consolidated.latest(commissioner, quarters.parse("2025-26-Q3"))["CHA"]["revision"] == 2
    assert commissioner.execute("SELECT COUNT(*) FROM returns").fetchone()[0] == 2


def _spoil(tmp_path, name, change, redigest=True):
    doc = return_doc()
    change(doc)
    return write(tmp_path / f"{name}.json", doc, redigest)


def _set(key, value):
    return lambda doc: doc.__setitem__(key, value)


def _value(kpi, key, value):
    def change(doc):
        next(v for v in doc["values"] if v["kpi"] == kpi)[key] = value

    return change


REJECTED = {
    "unknown-format": [lambda doc: doc.__setitem__("format", "dhis2/dataValueSet"), _set("version", 99)],
    "bad-field": [
        _set("revision", "one"),
        lambda doc: doc.pop("period"),
        _set("extra", 1),
        _set("period", "2025-Q3"),
        _value("COH-02", "numerator", "many"),
        lambda doc: doc["values"].pop(next(i for i, v in enumerate(doc["values"]) if v["kpi"] == "OUT-04")),
    ],
    "digest-mismatch": [],
    "draft": [_set("status", "draft")],
    "unknown-locality": [lambda doc: doc.__setitem__("locality", {"code": "XYZ", "name": "Nowhere"})],
    "unknown-kpi": [_value("COH-02", "kpi", "ZZZ-99")],
    "impossible-value": [
        _value("COH-02", "numerator", 500.0),
        _value("COH-01", "numerator", -4.0),
        _value("COH-01", "numerator", 1e12),
        _value("COH-03", "value", 99.9),
    ],
    "patient-data": [
        lambda doc: doc.__setitem__("nhs_number", "9990000018"),
        _value("COH-02", "comment", "Delayed review of 999 000 0018 explained"),
        _value("COH-02", "comment", "Patient at LE11 3QF moved"),
        lambda doc: doc["values"][0].__setitem__("patients", [{"name": "A"}]),
    ],
}


@pytest.mark.parametrize("code,index", [(c, i) for c, changes in REJECTED.items() for i in range(max(1, len(changes)))])
def test_each_rejection_has_its_code_and_changes_nothing(commissioner, tmp_path, code, index):
    if code == "digest-mismatch":
        path = _spoil(tmp_path, code, _value("COH-01", "numerator", 41.0), redigest=False)
    else:
        path = _spoil(tmp_path, f"{code}-{index}", REJECTED[code][index])
    before = content(commissioner)
    got = one(commissioner, path)
    assert (got.status, got.code) == ("rejected", code), got.reason
    assert got.reason and len(got.reason) > 20
    assert content(commissioner) == before


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b'{"format": "locality-desk/kpi-return", "vers',
        b"\x89PNG\r\n\x1a\n\x00\x00",
        b"[1, 2, 3]",
        b'{"value": NaN}',
    ],
)
def test_files_that_are_not_returns_are_unreadable_or_unknown(commissioner, tmp_path, raw):
    path = tmp_path / "odd.json"
    path.write_bytes(raw)
    got = one(commissioner, path)
    assert got.status == "rejected" and got.code in ("unreadable", "unknown-format", "impossible-value")


def test_older_revision_and_revision_conflict(commissioner, tmp_path):
    assert one(commissioner, write(tmp_path / "r2.json", return_doc(revision=2))).status == "imported"
    older = one(commissioner, write(tmp_path / "r1.json", return_doc(revision=1)))
    assert (older.status, older.code) == ("rejected", "older-revision")
    clash = one(commissioner, write(tmp_path / "r2b.json", return_doc(revision=2, scale=3)))
    assert (clash.status, clash.code) == ("rejected", "revision-conflict")


def test_a_batch_keeps_its_good_files_and_the_dry_run_writes_nothing(commissioner, tmp_path):
    good = [write(tmp_path / f"{c}.json", return_doc(code=c)) for c in ("CHA", "NWL", "HAB")]
    bad = _spoil(tmp_path, "draft", _set("status", "draft"))
    before = content(commissioner)
    dry, changes = import_returns(commissioner, ACTOR, [*good, bad], dry_run=True)
    assert [o.status for o in dry] == ["imported", "imported", "imported", "rejected"]
    assert content(commissioner) == before and not changes.tables
    real, changes = import_returns(commissioner, ACTOR, [*good, bad])
    assert [(o.status, o.code) for o in real] == [(o.status, o.code) for o in dry]
    assert "returns" in changes.tables
    assert consolidated.completeness(commissioner, quarters.parse("2025-26-Q3")).received == 3


def test_a_cancelled_import_keeps_nothing(commissioner, tmp_path):
    files = [write(tmp_path / f"{c}.json", return_doc(code=c)) for c in ("CHA", "NWL")]
    before = content(commissioner)
    outcomes, _ = import_returns(commissioner, ACTOR, files, progress=lambda done, total: done < 2)
    assert {o.code for o in outcomes} == {"cancelled"}
    assert content(commissioner) == before


def test_a_locality_workspace_does_not_import_returns(small_world, tmp_path):
    with pytest.raises(ValidationError, match="commissioner workspace"):
        import_returns(small_world, ACTOR, [write(tmp_path / "r.json", return_doc())])


def test_every_code_has_a_meaning():
    used = (
        set(REJECTED)
        | {"unreadable", "older-revision", "revision-conflict", "cancelled"}
        | {"unsigned", "bad-signature", "new-key"}
    )
    assert used == set(CODES)


def test_cli_json_and_exit_codes(tmp_path, capsys):
    db_path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(db_path), "--kind", "commissioner"]) == 0
    trust_teams(open_workspace(db_path))
    capsys.readouterr()
    good = write(tmp_path / "good.json", return_doc())
    bad = _spoil(tmp_path, "bad", _set("status", "draft"))
    assert main(["return", "import", "--db", str(db_path), "--dry-run", "--json", str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["status"] == "imported"
    assert info(open_workspace(db_path))["counts"]["returns"] == 0
    assert main(["return", "import", "--db", str(db_path), "--json", str(good), str(bad)]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "files": [
            {"file": str(good), "status": "imported", "code": None, "reason": None},
            {"file": str(bad), "status": "rejected", "code": "draft", "reason": printed["files"][1]["reason"]},
        ]
    }
    assert main(["return", "import", "--db", str(db_path), str(good)]) == 0
    assert "1 ignored" in capsys.readouterr().out
    db = open_workspace(db_path)
    assert info(db)["kind"] == "commissioner" and info(db)["counts"]["patients"] == 0


def test_new_makes_either_kind_with_the_llr_reference_data(tmp_path, capsys):
    for kind in ("locality", "commissioner"):
        path = tmp_path / f"{kind}.sqlite"
        assert main(["new", "--db", str(path), "--kind", kind]) == 0
        summary = info(open_workspace(path))
        assert summary["kind"] == kind and len(summary["localities"]) == 11
        assert summary["counts"]["patients"] == 0


def test_the_consolidated_grid_holds_the_figures_of_the_file(tmp_path):
    doc = return_doc(code="MSR", period="2025-26-Q1")
    db = create_workspace(tmp_path / "icb2.sqlite", "commissioner")
    trust_teams(db)
    one(db, write(tmp_path / "mel.json", copy.deepcopy(doc)))
    cells = consolidated.grid(db, quarters.parse("2025-26-Q1"))
    for row in doc["values"]:
        held = cells[(row["kpi"], "MSR")]
        assert (held["numerator"], held["denominator"], held["value"], held["rag"]) == (
            row["numerator"],
            row["denominator"],
            row["value"],
            row["rag"],
        )


def test_a_whole_demo_year_of_returns_imports_in_one_go(history_world_template, tmp_path):
    from worlds import copy_world

    from desktop.models.kpi import returns

    demo = open_workspace(copy_world(history_world_template, tmp_path / "demo.sqlite"))
    year = [quarters.parse(f"2025-26-Q{n}") for n in range(1, 5)]
    files = []
    for loc in consolidated.localities(demo):
        for q in year:
            held = returns.current(demo, loc["id"], q)
            files.append(returns.export(demo, ACTOR, held["id"], tmp_path / f"{loc['code']}-{q.code}.json", "0.1.0"))
    assert len(files) == 44
    icb = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    demo_key = json.loads(files[0].read_text(encoding="utf-8"))["key_fingerprint"]  # the demo world's
    outcomes, _ = import_returns(icb, ACTOR, files, accept_keys=[demo_key])
    assert [o.status for o in outcomes] == ["imported"] * 44
    for q in year:
        done = consolidated.completeness(icb, q)
        assert (done.received, done.signed_off, done.missing) == (11, 11, [])
        assert figures(demo, q) == figures(icb, q)
    again, _ = import_returns(icb, ACTOR, files)
    assert {o.status for o in again} == {"ignored"}


def _eleven(db, tmp_path, period="2025-26-Q3"):
    files = [
        write(tmp_path / f"{c}.json", return_doc(code=c, period=period, scale=n % 2 + 1))
        for n, c in enumerate(("BAL", "CHA", "CTE", "CTN", "CTS", "CTW", "HAB", "MHA", "MSR", "NWL", "OAW"))
    ]
    import_returns(db, ACTOR, files)


def test_the_funnel_centres_on_the_pooled_llr_value_and_narrows_with_size(commissioner, tmp_path):
    _eleven(commissioner, tmp_path)
    plot = consolidated.funnel(commissioner, "COH-02", quarters.parse("2025-26-Q3"))
    cells = consolidated.grid(commissioner, quarters.parse("2025-26-Q3"))
    rows = [v for (kpi, _), v in cells.items() if kpi == "COH-02"]
    assert len(plot.points) == 11
    assert plot.centre == pytest.approx(100 * sum(r["numerator"] for r in rows) / sum(r["denominator"] for r in rows))
    for level in (0.95, 0.998):
        lower, upper = plot.limits[level]
        assert (lower <= plot.centre).all() and (upper >= plot.centre).all()
        assert upper[0] - lower[0] > upper[-1] - lower[-1]  # wider for small teams
    assert (plot.limits[0.998][1] >= plot.limits[0.95][1]).all()
    assert consolidated.funnel(commissioner, "COH-01", quarters.parse("2025-26-Q3")) is None  # a count


def test_the_consolidated_quarter_exports_to_excel_and_is_audited(commissioner, tmp_path):
    from openpyxl import load_workbook

    _eleven(commissioner, tmp_path)
    out = consolidated.export_xlsx(commissioner, ACTOR, quarters.parse("2025-26-Q3"), tmp_path / "q3.xlsx")
    book = load_workbook(out)
    sheet = book["Consolidated"]
    rows = list(sheet.iter_rows(min_row=5, values_only=True))
    assert len(rows) == len(catalogue()) and rows[1][0] == "COH-02"
    cells = consolidated.grid(commissioner, quarters.parse("2025-26-Q3"))
    header = [c.value for c in sheet[4]]
    assert rows[1][header.index("CHA value")] == cells[("COH-02", "CHA")]["value"]
    assert len(list(book["Figures"].iter_rows(min_row=2))) == 11 * len(catalogue())
    assert [c.value for c in book["Completeness"][2]][:5] == ["2025-26-Q3", 11, 11, 11, 11]
    last = commissioner.execute("SELECT action, summary FROM audit ORDER BY rowid DESC LIMIT 1").fetchone()
    assert last[0] == "export" and "q3.xlsx" in last[1]


def test_a_commissioner_workspace_refuses_a_risk_extract(tmp_path, capsys):
    from extract_helpers import patient, write_csv

    db_path = tmp_path / "icb.sqlite"
    assert main(["new", "--db", str(db_path), "--kind", "commissioner"]) == 0
    extract = write_csv(tmp_path / "x.csv", [patient(n, "C82001") for n in range(1, 4)])
    before = info(open_workspace(db_path))["counts"]
    assert main(["import-risk", "--db", str(db_path), "--locality", "CHA", str(extract)]) == 1
    assert "never holds patient-identifiable data" in capsys.readouterr().err
    assert info(open_workspace(db_path))["counts"] == before


def test_a_return_from_an_app_with_the_first_catalogue_imports_without_the_kpis_added_since(commissioner, tmp_path):
    added = {k.code for k in catalogue() if k.added_in > 1}
    doc = return_doc()
    doc["values"] = [v for v in doc["values"] if v["kpi"] not in added]
    assert len(doc["values"]) == 20 and {"COH-06a", "COH-07", "BCF-01"} <= added
    assert one(commissioner, write(tmp_path / "old.json", doc)).status == "imported"
    # A KPI of the first catalogue is still required.
    doc["values"] = [v for v in doc["values"] if v["kpi"] != "COH-03"]
    got = one(commissioner, write(tmp_path / "short.json", return_doc(revision=2) | {"values": doc["values"]}))
    assert (got.status, got.code) == ("rejected", "bad-field") and "COH-03 is missing" in got.reason
