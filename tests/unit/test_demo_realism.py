"""The demo world looks like LLR's teams (issue 24): a frail cohort's ages, caseloads a matron could carry, named
GPs with lists of a believable size, and teams that differ — one persistent outlier, one that improved on a dated
change, one slipping — with returns whose comments talk about their own KPI."""

from __future__ import annotations

import re
import statistics

import numpy as np
import pytest
from pinned import TODAY
from worlds import copy_world

from desktop.models import quarters
from desktop.models.db import open_workspace
from desktop.models.demo import teams
from desktop.models.kpi import returns
from desktop.models.stats.funnel import proportion_limits


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    db = open_workspace(copy_world(history_world_template, tmp_path_factory.mktemp("realism") / "world.sqlite"))
    yield db
    db.close()


def signed_off(db, kpi: str) -> dict[str, list[tuple[str, float, float, float]]]:
    """(period, value, numerator, denominator) of every signed-off return, oldest first, by locality code."""
    out: dict[str, list] = {}
    for code, period, value, num, den in db.execute(
        "SELECT l.code, r.period, v.value, v.numerator, v.denominator FROM return_values v JOIN returns r "
        "ON r.id = v.return_id JOIN localities l ON l.id = r.locality_id WHERE v.kpi = ? AND r.status = "
        "'signed_off' ORDER BY r.period",
        [kpi],
    ):
        out.setdefault(code, []).append((period, value, num, den))
    return out


def test_the_cohort_is_as_old_as_a_frail_cohort_and_only_a_handful_are_over_100(world):
    born = np.array([r[0] for r in world.execute("SELECT date_of_birth FROM patients WHERE in_cohort = 1")])
    ages = (np.datetime64(TODAY, "D") - born.astype("datetime64[D]")).astype(int) / 365.25
    assert len(ages) > 500
    assert 80 <= np.median(ages) <= 86
    assert (ages >= 100).mean() < 0.005
    assert ages.max() < 110


def test_every_case_manager_with_a_caseload_carries_50_to_120(world):
    loads = world.execute(
        "SELECT s.role, COUNT(*) FROM patients p JOIN staff s ON s.id = p.case_manager_id "
        "WHERE p.status = 'on caseload' GROUP BY s.id"
    ).fetchall()
    assert loads and {role for role, _ in loads} <= {"community matron", "district nurse", "care coordinator"}
    assert all(50 <= n <= 120 for _, n in loads), loads


def test_named_gps_hold_lists_of_a_believable_size_and_teams_differ_in_naming_them(world):
    for (locality,) in world.execute("SELECT id FROM localities"):
        lists = [
            n
            for (n,) in world.execute(
                "SELECT COUNT(*) FROM patients p JOIN staff s ON s.id = p.named_gp_id WHERE s.role = 'GP' "
                "AND p.status = 'on caseload' AND p.locality_id = ? GROUP BY s.id",
                [locality],
            )
        ]
        # About 400 each: a team's named patients are not spread thinly over every GP it has.
        assert lists and max(lists) <= 600
        assert statistics.fmean(lists) >= min(sum(lists), 250)
    latest = {code: rows[-1][1] for code, rows in signed_off(world, "COH-07").items()}
    assert len(latest) == 11 and max(latest.values()) - min(latest.values()) >= 3
    assert 88 <= statistics.median(latest.values()) <= 99


def test_one_team_is_below_the_funnel_on_home_rounds_in_every_quarter_after_start_up(world):
    rows = signed_off(world, "CH-02")
    periods = [p for p, *_ in rows["CHA"]][1:]  # the first quarter is the start-up's, only weeks long
    below: dict[str, int] = {}
    for i, _ in enumerate(periods, start=1):
        pooled = sum(r[i][2] for r in rows.values()) / sum(r[i][3] for r in rows.values())
        for code, series in rows.items():
            _, value, num, den = series[i]
            low, _ = proportion_limits(pooled, den, level=0.998)
            below[code] = below.get(code, 0) + (num / den < low)
    persistent = [code for code, n in below.items() if n == len(periods)]
    assert persistent == [teams.OUTLIER]
    # The others are within a few points of one another, as real teams are (the small world has few homes).
    others = [statistics.fmean(r[1] for r in rows[c][1:]) for c in rows if c != teams.OUTLIER]
    assert max(others) - min(others) < 10


