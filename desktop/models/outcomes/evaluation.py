"""One quarter's joiners evaluated on every outcome measured: the result the CLI, Reports and PDF show.

`evaluate` matches, estimates (whole caseload and per intervention type, against the same matched controls),
builds the balance table and the chart series, per outcome. `as_json` carries aggregates only (counts, means,
estimates), never a patient, so it can travel in a return to the commissioner's forest plot; small-number
suppression of the counts is for the caller, as for every other published figure (REFERENCE.md §4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..quarters import Quarter
from .did import MIN_TREATED, Estimate, estimate
from .matching import BalanceRow, match
from .matching import balance as balance_table
from .records import OUTCOMES, Subject, measured
from .runs import calendar
from .series import Point
from .series import series as chart_series

FOLLOW_UP_QUARTERS = (2, 3, 4)
CAVEATS = (
    "This is an observational comparison, not a trial: patients who joined are compared with similar cohort "
    "patients who did not, matched on age band, sex, cohort criteria, risk band and the previous year's use.",
    "Anything that made the team pick a patient and that the matching does not see (unmeasured confounding) can "
    "still bias the estimate either way.",
    "With small numbers the interval is wide; an interval that includes zero means no change was shown, not that "
    "there was none.",
)


@dataclass(frozen=True)
class GroupResult:
    """The whole caseload's or one intervention type's estimate ("intervention" None for the whole caseload)."""

    intervention: str | None
    result: Estimate

    def as_json(self) -> dict:
        r = self.result
        return {
            "intervention": self.intervention,
            "status": "too few" if r.too_few else "estimated",
            "estimate": r.estimate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "naive_estimate": r.naive_estimate,
            "treated": r.treated,
            "matched": r.matched,
            "unmatched": r.unmatched,
        }


@dataclass(frozen=True)
class OutcomeResult:
    outcome: str
    overall: Estimate
    by_intervention: tuple[GroupResult, ...]
    balance: tuple[BalanceRow, ...]
    series: tuple[Point, ...]
    no_data: int  # joiners with no value at the baseline or follow-up run (not yet followed up, or not recorded)
    controls: int  # eligible controls with data
    controls_matched: int

    @property
    def status(self) -> str:
        if self.overall.treated == 0:
            return "awaiting follow-up" if self.no_data else "no joiners"
        return "too few" if self.overall.too_few else "estimated"

    def as_json(self) -> dict:
        o = self.overall
        return {
            "outcome": self.outcome,
            "status": self.status,
            "estimate": o.estimate,
            "ci_low": o.ci_low,
            "ci_high": o.ci_high,
            "se": o.se,
            "naive_estimate": o.naive_estimate,
            "naive_ci_low": o.naive_ci_low,
            "naive_ci_high": o.naive_ci_high,
            "treated_change": o.treated_change,
            "control_change": o.control_change,
            "treated": o.treated,
            "matched": o.matched,
            "unmatched": o.unmatched,
            "no_data": self.no_data,
            "controls": self.controls,
            "controls_matched": self.controls_matched,
            "by_intervention": [g.as_json() for g in self.by_intervention],
            "balance": [row.as_json() for row in self.balance],
            "series": [p.as_json() for p in self.series],
        }


@dataclass(frozen=True)
class Evaluation:
    period: Quarter
    follow_up_quarters: int
    level: float
    outcomes: tuple[OutcomeResult, ...]

    def outcome(self, name: str) -> OutcomeResult:
        return next(r for r in self.outcomes if r.outcome == name)

    def as_json(self) -> dict:
        return {
            "period": self.period.code,
            "follow_up_quarters": self.follow_up_quarters,
            "level": self.level,
            "caveats": list(CAVEATS),
            "outcomes": [r.as_json() for r in self.outcomes],
        }


def evaluate(
    subjects: Sequence[Subject],
    period: Quarter,
    follow_up_quarters: int = 4,
    outcomes: Sequence[str] | None = None,
    level: float = 0.95,
    min_treated: int = MIN_TREATED,
) -> Evaluation:
    """Evaluate the patients who joined the caseload in *period* on each outcome (default: every one measured)."""
    if follow_up_quarters not in FOLLOW_UP_QUARTERS:
        raise ValueError(f"the follow-up must be 2, 3 or 4 quarters, not {follow_up_quarters!r}")
    if min_treated < 2:
        raise ValueError("an estimate needs at least two joiners, for the spread of their changes")
    unknown = set(outcomes or ()) - set(OUTCOMES)
    if unknown:
        raise ValueError(f"unknown outcome(s): {', '.join(sorted(unknown))}")
    runs = calendar(subjects)
    results = []
    for outcome in outcomes if outcomes is not None else measured(subjects):
        m = match(subjects, period.start, period.end, outcome, follow_up_quarters, runs)
        controls = m.controls_by_stratum()
        types = sorted({t for u in m.treated for t in u.subject.interventions})
        results.append(
            OutcomeResult(
                outcome,
                estimate(m.treated, controls, level, min_treated),
                tuple(
                    GroupResult(
                        t,
                        estimate([u for u in m.treated if t in u.subject.interventions], controls, level, min_treated),
                    )
                    for t in types
                ),
                tuple(balance_table(m)),
                tuple(chart_series(m, runs, follow_up_quarters)),
                m.no_data,
                len(m.controls),
                len(m.control_weights),
            )
        )
    return Evaluation(period, follow_up_quarters, level, tuple(results))
