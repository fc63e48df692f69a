"""Run one function in a fresh child process, with cancel, and get back its result or its exception.

Why a child: sync opens the workspace through apsw, which brings a second SQLite library into the process. POSIX
advisory locks belong to the process, not the connection, so when one library closes its handle on the file the
other library's locks silently go too (the app's next backup then fails with "disk I/O error"). In a child process
each library has the file to itself, and SQLite's own locking keeps the two processes apart.

The child is started with "spawn" (never fork: the parent has Qt threads), so *fn* must be importable by name and
its arguments picklable. A frozen app must call ``multiprocessing.freeze_support()`` first thing in its entry point.
Cancel kills the child; whatever it had not committed is rolled back by SQLite when the file is next opened.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Callable
from typing import Any

from . import clock
from .errors import DeskError, StorageError
from .progress import CancelCheck, Cancelled, never_cancel

POLL_SECONDS = 0.05


def call(fn: Callable[..., Any], *args: Any, cancel: CancelCheck = never_cancel, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a child process; its exception is raised again here (DeskError kept as it was)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    # The child lives on the parent's day: a pinned clock (tests, LOCALITY_DESK_TODAY) goes with it.
    child = context.Process(target=_run, args=(sender, clock.pinned_now(), fn, args, kwargs), daemon=True)
    child.start()
    sender.close()
    try:
        while not receiver.poll(POLL_SECONDS):
            if cancel():
                child.kill()
                raise Cancelled("Cancelled; nothing was changed.")
            if not child.is_alive() and not receiver.poll(0):
                raise _died(child)
        try:
            ok, value = receiver.recv()
        except EOFError as exc:  # the child closed the pipe by dying
            child.join(timeout=10)
            raise _died(child) from exc
    finally:
        receiver.close()
        child.join(timeout=10)
    if ok:
        return value
    raise value


def _died(child) -> StorageError:
    return StorageError(
        f"The work stopped unexpectedly (exit code {child.exitcode}); nothing was changed. Try "
        "again; if it happens again, restart Locality Desk."
    )


def _run(
    sender, pinned_now: dt.datetime | None, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if pinned_now is not None:
        clock.pin(pinned_now)
    try:
        outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except DeskError as exc:
        outcome = (False, exc)
    except Exception as exc:  # shown to the user by the parent like any other unexpected error
        outcome = (False, RuntimeError(f"{type(exc).__name__}: {exc}"))
    try:
        sender.send(outcome)
    except Exception as exc:  # an exception or result that does not pickle still reports something readable
        sender.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        sender.close()
