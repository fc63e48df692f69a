"""What every step of the demo world is given: the workspace, the seed, the day its history runs up to, who
writes it, and the random stream of each step."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

from .. import clock
from ..clock import Actor
from ..progress import CancelCheck, Progress, never_cancel, no_progress

DEFAULT_SEED = 2017
# Who writes the demo world. Each step stamps its rows with a fixed time of its own, derived from the day the
# world is built: the same seed and the same day give byte-identical content, whenever and wherever it is built.
DEMO_ACTOR = Actor(user="demo generator", device_id="demo-00000000")
HISTORY_YEARS = 2
# The version (4) and variant (RFC 4122) bits of a random UUID, as uuid.UUID(version=4) sets them.
_UUID_KEEP = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_SET = (4 << 76) | (0x8000 << 48)


def history_start(today: dt.date) -> dt.date:
    """The first day of the demo's history: two years before the day it is built."""
    return today - dt.timedelta(days=HISTORY_YEARS * 365)


def actor_on(day: dt.date, hour: int = 9) -> Actor:
    """The demo generator, writing at *hour* o'clock on *day*."""
    return Actor(
        user=DEMO_ACTOR.user, device_id=DEMO_ACTOR.device_id, fixed_time=f"{day.isoformat()}T{hour:02d}:00:00+00:00"
    )


@dataclass
class DemoContext:
    db: sqlite_utils.Database
    seed: int
    small: bool
    today: dt.date = field(default_factory=clock.today)  # the day the world's history runs up to
    actor: Actor = DEMO_ACTOR
    progress: Progress = no_progress
    cancel: CancelCheck = never_cancel

    def rng(self, step: str) -> random.Random:
        return random.Random(f"{self.seed}:{step}")

    def stamp(self) -> dict[str, str]:
        """created_at, updated_at, updated_by, device_id, in that order (bulk inserts rely on it)."""
        return {"created_at": self.actor.now(), **self.actor.stamp()}

    @staticmethod
    def uuid(rng: random.Random) -> str:
        """str(uuid.UUID(int=rng.getrandbits(128), version=4)), spelled out: the world draws ~100,000 of them."""
        n = (rng.getrandbits(128) & _UUID_KEEP) | _UUID_SET
        h = f"{n:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def insert_rows(db: sqlite_utils.Database, table: str, rows: list[dict]) -> None:
    """Rows that all have the same keys, in one executemany: sqlite_utils' insert_all inspects every value of
    every row, which costs the demo world seconds on its tens of thousands of visits."""
    if rows:
        columns = list(rows[0])
        db.conn.executemany(
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' * len(columns))})",
            [[row[c] for c in columns] for row in rows],
        )


Step = Callable[[DemoContext], None]
