"""Synthetic risk extracts in the canonical columns of DESIGN §6.1, at any size up to all of LLR."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import sqlite_utils

from .. import clock
from ..errors import ValidationError
from ..outcomes.records import COLUMN
from .context import DEFAULT_SEED
from .outcomes import joined_rows, make_use
from .population import (
    QUARTERS,
    extract_dates,
    make_population,
    natural_size,
    quarter,
    reference_snapshot,
    text_columns,
)
from .reference_world import locality_table

__all__ = ["CANONICAL_COLUMNS", "patients_frame", "reference_snapshot", "write_extract"]

CANONICAL_COLUMNS = [
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "postcode",
    "practice_code",
    "ltc_count",
    "efi_score",
    "prob_unplanned_admission",
    "predicted_cost",
    "expected_cost",
    "care_home_id",
    "eol_register",
    "housebound",
    *COLUMN.values(),
]
PART = 100_000  # people whose use is made at a time (all of LLR at once would hold ~1 GB)


def patients_frame(
    locality: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    extract_date: dt.date | None = None,
    db: sqlite_utils.Database | None = None,
    today: dt.date | None = None,
) -> pa.Table:
    """A synthetic registered population for *locality* (a code, or ALL for the whole of LLR).

    For one locality, up to its registered list size, the rows are the demo world's own population one
    quarter on (a random sample of it when fewer rows are asked for), so importing the file into the demo
    world built on *today* (the clock's day unless given) shows a believable quarter's new, left and changed.
    The extract is dated the latest extract day on or before *today* unless *extract_date* is given. Larger
    sizes, and ALL, are a fresh population.
    """
    today = today or clock.today()
    dates = extract_dates(today)
    extract_date = extract_date or dates[-1]
    if rows < 1:
        raise ValidationError("--rows must be at least 1.")
    known = [loc["code"] for loc in locality_table()]
    if locality != "ALL" and locality not in known:
        raise ValidationError(f"Unknown locality '{locality}'. Known: ALL, {', '.join(known)}.")
    db = db or reference_snapshot(seed)
    natural = natural_size(db, locality) if locality != "ALL" else 0
    pop = make_population(locality, natural, seed=seed, db=db, born_before=dates[0]) if rows <= natural else None
    v = quarter(pop, QUARTERS - 1, extract_date) if pop is not None else {}
    if pop is None or rows > len(v["rows"]):
        pop = make_population(locality, rows, seed=seed, db=db, born_before=extract_date)
        v = quarter(pop, 0, extract_date)
        use = _fresh_use(pop, seed, locality, today)
        v |= {column: use[outcome][v["rows"]] for outcome, column in COLUMN.items()}
    else:
        # The world's own population one quarter on: its use carries on from the world's runs. Built on a world
        # (db) whose caseload is known, the caseload's effect carries on too; on the reference data alone no one
        # has joined, so the joiners' values are drawn as if they had not.
        made = make_use(pop, seed, locality, today, joined_rows(db, _locality_id(db, locality), pop))
        v |= {column: made.use[outcome][v["rows"], QUARTERS - 1] for outcome, column in COLUMN.items()}
    if rows < len(v["rows"]):
        keep = np.sort(np.random.default_rng([seed, rows]).choice(len(v["rows"]), rows, replace=False))
        v = {k: a[keep] for k, a in v.items()}
    text = text_columns(pop, v["rows"])
    iso = np.datetime_as_string(np.asarray(v["date_of_birth"], dtype="datetime64[D]"), unit="D").tolist()
    columns = {
        "nhs_number": v["nhs_number"].astype(str),
        "given_name": text["given_name"],
        "family_name": text["family_name"],
        "date_of_birth": [f"{d[8:10]}/{d[5:7]}/{d[:4]}" for d in iso],  # as practice systems write it
        "sex": text["sex"],
        "postcode": text["postcode"],
        "practice_code": text["practice_code"],
        "ltc_count": v["ltc_count"],
        "efi_score": v["efi_score"],
        "prob_unplanned_admission": v["prob_unplanned_admission"],
        "predicted_cost": v["predicted_cost"],
        "expected_cost": v["expected_cost"],
        "care_home_id": text["care_home_id"],
        "eol_register": ["Y" if x else "N" for x in v["eol_register"]],
        "housebound": ["Y" if x else "N" for x in v["housebound"]],
        **{column: v[column].astype(np.int64) for column in list(COLUMN.values())[:3]},
        "cost_12m": np.round(v["cost_12m"], 2),
    }
    return pa.table({name: pa.array(columns[name]) for name in CANONICAL_COLUMNS})


def _fresh_use(pop, seed: int, locality: str, today: dt.date) -> dict[str, np.ndarray]:
    """A fresh population's use in the year before its first extract, made a part at a time."""
    n = len(pop.nhs)
    parts = [make_use(pop, seed, locality, today, part=(a, min(a + PART, n))) for a in range(0, n, PART)]
    return {o: np.concatenate([p.use[o][:, 0] for p in parts]) for o in COLUMN}


def _locality_id(db: sqlite_utils.Database, code: str) -> str | None:
    row = db.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()
    return row[0] if row else None


def write_extract(
    out: str | Path,
    locality: str,
    rows: int,
    seed: int = DEFAULT_SEED,
    extract_date: dt.date | None = None,
    today: dt.date | None = None,
) -> int:
    table = patients_frame(locality, rows, seed=seed, extract_date=extract_date, today=today)
    # The csv module, not pyarrow's writer (which quotes every text cell): a practice system's plain CSV, each
    # number as Python writes it.
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(table.column_names)
        writer.writerows(zip(*(table.column(name).to_pylist() for name in table.column_names), strict=True))
    return table.num_rows
