"""Start-up: the QApplication, logging, the crash handler, the workspace, then the main window.

Everything is built here and passed in through constructors; nothing is looked up from a global.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from importlib import import_module
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__, paths
from .models import clock
from .settings import APPLICATION, ORGANISATION, Settings

if TYPE_CHECKING:  # annotations only: Qt and the views are imported when run_gui runs
    from PySide6.QtWidgets import QApplication

    from .views.kit.session import Session
    from .views.shell.crash import ExceptionHandler
    from .views.shell.main_window import MainWindow

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


def _warm_up(page_modules: list[str]) -> None:
    """Import the bank-holiday calendar, the screens' modules (each screen's is imported on its first visit
    otherwise: ~0.1-0.4 s for those that bring pyarrow, pyqtgraph or the signing keys) and the statistics
    while the user reads the first screen, so the first visit to a screen, funnel plot, report or PCSP due
    date does not pay for them. Imports only, nothing built: safe off the GUI thread."""
    import datetime as dt

    try:
        working_days = import_module("desktop.models.working_days")
        for year in range(clock.today().year - 2, clock.today().year + 2):  # the years the screens show
            working_days.is_working_day(dt.date(year, 6, 1))
    except Exception:  # a failed warm-up costs only the wait it was meant to save
        log.exception("Warm-up failed")
    for module in [*page_modules, "desktop.models.stats.funnel"]:
        try:
            import_module(module)
        except Exception:  # the screen reports it when it is shown
            log.exception("Warm-up import of %s failed", module)


class _Start:
    """How the start-up ends: with the main window shown, or with an exit code and no window.

    The demo world is built off the GUI thread and reports back by callback, from the event loop, so the start-up
    ends either before app.exec() runs (run_gui returns the code without it) or inside it (the code ends the loop).
    """

    def __init__(self, app: QApplication, settings: Settings, handler: ExceptionHandler, ask_who: bool):
        self.app = app
        self.settings = settings
        self.handler = handler
        self.ask_who = ask_who
        self.code: int | None = None
        self.looping = False
        self.window: MainWindow | None = None
        # Until the main window is up, a wizard or progress dialog closing inside the event loop is the last window
        # closed, and Qt would quit there and then.
        app.setQuitOnLastWindowClosed(False)

    def opened(self, session: Session | None) -> None:
        if session is None:
            log.info("No workspace chosen; quitting")
            self._end(0)
            return
        from .views.shell.main_window import MainWindow

        self.window = MainWindow(self.settings, session)
        self.window.show()
        self.app.setQuitOnLastWindowClosed(True)
        if self.ask_who:  # the wizard has just asked
            self.window.set_user_name()  # "Who is using Locality Desk?", pre-filled: Enter keeps the last answer
        # After the first paint, not before: the warm-up's imports would hold the interpreter lock while the
        # window is drawn.
        from .views.shell.screens import page_modules

        warm_up = threading.Thread(
            target=_warm_up, args=(page_modules(self.window.pages),), name="warm-up", daemon=True
        )
        self.after_paint = _after_first_paint(self.window, warm_up.start)

    def failed(self, exc: BaseException) -> None:
        # Shown and waited for here: before the event loop runs, a dialog merely opened would be lost at exit.
        self.handler.report(type(exc), exc, exc.__traceback__, wait=True)
        self._end(1)

    def _end(self, code: int) -> None:
        self.code = code
        self.app.setQuitOnLastWindowClosed(True)
        if self.looping:
            self.app.exit(code)


def run_gui(db_path: Path | None) -> int:
    """Open the app on *db_path*, or on the start workspace (chosen in the first-start wizard the first time)."""
    # The window's loads are small and many: Arrow's own allocator keeps what each one freed (~12 MB of the tour's
    # peak, issue 26), where the C library's hands it back. Read by pyarrow when first imported, so set it here.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from .views.kit import tasks
    from .views.kit.style import apply_style
    from .views.shell import crash
    from .views.shell.startup import first_start_wanted, open_at_start, start_path

    log_path = setup_logging()
    log.info("Locality Desk %s starting", __version__)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationVersion(__version__)
    app.setWindowIcon(QIcon(str(paths.resources_dir() / "icons" / "locality-desk.svg")))  # title bar, task bar
    _route_qt_messages()
    handler = crash.install(log_path)
    app.aboutToQuit.connect(tasks.wait_for_workers)  # a QThread must not be destroyed while it runs

    settings = Settings()
    apply_style(app, settings.get("colour_scheme"))
    first = db_path is None and first_start_wanted(settings)  # an explicit --db never shows the wizard
    start = _Start(app, settings, handler, ask_who=not first)
    try:
        if first:
            from .views.shell import first_run  # the wizard (~0.2 s of imports), on the first start only

            first_run.first_start(settings, start.opened, start.failed)
        else:
            open_at_start(Path(db_path) if db_path else start_path(settings), settings, start.opened, start.failed)
    except Exception as exc:
        start.failed(exc)
    if start.code is not None:  # ended before the event loop was needed: nothing would ever end it
        return start.code
    start.looping = True
    code = app.exec()
    log.info("Locality Desk closed (%s)", code)
    return code
