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
import pyarrow as pa
import pyarrow.compute as pc
import sqlite_utils

from .. import audit, clock, workspace
from ..changes import Changes
from ..clock import Actor, new_ids
from ..errors import ValidationError
from ..identifiers import patient_ids
from ..progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress
from ..workers import POOL
from ..workspace import get_meta, locality_by_code, set_meta
from . import plausibility, rollback
from . import rules as cohort_rules
from . import store as risk_store
from .extract_layout import USE_COLUMNS
from .extract_reader import CANONICAL, read_extract
from .extract_rules import CheckedExtract, Rejection, ages_on, check_rows
from .frame import latest_run
from .plausibility import Finding, ImplausibleExtract

# What store_run asks of the extract date, in the words the import dialog shows as help.
EXTRACT_DATE_HELP = (
    "The day the risk tool produced the file, not in the future and not before the locality's "
    "latest run: new, left and changed are worked out against that run."
)
AGE_BANDS = ((0, 17, "0-17"), (18, 64, "18-64"), (65, 74, "65-74"), (75, 84, "75-84"), (85, 200, "85+"))
_AGE_HIGHS = [high for _, high, _ in AGE_BANDS]


def age_band_index(ages: np.ndarray) -> np.ndarray:
    """The place in AGE_BANDS of each age in whole years."""
    return np.searchsorted(_AGE_HIGHS, ages, side="left")


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
    # What was read other than patients: the sheet, a report's title lines, its summary below the patients.
    notes: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # what looked implausible, accepted
    partial: dict[str, Any] | None = None  # covered and missing practices, cohort rows carried over

    def as_json(self) -> dict[str, Any]:
        """Exactly the keys of `import-risk --json` (issue 3)."""
        return {
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "cohort": self.cohort,
            "new": self.new,
            "left": self.left,
            "changed": self.changed,
            "rejections": [r.as_dict() for r in self.rejections],
            "findings": [f.text for f in self.findings],
            "partial": self.partial,
        }


def remembered_mapping(db: sqlite_utils.Database) -> dict[str, str]:
    """The mapping the last import used. It is only a suggestion, so a damaged one (not JSON, not an object,
    or naming columns the app does not have) is ignored entry by entry rather than stopping the import: it
    raised JSONDecodeError, AttributeError or TypeError, or refused a good file, before."""
    stored = get_meta(db, "extract_mapping")
    try:
        loaded = json.loads(stored) if stored else {}
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return _usable(loaded)


def _usable(mapping: dict) -> dict[str, str]:
    """The entries of a mapping that name a heading and one of our columns."""
    return {h: t for h, t in mapping.items() if isinstance(h, str) and isinstance(t, str) and t in CANONICAL}


def check_extract(
    db: sqlite_utils.Database,
    locality_code: str,
    path: str | Path,
    extract_date: dt.date | None = None,
    mapping: dict[str, str] | None = None,
    *,
    sheet: str | None = None,
    cohort_only: bool = False,
) -> CheckedExtract:
    """Read and validate a file (a CSV, or a workbook's *sheet*: by default the first holding an
    extract) for a locality without writing anything (the dialog's Check uses it). *cohort_only* keeps only the
    rows that meet the cohort criteria row by row (every valid row is still counted), as an import needs."""
    workspace.require_patient_level(db)
    locality = locality_by_code(db, locality_code)
    refuse_future_extract_date(extract_date)
    # The dialog's mapping names the headings it previewed: it helps find the same heading row again (what in it
    # is not a column of ours is refused by read_extract, with its own message).
    hints = {**remembered_mapping(db), **_usable(mapping or {})}
    raw = read_extract(path, mapping, sheet=sheet, remembered=hints)
    mine = {r["ods_code"] for r in db.query("SELECT ods_code FROM practices WHERE locality_id = ?", [locality["id"]])}
    others = {
        r["ods_code"]: r["name"]
        for r in db.query(
            "SELECT p.ods_code, l.name FROM practices p JOIN localities l ON l.id = p.locality_id WHERE l.id != ?",
            [locality["id"]],
        )
    }
    keep = None
    if cohort_only:
        rules = cohort_rules.load(db)

        def keep(v: dict[str, np.ndarray]) -> np.ndarray:
            flags = rules.criteria(v["efi_deficits"], v["ltc_count"], v["predicted_cost"], v["expected_cost"])
            return flags["F"] | flags["M"] | flags["C"]

    return check_rows(raw, mine, others, extract_date or clock.today(), keep)


