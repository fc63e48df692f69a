"""Cohort criteria (DESIGN §6.3): defaults in resources/cohort_rules.json, overridable per workspace."""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
import sqlite_utils

from ... import paths
from .. import audit
from ..changes import Changes
from ..clock import Actor
from ..errors import ValidationError
from ..workspace import get_meta, set_meta

log = logging.getLogger(__name__)
RESOURCES = paths.resources_dir()
EFI_BANDS = ("fit", "mild", "moderate", "severe")
CRITERIA = {"F": "frailty", "M": "multimorbidity", "C": "high cost"}


@dataclass(frozen=True)
class CohortRules:
    frailty_min_deficits: int = 9
    severe_frailty_min_deficits: int = 13
    mild_frailty_min_deficits: int = 5
    multimorbidity_min_ltc: int = 5
    high_cost_min_ratio: float = 3.0
    review_interval_months: int = 6
    severe_frailty_review_interval_months: int = 3

    def validate(self) -> CohortRules:
        if not 0 < self.mild_frailty_min_deficits < self.frailty_min_deficits < self.severe_frailty_min_deficits <= 36:
            raise ValidationError(
                "eFI thresholds must rise: mild < moderate < severe, all between 1 and 36 deficits.",
                "frailty_min_deficits",
            )
        if not 1 <= self.multimorbidity_min_ltc <= 30:
            raise ValidationError(
                "The multimorbidity threshold must be between 1 and 30 long-term conditions.", "multimorbidity_min_ltc"
            )
        if not 1.0 <= self.high_cost_min_ratio <= 20.0:
            raise ValidationError(
                "The high-cost ratio must be between 1 and 20 times the expected cost.", "high_cost_min_ratio"
            )
        if not (1 <= self.review_interval_months <= 24 and 1 <= self.severe_frailty_review_interval_months <= 24):
            raise ValidationError("Review intervals must be between 1 and 24 months.", "review_interval_months")
        return self

    def efi_band(self, deficits: np.ndarray) -> np.ndarray:
        """0 fit, 1 mild, 2 moderate, 3 severe, on the integer deficit count."""
        return (
            (deficits >= self.mild_frailty_min_deficits).astype(np.int8)
            + (deficits >= self.frailty_min_deficits)
            + (deficits >= self.severe_frailty_min_deficits)
        )

    def criteria(
        self, deficits: np.ndarray, ltc: np.ndarray, predicted: np.ndarray, expected: np.ndarray
    ) -> dict[str, np.ndarray]:
        return {
            "F": deficits >= self.frailty_min_deficits,
            "M": ltc >= self.multimorbidity_min_ltc,
            "C": predicted >= self.high_cost_min_ratio * expected,
        }


_EFI_ORDER = "mild < moderate < severe, all between 1 and 36 deficits"
# What CohortRules.validate checks, field by field, in the words the criteria dialog shows as help.
HELP = {
    "mild_frailty_min_deficits": f"eFI deficits (of 36) from which a patient is mildly frail; {_EFI_ORDER}.",
    "frailty_min_deficits": f"eFI deficits from which a patient is moderately frail and joins the cohort; "
    f"{_EFI_ORDER}.",
    "severe_frailty_min_deficits": f"eFI deficits from which a patient is severely frail; {_EFI_ORDER}.",
    "multimorbidity_min_ltc": "Long-term conditions from which a patient joins the cohort; 1 to 30.",
    "high_cost_min_ratio": "Predicted cost as a multiple of the expected cost from which a patient joins the "
    "cohort; 1 to 20.",
    "review_interval_months": "Months between caseload reviews, 1 to 24; given to a patient when they go on the "
    "caseload.",
    "severe_frailty_review_interval_months": "Months between reviews for a severely frail patient, 1 to 24.",
}


def defaults() -> CohortRules:
    with open(RESOURCES / "cohort_rules.json", encoding="utf-8") as fh:
        data = json.load(fh)
    known = {f.name for f in fields(CohortRules)}
    return CohortRules(**{k: v for k, v in data.items() if k in known}).validate()


def load(db: sqlite_utils.Database) -> CohortRules:
    """The workspace's criteria; what is damaged in the stored copy gives way to the default (see load_checked)."""
    rules, problems = load_checked(db)
    for problem in problems:
        log.warning("The stored cohort criteria are damaged: %s", problem)
    return rules


def load_checked(db: sqlite_utils.Database) -> tuple[CohortRules, list[str]]:
    """(the criteria in force, what was wrong with the stored copy and so ignored).

    The stored copy is meta, which a tool, a restore or a damaged disk can leave as anything: not JSON, a list
    or null gave tracebacks, and a high-cost ratio of 0 (never through save, which validates) put every row
    of every import in the cohort (issue 19). Each stored value is kept only when it is of the right type and
    the rules still pass validate with it; the rest are the defaults.
    """
    base = defaults()
    stored = get_meta(db, "cohort_rules")
    if not stored:
        return base, []
    try:
        loaded = json.loads(stored)
    except (ValueError, RecursionError):  # RecursionError: brackets nested thousands deep
        return base, ["not JSON; the default criteria are used"]
    if not isinstance(loaded, dict):
        return base, ["JSON, but not an object of criteria; the default criteria are used"]
    problems = []
    wanted = {}
    for f in fields(CohortRules):
        if f.name not in loaded:
            continue
        value = loaded[f.name]
        if _of_type(value, f.type):
            wanted[f.name] = value
        else:
            problems.append(f"{f.name} is {value!r}, not a number of the right kind; the default is used")
    try:
        return replace(base, **wanted).validate(), problems
    except ValidationError:
        pass
    # Together they fail: keep each value that passes with those kept before it (a few passes, as thresholds
    # that must rise can need one another), and let the others go.
    rules, kept = base, set()
    for _ in range(len(wanted)):
        for name, value in wanted.items():
            if name in kept:
                continue
            try:
                rules = replace(rules, **{name: value}).validate()
                kept.add(name)
            except ValidationError:
                pass
    problems += [f"{n} = {wanted[n]!r} is out of range; the default is used" for n in wanted if n not in kept]
    return rules, problems


def _of_type(value: object, declared: object) -> bool:
    """An int field takes a whole number (not True, which is 1 to Python); a float one any finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if declared in (int, "int"):
        return isinstance(value, int)
    return math.isfinite(value)


def save(db: sqlite_utils.Database, actor: Actor, rules: CohortRules) -> Changes:
    """Takes effect from the next import; earlier runs keep the rules they were stratified with."""
    rules.validate()
    before = asdict(load(db))
    with db.atomic():
        set_meta(db, cohort_rules=json.dumps(asdict(rules), sort_keys=True))
        moved = {k: {"before": before[k], "after": v} for k, v in asdict(rules).items() if before[k] != v}
        audit.record(
            db,
            actor,
            "update",
            "cohort_rules",
            None,
            f"Changed cohort criteria: {', '.join(moved) or 'nothing'}",
            {"changes": moved},
        )
    return Changes.of("cohort_rules")


def criteria_text(flags: dict[str, np.ndarray]) -> np.ndarray:
    """'FMC'-style codes per row, e.g. 'FC' for frailty and high cost."""
    out = np.full(len(next(iter(flags.values()))), "", dtype=object)
    for code, mask in flags.items():
        out = np.where(mask, out + code, out)
    return out
