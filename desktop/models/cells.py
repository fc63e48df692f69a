"""Text for spreadsheet cells that a spreadsheet will not run."""

from __future__ import annotations

from typing import Any


def formula_safe(value: Any) -> str:
    text = "" if value is None else str(value)
    # A leading = + - @ would run as a formula in Excel (CSV injection); a quote keeps it text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
