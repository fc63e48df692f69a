"""Sync bundles from the second hardening pass (issue 19, points 2 and 3), for the bad-input corpus under
tests/data/bad/sync/.

`python tests/corpus_helpers.py` writes the whole corpus (rewrite after a migration, say: a bundle names the
schema it was made with). Each is a locality team's bundle, sealed with PASSPHRASE, carrying one
synthetic Hinckley & Bosworth patient: a risk run, the patient and the same person as a care-home resident. Their ids
refer to the reference data every workspace is made with (`locality-desk new`), so they would apply cleanly
anywhere; what must refuse them is who is receiving. The salt and nonce are fixed so the files can be made again
byte for byte; a real bundle never reuses them.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apsw

from desktop.models.sync import tracking
from desktop.models.sync.bundle import FORMAT, FORMAT_VERSION, _seal, gather
from desktop.models.workspace import create_workspace

PASSPHRASE = "corpus sync passphrase"
TEAM = "7e4a0000-0000-4000-8000-000000000019"
SENDER = "5e4d0000-0000-4000-8000-000000000019"
LOCALITY = "HAB"
NHS_NUMBER = "9434765919"  # synthetic: the 9xx test range, valid check digit
STAMP = {
    "created_at": "2026-11-03T09:00:00+00:00",
    "updated_at": "2026-11-03T09:00:00+00:00",
    "updated_by": "Ann Example",
    "device_id": "corpus-laptop",
}
# The corpus files, by path under tests/data/bad/: the first says who sent it (a locality team, of Hinckley &
# Bosworth); the second is the same bundle as a version before issue 19 made it, without kind or localities.
LABELLED, UNLABELLED = "sync/locality_patients.ldsync", "sync/unlabelled_patients.ldsync"
RUN_ID = "00000000-0000-4000-8000-00000000a001"
PATIENT_ID = "00000000-0000-4000-8000-00000000a002"
RESIDENT_ID = "00000000-0000-4000-8000-00000000a003"


def _changeset(db_path: Path) -> tuple[bytes, dict[str, int], int]:
    """The records a Hinckley & Bosworth laptop would send, as its ledger records and its export gathers them on a
    fresh workspace."""
    conn = apsw.Connection(str(db_path))
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        hab = conn.execute("SELECT id FROM localities WHERE code = ?", (LOCALITY,)).fetchone()[0]
        home = conn.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY cqc_id", (hab,)).fetchone()[0]
        practice = conn.execute(
            "SELECT ods_code FROM practices WHERE locality_id = ? ORDER BY ods_code", (hab,)
        ).fetchone()[0]
        rows = {
            "risk_runs": {
                "id": RUN_ID,
                "locality_id": hab,
                "file_name": "hinckley-bosworth-extract.csv",
                "extract_date": "2026-11-02",
                "imported_at": STAMP["created_at"],
                "imported_by": "Ann Example",
                "rows": 1,
                "imported": 1,
                "rejected": 0,
                "cohort_total": 1,
                "frailty": 1,
                "multimorbidity": 0,
                "high_cost": 0,
                "new": 1,
                "left": 0,
                "changed": 0,
                "rules": "{}",
                "summary": "{}",
            },
            "patients": {
                "id": PATIENT_ID,
                "nhs_number": NHS_NUMBER,
                "locality_id": hab,
                "given_name": "Zelda",
                "family_name": "Corpus-Example",
                "date_of_birth": "1936-04-02",
                "sex": "F",
                "postcode": "LE99 9ZZ",
                "practice_code": practice,
                "joined_run_id": RUN_ID,
            },
            "residents": {
                "id": RESIDENT_ID,
                "care_home_id": home,
                "patient_id": PATIENT_ID,
                "nhs_number": NHS_NUMBER,
                "given_name": "Zelda",
                "family_name": "Corpus-Example",
                "date_of_birth": "1936-04-02",
                "admitted_on": "2026-10-01",
            },
        }
        conn.execute("BEGIN")
        tracking.capture(conn, "corpus-reference")  # the reference data the workspace was made with: not sent
        before = tracking.next_version(conn) - 1
        for table, row in rows.items():
            row = {**row, **STAMP}
            names = ", ".join(f'"{c}"' for c in row)
            conn.execute(f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in row)})', list(row.values()))
        tracking.capture(conn, STAMP["device_id"])
        payload, changes = gather(conn, before)
        conn.execute("ROLLBACK")
        return payload, changes, version
    finally:
        conn.close()


def _bundle(payload: bytes, changes: dict[str, int], version: int, n: int, labelled: bool) -> bytes:
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "schema_version": version,
        "team_id": TEAM,
        "sender": SENDER,
        "device_id": STAMP["device_id"],
        "user": "Ann Example",
        "seq": 1,
        "since": -1,
        "upto": 1,
        "have": {},
        "bundle_id": f"b0000000-0000-4000-8000-{n:012d}",
        "created_at": "2026-11-19T09:00:00+00:00",
        "changes": changes,
    }
    if labelled:
        header.update(kind="locality", localities=[LOCALITY])
    return _seal(header, payload, PASSPHRASE, salt=bytes(range(16)), nonce=bytes(range(n, n + 12)))


def files() -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        db = create_workspace(Path(tmp) / "hab.sqlite", "locality", reference="demo")
        db.close()
        payload, changes, version = _changeset(Path(tmp) / "hab.sqlite")
    return {
        LABELLED: _bundle(payload, changes, version, 1, labelled=True),
        UNLABELLED: _bundle(payload, changes, version, 2, labelled=False),
    }
