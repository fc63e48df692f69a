"""The frozen app's entry point: what `locality-desk` is in a PyInstaller build.

LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT=1 makes the app print the main window's title once it is first painted, show
each of its screens in turn, check that it can run work in a child process (as sync does), then quit: how
tests/packaging checks that a build really opens a workspace and every screen, with no one there to close it.

LOCALITY_DESK_SELF_CHECK=<file> then, in the same process, imports the modules the JSON file lists under "modules"
and runs the command lines under "commands" (reports, an import …), printing each one's outcome: what the build
left out shows up here, in one start of the app rather than one per check.
"""

import json
import multiprocessing
import os
import sys
import traceback


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
                QTimer.singleShot(0, lambda: tour(obj, list(getattr(obj, "pages", {}))))
            return False

    def tour(window, keys: list[str]) -> None:
        """Every screen of this workspace, one after the other, each given a moment to load what it shows (a
        screen that fails logs its traceback through the app's crash handler)."""
        if not keys:
            QTimer.singleShot(0, finish)
            return
        window.show_screen(keys[0])
        shown = window.current_page().screen.key == keys[0]
        print(f"Screen {keys[0]}: {'shown' if shown else 'not shown'}", flush=True)
        QTimer.singleShot(50, lambda: tour(window, keys[1:]))

    def finish() -> None:
        from desktop.models import child_process

        child = child_process.call(os.getpid)
        print(f"Child process: {'started' if child != os.getpid() else 'not started'}", flush=True)
        app.quit()

    app.installEventFilter(FirstPaint(app))


def _self_check(path: str) -> int:
    from desktop.cli import main as cli_main

    with open(path, encoding="utf-8") as fh:
        wanted = json.load(fh)
    failed = 0
    for name in wanted.get("modules", []):
        try:
            __import__(name)
        except Exception:
            failed += 1
            print(f"Import {name}: failed\n{traceback.format_exc()}", flush=True)
    print(f"Imports: {len(wanted.get('modules', [])) - failed} of {len(wanted.get('modules', []))}", flush=True)
    for argv in wanted.get("commands", []):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse's way out
            code = exc.code
        except Exception:
            code = f"raised\n{traceback.format_exc()}"
        print(f"Command {' '.join(argv[:2])}: exit {code}", flush=True)
        failed += code != 0
    return 1 if failed else 0


def main() -> int:
    # First, before anything else runs: in a spawned child process this runs the child's work and exits.
    multiprocessing.freeze_support()
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:  # a windowed build (Windows, macOS) has no console to print --version to
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the app
    if os.environ.get("LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT") == "1":
        _quit_after_first_paint()
    from desktop.cli import main as cli_main

    code = cli_main()
    if os.environ.get("LOCALITY_DESK_SELF_CHECK"):
        code = code or _self_check(os.environ["LOCALITY_DESK_SELF_CHECK"])
    return code


if __name__ == "__main__":
    raise SystemExit(main())
