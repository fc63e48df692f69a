"""Importing a risk extract: read, check, stratify, compare with the last run, then write in one transaction.

Only the cohort is stored row by row; the rest of the population is kept as a summary (DESIGN §6.4, §13).
Nothing is written until the whole file has been read and checked.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlite_utils

from . import audit, cohort_rules, risk_store
from .changes import Changes
from .clock import Actor, new_ids
from .errors import ValidationError
from .extract_reader import read_extract
from .extract_rules import CheckedExtract, Rejection, check_rows
from .progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress
from .workspace import get_meta, set_meta

AGE_BANDS = ((0, 17, "0-17"), (18, 64, "18-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+"))


@dataclass
class ImportResult:
    rows: int
    imported: int
    rejected: int
    cohort: dict[str, int]
    new: int
    left: int
    changed: int
    rejections: list[Rejection] = field(default_factory=list)
    run_id: str | None = None
    changes: Changes = field(default_factory=Changes)

    def as_json(self) -> dict[str, Any]:
        """Exactly the keys of `import-risk --json` (issue 3)."""
        return {"rows": self.rows, "imported": self.imported, "rejected": self.rejected, "cohort": self.cohort,
                "new": self.new, "left": self.left, "changed": self.changed,
                "rejections": [r.as_dict() for r in self.rejections]}


def locality_by_code(db: sqlite_utils.Database, code: str) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM localities WHERE code = ?", [code.upper()]))
    if not rows:
        known = ", ".join(r["code"] for r in db.query("SELECT code FROM localities ORDER BY code"))
        raise ValidationError(f"There is no locality '{code}' in this workspace. Known: {known}.")
    return rows[0]


def remembered_mapping(db: sqlite_utils.Database) -> dict[str, str]:
    stored = get_meta(db, "extract_mapping")
    return json.loads(stored) if stored else {}


def check_extract(db: sqlite_utils.Database, locality_code: str, path: str | Path,
                  extract_date: dt.date | None = None, mapping: dict[str, str] | None = None) -> CheckedExtract:
    """Read and validate a file for a locality without writing anything (the dialog's preview uses it)."""
    from .extract_reader import read_headings, suggest_mapping

    locality = locality_by_code(db, locality_code)
    if mapping is None:
        headings, _, _ = read_headings(path)
        mapping = suggest_mapping(headings, remembered_mapping(db))
    raw = read_extract(path, mapping)
    mine = {r["ods_code"] for r in db.query("SELECT ods_code FROM practices WHERE locality_id = ?", [locality["id"]])}
    others = {r["ods_code"]: r["name"] for r in db.query(
        "SELECT p.ods_code, l.name FROM practices p JOIN localities l ON l.id = p.locality_id WHERE l.id != ?",
        [locality["id"]])}
    return check_rows(raw, mine, others, extract_date or dt.date.today())


def import_extract(db: sqlite_utils.Database, actor: Actor, locality_code: str, path: str | Path,
                   extract_date: dt.date | None = None, mapping: dict[str, str] | None = None,
                   progress: Progress = no_progress, cancel: CancelCheck = never_cancel) -> ImportResult:
    """Import one extract for one locality. Refuses the whole file (ValidationError) when its structure is
    wrong or no row is valid; otherwise stores the valid rows' cohort and lists the rejected rows."""
    path = Path(path)
    extract_date = extract_date or dt.date.today()
    progress(0.05, f"Reading {path.name}")
    checked = check_extract(db, locality_code, path, extract_date, mapping)
    check_cancel(cancel)
    if checked.imported == 0:
        first = checked.rejections[0] if checked.rejections else None
        hint = f" The first problem: row {first.row}, {first.column}: {first.reason}" if first else ""
        raise ValidationError(f"No row of {path.name} could be imported.{hint}")
    return store_run(db, actor, locality_code, checked, path.name, extract_date, mapping, progress, cancel)


def store_run(db: sqlite_utils.Database, actor: Actor, locality_code: str, checked: CheckedExtract,
              file_name: str, extract_date: dt.date, mapping: dict[str, str] | None = None,
              progress: Progress = no_progress, cancel: CancelCheck = never_cancel,
              make_ids: Callable[[int], list[str]] = new_ids) -> ImportResult:
    """Stratify checked rows, compare with the last run and write the run in one transaction.

    *checked* is anything with CheckedExtract's values, rows, rejections, text() and counts(): the demo
    generator hands in a population it made without a file. *make_ids* lets it make its ids reproducible.
    """
    locality = locality_by_code(db, locality_code)
    progress(0.45, "Finding the cohort")
    rules = cohort_rules.load(db)
    v = checked.values
    flags = rules.criteria(v["efi_deficits"], v["ltc_count"], v["predicted_cost"], v["expected_cost"])
    in_cohort = flags["F"] | flags["M"] | flags["C"]
    idx = np.flatnonzero(in_cohort)
    codes = cohort_rules.criteria_text({k: m[idx] for k, m in flags.items()})
    summary = population_summary(checked, rules, extract_date)
    check_cancel(cancel)
    progress(0.6, "Comparing with the last run")
    result = ImportResult(rows=checked.rows, imported=checked.imported, rejected=checked.rows - checked.imported,
                          cohort={"frailty": int(flags["F"].sum()), "multimorbidity": int(flags["M"].sum()),
                                  "high_cost": int(flags["C"].sum()), "total": int(len(idx))},
                          new=0, left=0, changed=0, rejections=checked.rejections)
    run_id = make_ids(1)[0]
    now = actor.now()
    stamp = (now, now, actor.user, actor.device_id)
    diff = compare_with_previous(db, locality["id"], rules, v, idx, codes, make_ids)
    result.new, result.left, result.changed = len(diff.new), len(diff.left), len(diff.changed)
    text = {name: checked.text(name, idx).tolist() for name in
            ("given_name", "family_name", "sex", "postcode", "practice_code", "care_home_id")}
    prob = v["prob_unplanned_admission"][idx]
    col_nhs = v["nhs_number"][idx].astype(str).tolist()
    col_dob = np.datetime_as_string(v["date_of_birth"][idx], unit="D").tolist()
    diff.find_identity_changes(db, locality["id"], col_nhs, text, col_dob)
    table = pa.table({
        "patient_id": diff.ids,
        "nhs_number": v["nhs_number"][idx],
        "practice_code": text["practice_code"],
        "date_of_birth": pa.array(v["date_of_birth"][idx]).cast(pa.date32()),
        "efi_deficits": v["efi_deficits"][idx].astype(np.int16),
        "efi_score": v["efi_score"][idx].astype(np.float32),
        "ltc_count": v["ltc_count"][idx].astype(np.int16),
        "prob_unplanned_admission": pa.array(prob.astype(np.float32), mask=np.isnan(prob)),
        "predicted_cost": v["predicted_cost"][idx],
        "expected_cost": v["expected_cost"][idx],
        "criteria": codes.tolist(),
        "eol_register": v["eol_register"][idx],
        "housebound": v["housebound"][idx],
        "care_home_id": text["care_home_id"],
        "change": diff.change_column(len(idx)),
        "change_detail": diff.detail_column(len(idx)),
    }, schema=risk_store.COHORT_SCHEMA)
    identity = list(zip(diff.ids, col_nhs, text["given_name"], text["family_name"], col_dob, text["sex"],
                        text["postcode"], text["practice_code"], text["care_home_id"], strict=True))
    upserts = [(*identity[k], locality["id"], run_id, *stamp) for k in diff.write_rows]
    change_rows = ([(run_id, pid, "changed", why) for _, pid, why in diff.changed]
                   + [(run_id, pid, "left", why) for pid, why in diff.left])
    left_rows = [(run_id, why, now, actor.user, actor.device_id, pid) for pid, why in diff.left]
    check_cancel(cancel)
    progress(0.75, f"Saving {len(idx):,} cohort patients")
    with db.atomic():
        db.execute(
            "INSERT INTO risk_runs (id, locality_id, file_name, extract_date, imported_at, imported_by, rows, "
            "imported, rejected, cohort_total, frailty, multimorbidity, high_cost, new, left, changed, rules, "
            "summary, created_at, updated_at, updated_by, device_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, locality["id"], file_name, extract_date.isoformat(), now, actor.user, result.rows,
             result.imported, result.rejected, result.cohort["total"], result.cohort["frailty"],
             result.cohort["multimorbidity"], result.cohort["high_cost"], result.new, result.left, result.changed,
             json.dumps(asdict(rules)), json.dumps(summary), *stamp])
        db.execute("INSERT INTO risk_run_cohorts (run_id, data) VALUES (?, ?)", [run_id, risk_store.encode(table)])
        # Only identity and membership are written; the team's own work (status, case manager, care plan,
        # notes) is never in the update list, so it survives every re-import.
        db.conn.executemany(
            "INSERT INTO patients (id, nhs_number, given_name, family_name, date_of_birth, sex, postcode, "
            "practice_code, care_home_id, locality_id, joined_run_id, created_at, updated_at, updated_by, "
            "device_id, in_cohort) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) "
            "ON CONFLICT(nhs_number) DO UPDATE SET locality_id = excluded.locality_id, "
            "given_name = excluded.given_name, family_name = excluded.family_name, "
            "date_of_birth = excluded.date_of_birth, sex = excluded.sex, postcode = excluded.postcode, "
            "practice_code = excluded.practice_code, care_home_id = excluded.care_home_id, "
            "joined_run_id = CASE WHEN patients.in_cohort THEN patients.joined_run_id "
            "ELSE excluded.joined_run_id END, in_cohort = 1, left_run_id = NULL, left_reason = '', "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by, device_id = excluded.device_id",
            upserts)
        db.conn.executemany(
            "UPDATE patients SET in_cohort = 0, left_run_id = ?, left_reason = ?, updated_at = ?, updated_by = ?, "
            "device_id = ? WHERE id = ?", left_rows)
        db.conn.executemany("INSERT INTO cohort_changes (run_id, patient_id, change, detail) VALUES (?, ?, ?, ?)",
                            change_rows)
        if mapping is not None:
            set_meta(db, extract_mapping=json.dumps(mapping, sort_keys=True))
        audit.record(db, actor, "import", "risk_runs", run_id,
                     f"Imported {file_name} for {locality['name']}: {result.imported:,} of {result.rows:,} rows, "
                     f"cohort {result.cohort['total']:,} ({result.new:,} new, {result.left:,} left, "
                     f"{result.changed:,} changed), {result.rejected:,} rejected",
                     {"file": file_name, "extract_date": extract_date.isoformat()})
        check_cancel(cancel)
    progress(1.0, "Done")
    result.run_id = run_id
    result.changes = Changes.of("risk_runs", "patients", "cohort_changes")
    return result


