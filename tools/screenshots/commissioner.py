"""The Commissioner screen at work, for tools.screenshots.shoot: the demo world holds all 11 teams' returns,
so the consolidated grid is full; a percentage KPI chosen for one team shows its funnel plot and trend, then a
count KPI shows the trend alone and says why there is no funnel. Last, a new commissioner workspace imports
the quarter's eleven files and one tampered file: the dry run, then what happened."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QWidget

from desktop.models.kpi import consolidated, returns
from desktop.models.workspace import create_workspace

TEAM = "CHA"


def commissioner_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    window.show_screen("commissioner")
    page = window.current_page()
    if not page.held:
        return
    page.select_kpi("COH-02", TEAM)
    page.grid.setFocus()
    settle(0.4)
    shot(window, "commissioner-funnel")
    page.select_kpi("MDT-04", TEAM)
    settle(0.4)
    shot(window, "commissioner-count-kpi")
    page.side.setCurrentWidget(page.forest)  # the teams' outcome estimates (issue 27)
    settle(0.6)
    shot(window, "commissioner-forest")
    page.side.setCurrentIndex(0)

    _import_in_a_commissioner_workspace(window, page, shot, settle)


def _import_in_a_commissioner_workspace(
    window, page, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="returns-"))
    quarter = page.quarter
    db = page.session.db
    files = []
    for code, ret in sorted(consolidated.latest(db, quarter).items()):
        doc = returns.document(db, ret["id"], "2026-10-20T09:00:00+00:00", "demo")
        files.append(folder / f"kpi-return-{code}-{quarter.code}-r{ret['revision']}.json")
        files[-1].write_text(json.dumps(doc, indent=2), encoding="utf-8")
    tampered = json.loads(files[0].read_text(encoding="utf-8"))
    tampered["values"][1]["numerator"] += 12  # edited by hand after export: the digest no longer matches
    files.append(folder / "kpi-return-edited-by-hand.json")
    files[-1].write_text(json.dumps(tampered, indent=2), encoding="utf-8")
    workspace = folder / "icb.sqlite"
    create_workspace(workspace, "commissioner").close()
    window.open_path(workspace)
    icb = window.current_page()
    dialog = icb.import_files(files)
    if dialog is None:
        return
    settle(0.4)
    shot(dialog, "commissioner-import-dry-run")
    dialog.confirm()
    settle(0.3)
    shot(dialog, "commissioner-imported")
    dialog.accept()
    settle(0.4)
    shot(window, "commissioner-workspace")
