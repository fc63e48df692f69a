"""The Outcomes page of the quarterly locality report, and the words the Reports screen shows beside it (issue 27).

A report for quarter R evaluates the patients who joined the caseload four quarters before (periods.joining_quarter),
whose follow-up year ends with R. Per outcome measured: the chart of the caseload against its matched comparison
group, the difference-in-differences estimate with its 95 % interval beside the naive before/after change, the
numbers matched and unmatched, the estimate per intervention type, the balance table and the caveats. When nothing
can be evaluated the page says why in one sentence, never a blank page.

Counts are printed exact, as everywhere else in this report: it is an aggregate board paper, not a publication
(REFERENCE.md §4 applies suppression to published and consolidated packs, and a group under MIN_TREATED matched
joiners is "too few" rather than an estimate). The wording lives here, Qt-free, so that the screen and the paper
say the same thing.
"""

from __future__ import annotations

import math
from typing import Any

import sqlite_utils
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, Spacer, Table, TableStyle

from ..models.outcomes.did import MIN_TREATED, Estimate
from ..models.outcomes.evaluation import CAVEATS, Evaluation, OutcomeResult
from ..models.outcomes.matching import BalanceRow
from ..models.outcomes.periods import DEFAULT_FOLLOW_UP, joining_quarter
from ..models.quarters import Quarter
from .charts.outcomes import series_chart
from .styles import CONTENT_WIDTH, NHS_BLUE, NHS_PALE_GREY, STYLES, escape, marked_box, markup, p, table

LABELS = {
    "emergency_admissions": "Emergency admissions",
    "ae_attendances": "A&E attendances",
    "emergency_bed_days": "Emergency bed days",
    "cost": "Cost of hospital use",
}
UNITS = {  # what one patient's value is: use in the 12 months before a risk run
    "emergency_admissions": "admissions a year",
    "ae_attendances": "attendances a year",
    "emergency_bed_days": "bed days a year",
    "cost": "£ a year",
}
BALANCED = 0.1  # |SMD| under this is the usual mark of balance (REFERENCE.md §11)
MINUS = "\u2212"


def for_report(db: sqlite_utils.Database, locality_id: Any, report_quarter: Quarter) -> Evaluation:
    """The evaluation a report, return or screen for *report_quarter* shows: that quarter's joiners a year on."""
    from ..models.outcomes.from_store import evaluate_locality

    return evaluate_locality(db, locality_id, joining_quarter(report_quarter, DEFAULT_FOLLOW_UP), DEFAULT_FOLLOW_UP)


# -- words shared with the Reports screen ------------------------------------------------------------------------
def number(outcome: str, value: float | None, signed: bool = False) -> str:
    """A value as both places print it: pounds whole, bed days to one decimal, counts to two; a true minus."""
    if value is None or math.isnan(value):
        return "—"
    if outcome == "cost":
        text = f"£{abs(value):,.0f}"
    elif outcome == "emergency_bed_days":
        text = f"{abs(value):,.1f}"
    else:
        text = f"{abs(value):,.2f}"
    if value < 0 and text.strip("£0.,"):
        return MINUS + text
    return ("+" if signed and value > 0 and text.strip("£0.,") else "") + text


def interval(outcome: str, low: float | None, high: float | None) -> str:
    if low is None or high is None or math.isinf(low) or math.isinf(high):
        return "—"
    return f"{number(outcome, low)} to {number(outcome, high)}"


def estimate_text(outcome: str, e: Estimate) -> str:
    """'−0.97 (95% CI −2.29 to 0.36)', or 'too few' when the group could not be estimated."""
    if e.too_few:
        return "too few"
    return f"{number(outcome, e.estimate, signed=True)} (95% CI {interval(outcome, e.ci_low, e.ci_high)})"


def naive_text(outcome: str, e: Estimate) -> str:
    if e.naive_estimate is None:
        return "too few"
    ci = interval(outcome, e.naive_ci_low, e.naive_ci_high)
    return f"{number(outcome, e.naive_estimate, signed=True)} (95% CI {ci})"


def reading(r: OutcomeResult) -> str:
    """The estimate in a plain sentence a board can read aloud."""
    o, name = r.overall, LABELS[r.outcome].lower().replace("a&e", "A&E")
    if o.too_few:
        return not_estimated(r)
    unit = UNITS[r.outcome]
    head = (
        f"Against the comparison group, the joiners' {name} changed by {number(r.outcome, o.estimate, signed=True)} "
        f"{unit} per patient (95% CI {interval(r.outcome, o.ci_low, o.ci_high)})"
    )
    if o.ci_low is not None and o.ci_high is not None and o.ci_low <= 0 <= o.ci_high:
        verdict = "the interval includes zero, so no change was shown"
    elif o.estimate is not None and o.estimate < 0:
        verdict = "the interval is below zero: a fall beyond what the comparison group saw"
    else:
        verdict = "the interval is above zero: a rise beyond what the comparison group saw"
    naive = (
        f" Before and after alone, their change was {number(r.outcome, o.naive_estimate, signed=True)}: the "
        "difference is what regression to the mean and the calendar would have done anyway."
        if o.naive_estimate is not None
        else ""
    )
    return f"{head}; {verdict}.{naive}"


