"""Dates typed into forms: ISO text or date objects in, ISO text out, with a message that names the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import ValidationError


def parse_date(value: Any, label: str, field: str, required: bool = False) -> str | None:
    """ISO 'YYYY-MM-DD' for *value*, None when blank and not *required*; else ValidationError on *field*."""
    if value in (None, ""):
        if required:
            raise ValidationError(f"{label} is required.", field)
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError(f"{label} must be a date (YYYY-MM-DD), not '{value}'.", field) from None
