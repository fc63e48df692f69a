"""The quarterly locality report (DESIGN §11) on the small demo world with its two years of history: what a
board reader needs is in the PDF's text, the export is audited, and no patient is identified."""

from __future__ import annotations

import re

import pytest
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from worlds import copy_world

from desktop.cli import main
from desktop.models import audit, quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import returns
from desktop.models.kpi.catalogue import by_code
from desktop.models.kpi.locality_figures import gather, interval
from desktop.models.mdt import actions
from desktop.models.stats import spc
from desktop.reports import locality_report
from desktop.reports.charts import mdc_icons
from desktop.reports.charts.spc import xmr_chart

QUARTER = quarters.parse("2026-27-Q2")
ACTOR = Actor("tester", "device-test")


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    path = copy_world(history_world_template, tmp_path_factory.mktemp("locality") / "w.sqlite")
    db = open_workspace(path)
    yield db, path
    db.close()


@pytest.fixture(scope="module")
def report(world, tmp_path_factory):
    db, _ = world
    out = tmp_path_factory.mktemp("pdf") / "cha.pdf"
    locality_report.export(db, ACTOR, "CHA", QUARTER, out, today=DEMO_TODAY)
    pages = [page.extract_text() for page in PdfReader(out).pages]
    return out, pages, "\n".join(pages)


def _cha(db):
    return db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]


def test_the_report_names_every_kpi_and_the_sign_off(world, report):
    db, _ = world
    _, pages, text = report
    for code in by_code():
        assert code in text, code
    ret = returns.current(db, _cha(db), QUARTER)
    assert ret["status"] != "draft"
    assert f"Signed off by {ret['signed_off_by']}" in text.replace("\n", " ")
    assert "DRAFT" not in text
    assert "2026/27 Q2" in text
    assert all(re.search(rf"Page {i} of {len(pages)}", page) for i, page in enumerate(pages, start=1))
    assert "OFFICIAL-SENSITIVE" not in text  # aggregate only


def test_rag_letters_match_the_return(world, report):
    db, _ = world
    _, pages, _ = report
    held = returns.values(db, returns.current(db, _cha(db), QUARTER)["id"])
    lines = [line.strip() for line in pages[1].split("\n")]  # the KPI table page, one cell per line
    starts = {line: i for i, line in enumerate(lines) if line in held}
    assert set(starts) == set(held)
    ends = sorted(starts.values()) + [len(lines)]
    for code, row in held.items():
        # The KPI's row runs from its code to the next KPI's code; the RAG letter is a cell of its own.
        start = starts[code]
        cells = lines[start + 1 : ends[ends.index(start) + 1]]
        assert (row["rag"] or "–") in cells, (code, row["rag"], cells)
        assert [c for c in cells if c in ("G", "A", "R", "–")] == [row["rag"] or "–"], (code, cells)
    headline = pages[0]
    reds = [code for code, row in held.items() if row["rag"] == "R"]
    assert reds, "the demo world's CHA return has reds to show"
    assert f"Off target ({len(reds)})" in headline
    for code in reds:
        assert code in headline


def test_a_red_shows_its_comment_and_its_actions(world, report):
    db, _ = world
    _, _, text = report
    flat = " ".join(text.split())
    held = returns.values(db, returns.current(db, _cha(db), QUARTER)["id"])
    reds = [(code, row) for code, row in held.items() if row["rag"] == "R"]
    checked = 0
    for code, row in reds:
        if row["comment"]:
            assert " ".join(row["comment"].split()) in flat
        raised = actions.against_kpi(db, _cha(db), code)
        open_ones = [a for a in raised if a["status"] in actions.OPEN]
        for a in open_ones:
            assert a["reference"] in text
            checked += 1
    assert checked, "at least one open action against a red is shown"


def test_the_key_and_the_charts_are_there(report):
    _, _, text = report
    flat = " ".join(text.split())
    assert mdc_icons.LABELS["common_cause"] in flat
    assert mdc_icons.LABELS["consistent_fail"] in flat
    assert "Statistical process control charts" in flat
    assert "Trial limits: only 8 points" in flat  # the entered KPIs' quarterly charts
    assert re.search(r"Monthly, \w{3} 2024 to Sep 2026 \(2\d points\)", flat)


def test_no_patient_is_identified(world, report):
    db, _ = world
    _, _, text = report
    flat = text.replace(" ", "")
    people = list(
        db.query(
            "SELECT nhs_number, given_name, family_name FROM patients WHERE locality_id = ? "
            "ORDER BY nhs_number LIMIT 40",
            [_cha(db)],
        )
    )
    assert people
    for person in people:
        assert person["nhs_number"] not in flat
        assert f"{person['family_name'].upper()}, {person['given_name']}" not in text
        assert f"{person['given_name']} {person['family_name']}" not in text


