"""How values read on screen: NHS numbers in 3-3-4 groups, dates as dd/mm/yyyy, ages in whole years."""

from __future__ import annotations

import datetime as dt


def nhs_number(value: object) -> str:
    text = "" if value is None else str(value)
    return f"{text[:3]} {text[3:6]} {text[6:]}" if len(text) == 10 else text


def date(value: object) -> str:
    """An ISO date (or date) as dd/mm/yyyy; empty for none."""
    if value is None or value == "":
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return f"{text[8:10]}/{text[5:7]}/{text[:4]}" if len(text) >= 10 else text


def age(born: object, today: dt.date) -> int | None:
    if not born:
        return None
    text = str(born)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return today.year - day.year - ((today.month, today.day) < (day.month, day.day))


def born(value: object, today: dt.date) -> str:
    """'01/11/1942 (84)': the date a clinician checks identity by, and the age they think in."""
    years = age(value, today)
    return f"{date(value)} ({years})" if years is not None else date(value)


def sentence_case(value: object) -> str:
    text = "" if value is None else str(value)
    return text[:1].upper() + text[1:]


def ratio(value: float) -> str:
    return "" if value != value else f"{value:.1f}×"  # NaN: no cost in the latest run


def count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"
