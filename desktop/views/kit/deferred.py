"""Widgets whose heavier parts are built after their screen's first paint (issue 26)."""

from __future__ import annotations

from typing import Any


class BuiltLater:
    """A widget mixin: `build_later()` makes the parts its first paint need not wait for, and sets `built`. Until
    then, asking for one of those parts (an attribute not set yet) builds them at once, so no caller need know
    whether they exist."""

    def build_later(self) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        # Only a name not set yet reaches here; before __init__ has set `built`, nothing is built.
        if name.startswith("_") or self.__dict__.get("built", True):
            raise AttributeError(name)
        self.build_later()
        return getattr(self, name)
