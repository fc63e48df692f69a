"""One target per KPI (issue 24): it drives the RAG rating, the SPC assurance icon and the chart's target line;
intervals only where there is a sample; step changes (rebases) recalculate the limits from their date."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pinned import TODAY
from worlds import copy_world

from desktop.cli import main
from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.kpi import locality_figures, rebases
from desktop.models.kpi.catalogue import by_code, catalogue
from desktop.models.stats import ci

LEAD = Actor("Fed Manager", "dev-test", role="federation manager")


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    db = open_workspace(copy_world(history_world_template, tmp_path_factory.mktemp("one-target") / "w.sqlite"))
    yield db
    db.close()


def _quarters(count: int) -> list[quarters.Quarter]:
    span = [quarters.of(TODAY)]
    while len(span) < count:
        span.append(span[-1].previous())
    return span


def test_no_kpi_of_any_team_or_quarter_is_rated_against_its_own_assurance(world):
    """A KPI rated red or amber may not carry "will consistently meet the target", nor a green one "will
    consistently fail": over every locality, KPI and quarter of the demo's two years."""
    seen, contradictions = set(), []
    for (code,) in world.execute("SELECT code FROM localities ORDER BY code").fetchall():
        shared: dict = {}
        for quarter in _quarters(8):
            for row in locality_figures.gather(world, code, quarter, TODAY, shared=shared).rows:
                seen.add(row.assurance)
                if (row.assurance == "pass" and row.rag in ("A", "R")) or (row.assurance == "fail" and row.rag == "G"):
                    contradictions.append((code, quarter.code, row.kpi.code, row.value, row.rag, row.assurance))
                if row.assurance is None:
                    assert row.assurance_note, (code, quarter.code, row.kpi.code)
    assert contradictions == []
    assert {"pass", "fail", "hit-and-miss", None} <= seen  # the check had every verdict to test


@pytest.mark.parametrize(
    ("direction", "target", "low", "high", "verdict"),
    [
        ("high", 100.0, 100.0, 100.0, "pass"),  # a flat series exactly at its target of 100 % always meets it
        ("high", 80.0, 80.0, 95.0, "pass"),
        ("high", 80.0, 60.0, 79.9, "fail"),
        ("high", 80.0, 70.0, 90.0, "hit-and-miss"),
        ("low", 0.0, 0.0, 0.0, "pass"),  # no overdue actions, ever, against a target of none
        ("low", 0.0, 1.0, 4.0, "fail"),
        ("low", 5.0, 2.0, 8.0, "hit-and-miss"),
    ],
)
def test_the_verdict_follows_the_rag_rule(direction, target, low, high, verdict):
    assert locality_figures._verdict(direction, target, low, high) == verdict


def test_flows_draw_a_third_of_their_quarterly_target_a_month(world):
    figures = locality_figures.gather(world, "CHA", _quarters(2)[1], TODAY)
    meetings = figures.row("MDT-01")
    assert meetings.target == 3 and meetings.chart_target == 1
    assert figures.row("COH-03").chart_target == by_code()["COH-03"].target


def test_a_flow_is_not_rated_until_its_quarter_is_over(world):
    under_way = locality_figures.gather(world, "CHA", quarters.of(TODAY), TODAY, computed=True)
    assert under_way.row("MDT-01").rag is None
    assert under_way.row("COH-03").rag is not None  # a share can be rated on any day


def test_intervals_only_where_there_is_a_sample(world):
    figures = locality_figures.gather(world, "CHA", _quarters(2)[1], TODAY, computed=True)
    for row in figures.rows:
        method = row.kpi.interval_method
        if method is None:
            assert row.ci is None and row.interval_note, row.kpi.code
        elif row.numerator is not None and row.denominator:
            assert row.ci is not None, row.kpi.code
    census = {k.code for k in catalogue() if k.measure == "census"}
    activity = {k.code for k in catalogue() if k.measure == "activity"}
    assert {"COH-01", "CH-01"} <= census and {"MDT-01", "COH-06"} <= activity
    share = figures.row("COH-02")
    low, high = ci.wilson(share.numerator, share.denominator)
    assert share.ci == pytest.approx((100 * low, 100 * high))


