"""Every main screen, and the forms most used, as a user who asked for large text sees them, to check that no
button bar is cut off (the bars wrap instead, desktop.views.kit.flow_layout).

    QT_QPA_PLATFORM=offscreen python -m tools.screenshots.large_text --points 20 OUTDIR
    QT_QPA_PLATFORM=offscreen QT_SCALE_FACTOR=2 python -m tools.screenshots.large_text OUTDIR

--points sets the application's font before the style sheet takes its sizes from it, as a large system font does.
QT_SCALE_FACTOR must be in the environment before the application starts, so the scaled pictures are another
process (make screenshots-large runs both). The window is 1400×900 in either case; at a scale factor of 2 the
pictures are twice that in pixels.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from tools.screenshots.shoot import LOCALITY, SIZE, _settle, _world, every_screen, numbered


def take(outdir: Path, points: float | None) -> list[Path]:
    from desktop.settings import Settings, qsettings
    from desktop.views.kit.session import Session
    from desktop.views.kit.style import apply_style
    from desktop.views.shell import help_window
    from desktop.views.shell.main_window import MainWindow

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    if points:
        font = QFont(app.font())
        font.setPointSizeF(points)
        app.setFont(font)
    apply_style(app, "light")
    shot, written = numbered(outdir)

    def dialog_shot(name: str, open_it) -> None:
        open_it()
        _settle(app, 0.2)
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            print(f"{name}: no dialog opened", file=sys.stderr)
            return
        shot(dialog, name)
        dialog.done(0)
        _settle(app)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOCALITY_DESK_HOME"] = tmp
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        db_path, _extract = _world(Path(tmp))
        settings = Settings(qsettings())
        settings.set("last_locality", LOCALITY)
        window = MainWindow(settings, Session.open(db_path, settings))
        window.resize(*SIZE)
        window.show()
        _settle(app)
        every_screen(app, window, shot, 0.2)

        window.show_screen("mdt")
        mdt = window.current_page()
        mdt.meetings.table.selectRow(0)
        _settle(app, 0.2)
        shot(window, "mdt-meeting")
        dialog_shot("mdt-plan-meeting", mdt.meetings.plan_meeting)
        mdt.tabs.setCurrentWidget(mdt.actions)
        mdt.actions.table.selectRow(0)
        _settle(app, 0.2)
        shot(window, "mdt-action-log")
        dialog_shot("mdt-new-action", mdt.actions.new_action)
        window.show_screen("care_homes")
        dialog_shot("care-homes-log-visit", window.current_page().log_visit)
        window.show_screen("cohort")
        cohort = window.current_page()
        cohort.table.select_row(0)
        _settle(app, 0.3)
        shot(window, "cohort-patient")
        dialog_shot("cohort-criteria", cohort.edit_rules)
        guide = help_window.open_guide(window, "cohort")
        guide.resize(1100, 800)
        _settle(app, 0.3)
        shot(guide, "user-guide")
        guide.close()
        window.close()
    return written


def screen_of_the_window_size(folder: Path) -> None:
    """The offscreen platform's screen is 800×600 unless told, and Qt keeps a dialog within the screen: give it one
    of the window's size (in pixels, so twice as large at a scale factor of 2) before the application starts."""
    if os.environ.get("QT_QPA_PLATFORM") != "offscreen":
        return
    scale = float(os.environ.get("QT_SCALE_FACTOR") or 1)
    width, height = (round(n * scale) for n in SIZE)
    config = folder / "offscreen-screen.json"
    screen = {"name": "large", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots.large_text")
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--points", type=float, default=None, help="the application's font size, e.g. 20")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        screen_of_the_window_size(Path(tmp))
        take(args.outdir, args.points)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
