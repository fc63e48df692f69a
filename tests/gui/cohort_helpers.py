"""Small helpers the cohort screen tests share."""

from __future__ import annotations

import datetime as dt

# Later than any demo-world run, so the imported extract is the latest run of its locality.
EXTRACT_DATE = dt.date(2026, 11, 1)


def choose_locality(window, code):
    box = window.locality_box
    box.setCurrentIndex(next(i for i in range(box.count()) if box.itemData(i)["code"] == code))


def locality_id(db, code="CHA") -> str:
    return next(iter(db.query("SELECT id FROM localities WHERE code = ?", [code])))["id"]


def select_first_rows(page, count: int) -> list[str]:
    """Select the cohort table's first *count* rows, as Shift+click would; the selected patients' ids."""
    table = page.table
    table.select_row(0)
    flags = table.selectionModel().SelectionFlag.Select | table.selectionModel().SelectionFlag.Rows
    for row in range(1, count):
        table.selectionModel().select(page.model.index(row, 0), flags)
    return table.selected_ids()


def wait_loaded(qtbot, page, timeout: int = 30_000) -> None:
    """Let the cohort screen show the frame it is loading off the GUI thread (it does after every change)."""
    qtbot.waitUntil(lambda: not page.loading, timeout=timeout)
