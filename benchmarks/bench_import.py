"""Risk import of a 1.1-million-row extract against pandas' pyarrow parse of the same file (DESIGN §13: ≤ 3×),
and a 100,000-row locality extract (well under a second)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pandas as pd
from common import OUT, Result, median_seconds

from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.demo.extract import write_extract

ACTOR = Actor(user="bench", device_id="bench")
# Each extract is imported under its own date, as a user would: a later date than the file's would reject
# nobody, an earlier one would reject the babies born since.
Q2, Q3 = dt.date(2026, 8, 15), dt.date(2026, 11, 15)


def extract(rows: int, locality: str = "CHA", day: dt.date = Q3) -> str:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{locality.lower()}-{rows}-{day.isoformat()}.csv"
    if not path.exists():
        write_extract(path, locality, rows, extract_date=day)
    return str(path)


def empty_world() -> str:
    OUT.mkdir(exist_ok=True)
    template = OUT / "reference-world.sqlite"
    if not template.exists():
        db = open_workspace(template)
        build_demo(db, history=False)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    return str(template)


def fresh_copy(name: str) -> str:
    dest = OUT / name
    for suffix in ("", "-wal", "-shm"):
        if (OUT / (name + suffix)).exists():
            (OUT / (name + suffix)).unlink()
    src = sqlite3.connect(empty_world())
    out = sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return str(dest)


def run(runs: int = 5) -> list[Result]:
    big = extract(1_100_000)
    pandas_s = median_seconds(lambda: pd.read_csv(big, engine="pyarrow"), runs)
    state = {}

    def first_setup():
        state["db"] = open_workspace(fresh_copy("bench-first.sqlite"))

    first = median_seconds(lambda: import_extract(state["db"], ACTOR, "CHA", big, Q3), runs, first_setup)

    previous = extract(1_100_000, day=Q2)

    def again_setup():
        path = fresh_copy("bench-again.sqlite")
        state["db"] = open_workspace(path)
        import_extract(state["db"], ACTOR, "CHA", previous, Q2)

    again = median_seconds(lambda: import_extract(state["db"], ACTOR, "CHA", big, Q3), runs, again_setup)
    small = extract(100_000)
    small_s = median_seconds(
        lambda: import_extract(state["db"], ACTOR, "CHA", small, Q3),
        runs,
        lambda: state.update(db=open_workspace(fresh_copy("bench-small.sqlite"))),
    )
    pandas_small = median_seconds(lambda: pd.read_csv(small, engine="pyarrow"), runs)
    return [
        Result(
            "import 1.1M rows, first run of a locality",
            "≤ 3× pandas pyarrow parse",
            f"{first:.2f} s vs pandas {pandas_s:.2f} s = {first / pandas_s:.2f}×",
            first <= 3 * pandas_s,
            "cohort ≈ 57,000 stored",
        ),
        Result(
            "import 1.1M rows, next quarter (re-import with diff)",
            "≤ 3× pandas pyarrow parse",
            f"{again:.2f} s vs pandas {pandas_s:.2f} s = {again / pandas_s:.2f}×",
            again <= 3 * pandas_s,
        ),
        Result(
            "import 100k-row locality extract",
            "well under 1 s",
            f"{small_s:.2f} s (pandas parse {pandas_small:.2f} s)",
            small_s < 1.0,
        ),
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
