"""Whose risk changed since the locality's run before the latest, and how (issue 22): criteria gained or lost,
eFI band up or down, LTC count and cost ratio, before and now.

Worked out from the two runs' stored cohorts, matched on NHS number, never from the words the import wrote in
`change_detail`. The patients are exactly those the latest run marked `changed` (its cohort_changes rows and the
run's `changed` count, which the Cohort header shows), so the worklist and the header always agree. Both runs'
eFI bands are read with the criteria the latest run was stratified by, as the import compared them.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import sqlite_utils

from . import rules as cohort_rules
from . import store as risk_store

UP, DOWN = "↑", "↓"
# What a run before the first, or a patient not matched in it, shows: nothing to compare with.
BLANK: dict[str, Any] = {
    "was_criteria": "",
    "was_efi_band": -1,
    "now_efi_band": -1,  # the band now by the run's own criteria (the frame's efi_band follows today's)
    "was_efi_deficits": -1,
    "was_ltc_count": -1,
    "was_cost_ratio": np.nan,
    "what_changed": "",
    "criteria_change": 0,
    "efi_band_change": 0,
    "ltc_change": 0,
    "cost_ratio_change": np.nan,
}
COLUMNS = tuple(BLANK)
_DTYPES = {
    "was_criteria": object,
    "was_efi_band": np.int64,
    "now_efi_band": np.int64,
    "was_efi_deficits": np.int64,
    "was_ltc_count": np.int64,
    "was_cost_ratio": float,
    "what_changed": object,
    "criteria_change": np.int64,
    "efi_band_change": np.int64,
    "ltc_change": np.int64,
    "cost_ratio_change": float,
}


def previous_run(db: sqlite_utils.Database, run: dict[str, Any] | None) -> dict[str, Any] | None:
    """The locality's run before *run*, in the order the import compares them (extract date, then import time)."""
    if run is None:
        return None
    rows = list(
        db.query(
            "SELECT * FROM risk_runs WHERE locality_id = ? AND id != ? AND (extract_date < ? OR "
            "(extract_date = ? AND imported_at < ?)) ORDER BY extract_date DESC, imported_at DESC LIMIT 1",
            [run["locality_id"], run["id"], run["extract_date"], run["extract_date"], run["imported_at"]],
        )
    )
    return rows[0] if rows else None


def run_rules(db: sqlite_utils.Database, run: dict[str, Any]) -> cohort_rules.CohortRules:
    """The criteria *run* was stratified by (each run keeps its own), or the workspace's when it kept none."""
    try:
        kept = json.loads(run.get("rules") or "")
        return cohort_rules.CohortRules(**kept)
    except (ValueError, TypeError):
        return cohort_rules.load(db)


def columns(
    db: sqlite_utils.Database, run: dict[str, Any] | None, latest: pa.Table, previous: dict[str, Any] | None
) -> dict[str, np.ndarray]:
    """One array per name in COLUMNS, aligned with the rows of *latest* (the cohort of *run*): for each patient
    the run marked changed, their values in *previous*'s cohort and what moved; BLANK for everyone else."""
    n = latest.num_rows
    out = {k: np.full(n, BLANK[k], dtype=_DTYPES[k]) for k in COLUMNS}
    if run is None or previous is None or n == 0:
        return out
    change = latest["change"].to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(change == "changed")
    if not len(rows):
        return out
    before = risk_store.run_cohort(db, previous["id"])
    b_nhs = before["nhs_number"].to_numpy()
    order = np.argsort(b_nhs)
    nhs = latest["nhs_number"].to_numpy()[rows]
    pos = np.searchsorted(b_nhs[order], nhs).clip(0, max(len(order) - 1, 0))
    found = (b_nhs[order][pos] == nhs) if len(order) else np.zeros(len(rows), dtype=bool)
    rows, at = rows[found], order[pos[found]]
    rules = run_rules(db, run)

    def now(name: str) -> np.ndarray:
        return latest[name].to_numpy(zero_copy_only=False)[rows]

    def then(name: str) -> np.ndarray:
        return before[name].to_numpy(zero_copy_only=False)[at]

    crit_now, crit_then = now("criteria"), then("criteria")
    def_now, def_then = now("efi_deficits").astype(np.int64), then("efi_deficits").astype(np.int64)
    band_now, band_then = rules.efi_band(def_now).astype(np.int64), rules.efi_band(def_then).astype(np.int64)
    ltc_now, ltc_then = now("ltc_count").astype(np.int64), then("ltc_count").astype(np.int64)
    ratio_now = now("predicted_cost") / now("expected_cost")
    ratio_then = then("predicted_cost") / then("expected_cost")
    out["was_criteria"][rows] = crit_then
    out["was_efi_deficits"][rows] = def_then
    out["was_efi_band"][rows] = band_then
    out["now_efi_band"][rows] = band_now
    out["was_ltc_count"][rows] = ltc_then
    out["was_cost_ratio"][rows] = ratio_then
    out["criteria_change"][rows] = [len(str(a)) - len(str(b)) for a, b in zip(crit_now, crit_then, strict=True)]
    out["efi_band_change"][rows] = band_now - band_then
    out["ltc_change"][rows] = ltc_now - ltc_then
    out["cost_ratio_change"][rows] = ratio_now - ratio_then
    out["what_changed"][rows] = [
        what_changed(*values)
        for values in zip(
            crit_then, crit_now, band_then, band_now, ltc_then, ltc_now, ratio_then, ratio_now, strict=True
        )
    ]
    return out


def what_changed(
    crit_then: str,
    crit_now: str,
    band_then: int,
    band_now: int,
    ltc_then: int,
    ltc_now: int,
    ratio_then: float,
    ratio_now: float,
) -> str:
    """One readable line: "gained high cost (cost ratio 2.40 → 3.10); eFI moderate → severe ↑; LTCs 4 → 6"."""
    parts = []
    for code, name in cohort_rules.CRITERIA.items():
        had, has = code in (crit_then or ""), code in (crit_now or "")
        if had == has:
            continue
        cost = f" (cost ratio {ratio(ratio_then)} → {ratio(ratio_now)})" if code == "C" else ""
        # Words, not "+" and "−": a cell starting with "+" would be a formula to a spreadsheet.
        parts.append(f"{'gained' if has else 'lost'} {name}{cost}")
    if band_then != band_now:
        parts.append(f"eFI {band_move(band_then, band_now)}")
    if ltc_then != ltc_now:
        parts.append(f"LTCs {ltc_then} → {ltc_now}")
    return "; ".join(parts)


def criteria_names(codes: str) -> str:
    """ "FC" -> "frailty, high cost"; "" -> "none"."""
    names = [name for code, name in cohort_rules.CRITERIA.items() if code in (codes or "")]
    return ", ".join(names) or "none"


def band_move(then: int, now: int) -> str:
    """ "moderate → severe ↑" (a band index of cohort_rules.EFI_BANDS each)."""
    return f"{cohort_rules.EFI_BANDS[then]} → {cohort_rules.EFI_BANDS[now]}{arrow(now - then)}"


def arrow(delta: float) -> str:
    return f" {UP}" if delta > 0 else f" {DOWN}" if delta < 0 else ""


def direction(delta: float) -> str:
    return "up" if delta > 0 else "down" if delta < 0 else "same"


def ratio(value: float) -> str:
    return "" if value is None or np.isnan(value) else f"{value:.2f}"
