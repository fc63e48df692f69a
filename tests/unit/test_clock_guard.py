"""Time is an input: the app reads "today" and the wall clock only through desktop/models/clock.py.

A direct read elsewhere is a test that passes only in the month it was written, and a screen that goes wrong
as the calendar moves on; this guard finds them in the source, so a new one fails here first.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "desktop"
CLOCK = DESKTOP / "models" / "clock.py"
TESTS = ROOT / "tests"
# (object, attribute) calls that read the machine's clock.
WALL_CLOCK = {
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
    ("QDate", "currentDate"),
    ("QDateTime", "currentDateTime"),
    ("QDateTime", "currentDateTimeUtc"),
    ("QTime", "currentTime"),
}
# SQLite's own clock: date('now'), CURRENT_DATE and friends.
SQL_CLOCK = re.compile(r"""['"]now['"]|\bCURRENT_(DATE|TIME|TIMESTAMP)\b|\bjulianday\(\s*'now'""", re.IGNORECASE)


def clock_reads(source: str) -> list[str]:
    """Each place in *source* that reads the clock directly, as 'line: what'."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in WALL_CLOCK:
                found.append(f"{node.lineno}: {name}.{node.func.attr}()")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_CLOCK.search(node.value):
            found.append(f"{node.lineno}: SQLite clock in {node.value[:60]!r}")
    return found


def test_nothing_outside_the_clock_module_reads_the_clock():
    offenders = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in sorted(DESKTOP.rglob("*.py"))
        if path != CLOCK
        for hit in clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_no_test_reads_the_machines_clock():
    """Tests live on the pinned day (tests/pinned.py) and ask the app's clock for it."""
    offenders = [
        f"{path.relative_to(ROOT)}:{hit}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__)
        for hit in clock_reads(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "line",
    [
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import date\nx = date.today()",
        "import datetime\nx = datetime.datetime.now()",
        "import time\nx = time.time()",
        "db.execute(\"SELECT * FROM actions WHERE due_date < date('now')\")",
        "db.execute('UPDATE t SET at = CURRENT_TIMESTAMP')",
        "from PySide6.QtCore import QDate\nx = QDate.currentDate()",
    ],
)
def test_the_guard_catches_each_way_of_reading_the_clock(line):
    assert clock_reads(line)


def test_the_guard_lets_the_clock_module_and_durations_through():
    assert clock_reads("from desktop.models import clock\nx = clock.today()\ny = time.perf_counter()") == []
    assert clock_reads("note = 'seen now and then'") == []
