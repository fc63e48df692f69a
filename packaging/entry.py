"""The frozen app's entry point: what `locality-desk` is in a PyInstaller build.

LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT=1 makes the app print the main window's title once it is first painted, show
each of its screens in turn, check that it can run work in a child process (as sync does), then quit: how
tests/packaging checks that a build really opens a workspace and every screen, with no one there to close it.

LOCALITY_DESK_SELF_CHECK=<file> then, in the same process, imports the modules the JSON file lists under "modules"
and runs the command lines under "commands" (reports, an import …), printing each one's outcome: what the build
left out shows up here, in one start of the app rather than one per check. With "qt_text": true it prints, as JSON,
what Qt's text handling gives (qt_text()), for the test to compare with the same in the development environment:
the build ships ICU's data for English only.
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


def qt_text() -> dict:
    """What Qt answers through ICU, and what the app's English shows of it: names sorted (accents, apostrophes,
    numbers), a date and numbers in en_GB, case mapping of non-ASCII letters, London's time-zone names, and text
    decoded from windows-1252. Without the data ICU needs, sorting falls back to code points and the zone names
    come back empty."""
    from PySide6.QtCore import (
        QBuffer,
        QByteArray,
        QCollator,
        QDate,
        QDateTime,
        QIODevice,
        QLocale,
        QStringDecoder,
        Qt,
        QTime,
        QTimeZone,
        QXmlStreamReader,
    )

    gb = QLocale("en_GB")
    names = ["Zoë Ward", "O'Brien", "Oakley", "Émile Durand", "Eve Adams", "d'Arcy", "Dart", "Ødegaard", "Ottley"]
    names += ["Ş. Yıldız", "Smith", "Ángel", "Anna", "Renée", "René", "Rene", "MacLeod", "Mc Donald", "McDonald"]
    collator = QCollator(gb)
    out = {"sorted": sorted(names, key=collator.sortKey)}
    collator.setNumericMode(True)
    out["numeric"] = sorted(["Flat 10", "Flat 9", "Flat 1", "Flat 1a"], key=collator.sortKey)
    collator.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    out["same ignoring case"] = [collator.compare("Straße", "STRASSE"), collator.compare("élan", "Élan")]
    london = QTimeZone(b"Europe/London")
    summer = QDateTime(QDate(2027, 3, 28), QTime(14, 5), london)
    formats = (QLocale.FormatType.LongFormat, QLocale.FormatType.ShortFormat)
    out["date"] = [gb.toString(summer, f) for f in formats] + [gb.toString(summer.date(), "dddd d MMMM yyyy")]
    out["number"] = [gb.toString(1234567.891, "f", 2), gb.toCurrencyString(1234.5), gb.toString(-42)]
    words = ["Straße", "ıi", "Éloïse", "İstanbul", "ǅ", "ŉ", "Ærøskøbing"]
    out["upper"] = [gb.toUpper(w) for w in words] + [QLocale("tr").toUpper("ıi")]
    out["lower"] = [gb.toLower(w) for w in words] + [QLocale("tr").toLower("Iİ")]
    name_type, winter = QTimeZone.NameType, QTimeZone.TimeType.StandardTime
    out["zone"] = [
        london.displayName(summer, name_type.LongName, gb),
        london.displayName(winter, name_type.LongName, gb),
        london.displayName(summer, name_type.ShortName, gb),
    ]
    # PySide6 binds no way to decode bytes with a QStringDecoder; Qt's XML reader decodes with one.
    xml = QBuffer()
    xml.setData(QByteArray(b'<?xml version="1.0" encoding="windows-1252"?><a>\x80 caf\xe9 \x93O\x92Brien\x94</a>'))
    xml.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QXmlStreamReader(xml)
    reader.readNextStartElement()
    out["windows-1252"] = [reader.readElementText(), reader.errorString(), QStringDecoder("cp1252").isValid()]
    return out


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
    if wanted.get("qt_text"):
        print(f"Qt text: {json.dumps(qt_text(), ensure_ascii=False)}", flush=True)
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
