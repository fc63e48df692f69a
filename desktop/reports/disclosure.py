"""The figures of a return value as a report shows them, exact or protected for publication (REFERENCE §4).

For publication every count of people shown (numerator, denominator, a count KPI's value; counts of meetings,
actions, homes and visits are not about individuals and stay exact) goes through NHS Digital's
2018 suppression, a percentage or rate is recomputed from the protected numerator and denominator (never
from the exact ones, which would let a reader undo the rounding), and its RAG letter is re-judged on the
value shown so the letter cannot reveal what the suppression hid. Every cell that differs from the return is
logged for the disclosure-check appendix. Every value of a KPI is written with the same decimals (`decimals`):
one for each percentage and rate, none for a count, whatever the suppression did to the figures under it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models.kpi.catalogue import UNITS, Kpi
from ..models.stats import suppression

POLICY = "nhsd-2018"
DASH = "—"


@dataclass(frozen=True)
class Figures:
    numerator: str  # as shown
    denominator: str  # as shown ("" for a count KPI)
    value: str  # as shown, without the RAG letter
    number: float | None  # the value drawn on charts; None when hidden or missing
    top: float | None  # numerator and denominator as drawn (protected for publication)
    bottom: float | None
    rag: str | None


@dataclass(frozen=True)
class Altered:
    team: str
    kpi: str
    field: str
    original: str
    shown: str


def count(value: Any) -> int:
    """Return files carry figures as JSON numbers (40.0); suppression takes whole numbers only."""
    return int(round(float(value)))


def exact(kpi: Kpi, row: dict[str, Any] | None) -> Figures:
    if row is None or row["numerator"] is None:
        return Figures(DASH, DASH if kpi.denominator else "", DASH, None, None, None, None)
    top = count(row["numerator"])
    if not kpi.denominator:
        return Figures(f"{top:,}", "", f"{top:,}", float(top), float(top), None, row["rag"])
    bottom = count(row["denominator"]) if row["denominator"] is not None else 0
    value = row["value"] if bottom else None
    return Figures(
        f"{top:,}",
        f"{bottom:,}",
        DASH if value is None else number(kpi, value),
        value,
        float(top),
        float(bottom) if bottom else None,
        row["rag"] if value is not None else None,
    )


def decimals(kpi: Kpi) -> int:
    """The decimals every value of *kpi* is shown with: none for a count, one for a percentage or a rate."""
    return 0 if kpi.unit == "count" else 1


def number(kpi: Kpi, value: float) -> str:
    return f"{value:,.{decimals(kpi)}f}"


def protected(kpi: Kpi, row: dict[str, Any] | None) -> Figures:
    if row is None or row["numerator"] is None:
        return exact(kpi, row)
    top = count(row["numerator"])
    if not kpi.denominator:
        shown = suppression.protected_count(top, POLICY)
        text = suppression.SUPPRESSED if shown is None else f"{shown:,}"
        return Figures(
            text,
            "",
            text,
            None if shown is None else float(shown),
            None if shown is None else shown,
            None,
            None if shown is None else kpi.rag(float(shown)),
        )
    bottom = count(row["denominator"]) if row["denominator"] is not None else 0
    num = suppression.protected_count(top, POLICY)
    den = suppression.protected_count(bottom, POLICY)
    shown_top = suppression.SUPPRESSED if num is None else f"{num:,}"
    shown_bottom = suppression.SUPPRESSED if den is None else f"{den:,}"
    if kpi.unit == "percent":
        rate = suppression.protect_rate(top, bottom, UNITS[kpi.unit], POLICY)
        shown_value, value = rate.rate, rate.value
    else:
        # A rate per 1,000 or 100,000 counts events, which may outnumber the people they happen to (A&E
        # attendances, delayed days): protect_rate refuses a numerator above its denominator, so the same rule
        # is applied here, recomputed from the protected figures.
        value = None if num is None or den is None or den == 0 else num / den * UNITS[kpi.unit]
        shown_value = suppression.SUPPRESSED if num is None or den is None else ""
    # Every value of a KPI reads with the same decimals, published or not: protect_rate drops the decimal below
    # a published denominator of 4,000 (REFERENCE §4), which printed "86 G" beside "84.3 G" in one column.
    text = shown_value if value is None else number(kpi, value)
    return Figures(
        shown_top,
        shown_bottom,
        text or DASH,
        value,
        None if num is None else float(num),
        None if den is None else float(den),
        None if value is None else kpi.rag(value),
    )


@dataclass
class Disclosure:
    """Hands out figures in the report's mode and, for publication, remembers every cell it altered."""

    for_publication: bool
    altered: list[Altered] = field(default_factory=list)

    def figures(self, kpi: Kpi, team: str, row: dict[str, Any] | None, log: bool = True) -> Figures:
        original = exact(kpi, row)
        if not self.for_publication or not kpi.about_people:
            return original
        shown = protected(kpi, row)
        if log:
            pairs = [("value", _with_rag(original), _with_rag(shown))]
            if kpi.denominator:
                pairs = [
                    ("numerator", original.numerator, shown.numerator),
                    ("denominator", original.denominator, shown.denominator),
                    *pairs,
                ]
            self.altered += [Altered(team, kpi.code, name, was, now) for name, was, now in pairs if was != now]
        return shown


def _with_rag(f: Figures) -> str:
    return f"{f.value} {f.rag}" if f.rag else f.value
