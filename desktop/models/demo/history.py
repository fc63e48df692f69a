"""Two years of cohort history for the demo world: eight quarterly risk runs per locality, imported through
the same store_run as a real extract, then the team's caseload work on the patients they found."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

import numpy as np

from .. import dates
from ..cohort import caseload_history
from ..cohort import rules as cohort_rules
from ..cohort import store as risk_store
from ..cohort.extract_rules import Rejection
from ..cohort.risk_import import store_run
from ..progress import check_cancel
from .context import DemoContext, actor_on, insert_rows
from .outcomes import add_use
from .population import Population, extract_dates, make_population, natural_size, quarter, text_columns
from .step_changes import record_step_changes
from .teams import IMPROVING, new_matron_day, reviews, team

SMALL_POPULATION = 5000


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
        steady = simulate_caseload(ctx, loc["id"], random.Random(f"{ctx.seed}:caseload:{loc['code']}"), loc["code"])
        record_step_changes(ctx, loc, steady)
        # Last, on streams of its own: the use each run records depends on who joined the caseload, and when.
        add_use(ctx.db, loc, pop, ctx.seed, ctx.today)


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


PER_CASE_MANAGER = 85  # caseload patients a case manager carries
MOST_PER_CASE_MANAGER = 110  # on average: beyond it the team takes on another
PER_NAMED_GP = 400  # caseload patients on a named GP's list
STEADY_SHARE = 0.9  # start-up is over once this share of the first cohort's care plans are agreed
MANAGER, GP = "case manager", "named GP"  # placeholders in interventions until the pools are known


def simulate_caseload(ctx: DemoContext, locality_id: str, rng: random.Random, code: str = "CHA") -> dt.date | None:
    """Contact, caseload, care plans, reviews (some late, some missed) and interventions, up to the world's day.
    Only patients the team works on get a patients row, as in real use. Returns the first day of the month the
    team's caseload work became steady (its start-up over), or None if it never did."""
    rules = cohort_rules.load(ctx.db)
    today = ctx.today
    profile = team(code)
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
    left_reasons = dict(
        ctx.db.execute(
            "SELECT c.run_id || c.patient_id, c.detail FROM cohort_changes c JOIN risk_runs r ON r.id = c.run_id "
            "WHERE r.locality_id = ? AND c.change = 'left'",
            [locality_id],
        ).fetchall()
    )
    seen, last_index = _membership(ctx, locality_id)
    run_days = dict(ctx.db.execute("SELECT id, extract_date FROM risk_runs WHERE locality_id = ?", [locality_id]))
    first_run = min((s.first for s in seen.values()), default=None)
    first_plans: list[str | None] = []
    rows, interventions, paths = [], [], []
    for pid, s in sorted(seen.items()):
        deficits = s.row["efi_deficits"]
        in_cohort = s.left_run_id is None
        left_reason = "" if in_cohort else left_reasons.get(s.left_run_id + pid, "")
        # At start-up the team works through the whole first cohort over months, not weeks: its care plans, and
        # so its reviews ever after, are spread through the year instead of falling due together.
        contact = s.first + dt.timedelta(days=rng.randint(7, 150 if s.first == first_run else 50))
        if contact > today or rng.random() < 0.1:
            continue
        status, reason, stream, gp, manager, plan, interval = "contacted", "", "", None, None, None, None
        caseload_day = contact + dt.timedelta(days=rng.randint(7, 45))
        if caseload_day <= today and rng.random() < profile.caseload_share:
            status = "on caseload"
            stream = rng.choices(["complex", "intermediate", "less complex"], [30, 45, 25])[0]
            gp = GP if rng.random() < profile.named_gp_share else None
            manager = MANAGER if rng.random() < profile.manager_share else None
            severe = deficits >= rules.severe_frailty_min_deficits
            interval = rules.severe_frailty_review_interval_months if severe else rules.review_interval_months
            plan_day = caseload_day + dt.timedelta(days=rng.randint(0, 30))
            plan = plan_day.isoformat() if plan_day <= today and rng.random() < 0.9 else None
            if s.first == first_run:
                first_plans.append(plan)
            if plan:
                interventions += _reviews(rng, pid, plan_day, interval, manager, today, code)
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
            manager = MANAGER if rng.random() < 0.5 else None
        left_on = None if in_cohort else dt.date.fromisoformat(run_days[s.left_run_id][:10])
        paths.append(_Path(pid, s.first, contact, caseload_day if status != "contacted" else None, status, left_on))
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
    _allocate(rng, rows, interventions, staff)
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
    insert_rows(ctx.db, "patients", [{**row, **stamp} for row in rows])
    ctx.db.conn.executemany(
        "INSERT INTO interventions (id, patient_id, type, delivered_on, delivered_by_id, note, locality_id, "
        "created_at, updated_at, updated_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*i, locality_id, *stamp.values()) for i in interventions],
    )
    _record_history(ctx, locality_id, paths, random.Random(f"{ctx.seed}:caseload history:{code}"))
    return _steady(first_plans)


