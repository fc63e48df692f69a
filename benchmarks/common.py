"""Shared benchmark plumbing: medians of repeated runs, the machine, and RESULTS.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"  # generated inputs, git-ignored
RESULTS = HERE / "RESULTS.md"


@dataclass
class Result:
    name: str
    budget: str
    measured: str
    passed: bool
    note: str = ""


def median_seconds(fn: Callable[[], object], runs: int = 5, setup: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(runs):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    mem_kb = 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
    except OSError:
        pass
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, Python {platform.python_version()}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def table(results: list[Result]) -> str:
    lines = ["| benchmark | budget | measured (median) | pass | note |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.name} | {r.budget} | {r.measured} | {'PASS' if r.passed else 'FAIL'} | {r.note} |")
    return "\n".join(lines)


def record(results: list[Result], command: str) -> None:
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    block = f"\n## {stamp} — commit {commit()}\n\nCommand: `{command}`  \nMachine: {machine()}\n\n{table(results)}\n"
    with open(RESULTS, "a", encoding="utf-8") as fh:
        fh.write(block)


def peak_rss_mb() -> float:
    """This process's peak resident memory as the kernel counts it (VmHWM). Not getrusage's ru_maxrss: Linux
    carries that across execve, so a child started by a big parent would report the parent's size."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")
