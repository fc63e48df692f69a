"""The files and connections sync works with: the workspace through apsw, and the sync base older versions kept.

Before issue 23 each workspace kept a *sync base* beside it (``<workspace>.sync-base``): the team's records as last
heard, diffed against the workspace at every export. What changed is now kept as it happens, inside the workspace
(desktop.models.sync.tracking), so no base is made any more. An old one is still read once, for the identity it
recorded (desktop.models.sync.state), and a bundle may never be written over one.
"""

from __future__ import annotations

from pathlib import Path

import apsw

from .tracking import EXCLUDED

STATE_TABLE = "_sync_state"  # the identity table of an old sync base
BUSY_TIMEOUT_MS = 5000


def base_path(db_path: str | Path) -> Path:
    """<workspace>.sync-base, in the workspace's own folder."""
    path = Path(db_path)
    return path.with_name(path.name + ".sync-base")


def connect(path: str | Path) -> apsw.Connection:
    conn = apsw.Connection(str(path))
    conn.set_busy_timeout(BUSY_TIMEOUT_MS)
    return conn


def schema_version(conn: apsw.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


__all__ = ["EXCLUDED", "STATE_TABLE", "base_path", "connect", "schema_version"]
