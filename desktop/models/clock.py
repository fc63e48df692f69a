"""Time and identity of the writer, in one place so the demo generator and the tests can fix both.

Every business date ("today": what is overdue, which quarter is under way, where the demo's history stops)
and every wall-clock stamp is read here and nowhere else (tests/unit/test_clock_guard.py holds the rest of
the code to that). A pin moves the whole app to another day: the tests pin it, and so can a user, with
LOCALITY_DESK_TODAY=YYYY-MM-DD, to see a workspace as it stood on a given day.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import random
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from .errors import ValidationError

ENV_TODAY = "LOCALITY_DESK_TODAY"


@dataclass(frozen=True)
class _Pin:
    """The pinned local time, and the monotonic reading when it was pinned: the pinned clock keeps running,
    so stamps still order edits (sync's later-edit-wins) and backups made a second apart get their own names."""

    start: dt.datetime  # the pinned instant, in UTC: it runs on through a clock change like a real clock
    since: float
    from_environment: bool = False


# A module global rather than a ContextVar: worker threads (QThreadPool) must read the same day as the window.
_pin: _Pin | None = None


def pin(when: dt.date | dt.datetime | None, from_environment: bool = False) -> None:
    """From now on, now() starts at *when* and runs on; None unpins. A date pins 09:00 that day; a naive
    datetime is local wall time, an aware one an instant."""
    global _pin
    if when is None:
        _pin = None
        return
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time(9, 0))
    _pin = _Pin(when.astimezone(dt.UTC), time.monotonic(), from_environment)


@contextmanager
def pinned(when: dt.date | dt.datetime) -> Iterator[None]:
    """Within the block, the app lives on *when*."""
    global _pin
    before = _pin
    pin(when)
    try:
        yield
    finally:
        _pin = before


def pinned_by_environment() -> bool:
    """Whether the user asked for another day with LOCALITY_DESK_TODAY (the window says so)."""
    return _pin is not None and _pin.from_environment


def pinned_now() -> dt.datetime | None:
    """The pinned clock's reading, to carry into a child process; None when the clock is the machine's."""
    return _instant() if _pin is not None else None


def parse_day(text: str, what: str = "The date") -> dt.date:
    """YYYY-MM-DD, as the command line and LOCALITY_DESK_TODAY take it."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. 2027-04-01.") from None


def pin_from_environment() -> dt.date | None:
    """Pin the day LOCALITY_DESK_TODAY names, if it is set; a malformed value is refused in plain words."""
    text = os.environ.get(ENV_TODAY, "").strip()
    if not text:
        return None
    day = parse_day(text, ENV_TODAY)
    pin(day, from_environment=True)
    return day


def _instant() -> dt.datetime:
    """The current instant, aware, in UTC."""
    if _pin is not None:
        return _pin.start + dt.timedelta(seconds=time.monotonic() - _pin.since)
    return dt.datetime.now(dt.UTC)


def now() -> dt.datetime:
    """Local wall-clock time, naive (file names, "last backup at"): what the clock on the wall says, so "today"
    is the UK date even in the hour after midnight when UTC is still on yesterday."""
    return _instant().astimezone().replace(tzinfo=None)


def today() -> dt.date:
    """The business date: what is due, overdue, under way or in the future is judged against this."""
    return now().date()


@lru_cache(maxsize=4096)  # the history back-fill asks for tens of thousands of stamps, many alike
def local_day(stamp: str) -> str:
    """The business date (ISO) of a stored UTC stamp (utc_now): an edit at 00:30 on a summer morning was made that
    morning, not the evening before. A stamp that is not a time keeps its first ten characters."""
    try:
        return dt.datetime.fromisoformat(stamp).astimezone().date().isoformat()
    except ValueError:
        return stamp[:10]


def _pin_at_import() -> None:
    """Every process the app starts (the command line, a spawned child) lives on the day the environment names;
    the command line checks the value again and says what is wrong with a malformed one."""
    with suppress(ValidationError):
        pin_from_environment()


_pin_at_import()


def utc_now() -> str:
    """The UTC stamp written on every edit and audit line (ISO 8601, seconds): UTC, so edits made either side
    of the autumn clock change, when the wall clock repeats an hour, still order as they happened."""
    return _instant().isoformat(timespec="seconds")


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
    # The operating-system login the app runs under, recorded beside the typed name (which anyone can type):
    # set by `local` for everyone using the app; None for the demo generator's and the tests' made-up writers.
    os_account: str | None = None

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
        account = _login_name()
        return cls(user=user or account, device_id=device_id, role=role or None, os_account=account)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name on some service accounts; the stamp still needs one
        return "unknown"