def import_extract(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_code: str,
    path: str | Path,
    extract_date: dt.date | None = None,
    mapping: dict[str, str] | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    *,
    sheet: str | None = None,
    accept: bool = False,
) -> ImportResult:
    """Import one extract (a CSV, or a workbook's sheet: see check_extract) for one locality. Refuses the whole
    file (ValidationError) when its structure is wrong or no row is valid, and (ImplausibleExtract) when it does
    not look like the locality's whole extract unless *accept*; otherwise stores the valid rows' cohort and lists
    the rejected rows."""
    extract_date = extract_date or clock.today()
    progress(0.05, f"Reading {Path(path).name}")
    checked = check_extract(db, locality_code, path, extract_date, mapping, sheet=sheet, cohort_only=True)
    path = Path(path)
    check_cancel(cancel)
    if checked.imported == 0:
        first = checked.rejections[0] if checked.rejections else None
        hint = f" The first problem: row {first.row}, {first.column}: {first.reason}" if first else ""
        raise ValidationError(f"No row of {path.name} could be imported.{hint}")
    return store_run(
        db, actor, locality_code, checked, path.name, extract_date, mapping, progress, cancel, accept=accept
    )


def store_run(
    db: sqlite_utils.Database,
    actor: Actor,
    locality_code: str,
    checked: CheckedExtract,
    file_name: str,
    extract_date: dt.date,
    mapping: dict[str, str] | None = None,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    make_ids: Callable[[int], list[str]] = new_ids,
    *,
    accept: bool = False,
) -> ImportResult:
    """Stratify checked rows, compare with the last run and write the run in one transaction.

    A file that does not look like the locality's whole extract (plausibility.py) is refused unless *accept*;
    accepted, a file that covers only some of the last run's practices changes only those (the others' cohort
    rows are carried into the new run as they were). What the run overwrites is kept for a roll-back.

    The run's cohort is written as one table (risk_store); a `patients` row exists only for patients the
    team has worked on, and only those rows are touched here, so an import costs the same for 600 or
    60,000 cohort patients. *checked* is anything with CheckedExtract's values, rows, rejections, text()
    and counts(): the demo generator hands in a population it made without a file; *make_ids* lets it
    make its ids reproducible.
    """
    # check_extract has refused these for a file; the demo's generated extracts come straight here.
    workspace.require_patient_level(db)
    refuse_future_extract_date(extract_date)
    locality = locality_by_code(db, locality_code)
    _refuse_older_than_latest(db, locality, extract_date)
    progress(0.45, "Finding the cohort")
    rules = cohort_rules.load(db)
    v = checked.values
    flags, idx, codes = _find_cohort(rules, v)
    # The population summary needs only the checked rows: let a second core count while this one compares.
    summary_job = POOL.submit(population_summary, checked, rules, extract_date)
    check_cancel(cancel)
    progress(0.6, "Comparing with the last run")
    run_id = make_ids(1)[0]
    found, last = _judged(db, locality, checked, idx)
    if found.blocking and not accept:
        raise ImplausibleExtract(found, file_name)
    carried = None
    if found.partial and last is not None:
        kept = plausibility.carried_rows(last, found.missing, checked.everyone)
        carried, last = _unchanged(last.filter(pa.array(kept))), last.filter(pa.array(~kept))
    text = {name: checked.text(name, idx) for name in IDENTITY_TEXT}
    diff = compare_with_previous(db, locality["id"], rules, v, idx, codes, text, last, checked.everyone)
    result = _run_counts(checked, flags, idx, diff)
    result.findings = found.findings
    table = _cohort_table(v, idx, codes, text, diff)
    if carried is not None:
        table = pa.concat_tables([table, carried])
        result.partial = {"covered": found.covered, "missing": found.missing, "carried": carried.num_rows}
        _count_carried(result, carried)
    # One time for the run and every patient row it touches: they read as written together.
    stamp = (actor.now(), actor.user, actor.device_id)
    summary = summary_job.result()
    if result.partial:
        summary["partial"] = result.partial
    check_cancel(cancel)
    progress(0.75, f"Saving {len(idx):,} cohort patients")
    with db.atomic():
        before = rollback.capture(db, [diff.ids[k] for k in diff.worked_rows] + [pid for pid, _ in diff.left])
        meta_before = {"extract_mapping": get_meta(db, "extract_mapping")} if mapping is not None else {}
        _insert_run(db, locality, run_id, file_name, extract_date, result, rules, summary, table, stamp)
        _refresh_worked_patients(db, locality["id"], run_id, v["date_of_birth"][idx], text, diff, stamp)
        _record_leavers_and_changes(db, run_id, diff, stamp)
        if mapping is not None:
            set_meta(db, extract_mapping=json.dumps(mapping, sort_keys=True))
        rollback.keep(db, run_id, before, meta_before)
        _audit_run(db, actor, locality, run_id, file_name, extract_date, result)
        check_cancel(cancel)
    progress(1.0, "Done")
    result.run_id = run_id
    result.changes = rollback.changes()
    return result


