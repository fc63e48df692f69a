"""The stored cohort of each risk run: one compressed Arrow table per run.

A run is never edited after import, so storing it whole keeps imports fast (one write, not 60,000) and
reading a run back is a single decompress.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.ipc as ipc
import sqlite_utils

from ..errors import NotFound

COHORT_SCHEMA = pa.schema(
    [
        ("patient_id", pa.string()),
        ("nhs_number", pa.int64()),
        ("given_name", pa.string()),
        ("family_name", pa.string()),
        ("sex", pa.string()),
        ("postcode", pa.string()),
        ("practice_code", pa.string()),
        ("care_home_id", pa.string()),
        ("date_of_birth", pa.date32()),
        ("efi_deficits", pa.int16()),
        ("efi_score", pa.float32()),
        ("ltc_count", pa.int16()),
        ("prob_unplanned_admission", pa.float32()),
        ("predicted_cost", pa.float64()),
        ("expected_cost", pa.float64()),
        ("criteria", pa.string()),  # e.g. "FC": frailty and high cost
        ("eol_register", pa.bool_()),
        ("housebound", pa.bool_()),
        ("change", pa.string()),  # "new", "changed" or ""
        ("change_detail", pa.string()),
        # Use in the 12 months before the extract (issue 27), null where not known. Last, so that the fields
        # above keep their places in runs stored before these existed, which have none of them.
        ("emergency_admissions_12m", pa.float32()),
        ("ae_attendances_12m", pa.float32()),
        ("emergency_bed_days_12m", pa.float32()),
        ("cost_12m", pa.float64()),
    ]
)


# One thread decodes a stored cohort as fast as Arrow's pool of them (~2 ms for a locality's), without each of
# those threads' heaps keeping ~8 MB after it (issue 26: the app's peak memory).
_ONE_THREAD = ipc.IpcReadOptions(use_threads=False)


def encode(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with ipc.new_file(sink, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    del sink
    # Compressing a large cohort leaves Arrow's allocator holding ~40 MB it no longer uses: give it back before
    # the import writes the run (issue 22's memory budget).
    pa.default_memory_pool().release_unused()
    return data


def decode(data: bytes) -> pa.Table:
    return conform(ipc.open_file(pa.py_buffer(data), options=_ONE_THREAD).read_all())


def conform(table: pa.Table) -> pa.Table:
    """A run stored before a column existed, with that column added as nulls: every run then reads, and joins
    with a newer one, the same way."""
    for f in COHORT_SCHEMA:
        if f.name not in table.column_names:
            table = table.append_column(f, pa.nulls(table.num_rows, f.type))
    return table


def run_patient_ids(db: sqlite_utils.Database, run_id: str) -> pa.Array:
    """Only the patient ids of a run's cohort: the other columns stay compressed."""
    row = db.execute("SELECT data FROM risk_run_cohorts WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound("That risk run has no stored cohort.")
    options = ipc.IpcReadOptions(use_threads=False, included_fields=[COHORT_SCHEMA.get_field_index("patient_id")])
    return ipc.open_file(pa.py_buffer(row[0]), options=options).read_all()["patient_id"].combine_chunks()


def run_columns(db: sqlite_utils.Database, run_id: str, names: list[str]) -> pa.Table:
    """Only the named columns of a run's cohort; a column the run was stored without reads as nulls."""
    row = db.execute("SELECT data FROM risk_run_cohorts WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound("That risk run has no stored cohort.")
    stored = ipc.open_file(pa.py_buffer(row[0])).schema.names
    there = [n for n in names if n in stored]
    options = ipc.IpcReadOptions(use_threads=False, included_fields=[stored.index(n) for n in there])
    table = ipc.open_file(pa.py_buffer(row[0]), options=options).read_all() if there else None
    columns = {}
    for n in names:
        if n in there:
            columns[n] = table[n]
        else:
            rows = table.num_rows if table is not None else len(run_patient_ids(db, run_id))
            columns[n] = pa.nulls(rows, COHORT_SCHEMA.field(n).type)
    return pa.table(columns)


def run_nhs_numbers(db: sqlite_utils.Database, run_id: str) -> pa.Array:
    """Only the NHS numbers of a run's cohort (the other columns are not decompressed)."""
    row = db.execute("SELECT data FROM risk_run_cohorts WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound("That risk run has no stored cohort.")
    options = ipc.IpcReadOptions(use_threads=False, included_fields=[COHORT_SCHEMA.get_field_index("nhs_number")])
    return ipc.open_file(pa.py_buffer(row[0]), options=options).read_all()["nhs_number"].combine_chunks()


def run_cohort(db: sqlite_utils.Database, run_id: str) -> pa.Table:
    row = db.execute("SELECT data FROM risk_run_cohorts WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound("That risk run has no stored cohort.")
    return decode(row[0])
