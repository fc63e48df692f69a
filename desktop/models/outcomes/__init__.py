"""Did the team's work change hospital use? Caseload joiners against a matched comparison group (issue 27).

Patients are picked for a locality team's caseload at a peak of hospital use, and use falls after a peak whatever
the team does (regression to the mean), so "before and after joining" flatters any team. The Health Foundation's
Improvement Analytics Unit evaluates integrated care against matched comparison groups for this reason
(REFERENCE.md §11); this package does the same from the team's own risk runs, in four plain steps:

1. `matching`: the patients who joined in a quarter against cohort patients who had not joined by the end of the
   follow-up, matched exactly on coarsened covariates (Coarsened Exact Matching: Iacus, King & Porro, Political
   Analysis 2012) with weights that make the comparison group look like the joiners; a balance table shows it.
2. `did`: each patient's change in use (follow-up year minus the year before joining); the joiners' mean change
   minus the matched comparison's (difference in differences), with a 95 % interval, beside the naive
   before/after change it corrects.
3. `series`: the two groups' mean use run by run around joining, for the chart.
4. `evaluation`: all of it for one quarter, per outcome and per intervention type, as one result (`as_json`).

`simulate` builds synthetic worlds with a known effect, on which tests/unit/test_outcomes_honesty.py shows the
method finds no effect where there is none and recovers one where there is. Pure Python over numpy, no Qt.
"""

from .evaluation import Evaluation, OutcomeResult, evaluate
from .records import OUTCOMES, Subject

__all__ = ["OUTCOMES", "Evaluation", "OutcomeResult", "Subject", "evaluate"]
