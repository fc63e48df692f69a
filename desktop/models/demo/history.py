"""Two years of cohort history for the demo world: eight quarterly risk runs per locality, imported through
the same store_run as a real extract, then the team's caseload work on the patients they found."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np

from .. import caseload, cohort_rules, risk_store
from ..clock import Actor
from ..extract_rules import Rejection
from ..progress import check_cancel
from ..risk_import import store_run
from . import DEMO_ACTOR, DemoContext
from .population import QUARTERS, Population, make_population, quarter, text_columns

RISK_DATES = tuple(dt.date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 15) for m in range(1, 25, 3))
DEMO_TODAY = dt.date(2026, 11, 20)  # the demo's "now": history stops here, whatever the real date
SMALL_POPULATION = 1500
assert len(RISK_DATES) == QUARTERS


@dataclass
class GeneratedExtract:
    """A made-up extract in the shape store_run reads (CheckedExtract's interface), without a file."""

    pop: Population
    q: int
    extract_date: dt.date
    values: dict[str, np.ndarray] = field(init=False)
    rejections: list[Rejection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.values = quarter(self.pop, self.q, self.extract_date)
        self.rows = len(self.values["rows"])

    @property
    def imported(self) -> int:
        return self.rows

    def text(self, name: str, subset: np.ndarray | None = None) -> np.ndarray:
        rows = self.values["rows"] if subset is None else self.values["rows"][subset]
        return text_columns(self.pop, rows)[name]

    def counts(self, name: str) -> dict[str, int]:
        assert name == "practice_code"
        ix, n = np.unique(self.pop.practice[self.values["rows"]], return_counts=True)
        return {str(self.pop.practice_codes[i]): int(c) for i, c in zip(ix, n, strict=True)}


def _stamp(day: dt.date) -> Actor:
    return Actor(user=DEMO_ACTOR.user, device_id=DEMO_ACTOR.device_id, fixed_time=f"{day.isoformat()}T10:00:00+00:00")


def build_risk_history(ctx: DemoContext) -> None:
    localities = list(ctx.db.query("SELECT id, code, name FROM localities ORDER BY code"))
    for n, loc in enumerate(localities):
        check_cancel(ctx.cancel)
        ctx.progress(n / len(localities), f"Two years of history for {loc['name']}")
        rng = ctx.rng(f"history:{loc['code']}")
        size = SMALL_POPULATION if ctx.small else ctx.db.execute(
            "SELECT SUM(list_size) FROM practices WHERE locality_id = ?", [loc["id"]]).fetchone()[0]
        pop = make_population(loc["code"], int(size), seed=ctx.seed, extract_date=RISK_DATES[0], db=ctx.db)
        for q, day in enumerate(RISK_DATES):
            store_run(ctx.db, _stamp(day + dt.timedelta(days=2)), loc["code"], GeneratedExtract(pop, q, day),
                      f"{loc['code'].lower()}-risk-extract-{day.isoformat()}.csv", day,
                      make_ids=lambda k, rng=rng: [ctx.uuid(rng) for _ in range(k)])
        simulate_caseload(ctx, loc["id"], random.Random(f"{ctx.seed}:caseload:{loc['code']}"))


def _first_seen(ctx: DemoContext, locality_id: str) -> dict[str, tuple[dt.date, int]]:
    """patient id -> (extract date they first entered the cohort, their latest eFI deficits)."""
    seen: dict[str, tuple[dt.date, int]] = {}
    for run in ctx.db.query("SELECT id, extract_date FROM risk_runs WHERE locality_id = ? ORDER BY extract_date",
                            [locality_id]):
        table = risk_store.run_cohort(ctx.db, run["id"])
        day = dt.date.fromisoformat(run["extract_date"])
        for pid, deficits in zip(table["patient_id"].to_pylist(), table["efi_deficits"].to_pylist(), strict=True):
            seen[pid] = (seen[pid][0] if pid in seen else day, deficits)
    return seen


def simulate_caseload(ctx: DemoContext, locality_id: str, rng: random.Random) -> None:
    """Contact, caseload, care plans, reviews (some late, some missed) and interventions, up to DEMO_TODAY."""
    rules = cohort_rules.load(ctx.db)
    staff = {role: [r["id"] for r in ctx.db.query("SELECT id FROM staff WHERE locality_id = ? AND role = ? "
                                                    "ORDER BY name", [locality_id, role])]
             for role in ("GP", "community matron", "district nurse", "care coordinator", "clinical pharmacist",
                          "occupational therapist", "social worker")}
    managers = staff["community matron"] * 3 + staff["district nurse"] * 2 + staff["care coordinator"]
    patients = {r["id"]: r for r in ctx.db.query(
        "SELECT id, in_cohort, left_reason FROM patients WHERE locality_id = ?", [locality_id])}
    updates, interventions = [], []
    for pid, (joined, deficits) in sorted(_first_seen(ctx, locality_id).items()):
        p = patients[pid]
        contact = joined + dt.timedelta(days=rng.randint(7, 50))
        if contact > DEMO_TODAY or rng.random() < 0.1:
            continue
        status, reason, stream, gp, manager, plan, interval = "contacted", "", "", None, None, None, None
        caseload_day = contact + dt.timedelta(days=rng.randint(7, 45))
        if caseload_day <= DEMO_TODAY and rng.random() < 0.72:
            status = "on caseload"
            stream = rng.choices(["complex", "intermediate", "less complex"], [30, 45, 25])[0]
            gp = rng.choice(staff["GP"])
            manager = rng.choice(managers) if rng.random() < 0.9 else None
            severe = deficits >= rules.severe_frailty_min_deficits
            interval = rules.severe_frailty_review_interval_months if severe else rules.review_interval_months
            plan_day = caseload_day + dt.timedelta(days=rng.randint(0, 30))
            plan = plan_day.isoformat() if plan_day <= DEMO_TODAY and rng.random() < 0.9 else None
            if plan:
                interventions += _reviews(rng, pid, plan_day, interval, manager)
            interventions += _other_interventions(rng, pid, caseload_day, deficits, staff, manager)
            if not p["in_cohort"] and rng.random() < 0.6:
                status = "discharged"
                reason = "moved" if "moved" in p["left_reason"] and rng.random() < 0.5 else (
                    "died" if "moved" in p["left_reason"] else "stable")
            elif rng.random() < 0.04:
                status, reason = "discharged", rng.choice(["stable", "declined"])
        else:
            manager = rng.choice(managers) if rng.random() < 0.5 else None
        updates.append([pid, status, reason, stream, gp, manager, plan, interval])
    stamp = (DEMO_ACTOR.now(), DEMO_ACTOR.user, DEMO_ACTOR.device_id)
    id_rng = random.Random(f"{ctx.seed}:interventions:{locality_id}")
    for i in interventions:
        i[0] = ctx.uuid(id_rng)
    ctx.db.conn.executemany(
        "INSERT INTO interventions (id, patient_id, type, delivered_on, delivered_by_id, note, created_at, "
        "updated_at, updated_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*i, stamp[0], *stamp) for i in interventions])
    last_review = {}
    for i in interventions:
        if i[2] == "care-plan review":
            last_review[i[1]] = max(last_review.get(i[1], ""), i[3])
    rows = []
    for pid, status, reason, stream, gp, manager, plan, interval in updates:
        base = max([d for d in (plan, last_review.get(pid)) if d], default=None)
        due = caseload.add_months(dt.date.fromisoformat(base), interval).isoformat() if base and interval else None
        rows.append((status, reason, stream, gp, manager, plan, interval, due, pid))
    ctx.db.conn.executemany(
        "UPDATE patients SET status = ?, discharge_reason = ?, stream = ?, named_gp_id = ?, case_manager_id = ?, "
        "care_plan_date = ?, review_interval_months = ?, next_review_due = ? WHERE id = ?", rows)


def _reviews(rng: random.Random, pid: str, plan_day: dt.date, interval: int, by: str | None) -> list[list]:
    out = []
    due = caseload.add_months(plan_day, interval)
    while due <= DEMO_TODAY:
        if rng.random() < 0.85:  # some reviews are missed altogether
            done = due + dt.timedelta(days=int(rng.gauss(10, 20)))
            if done <= DEMO_TODAY:
                out.append([None, pid, "care-plan review", done.isoformat(), by, ""])
                due = caseload.add_months(done, interval)
                continue
        due = caseload.add_months(due, interval)
    return out


_OTHER = (("structured medication review", 0.6, "clinical pharmacist"),
          ("falls assessment", 0.3, "occupational therapist"), ("social prescribing", 0.15, None),
          ("advance care plan", 0.1, "GP"), ("carer assessment", 0.1, "social worker"),
          ("crisis response referral", 0.05, None))


def _other_interventions(rng: random.Random, pid: str, start: dt.date, deficits: int,
                         staff: dict[str, list[str]], manager: str | None) -> list[list]:
    out = []
    span = (DEMO_TODAY - start).days
    for kind, chance, role in _OTHER:
        boost = 1.6 if deficits >= 13 and kind in ("advance care plan", "falls assessment") else 1.0
        if span > 0 and rng.random() < chance * boost:
            day = start + dt.timedelta(days=rng.randint(0, span))
            by = rng.choice(staff[role]) if role and staff.get(role) else manager
            out.append([None, pid, kind, day.isoformat(), by, ""])
    return out
