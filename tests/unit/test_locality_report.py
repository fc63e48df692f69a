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
from desktop.models.kpi import board, consolidated, returns
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


def _table_lines(pages: list[str]) -> list[str]:
    """The KPI table, one cell per line: from its heading to the key under it, across its pages."""
    text = "\n".join(pages)
    start = text.index("Key performance indicators")
    return [line.strip() for line in text[start : text.index("Key to the icons", start)].split("\n")]


def test_rag_letters_match_the_return(world, report):
    db, _ = world
    _, pages, _ = report
    every = returns.values(db, returns.current(db, _cha(db), QUARTER)["id"])
    kpis = by_code()
    held = {code: row for code, row in every.items() if not kpis[code].part_of}
    lines = _table_lines(pages)
    starts = {line: i for i, line in enumerate(lines) if line in held}
    assert set(starts) == set(held)
    ends = sorted(starts.values()) + [len(lines)]
    for code, row in held.items():
        # The KPI's row runs from its code to the next KPI's code; the RAG letter is a cell of its own.
        start = starts[code]
        cells = lines[start + 1 : ends[ends.index(start) + 1]]
        assert (row["rag"] or "–") in cells, (code, row["rag"], cells)
        assert [c for c in cells if c in ("G", "A", "R", "–")] == [row["rag"] or "–"], (code, cells)
    # COH-06's breakdowns are one "By type" line under it, not rows of their own.
    by_type = " ".join(lines[starts["COH-06"] : ends[ends.index(starts["COH-06"]) + 1]])
    assert by_type.count("COH-06") == 8 and "By type:" in by_type
    summary = pages[1]
    reds = [code for code, row in held.items() if row["rag"] == "R"]
    assert reds, "the demo world's CHA return has reds to show"
    assert f"Off target ({len(reds)})" in summary
    for code in reds:
        assert code in summary


def test_the_front_page_reads_as_a_board_paper(world, report):
    db, _ = world
    _, pages, _ = report
    front = " ".join(pages[0].split())
    figures = gather(db, "CHA", QUARTER, DEMO_TODAY)
    assert board.headline(figures) in front
    assert front.startswith("Charnwood locality: report to the board")
    assert "The Board is asked to:" in front
    asks = board.draft_asks(figures)
    assert any(a.startswith("note that") and "is red" in a for a in asks)
    for n, ask in enumerate(asks):
        assert f"{board.letter(n)} {ask.rstrip('.;')}" in front, ask
    assert "Since last quarter" in front and "Better (" in front and "Worse (" in front
    assert "Dashboard: the KPIs with targets" in front
    for r in figures.rows:
        if r.kpi.target is not None and r.value is not None and not r.kpi.part_of:
            assert r.kpi.code in front
    blank = [r.kpi.code for r in figures.rows if r.kpi.target is not None and r.value is None]
    assert (
        (f"Not entered this quarter (optional): {', '.join(blank)}." in front) if blank else "Not entered" not in front
    )
    assert "Page 1 of" in pages[0] and "Key performance indicators" not in pages[0]  # one page


def test_year_to_date_forecast_and_the_llr_comparator(world, report):
    db, _ = world
    _, pages, text = report
    figures = gather(db, "CHA", QUARTER, DEMO_TODAY)
    year = board.year(db, figures)
    assert [q.code for q in year.quarters] == ["2026-27-Q1", "2026-27-Q2"]
    q1 = consolidated.grid(db, QUARTER.previous())
    meetings = year.row("MDT-01")
    assert meetings.ytd == q1[("MDT-01", "CHA")]["value"] + figures.row("MDT-01").value
    assert meetings.forecast == meetings.ytd * 2 and meetings.plan == 12
    cohort = year.row("COH-01")
    assert cohort.ytd == cohort.forecast == figures.row("COH-01").value  # a stock: the latest
    caseload, now, before = year.row("COH-02"), figures.row("COH-02"), q1[("COH-02", "CHA")]
    pooled = 100 * (now.numerator + before["numerator"]) / (now.denominator + before["denominator"])
    assert caseload.ytd == round(pooled, 1)
    all_teams = [v for (k, _), v in consolidated.grid(db, QUARTER).items() if k == "OUT-01"]
    assert year.row("OUT-01").llr_teams == 11
    assert year.row("OUT-01").llr == round(
        1000 * sum(v["numerator"] for v in all_teams) / sum(v["denominator"] for v in all_teams), 1
    )
    assert year.row("COH-02").llr is None  # a comparator for rates only
    flat = " ".join(text.split())
    assert f"LLR {year.row('OUT-01').llr:,.1f}" in flat
    assert "Forecast outturn is the year-end value at the run rate so far" in flat
    assert "No interval: census / activity count, not a sample" in flat
    assert "no interval†" in flat  # where a census's interval would be


def test_edited_asks_are_printed_and_one_naming_a_patient_is_refused(world, tmp_path):
    db, _ = world
    out = tmp_path / "asks.pdf"
    locality_report.export(
        db, ACTOR, "CHA", QUARTER, out, today=DEMO_TODAY, asks=["note the report", "agree the winter plan"]
    )
    front = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert "(a) note the report; (b) agree the winter plan." in front
    refused = tmp_path / "refused.pdf"
    with pytest.raises(ValidationError, match="recommendation \\(b\\) to the board holds what looks like an NHS"):
        locality_report.export(db, ACTOR, "CHA", QUARTER, refused, today=DEMO_TODAY, asks=["note", "see 943 476 5919"])
    assert not refused.exists()


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
    rows = [r for r in audit.entries(db, "report") if r["action"] == "export" and out.name in r["summary"]]
    assert rows and "Charnwood" in rows[0]["summary"]


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
    assert interval(kpis["COH-06"], 20, None) is None  # activity, not a sample: no interval (issue 24)
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
