"""How the demo's 11 teams differ, so funnel plots and SPC charts have something true to show.

Most teams work alike, a few points apart. Three have a story, told again in their returns' comments:
City East misses far more care-home rounds than anyone for the whole two years (a persistent CH-02 outlier);
Melton, Syston & Rutland brings its care-plan reviews back in date once a new community matron starts (COH-04
steps up on a dated change, recorded as a step change); Hinckley & Bosworth lets MDT actions slip over the last
year (MDT-03 drifts down).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .context import history_start


@dataclass(frozen=True)
class Team:
    caseload_share: float  # of those contacted, the share taken onto the caseload (COH-02)
    named_gp_share: float  # caseload patients given a named GP (COH-07)
    manager_share: float  # caseload patients given a case manager (COH-05)
    review_miss: float  # care-plan reviews missed altogether (COH-04)
    round_miss: float  # weekly home rounds missed, on average over the team's homes (CH-02)
    action_lateness: float  # days: how late MDT actions are finished, on average (MDT-03)


REVIEW_LATENESS = 7  # days after the due date a review is done, on average
# MSR before its new matron: many reviews missed and the rest late; after: few missed, most on time.
STRUGGLING_REVIEWS, IMPROVED_REVIEWS = (0.45, 30.0), (0.04, -7.0)
TEAMS = {
    "BAL": Team(0.72, 0.96, 0.92, 0.09, 0.07, -3.0),
    "CHA": Team(0.74, 0.95, 0.91, 0.10, 0.06, -3.0),
    "CTE": Team(0.70, 0.91, 0.89, 0.12, 0.40, -2.0),
    "CTN": Team(0.71, 0.93, 0.90, 0.11, 0.08, -2.5),
    "CTS": Team(0.73, 0.92, 0.91, 0.10, 0.09, -3.0),
    "CTW": Team(0.70, 0.94, 0.90, 0.11, 0.08, -2.5),
    "HAB": Team(0.73, 0.97, 0.93, 0.09, 0.06, -3.5),
    "MHA": Team(0.76, 0.98, 0.94, 0.08, 0.05, -3.5),
    "MSR": Team(0.72, 0.95, 0.92, STRUGGLING_REVIEWS[0], 0.07, -3.0),
    "NWL": Team(0.73, 0.96, 0.91, 0.10, 0.07, -3.0),
    "OAW": Team(0.75, 0.97, 0.93, 0.08, 0.06, -3.5),
}
OUTLIER, IMPROVING, DETERIORATING = "CTE", "MSR", "HAB"
DRIFT_MONTHS = 12  # HAB's actions slip further each month over the last year
DRIFT_DAYS_PER_MONTH = 0.8


def team(code: str) -> Team:
    return TEAMS[code]


def new_matron_day(today: dt.date) -> dt.date:
    """The day MSR's new community matron started: the first of the month 14 months into the history, so SPC
    charts see the team's struggle for some months after its start-up, and its recovery for most of a year."""
    start = history_start(today)
    month = start.month - 1 + 14
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def reviews(code: str, due: dt.date, today: dt.date) -> tuple[float, float]:
    """(share of reviews missed, mean days late) for a review due on *due*."""
    if code == IMPROVING:
        return IMPROVED_REVIEWS if due >= new_matron_day(today) else STRUGGLING_REVIEWS
    return team(code).review_miss, REVIEW_LATENESS


def action_lateness(code: str, due: dt.date, today: dt.date) -> float:
    """Mean days late (negative: early) for an action due on *due*."""
    base = team(code).action_lateness
    if code != DETERIORATING:
        return base
    months_into_drift = DRIFT_MONTHS - (today - due).days / 30.4
    return base + DRIFT_DAYS_PER_MONTH * max(0.0, months_into_drift)


def rebases(code: str, steady: dt.date, today: dt.date) -> list[tuple[str, dt.date, str]]:
    """The step changes a team's federation manager records: its start-up, and MSR's new matron."""
    start_up = "Caseload set up: care plans agreed for the first cohort (start-up complete)"
    out = [(kpi, steady, start_up) for kpi in ("COH-03", "COH-04")]
    if code == IMPROVING:
        day = new_matron_day(today)
        out.append(("COH-04", day, f"New community matron in post from {day:%d/%m/%Y}: overdue reviews booked in"))
    return out
