"""What an operation changed, so each view reloads only when it must (STYLE practice 4)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Changes:
    tables: frozenset[str] = field(default_factory=frozenset)
    workspace: bool = False  # a different workspace file, or one rebuilt wholesale

    def touches(self, *tables: str) -> bool:
        return self.workspace or bool(self.tables.intersection(tables))

    @classmethod
    def of(cls, *tables: str) -> Changes:
        return cls(tables=frozenset(tables))
