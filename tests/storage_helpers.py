"""Spoiling workspace files for the storage tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def damage(path: Path) -> int:
    """Overwrite, with garbage, the b-tree page nearest the middle of *path* (a table's or index's root, not the
    schema's or meta's, which every open reads); return its page number."""
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    roots = [
        r[0]
        for r in conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE rootpage > 1 AND tbl_name NOT IN ('meta', '_sqlite_migrations')"
        )
    ]
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    page = min(roots, key=lambda p: abs(p - pages // 2))
    with path.open("r+b") as f:
        f.seek((page - 1) * page_size)
        f.write(bytes([0xA5]) * page_size)
    return page
