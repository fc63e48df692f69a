"""Cold start to a painted main window (≤ 3× a bare PySide6 window's first paint, measured in the same run, and
< 2 s), opening each main screen (< 300 ms) and peak memory (< 300 MB) on the full demo world, through the app's
own start-up path in a fresh process each time (offscreen).

The floor (floor_child.py) is a bare PySide6 window over a 60,000-row table read from the demo world's patients
table with sqlite3, launched the same way; the app and the floor run in turn (app, floor, app, floor …) after one
warm-up each, so both see the same machine."""

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
from common import HERE, OUT, Result

ROOT = HERE.parent


def _child(db: Path, mode: str) -> dict:
    """The app (gui_child.py) in *mode* "start" or "tour", or the floor (floor_child.py) for mode "floor"."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "LOCALITY_DESK_HOME": home,
            "XDG_CONFIG_HOME": home,
            "PYTHONPATH": str(ROOT),
            # As an installed app starts: from bytecode compiled once (by the warm-up run), not from source every
            # time, even where the environment says not to write bytecode (kept apart from the source tree).
            "PYTHONPYCACHEPREFIX": str(OUT / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        launched = time.time()
        command = (
            [str(HERE / "floor_child.py"), str(db), repr(launched)]
            if mode == "floor"
            else [str(HERE / "gui_child.py"), str(db), mode, repr(launched)]
        )
        out = subprocess.run(
            [sys.executable, *command],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
    if out.returncode != 0:
        raise RuntimeError(f"the {mode} child did not start: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(runs: int = 5) -> list[Result]:
    path = Path(demo_world().execute("PRAGMA database_list").fetchone()[2])
    # The first run of each warms the OS file cache, as on a laptop used every day.
    _child(path, "start")
    _child(path, "floor")
    starts, floors = [], []
    for _ in range(runs):
        starts.append(_child(path, "start")["start"])
        floors.append(_child(path, "floor")["start"])
    tour = _child(path, "tour")
    screens = tour["screens"]
    slowest = max(screens, key=screens.get)
    start, floor = statistics.median(starts), statistics.median(floors)
    ratio = start / floor
    return [
        Result(
            "cold start to the painted main window, against a bare PySide6 window",
            "≤ 3× floor",
            f"{start:.2f} s = {ratio:.1f}× floor {floor:.2f} s",
            ratio <= 3.0,
            "process launch to first paint, run_gui on the full demo world (My work), runs: "
            f"{', '.join(f'{s:.2f}' for s in starts)}; floor (floor_child.py: a QMainWindow with a QTableView "
            "over 60,000 rows read from the patients table with sqlite3), runs: "
            f"{', '.join(f'{s:.2f}' for s in floors)}",
        ),
        Result(
            "cold start to the painted main window",
            "< 2 s",
            f"{start:.2f} s",
            start < 2.0,
            "the same runs",
        ),
        Result(
            "opening each main screen",
            "< 300 ms",
            f"slowest {slowest} {screens[slowest] * 1000:.0f} ms",
            screens[slowest] < 0.3,
            f"first visits from {tour['warmed_up']:.1f} s after the first paint (the warm-up's imports done); "
            "to painted, ms: "
            + ", ".join(f"{k} {v * 1000:.0f}" for k, v in screens.items())
            + "; with what each defers past its first paint (charts): "
            + ", ".join(f"{k} {v * 1000:.0f}" for k, v in tour["settled"].items()),
        ),
        Result(
            "peak memory, start and every screen",
            "< 300 MB",
            f"{tour['peak_mb']:.0f} MB",
            tour["peak_mb"] < 300,
            "peak resident set (VmHWM) of the app process",
        ),
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
