"""Reference data → Update from NHS files…, for tools.screenshots.shoot: the preview of the real ODS files
(December 2019, tests/data/reference) over a new locality workspace, as a team sees it on its first day. The
preview is cancelled, so nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from desktop.models.workspace import create_workspace

REFERENCE = Path(__file__).resolve().parents[2] / "tests" / "data" / "reference"
FILES = [str(REFERENCE / "epraccur-2019-12.csv"), str(REFERENCE / "ePCN-2019-12.xlsx")]


def reference_update_preview(
    tmp: Path,
    open_window: Callable[[Path], QWidget],
    shot: Callable[[QWidget, str], None],
    settle: Callable[[float], None],
) -> None:
    path = tmp / "new-llr-workspace.sqlite"
    create_workspace(path, "locality").close()
    window = open_window(path)
    window.show_screen("practices")
    page = window.current_page()
    original = QFileDialog.getOpenFileNames
    QFileDialog.getOpenFileNames = staticmethod(lambda *a, **k: (FILES, ""))
    try:
        page.update_from_nhs_files()
        settle(0.3)  # waits for the plan, read off the GUI thread
    finally:
        QFileDialog.getOpenFileNames = original
    dialog = page.update_dialog
    dialog.tabs.setCurrentWidget(dialog.sections["new_practices"])
    settle(0.2)
    shot(dialog, "reference-update")
    dialog.reject()
    window.close()
