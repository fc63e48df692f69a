"""The demo world's hospital use: each patient's emergency admissions, A&E attendances, emergency bed days and
cost in the 12 months before each extract (issue 27), with a known effect of being on the caseload.

The model is outcomes.simulate's, on the demo's own population: a lasting propensity to use hospital care (from
the patient's age, conditions and frailty, times a personal factor) and passing spells of worse health (an AR(1)
shock each quarter); admissions are a Poisson count each quarter. Teams pick patients at a peak of use: the
caseload's joiners are already chosen by the caseload step (history.simulate_caseload), so here each joiner's
past is drawn as it would be had they been picked on their admissions in the year before the run they joined
after (sampling-importance-resampling of 32 draws, weighted by exp(0.6 × the prior-use band the comparison
matches on)). Their use then falls afterwards anyway: regression to the mean, the bias the comparison removes.

From the day a patient joins the caseload their rate of emergency admissions and of A&E attendances is
multiplied by RATE_RATIO (pro rata in the quarter they join); bed days and cost follow admissions. The effect
lasts after discharge from the caseload (the demo keeps it simple), and `expected_gain` is the change it made to
each patient's 12 months before each extract, so a test knows the effect a correct method should find.

Everything is drawn from a random stream of its own (named after the locality), and written after the rest of
the world: every other value of the demo world is as it was before these columns existed.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from ..cohort import store as risk_store
from ..outcomes.records import COLUMN
from ..outcomes.simulate import COST, OTHER_AE, STAY, VIA_AE
from .population import QUARTERS, Population, extract_dates

RATE_RATIO = 0.8  # being on the caseload cuts emergency admissions and A&E attendances by a fifth
PER_ADMISSION = {  # the change in each outcome per admission the caseload avoids (A&E changes with the rate)
    "emergency_admissions": 1.0,
    "ae_attendances": VIA_AE + OTHER_AE,
    "emergency_bed_days": 1 + STAY,
    "cost": COST["admission"] + COST["bed_day"] * (1 + STAY) + COST["ae"] * (VIA_AE + OTHER_AE),
}
PERIODS = QUARTERS + 3  # quarters of use: the year before the first extract, then one per later extract
CANDIDATES = 32  # draws of a joiner's past, one kept in proportion to how likely the team was to pick it
PICK_PULL = 0.6  # log-weight per band of prior-year admissions (0, 1, 2, 3-4, 5+) when a team picks
PHI, SHOCK_SD, PERSON_SD = 0.6, 0.5, 0.5  # as outcomes.simulate


@dataclass(frozen=True)
class DemoUse:
    """Per population row (pop's order) and extract (0-8): the 12 months' use, and the admissions the caseload
    changed in them (negative: avoided) in expectation."""

    use: dict[str, np.ndarray]  # outcome -> (people, QUARTERS)
    expected_gain: np.ndarray  # (people, QUARTERS), in admissions; times PER_ADMISSION for the other outcomes


def stream(seed: int, locality: str, part: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"outcomes:{part}:{locality}".encode())])


def make_use(
    pop: Population,
    seed: int,
    locality: str,
    today: dt.date,
    joined: dict[int, dt.date] | None = None,
    part: tuple[int, int] | None = None,
) -> DemoUse:
    """The use of everyone in *pop*, with *joined* (population row -> the day they joined the caseload); or,
    with *part* (start, stop), of those population rows only, on streams of their own (demo-extract's large
    populations are made a part at a time, to keep their memory down)."""
    joined = joined or {}
    days = extract_dates(today)
    start, stop = part or (0, len(pop.nhs))
    n = stop - start
    rate = _base_rates(pop, days, slice(start, stop))  # (n, PERIODS): expected admissions a quarter, no shocks
    rng = stream(seed, locality, f"use:{start}" if part else "use")
    person = rng.normal(0, PERSON_SD, n)
    shocks = _shocks(rng, (n, PERIODS))
    admissions = rng.poisson(_rate(rate, person[:, None], shocks))

    rows = np.array(sorted(r - start for r in joined if start <= r < stop), dtype=np.int64)
    exposure = np.zeros((n, PERIODS))
    if rows.size:
        when = [joined[int(r) + start] for r in rows]
        base = np.array([baseline_extract(days, d) for d in when])
        picker = stream(seed, locality, "picked")
        k = CANDIDATES
        c_person = picker.normal(0, PERSON_SD, (rows.size, k))
        c_shocks = _shocks(picker, (rows.size, k, PERIODS))
        c_admissions = picker.poisson(_rate(rate[rows][:, None, :], c_person[:, :, None], c_shocks))
        window = base[:, None] + np.arange(4)  # the four quarters the baseline extract counts
        prior = np.take_along_axis(c_admissions, np.broadcast_to(window[:, None, :], (rows.size, k, 4)), 2).sum(2)
        pull = np.exp(PICK_PULL * _band(prior))
        pick = np.array([picker.choice(k, p=w / w.sum()) for w in pull])
        at = np.arange(rows.size)
        person[rows], shocks[rows], admissions[rows] = c_person[at, pick], c_shocks[at, pick], c_admissions[at, pick]
        exposure[rows] = _exposure(days, when)

    untreated = _rate(rate, person[:, None], shocks)
    treated = untreated * (1 - (1 - RATE_RATIO) * exposure)
    after = rng.poisson(treated)  # drawn for everyone, so no one's draws depend on who joined
    admissions = np.where(exposure > 0, after, admissions)
    ae = rng.binomial(admissions, VIA_AE) + rng.poisson(OTHER_AE * treated)
    bed_days = admissions + rng.poisson(STAY * admissions)
    cost = COST["admission"] * admissions + COST["bed_day"] * bed_days + COST["ae"] * ae
    use = {
        "emergency_admissions": _trailing(admissions),
        "ae_attendances": _trailing(ae),
        "emergency_bed_days": _trailing(bed_days),
        "cost": _trailing(cost).astype(float),
    }
    return DemoUse(use, _trailing(treated - untreated))


def _base_rates(pop: Population, days: tuple[dt.date, ...], rows: slice) -> np.ndarray:
    """Each person's expected admissions per quarter from their age, conditions and frailty (the demo's risk
    model without its quarterly noise): about 0.02 a year at 40 with none, near 1 a year for the frail old."""
    dob, ltc, deficits = pop.dob[rows], pop.ltc[rows], pop.deficits[rows]
    out = np.empty((len(dob), PERIODS))
    first = np.datetime64(days[0], "D")
    age0 = (first - dob).astype(np.int64) / 365.25
    for t in range(PERIODS):
        q = min(max(t - 3, 0), QUARTERS - 1)
        age = age0 + (t - 3) / 4
        logit = -6.0 + 0.035 * age + 0.28 * ltc[:, q] + 0.12 * deficits[:, q]
        prob = 1 / (1 + np.exp(-logit))
        out[:, t] = -np.log1p(-np.minimum(prob, 0.95)) * 1.2 / 4
    return out


def _shocks(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    out = np.empty(shape)
    out[..., 0] = rng.normal(0, SHOCK_SD / np.sqrt(1 - PHI**2), shape[:-1])
    for t in range(1, shape[-1]):
        out[..., t] = PHI * out[..., t - 1] + rng.normal(0, SHOCK_SD, shape[:-1])
    return out


def _rate(rate: np.ndarray, person: np.ndarray, shocks: np.ndarray) -> np.ndarray:
    """Quarterly admission rates, their means those of *rate* (the log-normal factors average one)."""
    return rate * np.exp(person - PERSON_SD**2 / 2) * np.exp(shocks - SHOCK_SD**2 / (1 - PHI**2) / 2)


def _band(prior: np.ndarray) -> np.ndarray:
    """0, 1, 2, 3-4 and 5+ admissions as 0-4: the comparison's bands, so picking depends on nothing it cannot
    match on."""
    return np.select([prior >= 5, prior >= 3], [4, 3], np.minimum(prior, 2))


def _bounds(days: tuple[dt.date, ...]) -> list[dt.date]:
    """The ends of the PERIODS quarters of use, then their start: quarter t is (bounds[t], bounds[t + 1]]."""
    before = [days[0] - dt.timedelta(days=round(91.3 * j)) for j in (4, 3, 2, 1)]
    return before + list(days)


def baseline_extract(days: tuple[dt.date, ...], joined: dt.date) -> int:
    """The extract at or just before the day a patient joined (its 12 months: the year before joining)."""
    return max(0, sum(1 for d in days if d <= joined) - 1)


def _exposure(days: tuple[dt.date, ...], joined: list[dt.date]) -> np.ndarray:
    """The share of each quarter of use each joiner spent on the caseload."""
    bounds = np.array(_bounds(days), dtype="datetime64[D]")
    start, end = bounds[:-1], bounds[1:]
    day = np.array(joined, dtype="datetime64[D]")[:, None]
    span = (end - start).astype(np.int64)
    inside = (end - np.maximum(start, day)).astype(np.int64)
    return np.clip(inside / span, 0.0, 1.0)


def _trailing(per_quarter: np.ndarray) -> np.ndarray:
    """Column q: the four quarters of use up to extract q."""
    window = np.cumsum(np.pad(per_quarter, ((0, 0), (1, 0))), axis=1)
    return window[:, 4:] - window[:, :-4]


def joined_rows(db: sqlite_utils.Database, locality_id: str, pop: Population) -> dict[int, dt.date]:
    """Population row -> the first day on the caseload, for the locality's patients who were ever on it."""
    found = db.execute(
        "SELECT p.nhs_number, MIN(h.effective_on) FROM caseload_history h JOIN patients p ON p.id = h.patient_id "
        "WHERE h.locality_id = ? AND h.status = 'on caseload' GROUP BY p.id",
        [locality_id],
    ).fetchall()
    if not found:
        return {}
    order = np.argsort(pop.nhs)
    numbers = np.array([int(nhs) for nhs, _ in found], dtype=np.int64)
    at = order[np.searchsorted(pop.nhs, numbers, sorter=order)]
    return {int(row): dt.date.fromisoformat(day) for row, (_, day) in zip(at, found, strict=True)}


