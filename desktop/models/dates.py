"""Dates typed into forms: ISO text or date objects in, ISO text out, with a message that names the field."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import ValidationError


def parse_date(value: Any, label: str, field: str, required: bool = False) -> str | None:
    """ISO 'YYYY-MM-DD' for *value* (a date, ISO text or dd/mm/yyyy as people type it), None when blank and
    not *required*; else ValidationError on *field*."""
    if value in (None, ""):
        if required:
            raise ValidationError(f"{label} is required.", field)
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    raise ValidationError(f"{label} must be a date such as 25/12/2026, not '{value}'.", field)
