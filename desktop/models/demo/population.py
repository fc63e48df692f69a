"""A synthetic registered population that ages quarter by quarter.

Everything is numpy arrays, so a locality of 100,000 people is made in a fraction of a second; strings
(names, postcodes) are built only for the rows someone asks for. NHS numbers are valid (modulus 11) and
drawn only from 9000000000–9999999999, the range never issued to real patients.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import sqlite_utils

from .. import clock
from ..migrations import MIGRATIONS
from .context import DEFAULT_SEED, DemoContext
from .reference_world import build_reference, locality_table, names

_BLOCK = 9_000_000  # nine-digit stems per locality: 11 blocks fill 900000000–998999999
_STEP = 7919  # coprime with _BLOCK, so stem order looks random yet never repeats
QUARTERS = 9  # the demo world's eight quarterly risk runs, then the "next" extract demo-extract writes
EXTRACT_MONTHS = (2, 5, 8, 11)  # extracts are run on the 15th of each quarter's middle month
TURNOVER = 0.012  # share of the list that leaves (and joins) each quarter
_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)


def extract_dates(today: dt.date | None = None) -> tuple[dt.date, ...]:
    """The demo's nine quarterly extract dates, oldest first, the last the latest extract day on or before
    *today* (the clock's day unless given): the world imports the first eight, so importing demo-extract's file
    (the ninth) shows a believable quarter's new, left and changed."""
    today = today or clock.today()
    month_index = today.year * 12 + today.month - 1 - (today.day < 15)
    while (month_index % 12) + 1 not in EXTRACT_MONTHS:
        month_index -= 1
    return tuple(dt.date((m := month_index - 3 * back) // 12, m % 12 + 1, 15) for back in range(QUARTERS - 1, -1, -1))


def reference_snapshot(seed: int = DEFAULT_SEED) -> sqlite_utils.Database:
    """The demo reference data in memory, for extracts made without a workspace."""
    db = sqlite_utils.Database(memory=True)
    MIGRATIONS.apply(db)
    build_reference(DemoContext(db=db, seed=seed, small=False))
    return db


def nhs_numbers(locality_index: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Valid synthetic NHS numbers, unique per (locality, serial); serial counts valid numbers only.

    About one stem in eleven has no valid check digit, so stems are over-drawn and the invalid skipped.
    """
    out = np.empty(len(serial), dtype=np.int64)
    for li in np.unique(locality_index):
        mask = locality_index == li
        wanted = serial[mask]
        need = int(wanted.max()) + 1
        j = np.arange(int(need * 1.12) + 16, dtype=np.int64)
        stems = 900_000_000 + li * _BLOCK + (j * _STEP + li * 104_729) % _BLOCK
        total = np.zeros(len(stems), dtype=np.int64)
        rest = stems.copy()
        for weight in range(2, 11):
            rest, digit = np.divmod(rest, 10)
            total += digit * weight
        check = 11 - total % 11
        check[check == 11] = 0
        valid = check != 10
        numbers = stems[valid] * 10 + check[valid]
        out[mask] = numbers[wanted]
    return out


@dataclass
class Population:
    """One row per person who is registered at some point in the eight quarters."""

    practice_codes: np.ndarray  # the practices, indexed by `practice`
    practice: np.ndarray
    locality_codes: np.ndarray
    nhs: np.ndarray
    female: np.ndarray
    dob: np.ndarray  # datetime64[D]
    deficits: np.ndarray  # (people, QUARTERS): cumulative eFI deficits by quarter
    ltc: np.ndarray  # (people, QUARTERS)
    cost_persist: np.ndarray
    cost_noise: np.ndarray  # (people, QUARTERS)
    enters: np.ndarray  # first quarter registered
    leaves: np.ndarray  # first quarter no longer registered (QUARTERS = stays)
    home: np.ndarray  # CQC id or ""
    eol_risk: np.ndarray
    eol_from: np.ndarray  # the quarter they join the palliative-care register (if eol_risk)
    housebound_risk: np.ndarray
    given_ix: np.ndarray
    family_ix: np.ndarray
    postcode_ix: np.ndarray  # (district index, digit, letter, letter)
    districts: np.ndarray  # per person: their locality's district list index base
    district_names: np.ndarray

    def present(self, q: int) -> np.ndarray:
        return (self.enters <= q) & (self.leaves > q)


def natural_size(db: sqlite_utils.Database, locality: str) -> int:
    """The locality's registered list: the size of its population in the demo world."""
    return db.execute(
        "SELECT COALESCE(SUM(p.list_size), 0) FROM practices p JOIN localities l "
        "ON l.id = p.locality_id WHERE l.code = ?",
        [locality],
    ).fetchone()[0]


def make_population(
    locality: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    db: sqlite_utils.Database | None = None,
    born_before: dt.date | None = None,
) -> Population:
    """*rows* people registered at quarter 0 in *locality* (a code, or ALL), plus those who join later;
    their ages are as at *born_before* (the first of the demo's extract dates unless given)."""
    born_before = born_before or extract_dates()[0]
    table = {loc["code"]: (i, loc) for i, loc in enumerate(locality_table())}
    db = db or reference_snapshot(seed)
    where, params = ("", []) if locality == "ALL" else ("WHERE l.code = ?", [locality])
    practices = list(
        db.query(
            f"SELECT p.ods_code, p.list_size, l.code AS loc FROM practices p JOIN localities l ON l.id = p.locality_id "
            f"{where} ORDER BY p.ods_code",
            params,
        )
    )
    homes = list(
        db.query(
            f"SELECT h.cqc_id, h.beds, l.code AS loc FROM care_homes h JOIN localities l ON l.id = h.locality_id "
            f"{where} ORDER BY h.cqc_id",
            params,
        )
    )
    rng = np.random.default_rng([seed, rows, sum(ord(c) for c in locality)])
    joiners = int(rows * TURNOVER * (QUARTERS - 1))
    n = rows + joiners

    sizes = np.array([p["list_size"] for p in practices], dtype=float)
    practice = rng.choice(len(practices), size=n, p=sizes / sizes.sum())
    order = np.argsort(practice[:rows], kind="stable")
    practice[:rows] = practice[:rows][order]
    practice_loc = np.array([p["loc"] for p in practices])
    loc_codes = practice_loc[practice]
    loc_index = np.array([table[c][0] for c in practice_loc])[practice]
    pct65 = np.array([table[c][1]["pct_65_plus"] for c in practice_loc])[practice]
    serial = np.zeros(n, dtype=np.int64)
    for li in np.unique(loc_index):
        mask = loc_index == li
        serial[mask] = np.arange(mask.sum())

    old = rng.random(n) < pct65
    age = np.where(old, _older_ages(rng, n), rng.uniform(0, 65, n))
    dob = np.datetime64(born_before, "D") - (age * 365.25).astype("timedelta64[D]")
    age_i = age.astype(int)

    base_ltc = rng.poisson(0.05 + (age_i / 60.0) ** 2.5)
    base_def = np.where(age_i >= 60, rng.poisson(np.clip((age_i - 61) / 3.9, 0, None)), rng.poisson(0.4, n))
    base_def = base_def + (base_ltc >= 4) * rng.integers(0, 4, n)
    # Frailty and multimorbidity only accumulate: quarterly increments, faster with age.
    def_steps = rng.poisson(np.clip((age_i - 60) / 280, 0.003, None)[:, None], (n, QUARTERS))
    def_steps[:, 0] = 0
    deficits = np.minimum(base_def[:, None] + np.cumsum(def_steps, axis=1), 36)
    ltc_steps = rng.random((n, QUARTERS)) < np.clip(age_i / 2200, 0.002, None)[:, None]
    ltc_steps[:, 0] = False
    ltc = base_ltc[:, None] + np.cumsum(ltc_steps, axis=1)

    enters = np.zeros(n, dtype=np.int64)
    enters[rows:] = rng.integers(1, QUARTERS, joiners)
    # Deaths dominate leaving at the oldest ages (annual mortality near 30 % at 95).
    leave_hazard = TURNOVER * np.select([age_i >= 95, age_i >= 85, age_i >= 75], [7.0, 3.0, 1.6], 0.8)
    leave_hazard += 0.03 * (base_def >= 9)  # the frail die sooner: about a fifth a year
    leaves_at = enters + rng.geometric(np.clip(leave_hazard, 1e-4, 1))
    leaves = np.minimum(leaves_at, QUARTERS)

    home = np.full(n, "", dtype=object)
    if homes:
        eligible = np.flatnonzero(age_i >= 75)
        beds = np.array([h["beds"] for h in homes], dtype=float)
        home_locs = np.array([h["loc"] for h in homes])
        take = min(len(eligible), int(beds.sum() * 0.9 * rows / max(sizes.sum(), rows)))
        if take:
            chosen = rng.choice(eligible, size=take, replace=False)
            for code in np.unique(loc_codes[chosen]):
                in_loc = chosen[loc_codes[chosen] == code]
                hix = np.flatnonzero(home_locs == code)
                if len(hix):
                    home[in_loc] = np.array([homes[i]["cqc_id"] for i in hix])[
                        rng.choice(len(hix), size=len(in_loc), p=beds[hix] / beds[hix].sum())
                    ]
    in_home = home != ""
    name_pools = names()
    district_lists = [table[c][1]["postcode_districts"] for c in practice_loc]
    flat = sorted({d for ds in district_lists for d in ds})
    district_names = np.array(flat, dtype=object)
    per_practice = [np.array([flat.index(d) for d in ds]) for ds in district_lists]
    pick = rng.integers(0, 3, n)
    district = _vector_districts(per_practice, practice, pick)
    female = rng.random(n) < 0.51
    return Population(
        practice_codes=np.array([p["ods_code"] for p in practices], dtype=object),
        practice=practice,
        locality_codes=loc_codes,
        nhs=nhs_numbers(loc_index, serial),
        female=female,
        dob=dob,
        deficits=deficits,
        ltc=ltc,
        cost_persist=rng.normal(-0.25, 0.42, n) + 0.05 * base_ltc,
        cost_noise=rng.normal(0, 0.12, (n, QUARTERS)),
        enters=enters,
        leaves=leaves,
        home=home,
        eol_risk=rng.random(n) < 0.002 + 0.09 * (base_def >= 9) + 0.16 * (base_def >= 13) + 0.10 * in_home,
        # People join the register as they decline, so its share of the cohort holds steady as the cohort grows.
        eol_from=rng.integers(-QUARTERS, QUARTERS + 2, n),
        housebound_risk=(~in_home) & (rng.random(n) < np.where(age_i >= 75, 0.08, 0.004) + 0.02 * (base_def >= 9)),
        given_ix=rng.integers(0, 1 << 30, n),
        family_ix=rng.integers(0, len(name_pools["family"]), n),
        postcode_ix=np.column_stack([rng.integers(1, 10, n), rng.integers(0, 20, n), rng.integers(0, 20, n)]),
        districts=district,
        district_names=district_names,
    )


# England's 65+ by five-year band to 90 (ONS mid-2021 shape), then a tail that halves about every year and a
# half: centenarians are about one in a thousand of the 65+, so a frail cohort drawn from them has a median in the
# low 80s and only a handful over 100.
_OLD_BANDS = np.array([65, 70, 75, 80, 85, 90])
_OLD_SHARES = np.array([27.6, 26.7, 19.0, 13.3, 8.1, 5.3])
_TAIL_RATE = 0.55  # per year past 90


def _older_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    band = rng.choice(len(_OLD_SHARES), size=n, p=_OLD_SHARES / _OLD_SHARES.sum())
    within = np.where(
        band == len(_OLD_SHARES) - 1, np.minimum(rng.exponential(1 / _TAIL_RATE, n), 18), rng.uniform(0, 5, n)
    )
    return _OLD_BANDS[band] + within


def _vector_districts(per_practice: list[np.ndarray], practice: np.ndarray, pick: np.ndarray) -> np.ndarray:
    width = max(len(d) for d in per_practice)
    grid = np.array([[d[k % len(d)] for k in range(width)] for d in per_practice])
    return grid[practice, pick % width]


def quarter(pop: Population, q: int, extract_date: dt.date) -> dict[str, np.ndarray]:
    """The numeric extract columns of quarter *q*, for everyone registered then (plus their row numbers)."""
    rows = np.flatnonzero(pop.present(q))
    age = (np.datetime64(extract_date, "D") - pop.dob[rows]).astype(np.int64) / 365.25
    ltc = pop.ltc[rows, q]
    deficits = pop.deficits[rows, q]
    expected = np.round(220 + 9.0 * age + 160 * ltc, 2)
    predicted = np.round(expected * np.exp(pop.cost_persist[rows] + 0.06 * ltc + pop.cost_noise[rows, q]), 2)
    logit = -6.0 + 0.035 * age + 0.28 * ltc + 0.12 * deficits + pop.cost_noise[rows, q]
    return {
        "rows": rows,
        "nhs_number": pop.nhs[rows],
        "date_of_birth": pop.dob[rows],
        "ltc_count": ltc.astype(np.int64),
        "efi_deficits": deficits.astype(np.int64),
        "efi_score": np.round(deficits / 36, 4),
        "prob_unplanned_admission": np.round(1 / (1 + np.exp(-logit)), 4),
        "predicted_cost": predicted,
        "expected_cost": expected,
        "eol_register": pop.eol_risk[rows] & (pop.eol_from[rows] <= q),
        "housebound": pop.housebound_risk[rows],
    }


def text_columns(pop: Population, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Names, sex, postcode, practice and care home for the given population rows only."""
    pools = names()
    female = np.array(pools["given_female"], dtype=object)
    male = np.array(pools["given_male"], dtype=object)
    fem = pop.female[rows]
    gix = pop.given_ix[rows]
    given = np.where(fem, female[gix % len(female)], male[gix % len(male)])
    pc_ix = pop.postcode_ix[rows]
    postcode = (
        pop.district_names[pop.districts[rows]]
        + " "
        + pc_ix[:, 0].astype(str).astype(object)
        + _LETTERS[pc_ix[:, 1]]
        + _LETTERS[pc_ix[:, 2]]
    )
    return {
        "given_name": given,
        "family_name": np.array(pools["family"], dtype=object)[pop.family_ix[rows]],
        "sex": np.where(fem, "F", "M").astype(object),
        "postcode": postcode,
        "practice_code": pop.practice_codes[pop.practice[rows]],
        "care_home_id": pop.home[rows],
    }
