"""The commissioner's system report: built from imported return files (one team missing, one late, small
counts for suppression to work on) and from the demo world; its pages (the Board's summary first, the teams by
place with subtotals, the former CCG areas, rates beside LLR, funnels with their target), the for-publication
suppression with the disclosure check and one number format per KPI, the requests to the Board as edited, the
CLI and the audit row."""

from __future__ import annotations

import json
import re

import pytest
from pypdf import PdfReader
from return_files import return_doc, trust_teams, write
from worlds import copy_world

from desktop.cli import main
from desktop.models import audit, quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import consolidated
from desktop.models.kpi.catalogue import by_code, catalogue
from desktop.models.kpi.return_import import import_returns
from desktop.models.workspace import create_workspace
from desktop.reports import system_report
from desktop.reports.disclosure import Disclosure

ACTOR = Actor(user="commissioner", device_id="icb-laptop")
QUARTER = quarters.parse("2025-26-Q3")
# Small figures for suppression: (team, KPI) -> (numerator, denominator).
# MDT-04 counts actions, not people: publication leaves it exact.
SMALL = {
    ("BAL", "COH-03"): (3, 7),
    ("CHA", "CH-06"): (2, 6),
    ("CTE", "COH-01"): (4, None),
    ("CTN", "CH-03"): (0, 13),
    ("CTW", "MDT-04"): (4, None),
}
FUNNEL_KPIS = [k.code for k in catalogue() if k.unit in consolidated.FUNNEL_UNITS]


def _doc(code: str, period: str, scale: int, late: bool = False) -> dict:
    doc = return_doc(code, period, scale=scale)
    for v in doc["values"]:
        if (code, v["kpi"]) in SMALL and period == QUARTER.code:
            kpi = by_code()[v["kpi"]]
            num, den = SMALL[(code, v["kpi"])]
            v.update(numerator=float(num), denominator=None if den is None else float(den))
            v["value"] = kpi.value(v["numerator"], v["denominator"])
            v["rag"] = kpi.rag(v["value"])
    if period != QUARTER.code:
        doc["signed_off_at"] = "2025-10-14T16:00:00+00:00"  # Q2's on-time deadline was 30 October
    if late:
        doc["signed_off_at"] = "2026-02-20T10:00:00+00:00"  # Q3's was 30 January
    return doc


@pytest.fixture
def commissioner(tmp_path):
    """Returns from 10 of the 11 teams for 2025-26 Q3 (NWL missing, OAW late) and all 11 for Q2."""
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    trust_teams(db)
    codes = [t["code"] for t in consolidated.localities(db)]
    files = []
    for i, code in enumerate(codes):
        files.append(write(tmp_path / f"{code}-q2.json", _doc(code, "2025-26-Q2", scale=1 + i % 3)))
        if code != "NWL":
            files.append(
                write(tmp_path / f"{code}-q3.json", _doc(code, QUARTER.code, scale=1 + i % 3, late=code == "OAW"))
            )
    outcomes, _ = import_returns(db, ACTOR, files)
    assert {o.status for o in outcomes} == {"imported"}
    yield db, codes
    db.close()


def pdf_text(path) -> tuple[str, list[str]]:
    pages = [page.extract_text() for page in PdfReader(path).pages]
    return "\n".join(pages), pages


def appendix_rows(text: str, codes: list[str]) -> list[tuple[str, ...]]:
    """The appendix rows of single teams and LLR (place and CCG totals are rows too: see appendix_size)."""
    part = text.split("Appendix: disclosure check", 1)[1]
    teams = "|".join([*codes, "LLR"])
    return re.findall(rf"^({teams})\n([A-Z]+-\d\d[a-g]?)\n(numerator|denominator|value)\n(.+)\n(.+)$", part, re.M)


def appendix_size(text: str) -> int:
    """Every row of the appendix, whoever's: each has one field word on a line of its own."""
    part = text.split("Appendix: disclosure check", 1)[1]
    return len(re.findall(r"^(?:numerator|denominator|value)$", part, re.M))


