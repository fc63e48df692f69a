"""Demo worlds for tests: each template is built once per run, then copied for every test that needs one."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path

from desktop.models.db import open_workspace
from desktop.models.demo import build_demo


def build_world(path: Path, history: bool) -> Path:
    """The small demo world at *path*, with or without its two years of history, checkpointed and closed."""
    db = open_workspace(path)
    build_demo(db, small=True, history=history)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def copy_world(template: Path, dest: Path) -> Path:
    """A private copy of *template*: the file's bytes when its write-ahead log is empty (a template is built
    checkpointed and closed; a byte copy is ~8× faster than SQLite's backup, which hundreds of tests pay), else
    through SQLite's backup API, which also takes what the log holds."""
    wal = Path(f"{template}-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        shutil.copyfile(template, dest)
        return dest
    src, out = sqlite3.connect(template), sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return dest


def shared_world(base: Path, name: str, history: bool) -> Path:
    """The small demo world *name*, built once for the whole run: when the suite runs on several cores
    (pytest-xdist), the first worker to ask builds it in *base*, the folder every worker's own temporary folder
    sits in, and the others wait for it instead of building their own."""
    final = base / f"{name}.sqlite"
    try:
        os.close(os.open(base / f"{name}.building", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        deadline = time.monotonic() + 300
        while not final.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"another worker did not finish building {final}") from None
            time.sleep(0.1)
        return final
    partial = base / f"{name}.{os.getpid()}.sqlite"
    build_world(partial, history)
    os.replace(partial, final)  # whole or not at all: a waiting worker never opens half a world
    return final
