"""Step changes on paper (issue 24): the PDF XmR chart draws each segment's mean and limits over its own points
with a marker where a step change starts one, and the locality report prints the reason under the chart."""

from __future__ import annotations

import datetime as dt

import pytest
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from reportlab.graphics.shapes import Line, String
from worlds import copy_world

from desktop.models import quarters, roles
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.kpi import rebases
from desktop.models.kpi.locality_figures import gather
from desktop.models.stats import spc
from desktop.reports import locality_report
from desktop.reports.charts import mdc_style
from desktop.reports.charts.spc import INK, STEP_DASH, xmr_chart

QUARTER = quarters.parse("2026-27-Q2")
LEAD = Actor("Lead Tester", "device-test", role=roles.LOCALITY_LEAD)
REASON = "Daily action huddle started, so overdue actions are chased each morning"
VALUES = [10, 11, 9, 10, 12, 11, 10, 9, 11, 10, 20, 21, 19, 20, 22, 21, 20, 19, 21, 20]


def _means(chart, values) -> list[Line]:
    """The solid ink lines across the plot: the means (the axes and ticks are grey, the limits dashed)."""
    return [
        s
        for s in chart.contents
        if isinstance(s, Line) and s.strokeColor == INK and not s.strokeDashArray and s.y1 == s.y2 and s.x2 > s.x1
    ]


def test_each_segment_has_its_own_mean_and_a_marker_where_it_starts():
    result = spc.analyse(VALUES, "increase", rebase=[10])
    labels = [f"M{i}" for i in range(len(VALUES))]
    chart = xmr_chart(result, labels, 240, 110)
    means = sorted(_means(chart, VALUES), key=lambda s: s.x1)
    assert len(means) == 2  # one per segment, not one across the chart
    first, second = means
    assert first.x2 < second.x1  # a break between them
    assert first.y1 < second.y1  # the second level is higher
    markers = [s for s in chart.contents if isinstance(s, Line) and s.strokeDashArray == STEP_DASH]
    assert len(markers) == 1 and first.x2 < markers[0].x1 < second.x1 and markers[0].x1 == markers[0].x2
    texts = [s.text for s in chart.contents if isinstance(s, String)]
    assert "Baseline" in texts and "From M10" in texts
    # The UPL/LPL tags belong to the limits the icons describe: the last segment's only.
    assert texts.count("UPL") == 1 and texts.count("LPL") == 1


def test_a_chart_with_no_step_change_draws_one_mean_and_no_marker():
    chart = xmr_chart(spc.analyse(VALUES, "increase"), [f"M{i}" for i in range(len(VALUES))], 240, 110)
    assert len(_means(chart, VALUES)) == 1
    assert not [s for s in chart.contents if isinstance(s, Line) and s.strokeDashArray == STEP_DASH]
    assert "Baseline" not in [s.text for s in chart.contents if isinstance(s, String)]


def test_trial_limits_after_a_step_change_count_the_points_since():
    result = spc.analyse(VALUES, "increase", rebase=[14])
    chart = xmr_chart(result, [f"M{i}" for i in range(len(VALUES))], 240, 110)
    assert any("only 6 points since the step change;" in s.text for s in chart.contents if isinstance(s, String))


def test_the_brief_assurance_note_is_its_first_clause():
    assert mdc_style.brief("only 5 points since the last step change; MDC gives icons from 13") == (
        "only 5 points since the last step change"
    )
    assert mdc_style.brief("the figure lies beyond the limits: the process changed (record it)") == (
        "the figure lies beyond the limits"
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory, history_world_template):
    """Oadby & Wigston's report with a step change recorded on MDT-04 from January 2026: a locality whose
    quarter has figures beyond their process limits (Charnwood's had none once the caseload KPIs counted the
    caseload of each month, not today's, issue 25)."""
    path = copy_world(history_world_template, tmp_path_factory.mktemp("steps") / "w.sqlite")
    db = open_workspace(path)
    loc = db.execute("SELECT id FROM localities WHERE code = 'OAW'").fetchone()[0]
    rebases.record(db, LEAD, loc, "MDT-04", dt.date(2026, 1, 1), REASON)
    figures = gather(db, "OAW", QUARTER, DEMO_TODAY)
    out = tmp_path_factory.mktemp("pdf") / "cha.pdf"
    locality_report.build_report(figures, out)  # the report export() writes, from these very figures
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    db.close()
    return figures, text


def test_the_locality_report_prints_the_reason_under_the_chart(report):
    figures, text = report
    row = figures.row("MDT-04")
    assert [r["reason"] for r in row.rebases] == [REASON] and len(row.spc.segments) == 2
    assert f"Limits recalculated from Jan 2026: {REASON}" in text
    assert "mean since Jan 2026" in text


def test_the_locality_report_says_why_an_assurance_icon_is_withheld(report):
    figures, text = report
    withheld = [
        r
        for r in figures.rows
        if r.spc is not None and not r.spc.trial_limits and r.assurance is None and r.assurance_note != "no target"
    ]
    assert withheld  # the demo has a KPI beyond its limits
    for r in withheld:
        assert f"No assurance icon: {mdc_style.brief(r.assurance_note)}." in text