def test_every_team_records_its_start_up_and_the_improving_team_its_new_matron(world):
    rebases = world.execute(
        "SELECT l.code, k.kpi, k.effective_on, k.reason, k.recorded_by FROM kpi_rebases k JOIN localities l "
        "ON l.id = k.locality_id ORDER BY 1, 2, 3"
    ).fetchall()
    start_ups = {(code, kpi) for code, kpi, _, reason, _ in rebases if "start-up complete" in reason}
    assert start_ups == {(code, kpi) for code in teams.TEAMS for kpi in ("COH-03", "COH-04")}
    matron = teams.new_matron_day(TODAY)
    assert [(kpi, on) for code, kpi, on, reason, _ in rebases if "matron" in reason] == [("COH-04", matron.isoformat())]
    assert all(code == teams.IMPROVING for code, _, _, reason, _ in rebases if "matron" in reason)
    audited = world.execute("SELECT COUNT(*) FROM audit WHERE entity = 'kpi_rebase' AND action = 'record'")
    assert audited.fetchone()[0] == len(rebases)
    # The KPI stepped up on that date and stayed up.
    start_up = min(on for code, kpi, on, _, _ in rebases if code == teams.IMPROVING and kpi == "COH-04")
    series = [(quarters.parse(p), v) for p, v, *_ in signed_off(world, "COH-04")[teams.IMPROVING]]
    before = [v for q, v in series if start_up <= q.start.isoformat() and q.end < matron]
    after = [v for q, v in series if q.start >= matron]
    assert before and after and min(after) > max(before)
    assert statistics.fmean(after) > statistics.fmean(before) + 10


def test_the_deteriorating_team_lets_mdt_actions_slip_over_the_last_year(world):
    rows = signed_off(world, "MDT-03")
    mine = [v for _, v, *_ in rows[teams.DETERIORATING]]
    others = [statistics.fmean(v for _, v, *_ in r[-2:]) for c, r in rows.items() if c != teams.DETERIORATING]
    assert statistics.fmean(mine[-2:]) < statistics.fmean(mine[1:5]) - 10
    assert statistics.fmean(mine[-2:]) < min(others)


# Words a comment on each KPI talks about; the topics of home rounds, PCSPs and EoL plans belong to theirs alone.
TOPIC = {
    "COH-01": "cohort",
    "COH-02": "caseload",
    "COH-03": "care plan",
    "COH-04": "review",
    "COH-05": "case manager",
    "COH-06": "interventions",
    "COH-07": "named GP",
    "COH-08": "palliative",
    "MDT-01": "meeting",
    "MDT-02": "discussed",
    "MDT-03": "action",
    "MDT-04": "action",
    "CH-01": "clinical lead",
    "CH-02": "round",
    "CH-03": "PCSP",
    "CH-04": "visits",
    "CH-05": "transfer",
    "CH-06": "end-of-life|EoL",
    "OUT-01": "admissions",
    "OUT-02": "A&E",
    "OUT-03": "care homes",
    "OUT-04": "admissions avoided",
    "BCF-01": "care-home admissions",
    "BCF-02": "reablement",
    "BCF-03": "delayed",
    "BCF-04": "falls",
}
OWN_TOPICS = {"CH-02": "home.round|rota", "CH-03": "PCSP", "CH-06": "end-of-life|EoL"}


def test_every_return_comment_is_about_its_own_kpi_and_names_no_patient(world):
    comments = world.execute("SELECT kpi, comment FROM return_values WHERE comment != ''").fetchall()
    assert len(comments) > 50
    for kpi, text in comments:
        topic = TOPIC[kpi if not kpi.startswith("COH-06") else "COH-06"]
        assert re.search(topic, text, re.IGNORECASE), (kpi, text)
        for owner, words in OWN_TOPICS.items():
            assert kpi == owner or not re.search(words, text, re.IGNORECASE), (kpi, text)
    assert not any(returns.comment_identifiers(world, text) for _, text in comments)
    stories = {kpi for kpi, text in comments if "matron post vacant" in text or "recruiting a care-home GP" in text}
    assert stories == {"COH-04", "CH-02"}


@pytest.mark.parametrize(
    ("kpi", "low", "high"), [("BCF-01", 120, 170), ("BCF-02", 80, 90), ("BCF-03", 6, 12), ("BCF-04", 450, 560)]
)
def test_better_care_fund_figures_are_entered_in_every_return_and_plausible(world, kpi, low, high):
    rows = signed_off(world, kpi)
    assert len(rows) == 11 and all(len(r) == 8 for r in rows.values())
    assert all(low <= value <= high for r in rows.values() for _, value, _, _ in r)


def test_the_65_plus_denominators_are_a_fifth_of_the_list_or_so(world):
    rows = world.execute(
        "SELECT l.code, v.denominator FROM return_values v JOIN returns r ON r.id = v.return_id JOIN localities l "
        "ON l.id = r.locality_id WHERE v.kpi = 'BCF-04'"
    ).fetchall()
    from desktop.models.demo.reference_world import locality_table

    lists = {loc["code"]: loc["population"] for loc in locality_table()}
    shares = [den / lists[code] for code, den in rows]
    assert all(0.13 <= s <= 0.26 for s in shares)
    assert 0.18 <= sum(den for _, den in rows) / sum(lists[c] for c, _ in rows) <= 0.22
