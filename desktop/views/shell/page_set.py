"""The screens of one open workspace, each built the first time it is shown or asked for.

Building all twelve up front cost about 0.4 s of every start and every workspace switch; most sessions visit a
few. A page built late starts stale, so it loads what is current then; only built pages hear of changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from ..kit.page import Page
from .screens import Screen


class PageSet(Mapping[str, Page]):
    """Screen key → its page. `key in pages` says whether the workspace has that screen at all; indexing builds
    the page on first use (through *build*, which also places it in the window)."""

    def __init__(self, screens: list[Screen], build: Callable[[Screen], Page]):
        self._screens = {screen.key: screen for screen in screens}
        self._build = build
        self._built: dict[str, Page] = {}

    def __getitem__(self, key: str) -> Page:
        if key not in self._built:
            self._built[key] = self._build(self._screens[key])  # KeyError for a screen this workspace lacks
        return self._built[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._screens)

    def __len__(self) -> int:
        return len(self._screens)

    def __contains__(self, key: object) -> bool:
        return key in self._screens

    def built(self) -> list[Page]:
        """The pages built so far, the only ones with anything to reload or tell."""
        return list(self._built.values())