def assess(db: sqlite_utils.Database, locality_code: str, checked: CheckedExtract) -> plausibility.Plausibility:
    """What importing *checked* would look like against the locality's last run, as store_run judges it, without
    writing anything (the import dialog's Check says it before Import is pressed)."""
    _, idx, _ = _find_cohort(cohort_rules.load(db), checked.values)
    return _judged(db, locality_by_code(db, locality_code), checked, idx)[0]


def _judged(
    db: sqlite_utils.Database, locality: dict[str, Any], checked: CheckedExtract, idx: np.ndarray
) -> tuple[plausibility.Plausibility, pa.Table | None]:
    """The plausibility of a checked file whose cohort is rows *idx*, and the last run's cohort it was judged by."""
    previous = latest_run(db, locality["id"])
    last = risk_store.run_cohort(db, previous["id"]) if previous else None
    cohort_nhs = checked.values["nhs_number"][idx]
    found = plausibility.assess(
        db, locality, checked.counts("practice_code"), checked.rejections, previous, last, cohort_nhs
    )
    return found, last


def _unchanged(rows: pa.Table) -> pa.Table:
    """Carried-over cohort rows: nothing about them is new or changed in this run."""
    blank = pa.array([""] * rows.num_rows, pa.string())
    rows = rows.set_column(rows.schema.get_field_index("change"), "change", blank)
    return rows.set_column(rows.schema.get_field_index("change_detail"), "change_detail", blank)


def _count_carried(result: ImportResult, carried: pa.Table) -> None:
    for name, code in (("frailty", "F"), ("multimorbidity", "M"), ("high_cost", "C")):
        result.cohort[name] += int(pc.sum(pc.match_substring(carried["criteria"], code)).as_py() or 0)
    result.cohort["total"] += carried.num_rows


def refuse_future_extract_date(extract_date: dt.date | None) -> None:
    """An extract cannot be dated after today. One dated 2031-01-01 was imported, and from then on every genuine
    extract was refused as older than the locality's latest run (issue 19)."""
    today = clock.today()
    if extract_date is not None and extract_date > today:
        raise ValidationError(
            f"The extract date {extract_date:%d/%m/%Y} is in the future (today is {today:%d/%m/%Y}). Give the day "
            "the risk tool produced the file."
        )


def _refuse_older_than_latest(db: sqlite_utils.Database, locality: dict[str, Any], extract_date: dt.date) -> None:
    latest = db.execute("SELECT MAX(extract_date) FROM risk_runs WHERE locality_id = ?", [locality["id"]]).fetchone()[0]
    if latest and extract_date.isoformat() < latest:
        raise ValidationError(
            f"This extract is dated {extract_date:%d/%m/%Y}, before {locality['name']}'s latest run "
            f"({dt.date.fromisoformat(latest):%d/%m/%Y}). New, left and changed are worked out against the latest "
            "run, so import only extracts at least as recent; check the extract date."
        )