def counts_text(r: OutcomeResult) -> str:
    o = r.overall
    text = (
        f"{o.matched:,} of {o.treated:,} joiners with data matched ({o.unmatched:,} unmatched: no comparable patient), "
        f"against {r.controls_matched:,} comparison patients of {r.controls:,} eligible"
    )
    if r.no_data:
        text += f"; {r.no_data:,} joiners without a value at joining or follow-up left out"
    return text + "."


def not_estimated(r: OutcomeResult) -> str:
    """Why one outcome has no estimate."""
    name = LABELS[r.outcome]
    if r.status == "no joiners":
        return f"{name}: no patient joined the caseload in the quarter."
    if r.status == "awaiting follow-up":
        return f"{name}: the {r.no_data:,} joiners have no follow-up value yet (the follow-up is not complete)."
    return (
        f"{name}: too few to estimate: {r.overall.matched:,} joiners matched with data, and an estimate needs at "
        f"least {MIN_TREATED}."
    )


def follow_up_end(evaluation: Evaluation) -> Quarter:
    """The quarter whose risk extract ends the follow-up: the report quarter the evaluation belongs to."""
    quarter = evaluation.period
    for _ in range(evaluation.follow_up_quarters):
        quarter = quarter.next()
    return quarter


def why_not(evaluation: Evaluation) -> str | None:
    """One plain sentence saying why nothing can be evaluated, or None when at least one outcome has an estimate."""
    joined = evaluation.period.label
    if not evaluation.outcomes:
        return (
            "The outcomes cannot be evaluated: no risk extract of the locality recorded the outcome columns (emergency "
            "admissions, A&E attendances, emergency bed days or cost in the previous 12 months), so there is nothing "
            "to compare."
        )
    statuses = {r.status for r in evaluation.outcomes}
    if "estimated" in statuses:
        return None
    if statuses == {"no joiners"}:
        return (
            f"The outcomes cannot be evaluated: no patient joined the caseload in {joined}, so there is no one to "
            "follow up."
        )
    if statuses <= {"awaiting follow-up", "no joiners"}:
        waiting = max(r.no_data for r in evaluation.outcomes)
        return (
            f"The outcomes cannot be evaluated yet: the follow-up of the {waiting:,} patients who joined in {joined} "
            f"is not complete, because it needs the risk extract of {follow_up_end(evaluation).label} with their "
            "outcome values."
        )
    best = max(evaluation.outcomes, key=lambda r: r.overall.matched)
    joiners, matched = best.overall.treated + best.no_data, best.overall.matched
    some = f"only {matched:,}" if matched else "none"
    return (
        f"The outcomes cannot be evaluated: of the {joiners:,} patients who joined the caseload in {joined}, {some} "
        f"could be followed up and matched with comparable patients, and an estimate needs at least {MIN_TREATED}."
    )


def who(evaluation: Evaluation) -> str:
    k = evaluation.follow_up_quarters
    return (
        f"Patients who joined the caseload in {evaluation.period.label}, followed up for {k} quarters to "
        f"{follow_up_end(evaluation).label}, against similar cohort patients who had not joined (matched on age "
        "band, sex, cohort criteria, risk band and the previous year's use)."
    )


def smd(value: float | None) -> str:
    if value is None:
        return "∞"
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text.replace("-", MINUS)  # exact balance, not a rounding's sign


def share(row: BalanceRow, value: float) -> str:
    if math.isnan(value):
        return "—"
    return f"{value:,.1f}" if row.level is None else f"{100 * value:.0f}%"


# -- the page ----------------------------------------------------------------------------------------------------
def story(evaluation: Evaluation) -> list:
    """The Outcomes page's flowables, from a new page."""
    out: list = [PageBreak(), Paragraph("Outcomes: did the team's work change hospital use?", STYLES["h1"])]
    out.append(p(who(evaluation), "body"))
    out.append(Spacer(1, 2 * mm))
    reason = why_not(evaluation)
    if reason:
        return out + [marked_box(escape(reason), NHS_BLUE, CONTENT_WIDTH)]
    out += [_summary(evaluation), Spacer(1, 2 * mm), Paragraph("Caveats", STYLES["h2"])]
    out += [p(" ".join(CAVEATS), "small"), Spacer(1, 1 * mm)]
    out.append(
        p(
            "Estimate: the joiners' mean change in use (the 12 months before the follow-up extract minus the 12 "
            "months before joining) minus the weighted comparison group's, within matching strata (difference in "
            "differences), with a 95% interval. Before/after alone is the joiners' change with no comparison, "
            "shown to make the correction visible. A negative figure is a fall in use.",
            "small",
        )
    )
    for r in evaluation.outcomes:
        out += _outcome(r, evaluation.follow_up_quarters)
    return out