def test_the_export_is_audited(world, report):
    db, _ = world
    out, _, _ = report
    rows = [r for r in audit.entries(db, "report") if r["action"] == "export"]
    assert rows and out.name in rows[0]["summary"] and "Charnwood" in rows[0]["summary"]


def test_an_unknown_locality_is_refused_with_the_known_codes(world, tmp_path):
    db, _ = world
    with pytest.raises(ValidationError, match="no locality 'ZZZ'.*CHA"):
        locality_report.export(db, ACTOR, "ZZZ", QUARTER, tmp_path / "x.pdf", today=DEMO_TODAY)
    assert not (tmp_path / "x.pdf").exists()


def test_the_cli_writes_the_report_or_says_why_not(world, tmp_path, capsys):
    _, path = world
    out = tmp_path / "cli.pdf"
    assert (
        main(
            ["report", "locality", "--db", str(path), "--locality", "cha", "--quarter", "2026-27-Q2", "--out", str(out)]
        )
        == 0
    )
    assert out.stat().st_size > 10_000
    assert (
        main(
            [
                "report",
                "locality",
                "--db",
                str(path),
                "--locality",
                "NOPE",
                "--quarter",
                "2026-27-Q2",
                "--out",
                str(tmp_path / "no.pdf"),
            ]
        )
        == 1
    )
    assert "no locality 'NOPE'" in capsys.readouterr().err
    assert not (tmp_path / "no.pdf").exists()


def test_a_quarter_without_a_return_is_a_draft_computed_from_the_records(world, tmp_path):
    db, _ = world
    later = QUARTER.next()  # 2026-27-Q3: under way on the demo's today, no return yet
    assert returns.current(db, _cha(db), later) is None
    figures = gather(db, "CHA", later, DEMO_TODAY)
    assert figures.draft and figures.row("COH-01").value is not None and figures.row("OUT-01").value is None
    out = tmp_path / "draft.pdf"
    locality_report.export(db, ACTOR, "CHA", later, out, today=DEMO_TODAY)
    text = "\n".join(page.extract_text() for page in PdfReader(out).pages)
    assert "DRAFT" in text and "no return has been started" in text


def test_intervals_are_wilson_for_percentages_and_byar_for_counts_and_rates():
    kpis = by_code()
    low, high = interval(kpis["COH-02"], 5, 25)  # REFERENCE §3: Wilson 5/25 is 8.861 % to 39.131 %
    assert (round(low, 3), round(high, 3)) == (8.861, 39.131)
    low, high = interval(kpis["COH-06"], 20, None)  # Byar, O = 20: 12.2114 to 30.8899
    assert (round(low, 4), round(high, 4)) == (12.2114, 30.8899)
    low, high = interval(kpis["OUT-01"], 20, 1000)  # a rate per 1,000: the count's limits scaled
    assert (round(low, 4), round(high, 4)) == (12.2114, 30.8899)
    assert interval(kpis["COH-02"], None, 25) is None and interval(kpis["COH-02"], 3, 0) is None


def test_the_trend_is_judged_by_the_kpis_direction(world):
    db, _ = world
    figures = gather(db, "CHA", QUARTER, DEMO_TODAY)
    for r in figures.rows:
        if r.change in ("up", "down") and r.kpi.direction in ("high", "low"):
            assert r.better == ((r.change == "up") == (r.kpi.direction == "high")), r.kpi.code
        if r.change == "same" or r.kpi.direction not in ("high", "low"):
            assert r.better is None
    assert any(r.better is False for r in figures.rows) and any(r.better for r in figures.rows)


def test_special_cause_points_get_their_own_marker_shape():
    result = spc.analyse([10, 11, 9, 10, 11, 9, 10, 11, 9, 10, 5, 6, 7, 8, 9, 10, 11, 10, 9, 10], "increase")
    chart = xmr_chart(result, [f"M{i}" for i in range(20)], 240, 110)
    kinds = {type(shape).__name__ for shape in chart.contents}
    # Circles for common cause, polygons (triangles) for the concern below the lower limit, squares (Rect) for
    # the improving trend: shape, not only colour, tells them apart in greyscale.
    assert {"Circle", "Polygon", "Rect"} <= kinds
    sizes = [s.fontSize for s in chart.contents if type(s).__name__ == "String"]
    assert min(sizes) >= 6.5  # legible when printed


def test_a_short_series_says_trial_limits():
    result = spc.analyse([3, 5, 4, 6, 5, 4, 5, 6], "increase")
    chart = xmr_chart(result, [f"Q{i}" for i in range(8)], 240, 110)
    texts = [s.text for s in chart.contents if type(s).__name__ == "String"]
    assert any(t.startswith("Trial limits") for t in texts)