@dataclass
class CohortDiff:
    ids: list[str]  # patient id for each current cohort row (existing or newly made)
    new: list[tuple[int, str, str]] = field(default_factory=list)  # (cohort row, patient id, detail)
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)  # (patient id, why)
    write_rows: list[int] = field(default_factory=list)  # cohort rows whose patients row must be written

    def change_column(self, n: int) -> list[str]:
        out = [""] * n
        for k, _, _ in self.new:
            out[k] = "new"
        for k, _, _ in self.changed:
            out[k] = "changed"
        return out

    def detail_column(self, n: int) -> list[str]:
        out = [""] * n
        for k, _, why in self.new + self.changed:
            out[k] = why
        return out

    def find_identity_changes(self, db: sqlite_utils.Database, locality_id: str, nhs: list[str],
                              text: dict[str, list[str]], dob: list[str]) -> None:
        """Rows to write: new and returning patients, and those whose identity details moved."""
        held = {r[0]: r[1:] for r in db.execute(
            "SELECT nhs_number, given_name, family_name, date_of_birth, sex, postcode, practice_code, "
            "care_home_id FROM patients WHERE locality_id = ?", [locality_id])}
        joining = {k for k, _, _ in self.new}
        for k, number in enumerate(nhs):
            now = (text["given_name"][k], text["family_name"][k], dob[k], text["sex"][k], text["postcode"][k],
                   text["practice_code"][k], text["care_home_id"][k])
            if k in joining or held.get(number) != now:
                self.write_rows.append(k)