def _find_cohort(
    rules: cohort_rules.CohortRules, v: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(each criterion's rows, the cohort's row numbers, each cohort row's criteria as text)."""
    flags = rules.criteria(v["efi_deficits"], v["ltc_count"], v["predicted_cost"], v["expected_cost"])
    idx = np.flatnonzero(flags["F"] | flags["M"] | flags["C"])
    return flags, idx, cohort_rules.criteria_text({k: m[idx] for k, m in flags.items()})


def _run_counts(
    checked: CheckedExtract, flags: dict[str, np.ndarray], idx: np.ndarray, diff: CohortDiff
) -> ImportResult:
    return ImportResult(
        rows=checked.rows,
        imported=checked.imported,
        rejected=checked.rows - checked.imported,
        cohort={
            "frailty": int(flags["F"].sum()),
            "multimorbidity": int(flags["M"].sum()),
            "high_cost": int(flags["C"].sum()),
            "total": int(len(idx)),
        },
        new=len(diff.new),
        left=len(diff.left),
        changed=len(diff.changed),
        rejections=checked.rejections,
        # The demo's generated populations come without notes.
        notes=list(getattr(checked, "notes", [])),
    )


def _cohort_table(
    v: dict[str, np.ndarray], idx: np.ndarray, codes: np.ndarray, text: dict[str, np.ndarray], diff: CohortDiff
) -> pa.Table:
    """The run's cohort rows, in the columns and types risk_store keeps."""
    prob = v["prob_unplanned_admission"][idx]
    return pa.table(
        {
            "patient_id": diff.ids,
            "nhs_number": v["nhs_number"][idx],
            **{name: text[name] for name in IDENTITY_TEXT},
            "date_of_birth": pa.array(v["date_of_birth"][idx]).cast(pa.date32()),
            "efi_deficits": v["efi_deficits"][idx].astype(np.int16),
            "efi_score": v["efi_score"][idx].astype(np.float32),
            "ltc_count": v["ltc_count"][idx].astype(np.int16),
            "prob_unplanned_admission": pa.array(prob.astype(np.float32), mask=np.isnan(prob)),
            "predicted_cost": v["predicted_cost"][idx],
            "expected_cost": v["expected_cost"][idx],
            "criteria": codes,
            "eol_register": v["eol_register"][idx],
            "housebound": v["housebound"][idx],
            "change": diff.change_column(len(idx)),
            "change_detail": diff.detail_column(len(idx)),
            **{name: _use_column(v, name, idx) for name in USE_COLUMNS},
        },
        schema=risk_store.COHORT_SCHEMA,
    )


def _use_column(v: dict[str, np.ndarray], name: str, idx: np.ndarray) -> pa.Array:
    """A use column of the cohort rows, null where not known (or where the extract has no such column)."""
    kind = risk_store.COHORT_SCHEMA.field(name).type
    if name not in v:
        return pa.nulls(len(idx), kind)
    values = np.asarray(v[name][idx], dtype=kind.to_pandas_dtype())
    unknown = np.isnan(values)
    return pa.array(values, kind, mask=unknown) if unknown.any() else pa.array(values, kind)


def _insert_run(
    db: sqlite_utils.Database,
    locality: dict[str, Any],
    run_id: str,
    file_name: str,
    extract_date: dt.date,
    result: ImportResult,
    rules: cohort_rules.CohortRules,
    summary: dict[str, dict[str, int]],
    table: pa.Table,
    stamp: tuple[str, str, str],
) -> None:
    """The run's row, with the rules it was stratified by and the population summary, and its cohort."""
    now, user, _ = stamp
    db.execute(
        "INSERT INTO risk_runs (id, locality_id, file_name, extract_date, imported_at, imported_by, rows, "
        "imported, rejected, cohort_total, frailty, multimorbidity, high_cost, new, left, changed, rules, "
        "summary, created_at, updated_at, updated_by, device_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            locality["id"],
            file_name,
            extract_date.isoformat(),
            now,
            user,
            result.rows,
            result.imported,
            result.rejected,
            result.cohort["total"],
            result.cohort["frailty"],
            result.cohort["multimorbidity"],
            result.cohort["high_cost"],
            result.new,
            result.left,
            result.changed,
            json.dumps(asdict(rules)),
            json.dumps(summary),
            now,
            *stamp,
        ],
    )
    db.execute("INSERT INTO risk_run_cohorts (run_id, data) VALUES (?, ?)", [run_id, risk_store.encode(table)])


def _refresh_worked_patients(
    db: sqlite_utils.Database,
    locality_id: str,
    run_id: str,
    dob: np.ndarray,
    text: dict[str, np.ndarray],
    diff: CohortDiff,
    stamp: tuple[str, str, str],
) -> None:
    """Worked-on patients only: their identity and membership follow the extract. The team's own work
    (status, case manager, care plan, notes) is never in this statement, so it survives re-import."""
    db.conn.executemany(
        "UPDATE patients SET locality_id = ?, given_name = ?, family_name = ?, sex = ?, postcode = ?, "
        "practice_code = ?, care_home_id = ?, date_of_birth = ?, "
        "joined_run_id = CASE WHEN in_cohort AND locality_id = ? THEN joined_run_id ELSE ? END, "
        "in_cohort = 1, left_run_id = NULL, left_reason = '', updated_at = ?, updated_by = ?, device_id = ? "
        "WHERE id = ?",
        [
            (locality_id, *(text[n][k] for n in IDENTITY_TEXT), str(dob[k]), locality_id, run_id, *stamp, diff.ids[k])
            for k in diff.worked_rows
        ],
    )


def _record_leavers_and_changes(
    db: sqlite_utils.Database, run_id: str, diff: CohortDiff, stamp: tuple[str, str, str]
) -> None:
    db.conn.executemany(
        "UPDATE patients SET in_cohort = 0, left_run_id = ?, left_reason = ?, updated_at = ?, updated_by = ?, "
        "device_id = ? WHERE id = ? AND in_cohort = 1",
        [(run_id, why, *stamp, pid) for pid, why in diff.left],
    )
    db.conn.executemany(
        "INSERT INTO cohort_changes (run_id, patient_id, change, detail) VALUES (?, ?, ?, ?)",
        [(run_id, diff.ids[k], "changed", why) for k, why in diff.changed]
        + [(run_id, pid, "left", why) for pid, why in diff.left],
    )


def _audit_run(
    db: sqlite_utils.Database,
    actor: Actor,
    locality: dict[str, Any],
    run_id: str,
    file_name: str,
    extract_date: dt.date,
    result: ImportResult,
) -> None:
    audit.record(
        db,
        actor,
        "import",
        "risk_runs",
        run_id,
        f"Imported {file_name} for {locality['name']}: {result.imported:,} of {result.rows:,} rows, "
        f"cohort {result.cohort['total']:,} ({result.new:,} new, {result.left:,} left, "
        f"{result.changed:,} changed), {result.rejected:,} rejected",
        {"file": file_name, "extract_date": extract_date.isoformat()},
    )


IDENTITY_TEXT = ("given_name", "family_name", "sex", "postcode", "practice_code", "care_home_id")


@dataclass
class CohortDiff:
    ids: list[str]  # patient id for each current cohort row (kept from before, or newly made)
    new: list[tuple[int, str]] = field(default_factory=list)  # (cohort row, detail)
    changed: list[tuple[int, str]] = field(default_factory=list)
    left: list[tuple[str, str]] = field(default_factory=list)  # (patient id, why)
    worked_rows: list[int] = field(default_factory=list)  # cohort rows with a patients row to refresh

    def change_column(self, n: int) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        out[[k for k, _ in self.new]] = "new"
        out[[k for k, _ in self.changed]] = "changed"
        return out

    def detail_column(self, n: int) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        for k, why in self.new + self.changed:
            if why:
                out[k] = why
        return out


def compare_with_previous(
    db: sqlite_utils.Database,
    locality_id: str,
    rules: cohort_rules.CohortRules,
    v: dict[str, np.ndarray],
    idx: np.ndarray,
    codes: np.ndarray,
    text: dict[str, np.ndarray],
    last: pa.Table | None,
    everyone: np.ndarray,
) -> CohortDiff:
    """Who is new to the cohort, who left it and whose risk changed, against *last* (the cohort of the
    locality's last run, None for a first run); and which worked-on patients need their identity or membership
    refreshed. *everyone* holds the NHS numbers of every valid row of the extract, in the cohort or not."""
    nhs = v["nhs_number"][idx]
    if last is None:
        last = risk_store.COHORT_SCHEMA.empty_table()
    l_nhs = last["nhs_number"].to_numpy()
    l_order = np.argsort(l_nhs)
    l_sorted = l_nhs[l_order]
    pos = np.searchsorted(l_sorted, nhs).clip(0, max(len(l_sorted) - 1, 0))
    was_in = (l_sorted[pos] == nhs) if len(l_sorted) else np.zeros(len(nhs), dtype=bool)
    at = l_order[pos] if len(l_sorted) else pos  # row of the last run, where was_in
    ids = np.empty(len(nhs), dtype=object)
    if len(l_sorted):
        ids[was_in] = last["patient_id"].to_numpy(zero_copy_only=False)[at[was_in]]
    arriving = np.flatnonzero(~was_in)
    ids[arriving] = patient_ids(nhs[arriving].tolist())
    worked = dict(
        db.execute(
            "SELECT CAST(nhs_number AS INTEGER), id FROM patients WHERE locality_id = ?", [locality_id]
        ).fetchall()
    )
    # Worked on in another locality of this workspace and now registered here: keep their record.
    elsewhere = dict(
        db.execute(
            "SELECT CAST(nhs_number AS INTEGER), id FROM patients WHERE locality_id != ?", [locality_id]
        ).fetchall()
    )
    if elsewhere:
        worked.update((x, elsewhere[x]) for x in nhs[~was_in].tolist() if x in elsewhere)
    diff = CohortDiff(ids=ids.tolist())
    earlier = _ever_in_cohort(db, locality_id, nhs[~was_in]) if len(l_sorted) else set()
    returned = np.isin(nhs[arriving], np.fromiter(earlier, dtype=np.int64, count=len(earlier)))
    diff.new = list(zip(arriving.tolist(), np.where(returned, "returned to the cohort", "").tolist(), strict=True))

    band = rules.efi_band(v["efi_deficits"][idx])
    ltc = v["ltc_count"][idx]
    if len(l_sorted):
        old_crit = last["criteria"].to_numpy(zero_copy_only=False)[at]
        old_def = last["efi_deficits"].to_numpy().astype(np.int64)[at]
        old_ltc = last["ltc_count"].to_numpy().astype(np.int64)[at]
        old_band = rules.efi_band(old_def)
        moved = [old_crit != codes, band != old_band, ltc != old_ltc]
        for k in np.flatnonzero(was_in & (moved[0] | moved[1] | moved[2])):
            reasons = []
            if moved[0][k]:
                reasons.append(f"criteria {old_crit[k] or '-'} → {codes[k]}")
            if moved[1][k]:
                reasons.append(f"eFI {cohort_rules.EFI_BANDS[old_band[k]]} → {cohort_rules.EFI_BANDS[band[k]]}")
            if moved[2][k]:
                reasons.append(f"LTCs {old_ltc[k]} → {ltc[k]}")
            diff.changed.append((int(k), "; ".join(reasons)))
        # Identity drift (a new address, practice or care home) matters only for worked-on patients' rows.
        same = np.ones(len(nhs), dtype=bool)
        rows_then = pa.array(at, pa.int64())
        for name in IDENTITY_TEXT:  # compared in Arrow: as Python strings, 220,000 rows' took ~50 MB
            equal = pc.equal(last[name].take(rows_then), pa.array(text[name], pa.string()))
            same &= np.asarray(pc.fill_null(equal, False).to_numpy(zero_copy_only=False), dtype=bool)
        same &= last["date_of_birth"].to_numpy().astype("datetime64[D]")[at] == v["date_of_birth"][idx]
        gone = np.flatnonzero(~_np_in(l_nhs, nhs))
        # Probe the whole extract against the few who left (hashing the extract instead costs far more).
        in_extract = set(everyone[_np_in(everyone, l_nhs[gone])].tolist())
        for j in gone:
            why = (
                "no longer meets the criteria" if int(l_nhs[j]) in in_extract else "not in this extract (moved or died)"
            )
            diff.left.append((last["patient_id"][int(j)].as_py(), why))
    else:
        same = np.zeros(len(nhs), dtype=bool)
    worked_ids = set(worked.values())
    worked_now = _np_in(ids, list(worked_ids)) & ~(was_in & same)
    diff.worked_rows = np.flatnonzero(worked_now).tolist()
    return diff


def _np_in(values, wanted) -> np.ndarray:
    """Which of *values* are among *wanted*, by one hash of *wanted* (numpy's isin sorts both)."""
    if not len(wanted) or not len(values):
        return np.zeros(len(values), dtype=bool)
    found = pc.is_in(pa.array(values), value_set=pa.array(wanted))
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)


