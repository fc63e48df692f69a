"""A child process for the crash-safety tests: runs a `locality-desk` import command and, once the import's
write transaction holds all its writes but has not committed, writes a marker file and waits to be killed.

    python tests/crash_child.py risk MARKER -- import-risk --db W --locality CHA FILE ...
    python tests/crash_child.py returns MARKER -- return import --db W FILE ...

The page cache is shrunk to a few pages first, so the uncommitted pages are already in the WAL file when
the parent kills the process (SIGKILL): what recovery must ignore is really on disk.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from desktop import cli
from desktop.models.cohort import risk_import
from desktop.models.kpi import return_import

TINY_CACHE = "PRAGMA cache_size=8"


def _wait_to_be_killed(marker: Path, db) -> None:
    assert db.conn.in_transaction
    marker.write_text("in transaction\n")
    time.sleep(120)  # the parent kills us long before this
    raise SystemExit("not killed")


def main(mode: str, marker: Path, argv: list[str]) -> int:
    if mode == "risk":
        real = risk_import.import_extract

        def import_extract(db, actor, locality_code, path, extract_date=None, **kwargs):
            db.execute(TINY_CACHE)

            def cancel() -> bool:
                # Checked inside the import's transaction after its last write (and before, outside it).
                if db.conn.in_transaction:
                    _wait_to_be_killed(marker, db)
                return False

            return real(db, actor, locality_code, path, extract_date, cancel=cancel, accept=kwargs.get("accept", False))

        risk_import.import_extract = import_extract
    elif mode == "returns":
        real_returns = return_import.import_returns

        def import_returns(db, actor, files, dry_run=False, progress=None, accept_keys=()):
            db.execute(TINY_CACHE)

            def halfway(done: int, total: int) -> bool:
                if done >= total // 2:
                    _wait_to_be_killed(marker, db)
                return True

            return real_returns(db, actor, files, dry_run=dry_run, progress=halfway, accept_keys=accept_keys)

        return_import.import_returns = import_returns
    else:
        raise SystemExit(f"unknown mode {mode}")
    return cli.main(argv)


if __name__ == "__main__":
    args = sys.argv[1:]
    split = args.index("--")
    sys.exit(main(args[0], Path(args[1]), args[split + 1 :]))