def test_kpi_json_gives_target_rag_icons_and_interval(world, capsys):
    path = world.conn.execute("PRAGMA database_list").fetchone()[2]
    quarter = _quarters(2)[1]
    assert main(["kpi", "--db", path, "--locality", "CHA", "--quarter", quarter.code, "--json"]) == 0
    rows = {r["kpi"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {k.code for k in catalogue()}
    for r in rows.values():
        assert {"target", "rag", "variation", "assurance", "interval"} <= set(r)
        assert r["assurance"] in ("pass", "fail", "hit-and-miss", None)
    assert rows["COH-01"]["interval"] is None and rows["MDT-01"]["interval"] is None
    assert rows["COH-02"]["interval"]["method"] == "wilson"
    assert rows["COH-02"]["target"] == by_code()["COH-02"].target


def test_a_step_change_recalculates_the_limits_from_its_date(tmp_path, history_world_template):
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    quarter = _quarters(2)[1]
    before = locality_figures.gather(db, "CHA", quarter, TODAY).row("COH-03")
    loc = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    audited = db.execute("SELECT COUNT(*) FROM audit WHERE entity = 'kpi_rebase'").fetchone()[0]
    months = before.labels
    on = dt.date(int(months[8][-4:]), dt.datetime.strptime(months[8][:3], "%b").month, 1)
    rebases.record(db, LEAD, loc, "COH-03", on, "New care-plan template agreed with the practices")
    after = locality_figures.gather(db, "CHA", quarter, TODAY).row("COH-03")
    earlier = [r["index"] for r in before.rebases if r["index"] < 7]  # the demo's start-up, if recorded
    assert [r["index"] for r in after.rebases] == [*earlier, 8]
    assert after.rebases[-1]["reason"] == "New care-plan template agreed with the practices"
    *_, second_last, last = after.spc.segments
    assert (second_last.end, last.start, len(after.spc.segments)) == (8, 8, len(earlier) + 2)
    tail = [p.value for p in after.spc.points[8:]]
    assert last.mean == pytest.approx(sum(tail) / len(tail))
    assert db.execute("SELECT COUNT(*) FROM audit WHERE entity = 'kpi_rebase'").fetchone()[0] == audited + 1
    db.close()


@pytest.mark.parametrize(
    ("actor", "reason", "message"),
    [
        (Actor("A Matron", "dev-test", role="community matron"), "New rota", "Only"),
        (LEAD, "   ", "Say what changed"),
        (LEAD, "Mrs Test's care plan redone, NHS 943 476 5919", "step change cannot be recorded"),
    ],
)
def test_a_step_change_is_refused_with_a_reason(small_world, actor, reason, message):
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    with pytest.raises(ValidationError, match=message):
        rebases.record(small_world, actor, loc, "COH-03", dt.date(2026, 4, 1), reason)
    assert small_world.execute("SELECT COUNT(*) FROM kpi_rebases").fetchone()[0] == 0


def test_a_step_change_is_recorded_once_and_can_be_removed(small_world):
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    row = rebases.record(small_world, LEAD, loc, "CH-02", dt.date(2026, 4, 1), "Home-round rota from April")
    with pytest.raises(ValidationError, match="already recorded"):
        rebases.record(small_world, LEAD, loc, "CH-02", dt.date(2026, 4, 1), "Again")
    rebases.remove(small_world, LEAD, row["id"])
    assert rebases.listing(small_world, loc) == []


def test_a_step_change_too_near_either_end_is_left_off_the_chart():
    starts = [dt.date(2026, m, 1) for m in range(1, 13)]
    rows = [
        {"effective_on": d, "reason": d} for d in ("2026-01-01", "2026-02-01", "2026-06-15", "2026-07-01", "2026-12-01")
    ]
    kept = rebases.starts(rows, starts)
    assert [i for i, _ in kept] == [6]  # mid-June starts from July; 1 July is then too close; the ends are dropped
