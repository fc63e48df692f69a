"""Which joiners a quarter's report, return and screen evaluate.

A quarter's joiners are followed up k quarters after the risk run they joined from, so the newest quarter that
can be evaluated by the end of *report_quarter* is the one k quarters before it: the locality report, the return
and the Reports screen for 2026-27 Q2 evaluate the joiners of 2025-26 Q2 at four quarters.
"""

from __future__ import annotations

from ..quarters import Quarter

DEFAULT_FOLLOW_UP = 4


def joining_quarter(report_quarter: Quarter, follow_up_quarters: int = DEFAULT_FOLLOW_UP) -> Quarter:
    """The quarter whose joiners' follow-up ends with *report_quarter*."""
    quarter = report_quarter
    for _ in range(follow_up_quarters):
        quarter = quarter.previous()
    return quarter