def compare_with_previous(db: sqlite_utils.Database, locality_id: str, rules: cohort_rules.CohortRules,
                          v: dict[str, np.ndarray], idx: np.ndarray, codes: np.ndarray,
                          make_ids: Callable[[int], list[str]] = new_ids) -> CohortDiff:
    """Who is new to the cohort, who left it and whose risk changed, against what the workspace holds."""
    nhs = v["nhs_number"][idx]
    prev = list(db.execute("SELECT CAST(nhs_number AS INTEGER), id, in_cohort FROM patients WHERE locality_id = ?",
                           [locality_id]))
    # A patient who moved here from another locality keeps their record (and the team's notes on it).
    held = {r[0] for r in prev}
    strangers = [str(x) for x in nhs.tolist() if x not in held]
    for start in range(0, len(strangers), 500):
        chunk = strangers[start:start + 500]
        prev += db.execute(f"SELECT CAST(nhs_number AS INTEGER), id, 0 FROM patients WHERE nhs_number IN "
                           f"({', '.join('?' * len(chunk))})", chunk).fetchall()
    prev.sort()
    last = latest_cohort(db, locality_id)
    p_nhs = np.array([r[0] for r in prev], dtype=np.int64)
    p_ids = np.array([r[1] for r in prev] or [""], dtype=object)
    p_in = np.array([r[2] for r in prev], dtype=bool)
    p_crit = np.full(max(len(prev), 1), "", dtype=object)
    p_def = np.zeros(max(len(prev), 1), dtype=np.int64)
    p_ltc = np.zeros(max(len(prev), 1), dtype=np.int64)
    if last is not None and len(prev):
        at = np.searchsorted(p_nhs, last["nhs_number"].to_numpy())
        p_crit[at] = last["criteria"].to_numpy(zero_copy_only=False)
        p_def[at] = last["efi_deficits"].to_numpy()
        p_ltc[at] = last["ltc_count"].to_numpy()
    pos = np.clip(np.searchsorted(p_nhs, nhs), 0, max(len(p_nhs) - 1, 0))
    found = (p_nhs[pos] == nhs) if len(p_nhs) else np.zeros(len(nhs), dtype=bool)
    ids = np.where(found, p_ids[pos], None)
    ids[~found] = make_ids(int((~found).sum()))
    diff = CohortDiff(ids=ids.tolist())
    was_in = found & (p_in[pos] if len(p_in) else found)
    diff.new = [(int(k), ids[k], "" if not found[k] else "returned to the cohort") for k in np.flatnonzero(~was_in)]
    band, old_band = rules.efi_band(v["efi_deficits"][idx]), rules.efi_band(p_def[pos])
    ltc, old_ltc = v["ltc_count"][idx], p_ltc[pos]
    crit_moved, band_moved, ltc_moved = p_crit[pos] != codes, band != old_band, ltc != old_ltc
    for k in np.flatnonzero(was_in & (crit_moved | band_moved | ltc_moved)):
        reasons = []
        if crit_moved[k]:
            reasons.append(f"criteria {p_crit[pos[k]] or '-'} → {codes[k]}")
        if band_moved[k]:
            reasons.append(f"eFI {cohort_rules.EFI_BANDS[old_band[k]]} → {cohort_rules.EFI_BANDS[band[k]]}")
        if ltc_moved[k]:
            reasons.append(f"LTCs {old_ltc[k]} → {ltc[k]}")
        diff.changed.append((int(k), ids[k], "; ".join(reasons)))
    if len(p_nhs):
        still = pd.Series(p_nhs).isin(nhs).to_numpy()
        in_extract = pd.Series(p_nhs).isin(v["nhs_number"]).to_numpy()
        for j in np.flatnonzero(p_in & ~still):
            why = "no longer meets the criteria" if in_extract[j] else "not in this extract (moved or died)"
            diff.left.append((p_ids[j], why))
    return diff


