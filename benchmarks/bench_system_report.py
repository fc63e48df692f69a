"""The system report for the latest held quarter on the full demo world (DESIGN §13: under 15 s), both as
the commissioners' working copy and for publication (suppression and the disclosure check)."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from bench_kpi import demo_world
from common import Result, median_seconds
from pypdf import PdfReader

from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.kpi import consolidated
from desktop.reports import system_report

ACTOR = Actor(user="benchmark", device_id="bench")


def run(runs: int = 3) -> list[Result]:
    source = demo_world()
    with tempfile.TemporaryDirectory() as tmp:
        # Each export writes an audit row; work on a copy so the shared demo world is left as built.
        copy = Path(tmp) / "world.sqlite"
        out = sqlite3.connect(copy)
        source.conn.backup(out)
        out.close()
        source.close()
        db = open_workspace(copy)
        quarter = consolidated.held_quarters(db)[-1]
        results = []
        for publication in (False, True):
            pdf = Path(tmp) / f"system-{publication}.pdf"
            seconds = median_seconds(
                lambda p=pdf, pub=publication: system_report.export(db, ACTOR, quarter, p, pub), runs
            )
            pages = len(PdfReader(pdf).pages)
            results.append(
                Result(
                    f"System report {quarter.label}" + (", for publication" if publication else ""),
                    "< 15 s",
                    f"{seconds:.2f} s",
                    seconds < 15.0,
                    f"full demo world, 11 teams, {pages} pages",
                )
            )
        db.close()
    return results


if __name__ == "__main__":
    from common import table

    print(table(run()))
