"""Demo worlds for tests: each template is built once per run, then copied for every test that needs one."""

from __future__ import annotations

import sqlite3
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
    """A private copy of *template*, made with SQLite's backup API (safe with WAL)."""
    src, out = sqlite3.connect(template), sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return dest
