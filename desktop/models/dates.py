"""Dates typed into forms: ISO text or date objects in, ISO text out, with a message that names the field."""

from __future__ import annotations

import calendar
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


def add_months(day: dt.date, months: int) -> dt.date:
    """*day* moved by whole calendar months, kept within the month it lands in (31 Jan + 1 → 28 or 29 Feb)."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
