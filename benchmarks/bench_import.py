"""Risk import on extracts that vary as real ones do (DESIGN §13, issue 22 point 5), each figure beside its floor.

For every variant of extract_variants.py (cohort 3 % to 20 %, ISO and UK dates in one column, Windows-1252,
semicolons, every field quoted, thousands separators; 1.1 M rows and a 100 k locality extract) and for its first
import and its re-import a quarter on (~10 % of patients changed):

- the whole command, `python -m desktop import-risk ...` from process start, against the floor: a process that
  imports pandas and parses the same file with `pd.read_csv(FILE, engine="pyarrow")` (given the file's separator
  and encoding, so that it parses the columns the import reads). Budget: ≤ 3×.
- the import's peak memory (max RSS of that process, from /usr/bin/time). Budget: ≤ 400 MB at 1.1 M rows.
- in this process, import_extract against pd.read_csv alone (imports excluded on both sides): aimed at ≤ 3×.

`python benchmarks/bench_import.py [--runs N] [--record] [--only NAME,...]`; run_all.py calls run().
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import OUT, RESULTS, Result, commit, machine, median_seconds
from extract_variants import Q2, Q3, VARIANTS, Variant, write_variant

from desktop.models.clock import Actor

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Kept for the other benchmarks that import them (bench_cohort_filter, scaling_child).
ACTOR = Actor(user="bench", device_id="bench")
TIME = shutil.which("time") or "/usr/bin/time"
LOCALITY = "CHA"
PEAK_BUDGET_MB = 400


def extract(rows: int, locality: str = "CHA", day: dt.date = Q3) -> str:
    """The demo generator's own extract (the other benchmarks' input)."""
    from desktop.models.demo.extract import write_extract

    OUT.mkdir(exist_ok=True)
    path = OUT / f"{locality.lower()}-{rows}-{day.isoformat()}.csv"
    if not path.exists():
        write_extract(path, locality, rows, extract_date=day)
    return str(path)


def empty_world() -> str:
    """The benchmark's workspace: build_demo's reference data (the localities and their practices), no runs."""
    from desktop.models.db import open_workspace
    from desktop.models.demo import build_demo

    OUT.mkdir(exist_ok=True)
    template = OUT / "reference-world.sqlite"
    if not template.exists():
        db = open_workspace(template)
        build_demo(db, history=False)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    return str(template)


def fresh_copy(name: str, source: str | None = None) -> str:
    """A copy of *source* (default: the empty world) under benchmarks/out/, its WAL files cleared first."""
    dest = OUT / name
    for suffix in ("", "-wal", "-shm"):
        if (OUT / (name + suffix)).exists():
            (OUT / (name + suffix)).unlink()
    src = sqlite3.connect(source or empty_world())
    out = sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return str(dest)


@dataclass
class Timed:
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("nan")


def process(args: list[str], timed: Timed) -> str:
    """Run *args* as a process from start to exit: wall time, and max RSS from /usr/bin/time (a small parent, so
    the figure is the child's own: getrusage in this process would carry this process's size across exec)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        command = [TIME, "-f", "%M", "-o", rss.name, *args] if os.path.exists(TIME) else args
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        timed.seconds.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
        if os.path.exists(TIME):
            timed.peak_mb.append(int(rss.read().split()[-1]) / 1024)
        return done.stdout


def floor_options(v: Variant) -> dict[str, str]:
    """What pd.read_csv must be told to parse the variant's columns (its default is commas and UTF-8)."""
    options = {"engine": "pyarrow"}
    if v.delimiter != ",":
        options["sep"] = v.delimiter
    if v.encoding != "utf-8":
        options["encoding"] = v.encoding
    return options


def floor_code(v: Variant, path: Path) -> str:
    options = "".join(f", {k}={value!r}" for k, value in floor_options(v).items())
    return f"pd.read_csv({str(path)!r}{options})"


