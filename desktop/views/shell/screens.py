"""The screens of the navigation list, declared as data: what each is for and how it is built.

The planned screens say honestly what they will do once their issue is built; the reference screens
are generated from desktop.models.reference.ENTITIES.

Each screen names its page class by module path (`page`) rather than importing it: a page module brings its
screen's libraries with it (the cohort frame brings pyarrow, the returns the signing keys, care homes the
bank-holiday calendar), and the start-up must not pay for screens the user has not opened yet (issue 26).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import import_module

from ..kit.table_model import Column


@dataclass(frozen=True)
class Screen:
    key: str
    title: str
    group: str
    summary: str  # one line under the page title
    entity: str | None = None  # a reference entity: a table screen; None: a planned screen
    will_do: tuple[str, ...] = ()
    patient_level: bool = False  # holds patient-identifiable data, which a commissioner workspace never has
    locality_only: bool = False  # a team's own work (its return), which a commissioner workspace does not do
    missing: dict[str, str] = field(default_factory=dict)  # column -> why an empty value matters
    page: str = ""  # "module:Class" of the page, imported on the first visit; "" for a planned screen


WORK = "Work"
REFERENCE = "Reference data"

SCREENS: tuple[Screen, ...] = (
    Screen(
        "my_work",
        "My work",
        WORK,
        "Your week in one place: reviews due, your actions, PCSPs due, home rounds to log and patients for the MDT.",
        patient_level=True,
        locality_only=True,
        page="desktop.views.my_work.page:MyWorkPage",
    ),
    Screen(
        "cohort",
        "Cohort",
        WORK,
        "The risk-stratified patients of the current locality, and the team's caseload.",
        will_do=(
            "Import the latest risk extract (ACG and the electronic frailty index), checking every row "
            "and listing any it rejects.",
            "Show who is new to the cohort, who has left it and whose risk has changed since the last "
            "import, without losing the team's own notes.",
            "Filter by criterion (frailty, five or more long-term conditions, high predicted cost), by "
            "practice and by state, and find a patient in an instant.",
            "Track each patient from identified to contacted, on caseload and discharged, with case "
            "manager, named GP, care plan and next review date.",
        ),
        patient_level=True,
        page="desktop.views.cohort.page:CohortPage",
    ),
    Screen(
        "mdt",
        "MDT & actions",
        WORK,
        "Monthly multidisciplinary meetings and the action log that comes out of them.",
        will_do=(
            "Record each meeting: date, chair, who attended from which organisation, and the patients "
            "discussed with a short outcome each.",
            "Keep the action log: owner, due date, status and escalation, with overdue actions plain to see.",
            "Filter actions by owner, status, due window and patient.",
            "Print a meeting as an MDT pack.",
        ),
        patient_level=True,
        page="desktop.views.mdt.page:MdtPage",
    ),
    Screen(
        "care_homes",
        "Care homes",
        WORK,
        "Enhanced Health in Care Homes: home rounds, visits and residents' care plans.",
        will_do=(
            "A week-by-home grid of weekly home-round coverage for the quarter, so a missed week stands "
            "out at a glance.",
            "Log visits with their type, clinician, residents reviewed and outcome for each resident.",
            "Follow new residents to a personalised care and support plan within 7 working days of admission.",
        ),
        patient_level=True,
        page="desktop.views.care_homes.page:CareHomesPage",
    ),
    Screen(
        "returns",
        "Returns",
        WORK,
        "The quarterly KPI return, computed from the team's own records.",
        will_do=(
            "Compute every KPI of the catalogue for a quarter, with numerator, denominator and RAG rating.",
            "Add the figures that come from secondary care, and explain each red before sign-off.",
            "Sign the return off, then export it as a file for the commissioner.",
        ),
        locality_only=True,
        page="desktop.views.returns.page:ReturnsPage",
    ),
    Screen(
        "reports",
        "Reports",
        WORK,
        "PDF reports in the style of the best NHS board papers.",
        will_do=(
            "The quarterly locality report, the MDT pack, the care-home visit report and the system report.",
            "Statistical process control charts in NHS England's Making Data Count style, funnel plots "
            "comparing the 11 localities, and confidence intervals.",
            "A 'for publication' option that suppresses small numbers and lists what it changed.",
        ),
        page="desktop.views.reports.page:ReportsPage",
    ),
    Screen(
        "commissioner",
        "Commissioner",
        WORK,
        "The eleven teams' returns side by side, for the ICB.",
        will_do=(
            "Import the returns of all 11 localities at once, with a dry run that says what each file would change.",
            "See per quarter how many returns arrived, on time and accepted.",
            "Compare teams on funnel plots and follow trends on SPC charts.",
        ),
        page="desktop.views.commissioner.page:CommissionerPage",
    ),
    Screen(
        "localities",
        "Localities",
        REFERENCE,
        "The integrated locality teams of Leicester, Leicestershire and Rutland.",
        entity="localities",
        page="desktop.views.reference.page:ReferencePage",
    ),
    Screen(
        "pcns",
        "PCNs",
        REFERENCE,
        "Primary care networks: optional groupings of practices in a locality.",
        entity="pcns",
        page="desktop.views.reference.page:ReferencePage",
    ),
    Screen(
        "practices",
        "Practices",
        REFERENCE,
        "GP practices, keyed by their ODS code.",
        entity="practices",
        page="desktop.views.reference.page:ReferencePage",
    ),
    Screen(
        "care_home_register",
        "Care homes register",
        REFERENCE,
        "Every care home, with the practice it is aligned to and its named clinical lead (EHCH).",
        entity="care_homes",
        missing={
            "aligned_practice": "No aligned practice: under EHCH every home is aligned to one practice.",
            "clinical_lead": "No named clinical lead: under EHCH every home has one.",
        },
        page="desktop.views.reference.page:ReferencePage",
    ),
    Screen(
        "staff",
        "Staff",
        REFERENCE,
        "The people in each locality team, and the care homes each one leads.",
        entity="staff",
        page="desktop.views.reference.page:ReferencePage",
    ),
    Screen(
        "audit",
        "Audit log",
        REFERENCE,
        "Who did what to which record, and when: every import, export, change, sign-off and deletion, newest first.",
        page="desktop.views.audit.page:AuditPage",
    ),
)


def page_class(screen: Screen) -> type:
    """The class of *screen*'s page, its module imported now if this is the first screen of its kind shown."""
    module, _, name = screen.page.partition(":")
    return getattr(import_module(module), name)


def page_modules(keys: Iterable[str]) -> list[str]:
    """The modules of the pages of the screens *keys*, each once, in the navigation's order."""
    wanted = set(keys)
    return list(dict.fromkeys(s.page.partition(":")[0] for s in SCREENS if s.key in wanted and s.page))


def columns_for(screen: Screen, entity_columns: tuple[tuple[str, str], ...]) -> list[Column]:
    return [Column(key, heading, screen.missing.get(key)) for key, heading in entity_columns]


def available(screen: Screen, workspace_kind: str) -> bool:
    """A commissioner workspace has no patient screens and no team return: they are absent, not empty."""
    return workspace_kind != "commissioner" or not (screen.patient_level or screen.locality_only)
