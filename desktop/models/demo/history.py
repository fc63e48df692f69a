"""Two years of cohort history for the demo world: eight quarterly risk runs per locality, imported through
the same store_run as a real extract, then the team's caseload work on the patients they found."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np

from .. import dates
from ..cohort import rules as cohort_rules
from ..cohort import store as risk_store
from ..cohort.extract_rules import Rejection
from ..cohort.risk_import import store_run
from ..progress import check_cancel
from .context import DemoContext, actor_on
from .population import Population, extract_dates, make_population, natural_size, quarter, text_columns

SMALL_POPULATION = 1500


def risk_dates(today: dt.date) -> tuple[dt.date, ...]:
    """The extract dates of the world's eight quarterly risk runs (two years); the ninth is demo-extract's."""
    return extract_dates(today)[:-1]


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

    @property
    def everyone(self) -> np.ndarray:
        return self.values["nhs_number"]

    def text(self, name: str, subset: np.ndarray | None = None) -> np.ndarray:
        rows = self.values["rows"] if subset is None else self.values["rows"][subset]
        return text_columns(self.pop, rows)[name]

    def counts(self, name: str) -> dict[str, int]:
        assert name == "practice_code"
        ix, n = np.unique(self.pop.practice[self.values["rows"]], return_counts=True)
        return {str(self.pop.practice_codes[i]): int(c) for i, c in zip(ix, n, strict=True)}


def build_risk_history(ctx: DemoContext) -> None:
    localities = list(ctx.db.query("SELECT id, code, name FROM localities ORDER BY code"))
    for n, loc in enumerate(localities):
        check_cancel(ctx.cancel)
        ctx.progress(n / len(localities), f"Two years of history for {loc['name']}")
        rng = ctx.rng(f"history:{loc['code']}")
        size = SMALL_POPULATION if ctx.small else natural_size(ctx.db, loc["code"])
        dates = risk_dates(ctx.today)
        pop = make_population(loc["code"], int(size), seed=ctx.seed, db=ctx.db, born_before=dates[0])
        for q, day in enumerate(dates):
            store_run(
                ctx.db,
                actor_on(day + dt.timedelta(days=2), 10),
                loc["code"],
                GeneratedExtract(pop, q, day),
                f"{loc['code'].lower()}-risk-extract-{day.isoformat()}.csv",
                day,
                make_ids=lambda k, rng=rng: [ctx.uuid(rng) for _ in range(k)],
            )
        simulate_caseload(ctx, loc["id"], random.Random(f"{ctx.seed}:caseload:{loc['code']}"))


@dataclass
class Seen:
    first: dt.date  # first extract in the cohort
    row: dict  # their row in the last run they appeared in
    joined_run_id: str  # the run of their latest entry to the cohort
    last_run: int  # index of that last run
    left_run_id: str | None = None


def _membership(ctx: DemoContext, locality_id: str) -> tuple[dict[str, Seen], int]:
    """Everyone who was ever in the locality's cohort, followed run by run."""
    seen: dict[str, Seen] = {}
    runs = list(
        ctx.db.query(
            "SELECT id, extract_date FROM risk_runs WHERE locality_id = ? ORDER BY extract_date", [locality_id]
        )
    )
    previous: set[str] = set()
    for i, run in enumerate(runs):
        day = dt.date.fromisoformat(run["extract_date"])
        current = set()
        for row in risk_store.run_cohort(ctx.db, run["id"]).to_pylist():
            pid = row["patient_id"]
            current.add(pid)
            if pid in seen:
                s = seen[pid]
                s.row, s.last_run, s.left_run_id = row, i, None
                if pid not in previous:
                    s.joined_run_id = run["id"]
            else:
                seen[pid] = Seen(first=day, row=row, joined_run_id=run["id"], last_run=i)
        for pid in previous - current:
            seen[pid].left_run_id = run["id"]
        previous = current
    return seen, len(runs) - 1


