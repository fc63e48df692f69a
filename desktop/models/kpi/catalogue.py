"""The KPI catalogue (DESIGN §9), kept as data in resources/kpis.json and checked when it is loaded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ... import paths
from ..errors import ValidationError

CATALOGUE = paths.resources_dir() / "kpis.json"
UNITS = {"count": 1, "percent": 100, "per_100": 100, "per_1000": 1000, "per_100000": 100_000}
# How a figure in each unit is written after its number: "84.3 %", "12.1 per 1,000".
UNIT_AXIS = {
    "count": "count",
    "percent": "%",
    "per_100": "per 100",
    "per_1000": "per 1,000",
    "per_100000": "per 100,000",
}
UNIT_SUFFIX = {unit: "" if unit == "count" else f" {label}" for unit, label in UNIT_AXIS.items()}
DIRECTIONS = ("high", "low", "neutral", None)
SOURCES = ("computed", "entered")
CADENCES = ("monthly", "quarterly")
# What kind of figure a KPI is decides whether it has a confidence interval (issue 24): a proportion or a rate
# of patients is a sample of what the service would do for patients like them, and gets Wilson's or Byar's
# interval; a census (everyone in the cohort, every home) and activity (meetings, interventions, visits,
# actions) are not samples of anything and get none.
MEASURES = {"proportion": "wilson", "rate": "byar", "census": None, "activity": None}
NO_INTERVAL = {
    "census": "a census: every member is counted, so there is no sampling error to show",
    "activity": "a count of the team's own activity, not a sample of patients, so no interval applies",
}


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
    measure: str = "activity"
    # A count per period (meetings held, interventions delivered): its quarterly target is pro-rated to a
    # month on a monthly chart, so one target serves both.
    flow: bool = False
    part_of: str | None = None  # a breakdown of another KPI (COH-06a-g of COH-06)
    intervention: str | None = None  # the intervention type a COH-06 breakdown counts
    required: bool = True  # an entered KPI a return cannot be signed off without
    added_in: int = 1  # the catalogue version that added it: returns from older apps leave it out

    @property
    def interval_method(self) -> str | None:
        """ "wilson", "byar" or None (REFERENCE §3)."""
        return MEASURES[self.measure]

    @property
    def no_interval_reason(self) -> str:
        return NO_INTERVAL.get(self.measure, "")

    def target_per(self, monthly: bool) -> float | None:
        """The target for one point of a chart: a flow's quarterly target is a third of it a month."""
        if self.target is None or not monthly or not self.flow:
            return self.target
        return round(self.target / 3, 2)

    def movement(self, now: float | None, then: float | None) -> tuple[str | None, bool | None]:
        """How the figure moved from *then* to *now*: ("up" | "down" | "same", better?), compared as shown (one
        decimal); better is None for a KPI with no direction of good or no change, and both are None when either
        value is missing."""
        if now is None or then is None:
            return None, None
        if round(now, 1) == round(then, 1):
            return "same", None
        change = "up" if now > then else "down"
        if self.direction not in ("high", "low"):
            return change, None
        return change, (change == "up") == (self.direction == "high")

    def rag_rule(self) -> str:
        """The RAG thresholds in words, stated from the one target."""
        if self.target is None or self.direction not in ("high", "low"):
            return "no target"
        suffix = UNIT_SUFFIX[self.unit]
        sign, side = ("≥", "below") if self.direction == "high" else ("≤", "above")
        text = f"green {sign} {self.target:g}{suffix}"
        if self.tolerance:
            text += f"; amber up to {self.tolerance:g}{suffix.replace(' %', ' points')} {side} it"
        return text + "; red beyond"

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
        if kpi.measure not in MEASURES:
            problems.append(f"measure '{kpi.measure}' (use {', '.join(MEASURES)})")
        elif kpi.measure == "proportion" and kpi.unit != "percent":
            problems.append("a proportion that is not a percentage")
        if kpi.part_of is not None and kpi.part_of not in seen:
            problems.append(f"part_of '{kpi.part_of}', which is not an earlier KPI")
        if problems:
            raise ValidationError(f"KPI catalogue: {code} has {'; '.join(problems)}.")
        seen.add(kpi.code)
        kpis.append(kpi)
    if not kpis:
        raise ValidationError("The KPI catalogue is empty.")
    return tuple(kpis)


def travel_word(change: str | None, better: bool | None) -> str | None:
    """A movement (Kpi.movement) in a board's words: "better", "worse", "same", or "higher" / "lower" where the
    KPI has no direction of good; None without a movement."""
    if change is None:
        return None
    if better is not None:
        return "better" if better else "worse"
    return {"same": "same", "up": "higher", "down": "lower"}[change]


@cache
def catalogue() -> tuple[Kpi, ...]:
    return load()


def by_code() -> dict[str, Kpi]:
    return {k.code: k for k in catalogue()}
