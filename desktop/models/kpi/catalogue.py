"""The KPI catalogue (DESIGN §9), kept as data in resources/kpis.json and checked when it is loaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ... import paths
from ..errors import ValidationError

CATALOGUE = paths.resources_dir() / "kpis.json"
UNITS = {"count": 1, "percent": 100, "per_100": 100, "per_1000": 1000}
DIRECTIONS = ("high", "low", "neutral", None)
SOURCES = ("computed", "entered")
CADENCES = ("monthly", "quarterly")


@dataclass(frozen=True)
class Kpi:
    code: str
    name: str
    definition: str
    numerator: str
    denominator: str | None
    unit: str
    direction: str | None
    target: float | None
    tolerance: float | None
    source: str
    # Counts of people (or of events that happen to people) are suppressed for publication (REFERENCE §4);
    # counts of meetings, actions, homes or visits are not about individuals and need no control.
    about_people: bool = True
    # How often the figure can change: SPC charts a monthly KPI month by month; COH-01 and COH-02 follow the
    # quarterly risk extract, so monthly points would repeat each quarter's value and fake runs and trends.
    cadence: str = "monthly"

    def value(self, numerator: float | None, denominator: float | None) -> float | None:
        """The figure shown: a count, or numerator over denominator scaled by the unit (None when 0 / 0)."""
        if numerator is None:
            return None
        if self.denominator is None:
            return float(numerator)
        if not denominator:
            return None
        return round(UNITS[self.unit] * numerator / denominator, 1)

    def rag(self, value: float | None) -> str | None:
        """G meets the target, A within the tolerance, R beyond it; None without a target or a value."""
        if value is None or self.target is None or self.direction not in ("high", "low"):
            return None
        gap = (self.target - value) if self.direction == "high" else (value - self.target)
        if gap <= 0:
            return "G"
        return "A" if gap <= (self.tolerance or 0) else "R"


def load(path: Path = CATALOGUE) -> tuple[Kpi, ...]:
    """Read and check the catalogue; a bad entry is refused with a message naming it."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    kpis, seen = [], set()
    for i, raw in enumerate(data.get("kpis", []), start=1):
        code = raw.get("code") or f"entry {i}"
        try:
            kpi = Kpi(**{k: raw[k] if k in raw else getattr(Kpi, k, None) for k in Kpi.__dataclass_fields__})
        except TypeError as exc:
            raise ValidationError(f"KPI catalogue: {code} is malformed ({exc}).") from exc
        problems = []
        if not kpi.code or kpi.code in seen:
            problems.append("a missing or repeated code")
        if kpi.unit not in UNITS:
            problems.append(f"unit '{kpi.unit}' (use {', '.join(UNITS)})")
        if kpi.direction not in DIRECTIONS:
            problems.append(f"direction '{kpi.direction}'")
        if kpi.source not in SOURCES:
            problems.append(f"source '{kpi.source}'")
        if kpi.unit != "count" and not kpi.denominator:
            problems.append("a rate or percentage without a denominator")
        if kpi.cadence not in CADENCES:
            problems.append(f"cadence '{kpi.cadence}' (use {', '.join(CADENCES)})")
        if not isinstance(kpi.about_people, bool):
            problems.append("about_people that is not true or false")
        if kpi.target is not None and kpi.direction not in ("high", "low"):
            problems.append("a target without a direction of good")
        if problems:
            raise ValidationError(f"KPI catalogue: {code} has {'; '.join(problems)}.")
        seen.add(kpi.code)
        kpis.append(kpi)
    if not kpis:
        raise ValidationError("The KPI catalogue is empty.")
    return tuple(kpis)


@cache
def catalogue() -> tuple[Kpi, ...]:
    return load()


def by_code() -> dict[str, Kpi]:
    return {k.code: k for k in catalogue()}
