"""What a federation manager writes against a red or an unusual figure in the demo's returns: each comment is
about its own KPI and quotes its figure, and the teams with a story (teams.py) tell it. No patient is named."""

from __future__ import annotations

import datetime as dt
import random

from ..kpi.catalogue import by_code
from .context import history_start
from .teams import DETERIORATING, DRIFT_MONTHS, IMPROVING, OUTLIER, new_matron_day

# {v} is the figure as the return shows it.
GENERAL = {
    "COH-02": (
        "{v}% of the cohort on the caseload: new entrants from the latest extract still being contacted.",
        "Caseload at {v}% of the cohort: contact letters sent to the quarter's new entrants; take-up lags a month.",
    ),
    "COH-03": (
        "{v}% of caseload patients with a current care plan: plans lapsing at their anniversary being redone.",
        "Care plans at {v}%: plans for the quarter's new caseload patients booked for the coming weeks.",
    ),
    "COH-04": (
        "Reviews in date for {v}% of the caseload: review clinics added; overdue reviews booked by priority.",
        "{v}% of reviews in date: winter pressures put reviews behind crisis response; recovery plan agreed.",
        "Reviews in date at {v}%: reviews done in the practice system not yet reconciled with the caseload list.",
    ),
    "COH-05": (
        "{v}% of caseload patients with a named case manager: nursing vacancy; patients reallocated as staff start.",
    ),
    "COH-07": ("{v}% of caseload patients with a named GP: practices confirming named GPs after partner changes.",),
    "MDT-01": ("{v} MDT meetings held: one meeting stood down for lack of a quorum; rearranged next month.",),
    "MDT-03": (
        "{v}% of MDT actions done by their due date: owners reminded a week ahead; late actions chased at each MDT.",
        "MDT actions done on time at {v}%: several actions waited on referrals outside the team.",
    ),
    "MDT-04": (
        "{v} MDT actions overdue at quarter end: each reviewed at the next MDT; stuck ones escalated.",
        "{v} overdue MDT actions: most wait on equipment or on other services; owners chasing.",
    ),
    "CH-01": ("{v}% of care homes with a named clinical lead: new homes aligned; leads being confirmed.",),
    "CH-02": (
        "Home rounds held in {v}% of home-weeks: rounds missed over bank holidays; cover agreed with the practices.",
        "{v}% of home-weeks with a round: GP sickness cover; rota restored from the next quarter.",
    ),
    "CH-03": ("{v}% of new residents with a PCSP within 7 working days: admissions clustered; late PCSPs done since.",),
    "CH-05": ("{v}% of care-home visits ending in hospital transfer: each transfer reviewed at the care-home MDT.",),
    "CH-06": (
        "{v}% of end-of-life residents with a care management plan: the remaining EoL plans are being agreed.",
        "EoL plans for {v}% of end-of-life residents: new residents on the register awaiting family meetings.",
    ),
    "COH-01": ("Cohort of {v} at quarter end: the quarter's extract brought in new entrants and removed leavers.",),
    "COH-08": ("{v}% of the cohort on the palliative-care register: practices updated their registers this quarter.",),
    "MDT-02": ("{v} patients discussed at MDT: the agenda followed the quarter's new entrants and overdue reviews.",),
    "CH-04": ("{v} care-home visits per 100 beds: visits follow the homes' needs; no recording gap found.",),
    "OUT-01": ("Non-elective admissions of cohort patients: {v} per 1,000; from the acute trust's data, checked.",),
    "OUT-02": ("A&E attendances of cohort patients: {v} per 1,000; from the acute trust's data, checked.",),
    "OUT-03": ("Emergency admissions from care homes: {v} per 1,000 beds; from the acute trust's data, checked.",),
    "OUT-04": ("{v} admissions avoided by the visiting services: from the services' own logs.",),
    "BCF-01": ("Permanent care-home admissions of people aged 65+: {v} per 100,000; from the council's SALT return.",),
    "BCF-02": ("{v}% still at home 91 days after reablement: from the council's return; small numbers move it.",),
    "BCF-03": ("Delayed transfers of care: {v} delayed days per day per 100,000 adults; from the trusts' returns.",),
    "BCF-04": ("Emergency admissions for falls, 65+: {v} per 100,000; from secondary-care data; falls service told.",),
}
START_UP = {
    "COH-03": "Start-up quarter: care plans for the first cohort were still being agreed ({v}%).",
    "COH-04": "Start-up quarter: the first cohort's care plans were new, so few reviews fell due ({v}%).",
    "CH-02": "Home-round rota began part-way through the quarter: {v}% of home-weeks with a round.",
    "MDT-03": "First MDT meetings of the new team: few actions fell due in the quarter ({v}%).",
}


def write(rng: random.Random, code: str, kpi: str, value: float | None, quarter_end: dt.date, today: dt.date) -> str:
    """A comment on *kpi* for locality *code*'s return of the quarter ending *quarter_end*."""
    v = "—" if value is None else f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"
    story = _story(code, kpi, v, quarter_end, today)
    if story:
        return story
    if kpi in START_UP and quarter_end < history_start(today) + dt.timedelta(days=120):
        return START_UP[kpi].format(v=v)
    if kpi in GENERAL:
        return rng.choice(GENERAL[kpi]).format(v=v)
    if kpi.startswith("COH-06"):
        return f"{v} {_lower_first(by_code()[kpi].name)}: interventions follow the caseload's needs and reviews."
    return f"{by_code()[kpi].name}: {v}. Checked against the source records; no recording gap found."


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _story(code: str, kpi: str, v: str, quarter_end: dt.date, today: dt.date) -> str | None:
    if code == OUTLIER and kpi == "CH-02":
        return (
            f"Home rounds held in {v}% of home-weeks: too few GP sessions for the city's homes; the federation is "
            "recruiting a care-home GP and has asked the ICB for funding."
        )
    if code == IMPROVING and kpi == "COH-04":
        day = new_matron_day(today)
        if quarter_end < day:
            return f"Reviews in date for {v}% of the caseload: matron post vacant; new matron starts {day:%d/%m/%Y}."
        return f"Reviews in date at {v}%: new community matron in post since {day:%d/%m/%Y}; overdue reviews booked."
    drifting = quarter_end >= today - dt.timedelta(days=30.4 * DRIFT_MONTHS)
    if code == DETERIORATING and kpi in ("MDT-03", "MDT-04") and drifting:
        what = f"done by their due date: {v}%" if kpi == "MDT-03" else f"overdue at quarter end: {v}"
        return (
            f"MDT actions {what}. Action owners stretched by two nursing vacancies; the MDT now reviews every "
            "late action and a recovery plan is agreed."
        )
    return None
