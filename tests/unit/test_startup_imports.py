"""Start-up imports nothing heavy before the first paint (issue 26, point 1), and that paint shows real data.

The real start-up path (desktop.app.run_gui, as `locality-desk --db PATH` runs it) in a fresh interpreter, offscreen,
on a copy of the small demo world with history: when the main window is first painted, the child reports what is
in sys.modules and what the window shows. The data libraries are imported only when a screen or a job needs them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from worlds import copy_world

from desktop.models import clock, my_work, workspace
from desktop.models.db import open_workspace

ROOT = Path(__file__).resolve().parents[2]

# numpy is listed too: nothing on the start-up path uses it, it only ever arrives with one of the others.
HEAVY = ("pandas", "pyarrow", "scipy", "reportlab", "openpyxl", "numpy")

CHILD = r"""
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow

app = QApplication(sys.argv[:1])
report = {}
from desktop.settings import Settings

Settings().set("user_name", sys.argv[2])  # as the first-start wizard leaves it


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow) and not report:
            report["loaded"] = sorted(m for m in sys.modules if "." not in m)
            report["ours"] = sorted(m for m in sys.modules if m.startswith("desktop.views."))
            page = obj.current_page()
            report["page"] = type(page).__name__
            report["screen"] = page.screen.key
            report["stale"] = page.stale
            report["locality"] = (obj.current_locality() or {}).get("name")
            report["nav"] = [obj.nav.item(r).text() for r in range(obj.nav.count())]
            report["rows"] = {s.objectName(): s.count() for s in getattr(page, "sections", ())}
            QTimer.singleShot(0, app.quit)
        return False


watcher = FirstPaint()
app.installEventFilter(watcher)
from desktop import app as desk

code = desk.run_gui(sys.argv[1])
print(json.dumps(report))
sys.exit(code)
"""


def _someone_with_work_due(world: Path) -> str:
    """A member of the first locality's staff (the one the window opens on) with items of her own due today."""
    db = open_workspace(world)
    try:
        first = workspace.localities(db)[0]["id"]
        return next(
            s["name"] for s in my_work.staff_of(db, first) if my_work.my_work(db, first, s, clock.today()).to_do
        )
    finally:
        db.close()


def _first_paint(world: Path, home: Path, user: str) -> dict:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "LOCALITY_DESK_HOME": str(home),
        "XDG_CONFIG_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(world), user], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_nothing_heavy_is_imported_before_the_first_paint_which_shows_my_work(history_world_template, tmp_path):
    world = copy_world(history_world_template, tmp_path / "world.sqlite")
    report = _first_paint(world, tmp_path / "home", _someone_with_work_due(world))

    assert [m for m in HEAVY if m in report["loaded"]] == []
    # Each screen's module is imported on its first visit, the first-start wizard only when it is wanted.
    assert [m for m in report["ours"] if m.endswith(".page")] == [
        "desktop.views.kit.page",
        "desktop.views.my_work.page",
    ]
    assert "desktop.views.shell.first_run" not in report["ours"]
    # A team member opens on My work, built and loaded for the first locality, with her lists filled and the
    # navigation counting what is due: the real screen, not a placeholder waiting for its data.
    assert (report["page"], report["screen"], report["stale"]) == ("MyWorkPage", "my_work", False)
    assert report["locality"]
    assert sum(report["rows"].values()) > 0, report["rows"]
    assert any(text.startswith("My work (") for text in report["nav"]), report["nav"]


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_sqlite_utils_still_gives_numpy_scalars_their_column_types_without_importing_numpy_itself():
    # sqlite-utils is imported with numpy hidden (desktop/models/__init__.py); a table made from records that
    # hold numpy scalars must still get INTEGER and REAL columns, as it did when sqlite-utils imported numpy.
    out = _run(
        "import sys, json, desktop.models, sqlite_utils\n"
        "print(json.dumps('numpy' in sys.modules))\n"
        "import numpy as np\n"
        "db = sqlite_utils.Database(memory=True)\n"
        "db['t'].insert_all([{'i': np.int64(3), 'f': np.float64(1.5), 'j': np.int32(2), 'g': np.float32(0.5)}])\n"
        "db['u'].create({'id': np.uint16, 'x': np.float16}, pk='id')\n"
        "print(json.dumps({t: {c.name: c.type for c in db[t].columns} for t in ('t', 'u')}))\n"
    )
    loaded, types = (json.loads(line) for line in out.splitlines()[-2:])
    assert loaded is False
    assert types == {
        "t": {"i": "INTEGER", "f": "REAL", "j": "INTEGER", "g": "REAL"},
        "u": {"id": "INTEGER", "x": "REAL"},
    }


def test_englands_bank_holidays_are_the_packages_without_importing_every_country():
    # working_days loads the holidays package's United Kingdom module alone (issue 26): the same days as
    # country_holidays, and the whole package still imports cleanly afterwards.
    out = _run(
        "import sys, json, datetime as dt\n"
        "from desktop.models import working_days\n"
        "mine = sorted(str(d) for y in range(2015, 2036) for d in working_days._bank_holidays(y))\n"
        "alone = 'holidays.countries' not in sys.modules\n"
        "import holidays, holidays.countries\n"
        "theirs = sorted(str(d) for d in holidays.country_holidays('GB', subdiv='ENG', years=range(2015, 2036)))\n"
        "same = holidays.countries.UnitedKingdom is working_days._united_kingdom()\n"
        "print(json.dumps([mine, theirs, alone, same]))\n"
    )
    mine, theirs, alone, same = json.loads(out.splitlines()[-1])
    assert mine == theirs and "2026-12-28" in mine  # Boxing Day 2026 is a Saturday: the Monday is the substitute
    assert alone and same
