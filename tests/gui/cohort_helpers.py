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
