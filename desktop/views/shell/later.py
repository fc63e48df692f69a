"""A module imported when one of its names is first used, not when the module naming it is imported.

For what the main window reaches only from a menu or after its first paint (the sync dialogs and the sync
models, which bring the cryptography package): the start-up does not wait for them (issue 26).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any


class Later:
    def __init__(self, module: str):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(import_module(self._module), name)
