"""KPI computation for all 11 localities × 8 quarters on the full demo world (DESIGN §13: under 1 s)."""

from __future__ import annotations

from common import OUT, Result, median_seconds

from desktop.models import quarters
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.models.kpi import compute as kpi_compute
from desktop.models.kpi.catalogue import catalogue
from desktop.models.workspace import data_ends


def demo_world():
    path = OUT / "demo-world.sqlite"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        db = open_workspace(path)
        build_demo(db)
        db.close()
    return open_workspace(path)


def run(runs: int = 5) -> list[Result]:
    db = demo_world()
    day = data_ends(db)  # the day the demo world's history runs up to
    localities = [r[0] for r in db.execute("SELECT id FROM localities")]
    first = quarters.of(day)
    span = [first.previous()]
    while len(span) < 8:
        span.append(span[-1].previous())

    def all_of_them():
        shared: dict = {}
        for loc in localities:
            for q in span:
                kpi_compute.compute(db, loc, q, day, shared)

    seconds = median_seconds(all_of_them, runs)
    return [
        Result(
            f"KPIs, {len(localities)} localities × {len(span)} quarters",
            "< 1 s",
            f"{seconds:.2f} s",
            seconds < 1.0,
            f"{sum(k.source == 'computed' for k in catalogue())} computed KPIs each; full demo world",
        )
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
