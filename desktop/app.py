"""Start-up: the QApplication, logging, the crash handler, the workspace, then the main window.

Everything is built here and passed in through constructors; nothing is looked up from a global.
"""

from __future__ import annotations

import logging
import sys
import threading
from importlib import import_module
from logging.handlers import RotatingFileHandler
from pathlib import Path

from . import __version__, paths
from .models import clock
from .settings import APPLICATION, ORGANISATION, Settings

log = logging.getLogger("desktop")


def setup_logging() -> Path:
    """Log to a file in the user's log folder (kept small: three files of 1 MB), and return its path."""
    path = paths.log_dir() / "locality-desk.log"
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def _route_qt_messages() -> None:
    # Qt's own warnings (a missing font, a bad style sheet rule) belong in the log, not on a console
    # that a desktop user never sees.
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    qt_log = logging.getLogger("qt")
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }
    qInstallMessageHandler(lambda kind, _context, text: qt_log.log(levels.get(kind, logging.INFO), text))


def _after_first_paint(window, then):
    """Call *then* once, soon after *window* is first painted."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Watcher(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                QTimer.singleShot(100, then)
            return False

    watcher = Watcher(window)
    window.installEventFilter(watcher)
    return watcher


def _warm_up() -> None:
    """Import the statistics (scipy, ~0.25 s) and the bank-holiday calendar (~0.15 s) while the user reads the
    first screen, so the first funnel plot, report or PCSP due date does not pay for them. Pure computation:
    safe off the GUI thread."""
    import datetime as dt

    try:
        import_module("desktop.models.stats.funnel")
        working_days = import_module("desktop.models.working_days")
        for year in range(clock.today().year - 2, clock.today().year + 2):  # the years the screens show
            working_days.is_working_day(dt.date(year, 6, 1))
    except Exception:  # a failed warm-up costs only the wait it was meant to save
        log.exception("Warm-up import failed")


def run_gui(db_path: Path | None) -> int:
    """Open the app on *db_path*, or on the start workspace (chosen in the first-start wizard the first time)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .views.kit.style import apply_style
    from .views.shell import crash, first_run
    from .views.shell.main_window import MainWindow
    from .views.shell.startup import open_at_start, start_path

    log_path = setup_logging()
    log.info("Locality Desk %s starting", __version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(paths.resources_dir() / "icons" / "locality-desk.svg")))  # title bar, task bar
    _route_qt_messages()
    handler = crash.install(log_path)

    settings = Settings()
    apply_style(app, settings.get("colour_scheme"))
    first = db_path is None and first_run.wanted(settings)  # an explicit --db never shows the wizard
    try:
        if first:
            session = first_run.first_start(settings)
        else:
            session = open_at_start(Path(db_path) if db_path else start_path(settings), settings)
    except Exception as exc:  # no event loop yet: show it now and stop, rather than lose it at exit
        handler.report(type(exc), exc, exc.__traceback__, wait=True)
        return 1
    if session is None:
        log.info("No workspace chosen; quitting")
        return 0
    window = MainWindow(settings, session)
    window.show()
    if not first:  # the wizard has just asked
        window.set_user_name()  # "Who is using Locality Desk?", pre-filled: Enter keeps the last answer
    # After the first paint, not before: the warm-up's imports would hold the interpreter lock while the
    # window is drawn.
    after_paint = _after_first_paint(window, threading.Thread(target=_warm_up, name="warm-up", daemon=True).start)
    code = app.exec()
    del after_paint
    log.info("Locality Desk closed (%s)", code)
    return code
