"""The frozen app's entry point: what `locality-desk` is in a PyInstaller build.

LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT=1 makes the app print the main window's title once it is first painted, check
that it can run work in a child process (as sync does), then quit: how tests/packaging checks that a build really
opens a workspace, with no one there to close it.
"""

import multiprocessing
import os
import sys


def _quit_after_first_paint() -> None:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])  # run_gui uses this one rather than making its own

    class FirstPaint(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow):
                app.removeEventFilter(self)
                print(f"First paint: {obj.windowTitle()}", flush=True)
                print(f"Window icon: {'drawn' if not obj.windowIcon().pixmap(32).isNull() else 'missing'}", flush=True)
                QTimer.singleShot(0, finish)
            return False

    def finish() -> None:
        from desktop.models import child_process

        child = child_process.call(os.getpid)
        print(f"Child process: {'started' if child != os.getpid() else 'not started'}", flush=True)
        app.quit()

    app.installEventFilter(FirstPaint(app))


def main() -> int:
    # First, before anything else runs: in a spawned child process this runs the child's work and exits.
    multiprocessing.freeze_support()
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # a windowed build (Windows, macOS) has no console to print --version to
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app
    if os.environ.get("LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT") == "1":
        _quit_after_first_paint()
    from desktop.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