@dataclass
class _Path:
    """The days a patient's status moved: identified at their first extract, then contacted, then on the caseload
    (None: never), then *status* as it is now."""

    patient_id: str
    identified: dt.date
    contacted: dt.date
    on_caseload: dt.date | None
    status: str
    left_on: dt.date | None  # the extract that found them gone from the cohort


def _record_history(ctx: DemoContext, locality_id: str, paths: list[_Path], rng: random.Random) -> None:
    """Each patient's status changes, as the team recorded them when they happened: the early months of the
    monthly series count the caseload of their day. Its own random stream, so the rest of the world is the same
    as before the history was kept."""
    rows = []
    for p in paths:
        steps = [(p.identified, "identified"), (p.contacted, "contacted")]
        if p.on_caseload is not None:
            steps.append((p.on_caseload, "on caseload"))
        if p.status == "discharged" and p.on_caseload is not None:
            if p.left_on is not None:  # moved, died or stable around when the extract found them gone
                day = p.left_on + dt.timedelta(days=rng.randint(-45, 14))
            else:
                day = p.on_caseload + dt.timedelta(days=rng.randint(30, max(30, (ctx.today - p.on_caseload).days)))
            steps.append((min(max(day, p.on_caseload + dt.timedelta(days=1)), ctx.today), "discharged"))
        days = {d.isoformat(): status for d, status in steps}  # a day's last status stands for it
        rows += [(p.patient_id, d, status) for d, status in days.items()]
    stamp = tuple(ctx.stamp().values())
    ctx.db.conn.executemany(
        "INSERT INTO caseload_history (id, patient_id, locality_id, status, effective_on, source, created_at, "
        "updated_at, updated_by, device_id) VALUES (?, ?, ?, ?, ?, 'recorded', ?, ?, ?, ?)",
        [(caseload_history.row_id(pid, day), pid, locality_id, status, day, *stamp) for pid, day, status in rows],
    )


def _allocate(rng: random.Random, rows: list[dict], interventions: list[list], staff: dict[str, list[str]]) -> None:
    """Give the placeholders real staff: only as many case managers and named GPs as the caseload needs, so each
    carries a believable list (a team does not spread 80 patients over 30 nurses)."""
    managers = staff["community matron"] + staff["district nurse"] + staff["care coordinator"]
    managed = [r for r in rows if r["status"] == "on caseload" and r["case_manager_id"]]
    wanted = max(1, round(len(managed) / PER_CASE_MANAGER))
    wanted += len(managed) / wanted > MOST_PER_CASE_MANAGER
    pool = managers[: min(len(managers), wanted)]
    # Caseloads are shared out by the hours each works, not left to chance: no one carries 150.
    hours = [rng.uniform(0.9, 1.1) for _ in pool]
    shares = [pool[i] for i in range(len(pool)) for _ in range(round(len(managed) * hours[i] / sum(hours)))]
    shares += [rng.choice(pool) for _ in range(len(managed) - len(shares))]
    rng.shuffle(shares)
    chosen = {r["id"]: m for r, m in zip(managed, shares, strict=False)}
    named = sum(1 for r in rows if r["status"] == "on caseload" and r["named_gp_id"])
    gps = staff["GP"][: max(1, min(len(staff["GP"]), round(named / PER_NAMED_GP)))]
    for r in rows:
        if r["case_manager_id"]:
            r["case_manager_id"] = chosen.setdefault(r["id"], rng.choice(pool))
        if r["named_gp_id"]:
            r["named_gp_id"] = rng.choice(gps)
    for i in interventions:
        if i[4] == MANAGER:
            i[4] = chosen.get(i[1])


def _steady(plans: list[str | None]) -> dt.date | None:
    agreed = sorted(p for p in plans if p)
    if not agreed:
        return None
    day = dt.date.fromisoformat(agreed[min(len(agreed) - 1, int(len(agreed) * STEADY_SHARE))])
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _reviews(
    rng: random.Random, pid: str, plan_day: dt.date, interval: int, by: str | None, today: dt.date, code: str = "CHA"
) -> list[list]:
    out = []
    due = dates.add_months(plan_day, interval)
    catch_up = new_matron_day(today) if code == IMPROVING else None
    while due <= today:
        miss, late = reviews(code, due, today)
        if rng.random() >= miss:
            done = due + dt.timedelta(days=int(rng.gauss(late, 20)))
            if done <= today:
                out.append([None, pid, "care-plan review", done.isoformat(), by, ""])
                due = dates.add_months(done, interval)
                continue
        following = dates.add_months(due, interval)
        if catch_up and due < catch_up <= following:
            # The new matron books every overdue review into her first weeks.
            following = catch_up + dt.timedelta(days=rng.randint(0, 42))
        due = following
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
