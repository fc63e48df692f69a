"""A quarter's report evaluates the joiners whose follow-up has ended by its close, across year ends."""

import pytest

from desktop.models import quarters
from desktop.models.outcomes.periods import joining_quarter


@pytest.mark.parametrize(
    ("report", "follow_up", "joined"),
    [
        ("2026-27-Q2", 4, "2025-26-Q2"),
        ("2026-27-Q1", 2, "2025-26-Q3"),  # back across the financial year's end
        ("2026-27-Q4", 3, "2026-27-Q1"),
    ],
)
def test_the_joiners_evaluated_are_follow_up_quarters_back(report, follow_up, joined):
    assert joining_quarter(quarters.parse(report), follow_up).code == joined
