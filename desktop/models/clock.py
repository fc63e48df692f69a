"""Time and identity of the writer, in one place so the demo generator can fix both."""

from __future__ import annotations

import datetime as dt
import getpass
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_ID_SOURCE: ContextVar[Callable[[], str] | None] = ContextVar("id_source", default=None)


def new_id() -> str:
    source = _ID_SOURCE.get()
    return source() if source else str(uuid.uuid4())


@contextmanager
def reproducible_ids(rng: random.Random) -> Iterator[None]:
    """Within the block, new_id() draws from *rng*: the demo world is the same every time it is built."""
    token = _ID_SOURCE.set(lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)))
    try:
        yield
    finally:
        _ID_SOURCE.reset(token)


def new_ids(count: int) -> list[str]:
    """*count* UUIDs in version-7 layout (millisecond time, then a sequence, then random bits).

    Ids made together sort together, so a bulk insert appends to the primary-key index instead of
    scattering across it; still globally unique, so workspaces can merge (DESIGN §15).
    """
    ms = time.time_ns() // 1_000_000
    head = (ms << 80) | (0x7 << 76) | (0b10 << 62)
    start = secrets.randbits(61)  # leaves room below 2**62 for any batch
    return [str(uuid.UUID(int=head | (start + seq))) for seq in range(count)]


@dataclass(frozen=True)
class Actor:
    """Who writes, from which device, and at what time each write is stamped."""

    user: str
    device_id: str
    fixed_time: str | None = None
    role: str | None = None  # what the user does (GP, community matron…): recorded in the audit trail

    @property
    def label(self) -> str:
        """The name and role as the status bar shows them ("Name · role"); the bare name without a role."""
        return f"{self.user} · {self.role}" if self.role else self.user

    def now(self) -> str:
        return self.fixed_time or utc_now()

    def stamp(self) -> dict[str, str]:
        """The columns every edit of a row sets: when, who, and on which device (DESIGN §5)."""
        return {"updated_at": self.now(), "updated_by": self.user, "device_id": self.device_id}

    @classmethod
    def local(cls, device_id: str, user: str | None = None, role: str | None = None) -> Actor:
        return cls(user=user or _login_name(), device_id=device_id, role=role or None)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some service accounts; the stamp still needs one
        return "unknown"
