"""What an operation changed, so each view reloads only when it must (STYLE practice 4)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Changes:
    tables: frozenset[str] = field(default_factory=frozenset)
    workspace: bool = False  # a different workspace file, or one rebuilt wholesale
    # Who caused the change (the view whose action wrote it), so that view can tell its own echo from another's
    # write without a flag of its own; None when nobody in particular (an import, a sync, an undo).
    source: object | None = field(default=None, compare=False)

    def touches(self, *tables: str) -> bool:
        return self.workspace or bool(self.tables.intersection(tables))

    def caused_by(self, source: object) -> Changes:
        """The same change, carrying who caused it."""
        return replace(self, source=source)

    @classmethod
    def of(cls, *tables: str) -> Changes:
        return cls(tables=frozenset(tables))
