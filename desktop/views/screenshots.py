"""Pictures of every screen on the demo world, for review and the README.

    QT_QPA_PLATFORM=offscreen python -m desktop.views.screenshots OUTDIR

Builds the full demo world in a temporary folder (the user's own files are never touched), opens the
main window at 1400×900 and saves one PNG per navigation screen, plus a practice's edit dialog and the
About box.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QWidget

SIZE = (1400, 900)


def _settle(app: QApplication) -> None:
    for _ in range(3):
        app.processEvents()


def _save(widget: QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise OSError(f"Could not write {path}")
    print(path)


def take(outdir: Path) -> list[Path]:
    from ..models.db import open_workspace
    from ..models.demo import build_demo
    from ..settings import Settings, qsettings
    from .main_window import MainWindow
    from .screens import SCREENS
    from .session import Session
    from .style import apply_style

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOCALITY_DESK_HOME"] = tmp
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        db_path = Path(tmp) / "demo-world.sqlite"
        db = open_workspace(db_path)
        build_demo(db)
        db.close()
        settings = Settings(qsettings())
        settings.set("last_locality", "CHA")
        window = MainWindow(settings, Session.open(db_path, settings))
        window.resize(*SIZE)
        window.show()
        _settle(app)
        for number, screen in enumerate(SCREENS, start=1):
            window.show_screen(screen.key)
            _settle(app)
            path = outdir / f"{number:02d}-{screen.key.replace('_', '-')}.png"
            _save(window, path)
            written.append(path)

        window.show_screen("practices")
        page = window.current_page()
        page.select(page.visible_rows()[0]["id"])
        page.edit()
        _settle(app)
        path = outdir / f"{len(SCREENS) + 1:02d}-edit-practice.png"
        _save(page.dialog, path)
        written.append(path)
        page.dialog.done(0)

        window.show_about()
        _settle(app)
        path = outdir / f"{len(SCREENS) + 2:02d}-about.png"
        _save(window.about, path)
        written.append(path)
        window.about.done(0)
        window.close()
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m desktop.views.screenshots OUTDIR", file=sys.stderr)
        return 2
    take(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
