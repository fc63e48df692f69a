"""The command line's part of the bad-input corpus (issue 19): files handed to `--db` that are not workspaces.

`files()` maps each path under tests/data/bad/ to its bytes; `python tests/corpus_helpers.py` writes the whole
corpus, and tests/unit/test_bad_input_corpus.py checks the committed copies. tests/unit/test_cli_boundary.py runs
each through the commands that open a workspace.
"""

from __future__ import annotations

import sqlite3
import struct
import tempfile
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "bad"


def _no_tables() -> bytes:
    """A SQLite database holding nothing: what `sqlite3 x.sqlite` leaves after a table is made and dropped."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "no_tables.sqlite"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("DROP TABLE t")
        conn.execute("VACUUM")
        conn.close()
        data = bytearray(path.read_bytes())
    # The header's last field is the version of the library that wrote it: fixed, so the file is the same whatever
    # SQLite the generator runs on.
    data[96:100] = struct.pack(">I", 3_040_001)
    return bytes(data)


def files() -> dict[str, bytes]:
    return {
        "workspace/zero_bytes.sqlite": b"",
        "workspace/no_tables.sqlite": _no_tables(),
        "workspace/plain_text.sqlite": b"Minutes of the Charnwood MDT, 11/11/2026\r\nNot a workspace.\r\n",
    }
