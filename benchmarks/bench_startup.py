"""Cold start to a painted main window (< 2 s), opening each main screen (< 300 ms) and peak memory (< 500 MB)
on the full demo world, through the app's own start-up path in a fresh process each time (offscreen)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_kpi import demo_world
from common import HERE, Result

ROOT = HERE.parent


def _child(db: Path, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "LOCALITY_DESK_HOME": home,
            "XDG_CONFIG_HOME": home,
            "PYTHONPATH": str(ROOT),
        }
        launched = time.time()
        out = subprocess.run(
            [sys.executable, str(HERE / "gui_child.py"), str(db), mode, repr(launched)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
    if out.returncode != 0:
        raise RuntimeError(f"the app did not start: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(runs: int = 5) -> list[Result]:
    path = Path(demo_world().execute("PRAGMA database_list").fetchone()[2])
    _child(path, "start")  # the first run warms the OS file cache, as on a laptop used every day
    starts = [_child(path, "start")["start"] for _ in range(runs)]
    tour = _child(path, "tour")
    screens = tour["screens"]
    slowest = max(screens, key=screens.get)
    start = statistics.median(starts)
    return [
        Result(
            "cold start to the painted main window",
            "< 2 s",
            f"{start:.2f} s",
            start < 2.0,
            f"process launch to first paint, run_gui on the full demo world; runs: "
            f"{', '.join(f'{s:.2f}' for s in starts)}",
        ),
        Result(
            "opening each main screen",
            "< 300 ms",
            f"slowest {slowest} {screens[slowest] * 1000:.0f} ms",
            screens[slowest] < 0.3,
            "to painted, ms: "
            + ", ".join(f"{k} {v * 1000:.0f}" for k, v in screens.items())
            + "; with what each defers past its first paint (charts): "
            + ", ".join(f"{k} {v * 1000:.0f}" for k, v in tour["settled"].items()),
        ),
        Result(
            "peak memory, start and every screen",
            "< 500 MB",
            f"{tour['peak_mb']:.0f} MB",
            tour["peak_mb"] < 500,
            "peak resident set (VmHWM) of the app process",
        ),
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