def import_command(db: str, path: Path, day: dt.date) -> list[str]:
    return [
        PYTHON,
        "-m",
        "desktop",
        "import-risk",
        "--db",
        db,
        "--locality",
        LOCALITY,
        "--extract-date",
        day.isoformat(),
        "--json",
        str(path),
    ]


@dataclass
class Figures:
    variant: Variant
    floor: dict[str, Timed] = field(default_factory=dict)  # by quarter: "first", "again"
    whole: dict[str, Timed] = field(default_factory=dict)
    bare: dict[str, float] = field(default_factory=dict)  # pd.read_csv alone, in process
    inside: dict[str, float] = field(default_factory=dict)  # import_extract, in process
    cohort: dict[str, int] = field(default_factory=dict)
    diff: dict[str, str] = field(default_factory=dict)


def measure(v: Variant, runs: int) -> Figures:
    import json

    import pandas as pd

    from desktop.models.cohort.risk_import import import_extract
    from desktop.models.db import open_workspace

    this, previous = write_variant(v)
    figures = Figures(v)
    tag = v.name
    # The re-import starts from the first import, made once.
    base = fresh_copy(f"bench-{tag}-base.sqlite")
    process(import_command(base, previous, Q2), Timed())
    for quarter, path, day in (("first", previous, Q2), ("again", this, Q3)):
        floor, whole = Timed(), Timed()
        code = f"import pandas as pd; {floor_code(v, path)}"
        for _ in range(runs):  # floor and import in turn, so that a drift of the machine's speed hits both
            process([PYTHON, "-c", code], floor)
            db = fresh_copy(f"bench-{tag}.sqlite", None if quarter == "first" else base)
            out = process(import_command(db, path, day), whole)
        result = json.loads(out)
        figures.floor[quarter], figures.whole[quarter] = floor, whole
        figures.cohort[quarter] = result["cohort"]["total"]
        figures.diff[quarter] = f"{result['new']:,} new, {result['left']:,} left, {result['changed']:,} changed"
        figures.bare[quarter] = median_seconds(lambda path=path: pd.read_csv(path, **floor_options(v)), runs)
        state = {}

        def setup(quarter=quarter, state=state):
            state["db"] = open_workspace(fresh_copy(f"bench-{tag}-in.sqlite", None if quarter == "first" else base))

        figures.inside[quarter] = median_seconds(
            lambda path=path, day=day, state=state: import_extract(state["db"], ACTOR, LOCALITY, path, day),
            runs,
            setup,
        )
    return figures


def stage_profile(v: Variant) -> dict[str, float]:
    """Seconds in each stage of one in-process re-import of *v* (the reader's parse runs on its own thread,
    beside the rules; the population summary runs on the second core beside the comparison)."""
    from desktop.models.cohort import extract_chunks, extract_rules, risk_import
    from desktop.models.db import open_workspace

    this, previous = write_variant(v)
    base = fresh_copy(f"bench-{v.name}-base.sqlite")
    process(import_command(base, previous, Q2), Timed())
    db = open_workspace(fresh_copy(f"bench-{v.name}-profile.sqlite", base))
    spent: dict[str, float] = {}
    wrapped = [
        (extract_chunks, "_parse_block", "reading: parse blocks (reader thread)"),
        (extract_rules, "_check_batch", "checking: rules per batch"),
        (extract_rules, "_reject_duplicates", "checking: duplicates across the file"),
        (risk_import, "_find_cohort", "cohort: criteria"),
        (risk_import, "compare_with_previous", "compare: new, left, changed, patient ids"),
        (risk_import, "_cohort_table", "store: cohort table"),
        (risk_import, "_insert_run", "store: run row and compressed cohort"),
    ]
    originals = []
    for module, name, label in wrapped:
        fn = getattr(module, name)
        originals.append((module, name, fn))

        def timing(*a, fn=fn, label=label, **k):
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        setattr(module, name, timing)
    try:
        start = time.perf_counter()
        checked = risk_import.check_extract(db, LOCALITY, this, Q3)
        spent["read and check, all told"] = time.perf_counter() - start
        start = time.perf_counter()
        risk_import.store_run(db, ACTOR, LOCALITY, checked, this.name, Q3)
        spent["stratify, compare and store, all told"] = time.perf_counter() - start
    finally:
        for module, name, fn in originals:
            setattr(module, name, fn)
    return spent