def _ever_in_cohort(db: sqlite_utils.Database, locality_id: str, numbers: np.ndarray) -> set[int]:
    """Which of *numbers* were in any earlier cohort of the locality (to say 'returned')."""
    found: set[int] = set()
    wanted = pa.array(numbers, pa.int64())
    for (run_id,) in db.execute("SELECT id FROM risk_runs WHERE locality_id = ?", [locality_id]).fetchall():
        numbers = risk_store.run_nhs_numbers(db, run_id)  # only this column is decompressed
        found.update(numbers.filter(pc.is_in(numbers, wanted)).to_pylist())
    return found


def population_summary(
    checked: CheckedExtract, rules: cohort_rules.CohortRules, extract_date: dt.date
) -> dict[str, dict[str, int]]:
    """Counts of the whole valid population by practice, age band, eFI band and LTC count."""
    v = checked.values
    counted = getattr(checked, "histograms", None)
    if counted is not None and getattr(checked, "counted_on", None) == extract_date:
        # Counted batch by batch as the file was read (extract_rules): the same counts, without a pass over
        # the whole population here. Ages are whole years 0-200, deficits 0-36, LTC counts 0-60.
        per_band = np.bincount(
            age_band_index(np.arange(len(counted["age"]))),
            weights=counted["age"],
            minlength=len(AGE_BANDS),
        ).astype(np.int64)
        deficits = np.arange(len(counted["efi_deficits"]))
        efi = np.bincount(rules.efi_band(deficits), weights=counted["efi_deficits"], minlength=4).astype(np.int64)
        ltc = np.bincount(
            np.minimum(np.arange(len(counted["ltc_count"])), 10), weights=counted["ltc_count"], minlength=11
        ).astype(np.int64)
    else:
        per_band = np.bincount(age_band_index(ages_on(extract_date, v["date_of_birth"])), minlength=len(AGE_BANDS))
        efi = np.bincount(rules.efi_band(v["efi_deficits"]), minlength=4)
        ltc = np.bincount(np.minimum(v["ltc_count"], 10), minlength=11)
    bands = {label: int(per_band[i]) for i, (_, _, label) in enumerate(AGE_BANDS)}
    practices = checked.counts("practice_code")
    summary = {
        "practice": dict(sorted(practices.items())),
        "age_band": bands,
        "efi_band": {b: int(c) for b, c in zip(cohort_rules.EFI_BANDS, efi, strict=True)},
        "ltc_count": {("10+" if i == 10 else str(i)): int(c) for i, c in enumerate(ltc)},
    }
    use = _population_use(checked)
    if use:
        summary["use_12m"] = use
    return summary


def _population_use(checked: CheckedExtract) -> dict[str, dict[str, float | int]]:
    """The whole population's use in the year before the extract: per column the sum of the known values and how
    many were known, so a population rate (sum / known) sits beside the cohort's. Only columns with a value."""
    totals = getattr(checked, "use_totals", None)
    if totals is None:  # the population is all in values (the demo's, or a file checked without keep)
        v = checked.values
        totals = {}
        for name in USE_COLUMNS:
            values = v.get(name)
            known = ~np.isnan(values) if values is not None else None
            totals[name] = (float(values[known].sum()), int(known.sum())) if known is not None else (0.0, 0)
    return {name: {"sum": round(total, 2), "known": known} for name, (total, known) in totals.items() if known}
