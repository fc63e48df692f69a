"""The cohort screen's filter bar: a text box and a combo per facet, read as one cohort.CohortFilter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QWidget

from ...models.cohort import caseload
from ...models.cohort import rules as cohort_rules
from ...models.cohort.frame import REVIEW_WINDOWS, CohortFilter
from ..kit import formats
from ..kit.filter_bar import FilterBar

MEMBERSHIP = (
    ("In the cohort", "in cohort"),
    ("New this run", "new this run"),
    ("Risk changed since the last run", "changed risk"),
    ("Left the cohort", "left"),
)


class CohortFilterBar(FilterBar):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "Find by name, NHS number or practice…  (Ctrl+F)",
            "Filter patients by name, NHS number or practice",
            460,
            "Patients shown",
            parent,
        )
        self.criterion = self.combo("Criterion", "All criteria", self._criteria(5))
        self.efi_band = self.combo(
            "eFI band", "All eFI bands", [(formats.sentence_case(b), i) for i, b in enumerate(cohort_rules.EFI_BANDS)]
        )
        self.status = self.combo("Status", "All statuses", [(formats.sentence_case(s), s) for s in caseload.STATUSES])
        self.stream = self.combo(
            "Stream", "All streams", [("No stream set", ""), *[(formats.sentence_case(s), s) for s in caseload.STREAMS]]
        )
        self.case_manager = self.combo("Case manager", "All case managers", [("Nobody named", "")])
        self.review = self.combo(
            "Review due", "Any review date", [(formats.sentence_case(w), w) for w in REVIEW_WINDOWS]
        )
        self.membership = self.combo("Membership", "Everyone", list(MEMBERSHIP))
        self.set_combos(
            self.criterion, self.efi_band, self.status, self.stream, self.case_manager, self.review, self.membership
        )

    def cohort_filter(self) -> CohortFilter:
        return CohortFilter(
            text=self.text.text(),
            criterion=self.criterion.currentData(),
            efi_band=self.efi_band.currentData(),
            stream=self.stream.currentData(),
            status=self.status.currentData(),
            case_manager_id=self.case_manager.currentData(),
            review=self.review.currentData(),
            membership=self.membership.currentData(),
        )

    def set_staff(self, staff: Sequence[Mapping[str, Any]]) -> None:
        """The locality's staff, as the case-manager choices; the current choice is kept when still there."""
        self.refill(self.case_manager, [("Nobody named", ""), *[(s["name"], s["id"]) for s in staff]])

    def set_ltc_min(self, ltc_min: int) -> None:
        self.refill(self.criterion, self._criteria(ltc_min))

    @staticmethod
    def _criteria(ltc_min: int) -> list[tuple[str, str]]:
        return [("Frailty", "F"), (f"LTC {ltc_min}+", "M"), ("High cost", "C")]
