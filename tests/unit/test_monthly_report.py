"""The monthly exception report (issue 24, point 5) on the small demo world with its history: the month's figures
are compute's for that month, RAG'd against the catalogue's one target (a flow's monthly share of it), each red
lists its open actions; the command line writes a one-page PDF and refuses a bad or future month, writing nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pinned import TODAY
from pypdf import PdfReader
from test_pdf_fonts import assert_every_letter_drawn
from worlds import copy_world

from desktop.cli import main
from desktop.models import audit
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import compute
from desktop.models.kpi import monthly_figures as mf
from desktop.models.kpi.catalogue import by_code
from desktop.models.mdt import actions
from desktop.models.quarters import Month
from desktop.reports import monthly_report

MONTH = mf.last_complete(TODAY)  # October 2026: the month the report is usually made for
ACTOR = Actor("tester", "device-test")


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    path = copy_world(history_world_template, tmp_path_factory.mktemp("monthly") / "w.sqlite")
    db = open_workspace(path)
    yield db, path
    db.close()


@pytest.fixture(scope="module")
def figures(world):
    db, _ = world
    return mf.gather(db, "CHA", MONTH, TODAY)


def _loc(db) -> str:
    return db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]


def test_the_month_holds_every_computed_monthly_kpi_with_computes_values(world, figures):
    db, _ = world
    expected = {f.kpi: f for f in compute.compute(db, _loc(db), MONTH, TODAY)}
    last = {f.kpi: f for f in compute.compute(db, _loc(db), MONTH.previous(), TODAY)}
    monthly = [k for k in by_code().values() if k.source == "computed" and k.cadence == "monthly"]
    assert [r.kpi.code for r in figures.rows] == [k.code for k in monthly]
    assert not any(r.kpi.code in ("COH-01", "COH-02", "OUT-01") for r in figures.rows)  # quarterly or entered
    for r in figures.rows:
        f = expected[r.kpi.code]
        assert (r.numerator, r.denominator, r.value) == (f.numerator, f.denominator, f.value), r.kpi.code
        assert r.previous == last[r.kpi.code].value
        judged = r.value is not None and r.previous is not None and r.kpi.direction in ("high", "low")
        if judged and round(r.value, 1) != round(r.previous, 1):
            assert r.better == ((r.value > r.previous) == (r.kpi.direction == "high")), r.kpi.code
    assert not figures.month_to_date and figures.as_at == MONTH.end


def test_rag_is_the_one_targets_and_a_flows_is_a_third_of_its_quarterly_target(figures):
    for r in figures.rows:
        if not r.kpi.flow:
            assert r.rag == r.kpi.rag(r.value), r.kpi.code
            assert r.target == r.kpi.target
    mdt01 = figures.row("MDT-01")
    assert mdt01.kpi.flow and mdt01.kpi.target == 3
    assert mdt01.target == mdt01.kpi.target_per(monthly=True) == 1
    assert "3 a quarter" in mdt01.rule
    kpi = mdt01.kpi
    # One meeting meets a month's share of 3; none is red, where the quarterly rule would call 0 of 3 red too
    # but 1 of 3 red as well.
    assert (mf.monthly_rag(kpi, 1), mf.monthly_rag(kpi, 0)) == ("G", "R")
    assert kpi.rag(1) == "R"
    assert mdt01.rag == mf.monthly_rag(kpi, mdt01.value)


def test_each_red_lists_its_open_actions(world, figures):
    db, _ = world
    assert figures.reds, "the demo month has reds"
    for r in figures.reds:
        open_ = [a["id"] for a in actions.against_kpi(db, _loc(db), r.kpi.code) if a["status"] in actions.OPEN]
        assert {a["id"] for a in r.actions} <= set(open_)
        assert len(r.actions) == min(len(open_), mf.ACTIONS_SHOWN) and len(r.actions) + r.more_actions == len(open_)
        assert all(a["status"] in actions.OPEN for a in r.actions)
    assert any(r.actions for r in figures.reds)
    for r in figures.rows:
        if r.rag != "R":
            assert r.actions == []


def test_a_month_under_way_is_month_to_date_and_its_flows_are_not_rated(world):
    db, _ = world
    now = mf.gather(db, "CHA", Month(TODAY.year, TODAY.month), TODAY)
    assert now.month_to_date and now.as_at == TODAY
    for r in now.rows:
        if r.kpi.flow:
            assert r.rag is None and r.better is None
    assert now.row("MDT-01").rule == "rated once the month is over"


@pytest.mark.parametrize(
    ("month", "says"),
    [
        (Month(TODAY.year, TODAY.month).next(), "has not begun yet"),
        (Month(2020, 1), "before Charnwood's first risk extract"),
    ],
)
def test_a_month_not_begun_or_before_the_first_extract_is_refused(world, month, says):
    db, _ = world
    with pytest.raises(ValidationError, match=says):
        mf.gather(db, "CHA", month, TODAY)


@pytest.mark.parametrize("text", ["2026-13", "Oct 2026", "2026-10-01", ""])
def test_a_month_that_is_not_yyyy_mm_is_refused(text):
    with pytest.raises(ValidationError, match="YYYY-MM"):
        mf.parse_month(text)


def test_the_monthly_report_flows_are_those_of_the_catalogue():
    assert {k.code for k in mf.monthly_kpis() if k.flow and not k.part_of} == {"COH-06", "MDT-01", "MDT-02"}
    kpi = by_code()["COH-03"]
    assert mf.as_monthly(kpi) is kpi  # a percentage keeps its target
    assert dataclasses.replace(kpi) == mf.as_monthly(kpi)


def test_the_command_line_writes_a_one_page_audited_pdf(world, tmp_path, capsys):
    db, path = world
    out = tmp_path / "monthly.pdf"
    before = len(audit.entries(db, "report"))
    args = ["report", "monthly", "--db", str(path), "--locality", "cha", "--month", MONTH.code, "--out", str(out)]
    assert main([*args, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["month"] == MONTH.code and said["report"] == "monthly"
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Charnwood locality" in text and "Monthly RAG exception report · October 2026" in text
    assert "DRAFT" in text and "figures as at 20 Nov 2026" in text
    for r in [r for r in mf.gather(db, "CHA", MONTH, TODAY).rows if not r.kpi.part_of]:
        assert r.kpi.code in text
    for r in mf.gather(db, "CHA", MONTH, TODAY).reds:
        assert all(a["reference"] in text for a in r.actions)
    assert_every_letter_drawn(out)  # in the Unicode face, embedded
    entries = audit.entries(db, "report")
    assert len(entries) == before + 1
    assert any(
        e["action"] == "export"
        and "October" not in e["summary"]
        and "Oct 2026 monthly exception report for Charnwood (draft) to monthly.pdf" in e["summary"]
        for e in entries
    )


def test_a_red_without_an_action_asks_for_one(figures, tmp_path):
    red = figures.reds[0]
    bare = dataclasses.replace(
        figures, rows=[dataclasses.replace(r, actions=[], more_actions=0) if r is red else r for r in figures.rows]
    )
    out = tmp_path / "bare.pdf"
    monthly_report.build_report(bare, out)
    text = " ".join(PdfReader(out).pages[0].extract_text().split())
    assert monthly_report.NO_ACTION in text


def test_a_month_of_many_reds_and_actions_still_fits_one_page(figures, tmp_path):
    action = dict(next(a for r in figures.reds for a in r.actions))
    action["description"] = "Agree with each practice who reviews the care plans of the housebound, and when. " * 3
    rows = [dataclasses.replace(r, rag="R", actions=[action] * mf.ACTIONS_SHOWN, more_actions=2) for r in figures.rows]
    out = tmp_path / "crowded.pdf"
    monthly_report.build_report(dataclasses.replace(figures, rows=rows), out)
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    # Fewer actions are listed under each red before the page is shrunk below what reads at a meeting.
    assert "and 5 more open in the MDT action log" in " ".join(reader.pages[0].extract_text().split())


def test_the_month_to_date_says_so(world, tmp_path):
    db, _ = world
    out = monthly_report.export(db, ACTOR, "CHA", Month(TODAY.year, TODAY.month), tmp_path / "mtd.pdf", TODAY)
    reader = PdfReader(out)
    assert len(reader.pages) == 1
    assert "MONTH TO DATE" in " ".join(reader.pages[0].extract_text().split())


@pytest.mark.parametrize(
    ("month", "says"),
    [("2026-13", "is not a month"), ("2026-12", "has not begun yet"), ("2019-04", "first risk extract")],
)
def test_the_command_line_refuses_a_bad_or_future_month_and_writes_nothing(world, tmp_path, capsys, month, says):
    db, path = world
    before = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "monthly.pdf"
    args = ["report", "monthly", "--db", str(path), "--locality", "CHA", "--month", month, "--out", str(out)]
    assert main(args) == 1
    assert says in capsys.readouterr().err
    assert list(folder.iterdir()) == []
    assert db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == before