def test_the_report_holds_every_team_completeness_and_funnels(commissioner, tmp_path):
    db, codes = commissioner
    out = tmp_path / "system.pdf"
    assert system_report.export(db, ACTOR, QUARTER, out) == 0
    text, pages = pdf_text(out)
    assert len(codes) == 11 and all(code in text for code in codes)
    assert "System report 2025/26 Q3" in text
    assert "Not for publication: contains unsuppressed small numbers" in text
    assert all("NOT FOR PUBLICATION" in page for page in pages)
    assert "Summary for the Board" in pages[0] and "The Board is asked to:" in pages[0]
    summary = " ".join(text.split("Completeness of returns, ", 1)[0].split())
    assert "10 of 11 teams' returns are held (none yet from NWL)" in summary
    assert "ask NWL to send their outstanding 2025/26 Q3 returns" in summary
    assert "Drafted by Locality Desk" in summary
    cover = text.split("Completeness of returns, ", 1)[1]  # after the summary, a page or two
    assert re.search(r"10\s*of 11\s*9\s*of 11\s*10\s*of 11", cover)  # received, on time, signed off
    assert "No return held from NWL" in cover
    # The teams by place, with place totals, and the rule for Rutland said where the grouping is.
    flat = " ".join(text.split())
    assert "The teams side by side by place" in text and "Rutland *" in text
    assert "MSR is shown as the Rutland place" in flat
    assert "By former CCG area" in text and "East Leicestershire & Rutland" in flat
    assert "Rates beside LLR" in text
    assert "Funnel plot: BCF-01 " in text  # per 100,000
    assert "Target ≤ 150 per 100,000 (dotted yellow)" in flat
    for code in FUNNEL_KPIS:
        assert f"Funnel plot: {code} " in text
    assert "Funnel plot: COH-01" not in text  # a count has no funnel
    assert "Trends, 2025/26 Q2 to 2025/26 Q3" in text
    # Completeness per held quarter: Q2 complete, Q3 missing NWL with OAW late.
    assert re.search(r"2025/26 Q2\s*11 of 11\s*11 of 11\s*11 of 11", text)
    assert re.search(r"2025/26 Q3\s*10 of 11\s*9 of 11\s*10 of 11\s*30 Jan 2026\s*NWL", text)
    assert "LATE" in text
    # Unsuppressed: the small figures are printed as returned.
    assert "3/7" in text and "42.9" in text
    row = audit.entries(db, "report")[0]
    assert row["action"] == "export" and row["user"] == "commissioner"
    assert json.loads(row["detail"]) == {
        "file": str(out),
        "for_publication": False,
        "quarter": QUARTER.code,
        "altered": 0,
        "asks": "drafted",
    }


def test_for_publication_suppresses_rounds_and_lists_every_altered_cell(commissioner, tmp_path):
    db, codes = commissioner
    out = tmp_path / "published.pdf"
    altered = system_report.export(db, ACTOR, QUARTER, out, for_publication=True)
    text, pages = pdf_text(out)
    assert "For publication: small numbers suppressed (NHS Digital 2018 method)" in pages[0]
    assert "Not for publication" not in text
    rows = appendix_rows(text, codes)
    assert altered == appendix_size(text) > len(rows) > 0  # place and CCG totals are listed too
    assert f"{altered} cells" in text
    assert ("BAL", "COH-03", "numerator", "*", "suppressed (1 to 7)") in rows
    assert ("BAL", "COH-03", "value", "*", "suppressed (1 to 7)") in rows
    assert ("CHA", "CH-06", "denominator", "*", "suppressed (1 to 7)") in rows
    assert ("CTE", "COH-01", "value", "*", "suppressed (1 to 7)") in rows
    assert not any(r[:2] == ("CTW", "MDT-04") for r in rows)  # actions are not people: shown exactly
    assert not any(r[:2] == ("CTN", "CH-03") and r[2] == "numerator" for r in rows)  # zero is not suppressed
    # The KPI table pages show the protected figures only.
    grid = "\n".join(page for page in pages if "The teams side by side" in page)
    # (42.9 is also 45/105 now that every percentage has its decimal: look for the exact figures as cells)
    assert not re.search(r"(?<![\d,])(3/7|2/6)(?![\d,])", grid)
    # One number format per KPI: a value with a RAG letter is a percentage with one decimal, or a count with a
    # target (meetings held, actions overdue) with none.
    values = re.findall(r"(?<![\d.,/-])(\d[\d,]*(?:\.\d+)?) [GAR]\b", grid)
    assert values and all(len(v.split(".")[1]) == 1 for v in values if "." in v)
    assert {v for v in values if "." not in v} <= {str(n) for n in range(200)}
    assert "*/*" in grid
    assert "41/101" not in grid and "40/100" in grid  # BAL's COH-02, 41 of 101, rounded to the nearest 5
    # Free-text comments are left out; suppressed teams are named under the funnel they were dropped from.
    assert "Omitted for publication" in text
    assert "Not plotted for publication (suppressed figures): BAL" in text

    # Rounding, and rates recomputed from the published figures (the same report: each export takes 2 s).
    rows = {(r[0], r[1], r[2]): (r[3], r[4]) for r in appendix_rows(text, codes)}
    # return_doc: BAL (scale 1) COH-02 is 41 of 101 -> shown 40 of 100, 40% recomputed from those.
    assert rows[("BAL", "COH-02", "numerator")] == ("40", "rounded to the nearest 5")
    assert rows[("BAL", "COH-02", "denominator")] == ("100", "rounded to the nearest 5")
    assert rows[("BAL", "COH-02", "value")][0].startswith("40.0 ")  # one decimal, like every percentage
    assert rows[("BAL", "COH-02", "value")][1] == "recomputed from published figures"
    # The appendix never prints the original figures, which would undo the suppression.
    appendix = text.split("Appendix: disclosure check", 1)[1]
    assert "41" not in appendix.split("\n") and "101" not in appendix.split("\n")