def table(all_figures: list[Figures]) -> str:
    lines = [
        "| variant | profile | import | whole command (median) | floor: process + pd.read_csv | ratio | "
        "in process vs pd.read_csv alone | peak MB | cohort |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for f in all_figures:
        for quarter, label in (("first", "first"), ("again", "re-import")):
            w, fl = f.whole[quarter], f.floor[quarter]
            ratio = w.median / fl.median
            inside = f.inside[quarter] / f.bare[quarter]
            lines.append(
                f"| {f.variant.name} | {f.variant.profile} | {label} | {w.median:.2f} s | {fl.median:.2f} s | "
                f"**{ratio:.2f}×** | {f.inside[quarter]:.2f} s vs {f.bare[quarter]:.2f} s = {inside:.2f}× | "
                f"{w.peak:.0f} (floor {fl.peak:.0f}) | {f.cohort[quarter]:,}"
                + (f" ({f.diff[quarter]})" if quarter == "again" else "")
                + " |"
            )
    return "\n".join(lines)


def results(all_figures: list[Figures]) -> list[Result]:
    out = []
    for f in all_figures:
        large = f.variant.rows >= 1_000_000
        for quarter, label in (("first", "first import"), ("again", "re-import")):
            w, fl = f.whole[quarter], f.floor[quarter]
            ratio = w.median / fl.median
            passed = ratio <= 3 and (not large or w.peak <= PEAK_BUDGET_MB)
            budget = "≤ 3× process + pyarrow parse" + (f", peak ≤ {PEAK_BUDGET_MB} MB" if large else ", well under 1 s")
            if not large:
                passed = passed and f.inside[quarter] < 1.0
            out.append(
                Result(
                    f"import {f.variant.name}, {label}",
                    budget,
                    f"{w.median:.2f} s vs {fl.median:.2f} s = {ratio:.2f}×, peak {w.peak:.0f} MB; in process "
                    f"{f.inside[quarter]:.2f} s vs parse {f.bare[quarter]:.2f} s",
                    passed,
                    f"{f.variant.profile}; cohort {f.cohort[quarter]:,}",
                )
            )
    return out


def run(runs: int = 3, only: list[str] | None = None) -> list[Result]:
    return results([measure(v, runs) for v in VARIANTS if not only or v.name in only])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="variants to run, comma-separated (default: all)")
    parser.add_argument("--record", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    parser.add_argument("--profile", default="", help="a variant whose re-import is profiled stage by stage")
    args = parser.parse_args()
    only = [n for n in args.only.split(",") if n]
    figures = []
    for v in VARIANTS:
        if only and v.name not in only:
            continue
        print(f"{v.name}: {v.profile} ...", flush=True)
        figures.append(measure(v, args.runs))
    text = table(figures)
    print(text)
    profile = ""
    if args.profile:
        spent = stage_profile(next(v for v in VARIANTS if v.name == args.profile))
        profile = "\n".join(
            [f"\nStages of one in-process re-import of {args.profile}:\n", "| stage | seconds |", "|---|---|"]
            + [f"| {k} | {s:.3f} |" for k, s in spent.items()]
        )
        print(profile)
    if args.record:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        command = "python benchmarks/bench_import.py " + " ".join(sys.argv[1:])
        block = (
            f"\n## {stamp} — risk import on varied extracts (issue 22 point 5), commit {commit()}\n\n"
            f"Command: `{command}`  \nMachine: {machine()}\n\n{text}\n{profile}\n"
        )
        with open(RESULTS, "a", encoding="utf-8") as fh:
            fh.write(block)
    return 0 if all(r.passed for r in results(figures)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
