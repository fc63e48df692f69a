"""What an operation changed, so each view reloads only when it must (STYLE practice 4)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    tables: frozenset[str] = field(default_factory=frozenset)
    workspace: bool = False  # a different workspace file, or one rebuilt wholesale
    # Who asked for the write (a screen or panel), so it can tell its own echo from another's change; not
    # part of what changed, so two Changes of the same tables compare equal whoever made them.
    origin: object = field(default=None, compare=False)

    def touches(self, *tables: str) -> bool:
        return self.workspace or bool(self.tables.intersection(tables))

    @classmethod
    def of(cls, *tables: str) -> Changes:
        return cls(tables=frozenset(tables))