def latest_cohort(db: sqlite_utils.Database, locality_id: str) -> pa.Table | None:
    row = db.execute("SELECT id FROM risk_runs WHERE locality_id = ? ORDER BY extract_date DESC, imported_at DESC "
                     "LIMIT 1", [locality_id]).fetchone()
    return risk_store.run_cohort(db, row[0]) if row else None


def population_summary(checked: CheckedExtract, rules: cohort_rules.CohortRules,
                       extract_date: dt.date) -> dict[str, dict[str, int]]:
    """Counts of the whole valid population by practice, age band, eFI band and LTC count."""
    v = checked.values
    age = (np.datetime64(extract_date, "D") - v["date_of_birth"]).astype(np.int64) / 365.2425
    bands = {}
    for low, high, label in AGE_BANDS:
        bands[label] = int(((age >= low) & (age < high + 1)).sum())
    practices = checked.counts("practice_code")
    efi = np.bincount(rules.efi_band(v["efi_deficits"]), minlength=4)
    ltc = np.bincount(np.minimum(v["ltc_count"], 10), minlength=11)
    return {
        "practice": dict(sorted(practices.items())),
        "age_band": bands,
        "efi_band": {b: int(c) for b, c in zip(cohort_rules.EFI_BANDS, efi, strict=True)},
        "ltc_count": {("10+" if i == 10 else str(i)): int(c) for i, c in enumerate(ltc)},
    }
