"""Time and identity of the writer, in one place so the demo generator can fix both."""

from __future__ import annotations

import datetime as dt
import getpass
import uuid
from dataclasses import dataclass


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Actor:
    """Who writes, from which device, and at what time each write is stamped."""

    user: str
    device_id: str
    fixed_time: str | None = None

    def now(self) -> str:
        return self.fixed_time or utc_now()

    @classmethod
    def local(cls, device_id: str, user: str | None = None) -> Actor:
        return cls(user=user or _login_name(), device_id=device_id)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some service accounts; the stamp still needs one
        return "unknown"
