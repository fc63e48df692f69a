"""Pictures of every screen on the demo world, for review and the README.

    QT_QPA_PLATFORM=offscreen python -m tools.screenshots.shoot OUTDIR
    LOCALITY_DESK_COLOUR_SCHEME=dark QT_QPA_PLATFORM=offscreen python -m tools.screenshots.shoot OUTDIR

Builds the full demo world in a temporary folder (the user's own files are never touched), opens the
main window at 1400×900 and saves one PNG per navigation screen, then the cohort at work (a patient, the
risk history, a worklist, the import dialog after a check, the criteria), a practice's edit dialog and
the About box.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDate, QSettings
from PySide6.QtWidgets import QApplication, QWidget

from desktop.models import clock
from desktop.views.kit import tasks

SIZE = (1400, 900)
LOCALITY = "CHA"
EXTRACT_ROWS = 120_000  # about Charnwood's whole list: a smaller sample would look cut short (issue 22)


def _settle(app: QApplication, seconds: float = 0.0) -> None:
    """Let the window paint, and every background task report back (they call back later), before a shot."""
    end = time.monotonic() + seconds
    while True:
        for _ in range(3):
            app.processEvents()
        if time.monotonic() >= end and not tasks.running() and not tasks.quiet_loads_running():
            return
        time.sleep(0.02)


def _save(widget: QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise OSError(f"Could not write {path}")
    print(path)


def numbered(outdir: Path) -> tuple[Callable[[QWidget, str], None], list[Path]]:
    """A function that saves a widget as the next numbered PNG in *outdir* ("07-name.png"), and the list it fills."""
    written: list[Path] = []

    def shot(widget: QWidget, name: str) -> None:
        path = outdir / f"{len(written) + 1:02d}-{name}.png"
        _save(widget, path)
        written.append(path)

    return shot, written


def every_screen(app: QApplication, window, shot: Callable[[QWidget, str], None], seconds: float = 0.0) -> None:
    """One picture of each screen of the navigation, named by its key."""
    from desktop.views.shell.screens import SCREENS

    for screen in SCREENS:
        window.show_screen(screen.key)
        _settle(app, seconds)
        shot(window, screen.key.replace("_", "-"))


def _world(tmp: Path) -> tuple[Path, Path]:
    """The demo world, with a run for LOCALITY even if the demo has no history, and a fresh extract for it."""
    from desktop.models import workspace
    from desktop.models.cohort import frame as cohort
    from desktop.models.cohort import risk_import
    from desktop.models.db import open_workspace
    from desktop.models.demo import DEMO_ACTOR, build_demo
    from desktop.models.demo.extract import write_extract

    db_path = tmp / "demo-world.sqlite"
    db = open_workspace(db_path)
    build_demo(db)
    extract = tmp / f"{LOCALITY.lower()}-risk-extract.csv"
    write_extract(extract, LOCALITY, EXTRACT_ROWS)
    locality = workspace.locality_by_code(db, LOCALITY)
    if cohort.latest_run(db, locality["id"]) is None:
        risk_import.import_extract(db, DEMO_ACTOR, LOCALITY, extract, clock.today())
    db.close()
    return db_path, extract


def take(outdir: Path) -> list[Path]:
    from desktop.settings import Settings, qsettings
    from desktop.views.kit.session import Session
    from desktop.views.kit.style import apply_style
    from desktop.views.shell import help_window
    from desktop.views.shell.main_window import MainWindow
    from tools.screenshots.audit import audit_at_work
    from tools.screenshots.care_homes import care_homes_at_work
    from tools.screenshots.commissioner import commissioner_at_work
    from tools.screenshots.first_run import first_run_pages
    from tools.screenshots.mdt import mdt_at_work
    from tools.screenshots.my_work import as_a_matron
    from tools.screenshots.reference_update import reference_update_preview
    from tools.screenshots.reports import reports_at_work
    from tools.screenshots.returns import returns_at_work
    from tools.screenshots.sync import sync_at_work

    outdir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_style(app, os.environ.get("LOCALITY_DESK_COLOUR_SCHEME", "light"))  # light|dark: README shots are light
    shot, written = numbered(outdir)

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOCALITY_DESK_HOME"] = tmp
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        db_path, extract = _world(Path(tmp))
        settings = Settings(qsettings())
        settings.set("last_locality", LOCALITY)
        as_a_matron(settings, db_path, LOCALITY)  # the window opens on her My work
        window = MainWindow(settings, Session.open(db_path, settings))
        window.resize(*SIZE)
        window.show()
        _settle(app)
        every_screen(app, window, shot)

        _cohort_at_work(app, window, settings, extract, shot)
        mdt_at_work(window, shot, lambda seconds: _settle(app, seconds))
        care_homes_at_work(window, shot, lambda seconds: _settle(app, seconds))
        returns_at_work(window, shot, lambda seconds: _settle(app, seconds))
        reports_at_work(window, shot, lambda seconds: _settle(app, seconds))
        audit_at_work(window, shot, lambda seconds: _settle(app, seconds))
        # Before the commissioner's pictures, which move the window to a commissioner workspace (no practices).
        window.show_screen("practices")
        page = window.current_page()
        page.select(page.visible_rows()[0]["id"])
        page.edit()
        _settle(app)
        shot(page.dialog, "edit-practice")
        page.dialog.done(0)
        commissioner_at_work(window, shot, lambda seconds: _settle(app, seconds))

        window.show_about()
        _settle(app)
        shot(window.about, "about")
        window.about.done(0)

        guide = help_window.open_guide(window, "returns")  # F1 on the Returns screen
        guide.resize(1100, 800)
        _settle(app, 0.3)
        shot(guide, "user-guide")
        guide.close()
        window.close()

        def second_window(path: Path) -> MainWindow:
            other = MainWindow(settings, Session.open(path, settings))
            other.resize(*SIZE)
            other.show()
            return other

        sync_at_work(Path(tmp), second_window, shot, lambda seconds: _settle(app, seconds))
        first_run_pages(shot, lambda seconds: _settle(app, seconds))
        reference_update_preview(Path(tmp), second_window, shot, lambda seconds: _settle(app, seconds))
        # The same demo workspace opened five weeks after it was built: it shows what was true, and says so.
        with clock.pinned(clock.now() + dt.timedelta(days=35)):
            later = second_window(db_path)
            later.show_screen("care_homes")
            _settle(app, 0.3)
            shot(later, "demo-data-ends")
            later.close()
    return written


def _cohort_at_work(app: QApplication, window, settings, extract: Path, shot) -> None:
    from PySide6.QtWidgets import QFileDialog

    from desktop.views.mdt import operations as mdt_operations

    window.show_screen("cohort")
    page = window.current_page()
    frame = page.frame
    # A patient the team is working with: on the caseload, with a case manager and a care plan.
    c = frame.columns
    worked = [
        i
        for i in range(len(frame))
        if c["status"][i] == "on caseload" and c["case_manager"][i] and c["care_plan_date"][i] and c["in_cohort"][i]
    ]
    chosen = str(frame.ids[worked[len(worked) // 3] if worked else 0])
    page.table.select_ids([chosen], chosen)
    page.table.scrollTo(page.table.currentIndex(), page.table.ScrollHint.PositionAtCenter)
    _settle(app, 0.4)
    shot(window, "cohort-patient")
    page.panel.tabs.setCurrentWidget(page.panel.history)
    _settle(app, 0.3)
    shot(window, "cohort-risk-history")
    page.panel.tabs.setCurrentIndex(0)

    page.worklists.select("review_overdue")
    # Flagged for the next MDT by a colleague, so the panel shows the flag and its note.
    mdt_operations.flag_for_mdt(
        page.session, page.model.patient_id(0), "Carer finding it hard to cope; two falls since the last review"
    )
    page.table.select_row(0)
    _settle(app, 0.4)
    shot(window, "cohort-worklist")
    page.worklists.select(None)

    original = QFileDialog.getOpenFileName
    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(_as_exported(extract)), ""))
    try:
        page.import_extract()
    finally:
        QFileDialog.getOpenFileName = original
    dialog = page.dialog
    today = clock.today()
    dialog.date_edit.setDate(QDate(today.year, today.month, today.day))
    dialog.check()
    _settle(app, 0.2)
    shot(dialog, "import-checked")
    dialog.done(0)

    window.import_history()
    _settle(app)
    shot(window.history_dialog, "import-history")
    window.history_dialog.done(0)

    page.edit_rules()
    _settle(app)
    shot(page.dialog, "cohort-criteria")
    page.dialog.done(0)


def _as_exported(extract: Path) -> Path:
    """The extract with the faults a real export from Excel brings (DESIGN §6.1), for the check to find."""
    lines = extract.read_text(encoding="utf-8").splitlines()
    fields = [line.split(",") for line in lines[:60]]
    fields[4][0] = f"{int(fields[4][0]) / 1e9:.2f}E+09"  # an NHS number Excel turned into a float
    fields[9][3] = "31/02/1941"  # no such day
    fields[17][7] = "many"  # not a count
    fields[23][0] = fields[22][0]  # the same patient twice
    fields[41][6] = ""  # no practice
    out = extract.with_name(extract.stem + "-from-excel.csv")
    out.write_text("\n".join([",".join(f) for f in fields] + lines[60:]) + "\n", encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tools.screenshots.shoot OUTDIR", file=sys.stderr)
        return 2
    take(Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