def test_cli_writes_the_published_report_and_audits_it(commissioner, tmp_path):
    db, codes = commissioner
    out = tmp_path / "cli.pdf"
    path = db.execute("PRAGMA database_list").fetchone()[2]
    assert (
        main(["report", "system", "--db", path, "--quarter", QUARTER.code, "--for-publication", "--out", str(out)]) == 0
    )
    text, _ = pdf_text(out)
    rows = appendix_rows(text, codes)
    row = audit.entries(db, "report")[0]
    detail = json.loads(row["detail"])
    assert row["action"] == "export" and detail["for_publication"] is True and detail["file"] == str(out)
    assert detail["altered"] == appendix_size(text) >= len(rows) > 0
    assert detail["asks"] == "drafted"
    assert (
        main(["report", "system", "--db", path, "--quarter", "2019-20-Q1", "--out", str(tmp_path / "none.pdf")]) == 1
    )  # no returns held for that quarter
    assert not (tmp_path / "none.pdf").exists()


def test_on_the_demo_world(history_world_template, tmp_path):
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    try:
        quarter = consolidated.held_quarters(db)[-1]
        codes = [t["code"] for t in consolidated.localities(db)]
        out = tmp_path / "demo.pdf"
        assert system_report.export(db, ACTOR, quarter, out) == 0
        text, pages = pdf_text(out)
        assert len(codes) == 11 and all(code in text for code in codes)
        assert re.search(r"11\s*of 11\s*11\s*of 11\s*11\s*of 11", text.split("Completeness of returns, ", 1)[1])
        assert all(f"Funnel plot: {code} " in text for code in FUNNEL_KPIS)
        assert "Beyond 99.8%:" in text and "Overdispersion φ" in text
        # Whoever the funnels put beyond 99.8 %, page 1 names them under the KPI.
        summary = " ".join(pages[0].split())
        for kpi in catalogue():
            f = consolidated.funnel(db, kpi.code, quarter) if kpi.part_of is None else None
            for pt in f.points if f else []:
                band, _ = consolidated.position(f, pt["denominator"], pt["value"])
                if band == consolidated.BEYOND_998:
                    assert re.search(rf"{kpi.code} [^•]*{pt['locality']} ", summary), (kpi.code, pt["locality"])
        assert text.count("Teams' comments on the reds") == 1
        published = tmp_path / "demo-pub.pdf"
        altered = system_report.export(db, ACTOR, quarter, published, for_publication=True)
        assert altered == appendix_size(pdf_text(published)[0]) > 0
        assert [r["action"] for r in audit.entries(db, "report")] == ["export", "export"]
    finally:
        db.close()


def test_every_value_of_a_kpi_has_the_same_decimals():
    """For publication a percentage was "86" below a published denominator of 4,000 and "84.3" above it, in
    one column: every percentage and rate now has one decimal, a count none, rounded or not."""
    pct, rate, count = by_code()["COH-02"], by_code()["OUT-01"], by_code()["COH-01"]
    published = Disclosure(True)
    small = {"numerator": 41.0, "denominator": 101.0, "value": 40.6, "rag": "R"}  # shown 40 of 100
    large = {"numerator": 3373.0, "denominator": 4001.0, "value": 84.3, "rag": "G"}  # shown 3,375 of 4,000
    assert published.figures(pct, "BAL", small).value == "40.0"
    assert published.figures(pct, "CHA", large).value == "84.4"
    assert published.figures(pct, "CTE", {**small, "numerator": 3.0, "value": 3.0}).value == "*"
    events = {"numerator": 1204.0, "denominator": 1000.0, "value": 1204.0, "rag": None}  # more events than people
    assert published.figures(rate, "BAL", events).value == "1,205.0"
    assert published.figures(count, "BAL", {**events, "numerator": 86.0, "denominator": None}).value == "85"
    exact = Disclosure(False)
    assert exact.figures(pct, "BAL", small).value == "40.6"
    assert exact.figures(rate, "BAL", events).value == "1,204.0"
    assert exact.figures(count, "BAL", {**events, "numerator": 86.0, "denominator": None}).value == "86"


def test_edited_requests_to_the_board_are_printed_after_the_identifier_check(commissioner, tmp_path):
    db, _ = commissioner
    asks = ["note the report", "ask the Board's officers for a deep dive into COH-04 by June"]
    out = tmp_path / "edited.pdf"
    system_report.export(db, ACTOR, QUARTER, out, asks=asks)
    summary = " ".join(pdf_text(out)[1][0].split())
    assert "1. note the report 2. ask the Board's officers for a deep dive into COH-04 by June" in summary
    assert "edited by the commissioner" in summary
    assert json.loads(audit.entries(db, "report")[0]["detail"])["asks"] == "edited"
    refused = tmp_path / "refused.pdf"
    before = len(audit.entries(db, "report"))
    with pytest.raises(ValidationError) as caught:
        system_report.export(db, ACTOR, QUARTER, refused, asks=["discuss the patient 943 476 5919"])
    assert "Board request 1" in str(caught.value) and "NHS number" in str(caught.value)
    assert "943" not in str(caught.value)  # the message never repeats the identifier
    assert not refused.exists() and len(audit.entries(db, "report")) == before
    assert system_report.draft_asks(db, QUARTER)[0].startswith("note the position of the integrated locality")