def simulate_caseload(ctx: DemoContext, locality_id: str, rng: random.Random) -> None:
    """Contact, caseload, care plans, reviews (some late, some missed) and interventions, up to the world's day.
    Only patients the team works on get a patients row, as in real use."""
    rules = cohort_rules.load(ctx.db)
    today = ctx.today
    staff = {
        role: [
            r["id"]
            for r in ctx.db.query(
                "SELECT id FROM staff WHERE locality_id = ? AND role = ? ORDER BY name", [locality_id, role]
            )
        ]
        for role in (
            "GP",
            "community matron",
            "district nurse",
            "care coordinator",
            "clinical pharmacist",
            "occupational therapist",
            "social worker",
        )
    }
    managers = staff["community matron"] * 3 + staff["district nurse"] * 2 + staff["care coordinator"]
    left_reasons = dict(
        ctx.db.execute(
            "SELECT c.run_id || c.patient_id, c.detail FROM cohort_changes c JOIN risk_runs r ON r.id = c.run_id "
            "WHERE r.locality_id = ? AND c.change = 'left'",
            [locality_id],
        ).fetchall()
    )
    seen, last_index = _membership(ctx, locality_id)
    rows, interventions = [], []
    for pid, s in sorted(seen.items()):
        deficits = s.row["efi_deficits"]
        in_cohort = s.left_run_id is None
        left_reason = "" if in_cohort else left_reasons.get(s.left_run_id + pid, "")
        contact = s.first + dt.timedelta(days=rng.randint(7, 50))
        if contact > today or rng.random() < 0.1:
            continue
        status, reason, stream, gp, manager, plan, interval = "contacted", "", "", None, None, None, None
        caseload_day = contact + dt.timedelta(days=rng.randint(7, 45))
        if caseload_day <= today and rng.random() < 0.72:
            status = "on caseload"
            stream = rng.choices(["complex", "intermediate", "less complex"], [30, 45, 25])[0]
            gp = rng.choice(staff["GP"])
            manager = rng.choice(managers) if rng.random() < 0.9 else None
            severe = deficits >= rules.severe_frailty_min_deficits
            interval = rules.severe_frailty_review_interval_months if severe else rules.review_interval_months
            plan_day = caseload_day + dt.timedelta(days=rng.randint(0, 30))
            plan = plan_day.isoformat() if plan_day <= today and rng.random() < 0.9 else None
            if plan:
                interventions += _reviews(rng, pid, plan_day, interval, manager, today)
            interventions += _other_interventions(rng, pid, caseload_day, deficits, staff, manager, today)
            if not in_cohort and rng.random() < 0.6:
                status = "discharged"
                reason = (
                    "moved"
                    if "moved" in left_reason and rng.random() < 0.5
                    else ("died" if "moved" in left_reason else "stable")
                )
            elif rng.random() < 0.04:
                status, reason = "discharged", rng.choice(["stable", "declined"])
        else:
            manager = rng.choice(managers) if rng.random() < 0.5 else None
        r = s.row
        rows.append(
            {
                "id": pid,
                "nhs_number": str(r["nhs_number"]),
                "locality_id": locality_id,
                "given_name": r["given_name"],
                "family_name": r["family_name"],
                "date_of_birth": r["date_of_birth"].isoformat(),
                "sex": r["sex"],
                "postcode": r["postcode"],
                "practice_code": r["practice_code"],
                "care_home_id": r["care_home_id"],
                "in_cohort": int(in_cohort),
                "joined_run_id": s.joined_run_id,
                "left_run_id": s.left_run_id,
                "left_reason": left_reason,
                "status": status,
                "discharge_reason": reason,
                "stream": stream,
                "named_gp_id": gp,
                "case_manager_id": manager,
                "care_plan_date": plan,
                "review_interval_months": interval,
            }
        )
    id_rng = random.Random(f"{ctx.seed}:interventions:{locality_id}")
    last_review: dict[str, str] = {}
    for i in interventions:
        i[0] = ctx.uuid(id_rng)
        if i[2] == "care-plan review":
            last_review[i[1]] = max(last_review.get(i[1], ""), i[3])
    for row in rows:
        base = max([d for d in (row["care_plan_date"], last_review.get(row["id"])) if d], default=None)
        interval = row["review_interval_months"]
        row["next_review_due"] = (
            dates.add_months(dt.date.fromisoformat(base), interval).isoformat() if base and interval else None
        )
    stamp = ctx.stamp()
    ctx.db["patients"].insert_all([{**row, **stamp} for row in rows], batch_size=2000)
    ctx.db.conn.executemany(
        "INSERT INTO interventions (id, patient_id, type, delivered_on, delivered_by_id, note, locality_id, "
        "created_at, updated_at, updated_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*i, locality_id, *stamp.values()) for i in interventions],
    )


def _reviews(
    rng: random.Random, pid: str, plan_day: dt.date, interval: int, by: str | None, today: dt.date
) -> list[list]:
    out = []
    due = dates.add_months(plan_day, interval)
    while due <= today:
        if rng.random() < 0.85:  # some reviews are missed altogether
            done = due + dt.timedelta(days=int(rng.gauss(10, 20)))
            if done <= today:
                out.append([None, pid, "care-plan review", done.isoformat(), by, ""])
                due = dates.add_months(done, interval)
                continue
        due = dates.add_months(due, interval)
    return out


_OTHER = (
    ("structured medication review", 0.6, "clinical pharmacist"),
    ("falls assessment", 0.3, "occupational therapist"),
    ("social prescribing", 0.15, None),
    ("advance care plan", 0.1, "GP"),
    ("carer assessment", 0.1, "social worker"),
    ("crisis response referral", 0.05, None),
)


def _other_interventions(
    rng: random.Random,
    pid: str,
    start: dt.date,
    deficits: int,
    staff: dict[str, list[str]],
    manager: str | None,
    today: dt.date,
) -> list[list]:
    out = []
    span = (today - start).days
    for kind, chance, role in _OTHER:
        boost = 1.6 if deficits >= 13 and kind in ("advance care plan", "falls assessment") else 1.0
        if span > 0 and rng.random() < chance * boost:
            day = start + dt.timedelta(days=rng.randint(0, span))
            by = rng.choice(staff[role]) if role and staff.get(role) else manager
            out.append([None, pid, kind, day.isoformat(), by, ""])
    return out
