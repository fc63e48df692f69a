"""One open workspace: its connection, who is writing, and the signal every view listens to.

Built in app.py (or by the main window when the user opens another file) and passed to the views,
never looked up from a global (STYLE "things not to copy" 2).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import sqlite_utils
from PySide6.QtCore import QObject, Signal

from ... import paths
from ...models import workspace
from ...models.changes import Changes
from ...models.clock import Actor
from ...models.db import open_workspace
from ...models.undo import UndoStack
from ...settings import Settings


class Session(QObject):
    # Emitted after every operation with what it changed (STYLE practice 4); each view decides to reload.
    changed = Signal(object)

    def __init__(self, db: sqlite_utils.Database, path: Path, actor: Actor):
        super().__init__()
        self.db = db
        self.path = path
        self.actor = actor
        # In memory and per session: another or a reopened workspace starts with nothing to undo.
        self.undo = UndoStack()
        self.closed = False

    @classmethod
    def open(cls, path: Path, settings: Settings) -> Session:
        """Open an existing workspace (StorageUnavailable when it cannot be used) and remember it."""
        db = open_workspace(path, create=False)
        actor = Actor.local(paths.device_id(), settings.get("user_name") or None)
        settings.add_recent(path)
        return cls(db, Path(path).resolve(), actor)

    def set_user(self, name: str | None) -> None:
        """Who the following writes are stamped with; None: the computer's login name."""
        self.actor = Actor.local(self.actor.device_id, name)

    @property
    def kind(self) -> str:
        return workspace.kind(self.db)

    def localities(self) -> list[dict]:
        return workspace.localities(self.db)

    def publish(self, changes: Changes, origin: object = None) -> None:
        """Tell every screen what changed; *origin* (the widget that asked for the write) travels with it."""
        if changes.tables or changes.workspace:
            self.changed.emit(replace(changes, origin=origin) if origin is not None else changes)

    def close(self) -> None:
        self.closed = True
        self.db.close()
