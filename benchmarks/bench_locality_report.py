"""The quarterly locality PDF for one locality on the full demo world (DESIGN §13: under 3 s)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench_kpi import demo_world
from common import Result, median_seconds
from pypdf import PdfReader

from desktop.models import quarters
from desktop.models.kpi.catalogue import catalogue
from desktop.models.kpi.locality_figures import gather
from desktop.models.workspace import data_ends
from desktop.reports.locality_report import build_report
from desktop.reports.outcomes_page import for_report


def run(runs: int = 3) -> list[Result]:
    db = demo_world()
    day = data_ends(db)  # the day the demo world's history runs up to
    quarter = quarters.of(day).previous()  # the last finished quarter, signed off in the demo
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "locality.pdf"
        # What export() does but its one audit row: the benchmark leaves the shared demo world unchanged.
        (locality_id,) = db.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()

        def report() -> None:
            build_report(gather(db, "CHA", quarter, day), out, outcomes=for_report(db, locality_id, quarter))

        seconds = median_seconds(report, runs)
        pages = len(PdfReader(out).pages)
    return [
        Result(
            f"Locality report PDF, CHA {quarter.label}",
            "< 3 s",
            f"{seconds:.2f} s",
            seconds < 3.0,
            f"{len(catalogue())} KPIs, 24-month SPC series, the Outcomes page, {pages} pages; full demo world",
        )
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