def add_use(db: sqlite_utils.Database, locality: dict, pop: Population, seed: int, today: dt.date) -> DemoUse:
    """Write the four use columns into each of the locality's stored runs, and the population's sums into each
    run's summary, once the caseload (and so who joined it, and when) is known."""
    made = make_use(pop, seed, locality["code"], today, joined_rows(db, locality["id"], pop))
    order = np.argsort(pop.nhs)
    runs = db.execute(
        "SELECT id, extract_date, summary FROM risk_runs WHERE locality_id = ? ORDER BY extract_date",
        [locality["id"]],
    ).fetchall()
    for q, (run_id, _, summary) in enumerate(runs):
        table = risk_store.run_cohort(db, run_id)
        nhs = table["nhs_number"].to_numpy()
        rows = order[np.searchsorted(pop.nhs, nhs, sorter=order)]
        for outcome, column in COLUMN.items():
            field = risk_store.COHORT_SCHEMA.field(column)
            values = made.use[outcome][rows, q]
            table = table.set_column(
                table.schema.get_field_index(column), field, [values.astype(field.type.to_pandas_dtype())]
            )
        db.execute("UPDATE risk_run_cohorts SET data = ? WHERE run_id = ?", [risk_store.encode(table), run_id])
        present = pop.present(q)
        kept = json.loads(summary)
        kept["use_12m"] = {
            column: {"sum": round(float(made.use[outcome][present, q].sum()), 2), "known": int(present.sum())}
            for outcome, column in COLUMN.items()
        }
        db.execute("UPDATE risk_runs SET summary = ? WHERE id = ?", [json.dumps(kept), run_id])
    return made
