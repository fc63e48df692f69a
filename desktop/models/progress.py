"""The progress and cancel contract every long domain function accepts (STYLE practice 6).

Defaults do nothing, so the CLI and tests pass nothing; the GUI passes a reporter and a cancel check.
"""

from __future__ import annotations

from collections.abc import Callable

from .errors import DeskError

Progress = Callable[[float, str], None]
CancelCheck = Callable[[], bool]


class Cancelled(DeskError):
    """The user cancelled; the operation's transaction was rolled back."""


def no_progress(fraction: float, message: str) -> None:
    return None


def never_cancel() -> bool:
    return False


def check_cancel(cancel: CancelCheck) -> None:
    if cancel():
        raise Cancelled("Cancelled; nothing was changed.")
