"""A guard against a reference-count bug of PySide6 6.12.0 on CPython 3.11: every `Signal.emit()` made from Python
drops one reference to `True` that it never took (pyqtgraph also loses references to `None`). `True`, `False`
and `None` are not immortal before Python 3.12, so after some thousands of emits the interpreter aborts with
"Fatal Python error: bool_dealloc: deallocating True or False". pyqtgraph emits dozens of signals per redraw,
so a chart redrawn a few dozen times brings it down.

`guard()` measures whether this Qt binding has the bug (one emit, refcount before and after) and, if so, holds
a large number of ordinary references to the three singletons, so that the lost ones never bring a count to
zero in any realistic session (each reference costs 8 bytes; a million of each, 24 MB). With a fixed binding
it does nothing. The real fix is a PySide6 without the bug; see the project's dependency pins."""

from __future__ import annotations

import sys

BALLAST = 1_000_000
_held: list[list[object]] = []


def leaks_on_emit() -> bool:
    """True when a Python Signal.emit() loses a reference to True (PySide6 6.12.0, Python < 3.12)."""
    if sys.version_info >= (3, 12):  # True, False and None are immortal: a lost reference cannot free them
        return False
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        fired = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(10):
        probe.fired.emit()
    return sys.getrefcount(True) < before


def guard() -> bool:
    """Hold the ballast once when the binding leaks; True when it is held."""
    if not _held and leaks_on_emit():
        _held.extend([[True] * BALLAST, [False] * BALLAST, [None] * BALLAST])
    return bool(_held)
