"""The chart: mean use run by run around joining, for the matched joiners and the weighted matched controls.

Runs are placed by quarters from each patient's baseline run (0 = the run at or just before joining), so joiners of
different months line up. A point shows only the patients whose run recorded a value there; controls keep their
matching weights, so the comparison line is the joiners' mix of patients throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

from .matching import Matching
from .runs import quarters_on

QUARTERS_BEFORE = 4  # a year of runs before joining shows the peak patients were picked at


@dataclass(frozen=True)
class Point:
    quarter: int  # quarters from the baseline run
    treated: float | None
    controls: float | None
    treated_n: int
    controls_n: int

    def as_json(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def series(m: Matching, runs: tuple, follow_up_quarters: int, before: int = QUARTERS_BEFORE) -> list[Point]:
    points = []
    for q in range(-before, follow_up_quarters + 1):
        t = [v for u in m.matched if (v := _at(u, q, runs, m.outcome)) is not None]
        c = [(v, w) for u, w in m.matched_controls() if (v := _at(u, q, runs, m.outcome)) is not None]
        weight = sum(w for _, w in c)
        points.append(
            Point(
                q,
                sum(t) / len(t) if t else None,
                sum(v * w for v, w in c) / weight if weight else None,
                len(t),
                len(c),
            )
        )
    return points


def _at(unit, quarters: int, runs: tuple, outcome: str) -> float | None:
    return unit.subject.value(outcome, quarters_on(runs, unit.baseline, quarters))