def _summary(e: Evaluation) -> Table:
    w = CONTENT_WIDTH
    rows = []
    for r in e.outcomes:
        o = r.overall
        rows.append(
            [
                f"{LABELS[r.outcome]} ({UNITS[r.outcome]})",
                "—" if o.too_few else number(r.outcome, o.estimate, signed=True),
                "—" if o.too_few else interval(r.outcome, o.ci_low, o.ci_high),
                naive_text(r.outcome, o) if not o.too_few else not_estimated(r).split(": ", 1)[1],
                f"{o.matched:,} / {o.unmatched:,}",
                f"{r.controls_matched:,}",
            ]
        )
    return table(
        ["Outcome, per patient", "Estimate", "95% CI", "Before/after alone", "Joiners matched / not", "Compared with"],
        rows,
        [0.23 * w, 0.1 * w, 0.17 * w, 0.24 * w, 0.13 * w, 0.13 * w],
    )


def _outcome(r: OutcomeResult, follow_up: int) -> list:
    w = CONTENT_WIDTH
    head = Paragraph(f"{escape(LABELS[r.outcome])}", STYLES["h2"])
    if r.overall.too_few:
        return [KeepTogether([head, p(not_estimated(r), "body")])]
    o = r.overall
    figures = [
        ["Estimate (difference in differences)", estimate_text(r.outcome, o)],
        ["Before/after alone (naive)", naive_text(r.outcome, o)],
        [
            "Joiners' change / comparison's change",
            f"{number(r.outcome, o.treated_change, True)} / {number(r.outcome, o.control_change, True)}",
        ],
        ["Joiners matched / unmatched", f"{o.matched:,} / {o.unmatched:,}"],
        ["Comparison patients (of eligible)", f"{r.controls_matched:,} (of {r.controls:,})"],
    ]
    if r.no_data:
        figures.append(["Joiners left out (no value)", f"{r.no_data:,}"])
    fig_t = Table(
        [[p(a, "cell"), markup(f"<b>{escape(b)}</b>", "cell")] for a, b in figures], colWidths=[0.25 * w, 0.2 * w]
    )
    fig_t.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, NHS_PALE_GREY),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    chart = series_chart(r.series, follow_up, 0.53 * w, 150, f"{UNITS[r.outcome]}, mean per patient")
    side = Table([[chart, [fig_t, Spacer(1, 2 * mm), p(reading(r), "small")]]], colWidths=[0.54 * w, 0.46 * w])
    side.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return [
        KeepTogether([head, side]),
        Spacer(1, 2 * mm),
        KeepTogether([Paragraph("By intervention type", STYLES["h2"]), _by_intervention(r)]),
        Spacer(1, 2 * mm),
        KeepTogether([Paragraph("Balance before and after matching", STYLES["h2"]), *_balance(r)]),
    ]


def _by_intervention(r: OutcomeResult) -> Any:
    if not r.by_intervention:
        return p("No intervention was recorded for the joiners.", "body")
    w = CONTENT_WIDTH
    rows = []
    for g in r.by_intervention:
        e = g.result
        rows.append(
            [
                g.intervention or "",
                f"{e.treated:,}",
                f"{e.matched:,}",
                "too few" if e.too_few else number(r.outcome, e.estimate, signed=True),
                "—" if e.too_few else interval(r.outcome, e.ci_low, e.ci_high),
                naive_text(r.outcome, e),
            ]
        )
    return table(
        ["Intervention", "Joiners", "Matched", "Estimate", "95% CI", "Before/after alone"],
        rows,
        [0.27 * w, 0.09 * w, 0.09 * w, 0.12 * w, 0.18 * w, 0.25 * w],
    )


def _balance(r: OutcomeResult) -> Any:
    w = CONTENT_WIDTH
    rows = []
    for b in r.balance:
        after = b.smd_after
        rows.append(
            [
                b.covariate,
                b.level if b.level is not None else f"mean ({UNITS[r.outcome]})",
                share(b, b.treated),
                share(b, b.controls),
                share(b, b.treated_matched),
                share(b, b.controls_matched),
                smd(b.smd_before),
                # Red and bold, not red alone: the paper is often printed in grey.
                markup(f"<font color='#DA291C'><b>{smd(after)}</b></font>", "cell")
                if after is None or abs(after) >= BALANCED
                else smd(after),
            ]
        )
    t = table(
        ["Covariate", "Level", "Joiners", "All eligible", "Matched joiners", "Comparison", "SMD before", "SMD after"],
        rows,
        [0.14 * w, 0.18 * w, 0.09 * w, 0.11 * w, 0.12 * w, 0.13 * w, 0.12 * w, 0.11 * w],
        row_styles=[("TOPPADDING", (0, 1), (-1, -1), 1), ("BOTTOMPADDING", (0, 1), (-1, -1), 1)],
    )
    note = p(
        "Shares of each group at each level (prior-year use as a mean); the comparison group carries its matching "
        f"weights. SMD: standardised mean difference on the spread before matching; under {BALANCED} is balanced "
        "(bold red where not). Cohort criteria: F frailty, M multimorbidity, C high cost. Matching is exact on each "
        "level, so after matching the levels agree and prior-year use differs only within its bands.",
        "small",
    )
    return [t, Spacer(1, 1 * mm), note]
