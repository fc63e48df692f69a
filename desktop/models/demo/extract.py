"""Synthetic risk extracts in the canonical columns of DESIGN §6.1, at any size up to all of LLR.

Vectorised with numpy so that an extract of 1.1 million rows takes seconds. NHS numbers are valid
(modulus 11) and drawn only from 9000000000–9999999999, the range never issued to real patients.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import sqlite_utils

from ..errors import ValidationError
from ..migrations import MIGRATIONS
from . import DEFAULT_SEED, DemoContext
from .reference_world import build_reference, locality_table, names

CANONICAL_COLUMNS = [
    "nhs_number", "given_name", "family_name", "date_of_birth", "sex", "postcode", "practice_code",
    "ltc_count", "efi_score", "prob_unplanned_admission", "predicted_cost", "expected_cost", "care_home_id",
    "eol_register", "housebound",
]
DEFAULT_EXTRACT_DATE = dt.date(2026, 10, 1)
_BLOCK = 9_000_000  # nine-digit stems per locality: 11 blocks fill 900000000–998999999
_STEP = 7919  # coprime with _BLOCK, so stem order looks random yet never repeats
_WEIGHTS = np.arange(10, 1, -1)


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
        digits = (stems[:, None] // 10 ** np.arange(8, -1, -1)) % 10
        check = 11 - (digits @ _WEIGHTS) % 11
        check[check == 11] = 0
        valid = check != 10
        numbers = stems[valid] * 10 + check[valid]
        out[mask] = numbers[wanted]
    return out


def patients_frame(locality: str, rows: int, seed: int = DEFAULT_SEED,
                   extract_date: dt.date = DEFAULT_EXTRACT_DATE,
                   db: sqlite_utils.Database | None = None) -> pd.DataFrame:
    """A synthetic registered population for *locality* (a code, or ALL for the whole of LLR)."""
    if rows < 1:
        raise ValidationError("--rows must be at least 1.")
    table = {loc["code"]: (i, loc) for i, loc in enumerate(locality_table())}
    if locality != "ALL" and locality not in table:
        raise ValidationError(f"Unknown locality '{locality}'. Known: ALL, {', '.join(table)}.")
    db = db or reference_snapshot(seed)
    where, params = "", []
    if locality != "ALL":
        where, params = "WHERE l.code = ?", [locality]
    practices = list(db.query(
        f"SELECT p.ods_code, p.list_size, l.code AS loc FROM practices p JOIN localities l ON l.id = p.locality_id "
        f"{where} ORDER BY p.ods_code", params))
    homes = list(db.query(
        f"SELECT h.cqc_id, h.beds, l.code AS loc FROM care_homes h JOIN localities l ON l.id = h.locality_id "
        f"{where} ORDER BY h.cqc_id", params))
    rng = np.random.default_rng([seed, rows, sum(ord(c) for c in locality)])

    sizes = np.array([p["list_size"] for p in practices], dtype=float)
    practice_ix = rng.choice(len(practices), size=rows, p=sizes / sizes.sum())
    practice_ix.sort()
    loc_codes = np.array([p["loc"] for p in practices])[practice_ix]
    loc_index = np.array([table[c][0] for c in loc_codes])
    pct65 = np.array([table[c][1]["pct_65_plus"] for c in loc_codes])

    serial = np.zeros(rows, dtype=np.int64)
    for li in np.unique(loc_index):
        mask = loc_index == li
        serial[mask] = np.arange(mask.sum())
    nhs = nhs_numbers(loc_index, serial)

    old = rng.random(rows) < pct65
    age = np.where(old, 65 + np.minimum(rng.gamma(1.6, 7.5, rows), 39), rng.uniform(0, 65, rows)).astype(int)
    sex = np.where(rng.random(rows) < 0.51, "F", "M")
    dob = pd.Timestamp(extract_date) - pd.to_timedelta(age * 365.25 + rng.uniform(0, 364, rows), unit="D")

    ltc = rng.poisson(0.05 + (age / 55.0) ** 2.5)
    deficits = np.where(age >= 60, rng.poisson(np.clip((age - 58) / 3.8, 0, None)), rng.poisson(0.4, rows))
    deficits = np.minimum(deficits + (ltc >= 4) * rng.integers(0, 4, rows), 36)
    efi = np.round(deficits / 36, 4)
    logit = -6.0 + 0.035 * age + 0.28 * ltc + 0.12 * deficits + rng.normal(0, 0.4, rows)
    prob = np.round(1 / (1 + np.exp(-logit)), 4)
    expected = np.round(220 + 9.0 * age + 160 * ltc, 2)
    predicted = np.round(expected * rng.lognormal(-0.15 + 0.06 * ltc, 0.5, rows), 2)

    home_col = np.full(rows, "", dtype=object)
    if homes:
        eligible = np.flatnonzero(age >= 75)
        beds = np.array([h["beds"] for h in homes], dtype=float)
        home_locs = np.array([h["loc"] for h in homes])
        take = min(len(eligible), int(beds.sum() * 0.9 * rows / max(sizes.sum(), rows)))
        if take:
            chosen = rng.choice(eligible, size=take, replace=False)
            for code in np.unique(loc_codes[chosen]):
                in_loc = chosen[loc_codes[chosen] == code]
                hix = np.flatnonzero(home_locs == code)
                if len(hix):
                    home_col[in_loc] = np.array([homes[i]["cqc_id"] for i in hix])[
                        rng.choice(len(hix), size=len(in_loc), p=beds[hix] / beds[hix].sum())]
    in_home = home_col != ""
    eol = (rng.random(rows) < 0.002 + 0.03 * (deficits >= 13) + 0.04 * in_home)
    housebound = (~in_home) & (rng.random(rows) < np.where(age >= 75, 0.08, 0.004) + 0.02 * (deficits >= 9))

    n = names()
    female = np.array(n["given_female"], dtype=object)
    male = np.array(n["given_male"], dtype=object)
    given = np.where(sex == "F", female[rng.integers(0, len(female), rows)], male[rng.integers(0, len(male), rows)])
    family = np.array(n["family"], dtype=object)[rng.integers(0, len(n["family"]), rows)]
    districts = np.array([rng.choice(table[c][1]["postcode_districts"]) for c in loc_codes], dtype=object)
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)
    postcode = (districts + " " + rng.integers(1, 10, rows).astype(str).astype(object)
                + letters[rng.integers(0, 20, rows)] + letters[rng.integers(0, 20, rows)])

    return pd.DataFrame({
        "nhs_number": nhs.astype(str),
        "given_name": given,
        "family_name": family,
        "date_of_birth": dob.strftime("%d/%m/%Y"),
        "sex": sex,
        "postcode": postcode,
        "practice_code": np.array([p["ods_code"] for p in practices])[practice_ix],
        "ltc_count": ltc,
        "efi_score": efi,
        "prob_unplanned_admission": prob,
        "predicted_cost": predicted,
        "expected_cost": expected,
        "care_home_id": home_col,
        "eol_register": np.where(eol, "Y", "N"),
        "housebound": np.where(housebound, "Y", "N"),
    }, columns=CANONICAL_COLUMNS)


def write_extract(out: str | Path, locality: str, rows: int, seed: int = DEFAULT_SEED,
                  extract_date: dt.date = DEFAULT_EXTRACT_DATE) -> int:
    frame = patients_frame(locality, rows, seed=seed, extract_date=extract_date)
    frame.to_csv(out, index=False)
    return len(frame)
