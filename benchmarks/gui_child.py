"""Run in a child process by bench_startup.py: the real start-up path (desktop.app.run_gui) on a workspace,
offscreen. Mode "start" prints the seconds from the parent's launch to the main window's first paint; mode
"tour" then shows every screen, prints each one's time to painted, and the process's peak memory (and how long
after the first paint the warm-up had finished)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

LAUNCHED = float(sys.argv[3])
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from common import peak_rss_mb  # noqa: E402
from PySide6.QtCore import QEvent, QObject, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow  # noqa: E402

from desktop import app as desk  # noqa: E402

app = QApplication(sys.argv[:1])
result: dict = {}


def tour(window) -> None:
    from desktop.views.shell.screens import SCREENS

    screens, settled = {}, {}
    for screen in SCREENS:
        if screen.key not in window.pages:
            continue
        start = time.perf_counter()
        window.show_screen(screen.key)
        window.repaint()  # the screen as the user first sees it, painted now
        screens[screen.key] = time.perf_counter() - start
        app.processEvents()  # what the screen deferred until after its first paint (charts), or queued
        window.repaint()
        settled[screen.key] = time.perf_counter() - start
    result["screens"], result["settled"] = screens, settled


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow) and "start" not in result:
            result["start"] = time.time() - LAUNCHED
            window = obj

            def finish():
                if sys.argv[2] == "tour":
                    if any(t.name == "warm-up" and t.is_alive() for t in threading.enumerate()):
                        QTimer.singleShot(50, finish)
                        return
                    result["warmed_up"] = time.time() - LAUNCHED - result["start"]
                    tour(window)
                result["peak_mb"] = peak_rss_mb()
                app.quit()

            # A user reads the first screen before choosing another: the tour starts a second after the first
            # paint, or once start-up's deferred work (the warm-up imports of the screens' modules) is done if
            # that takes longer, as it would be by then.
            QTimer.singleShot(1000 if sys.argv[2] == "tour" else 0, finish)
        return False


watcher = FirstPaint()
app.installEventFilter(watcher)
desk.run_gui(sys.argv[1])
print(json.dumps(result))
