"""A risk extract saved as a workbook (.xlsx, .xls and their kin), read with python-calamine (issue 21).

A sheet's cells are turned into the same text columns the CSV reader makes, so that one set of rules
(extract_rules) checks both: a number is written as its shortest exact decimal (9000000009, 0.3056, 1839.99),
a date as dd/mm/yyyy, and a number in the date-of-birth column as the Excel date it stands for (a column
formatted as General shows 14318 for 14/03/1939). Text cells are taken exactly as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import ValidationError

SUFFIXES = frozenset({".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"})
# Excel's day numbers: 1 is 1 January 1900, and 60 the 29 February 1900 that never was (kept from Lotus 1-2-3);
# 2,958,465 is 31 December 9999. The days between 1970-01-01 and Excel's day 0 (31/12/1899) and, past the
# phantom day, its effective day 0 (30/12/1899):
_EXCEL_DAY0, _EXCEL_DAY0_AFTER_LEAP_BUG = -25568, -25569
_EXCEL_LAST_DAY = 2_958_465


def is_workbook(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SUFFIXES


def open_book(path: str | Path):
    """The workbook at *path*; a file calamine cannot read is refused with what to do."""
    from python_calamine import CalamineWorkbook, PasswordError

    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path.name} is not a file that can be read.")
    try:
        return CalamineWorkbook.from_path(str(path))
    except PasswordError as exc:
        raise ValidationError(
            f"{path.name} is protected by a password. Open it in Excel, save a copy without the password "
            "(or as 'CSV UTF-8 (Comma delimited)') and import that."
        ) from exc
    except Exception as exc:  # calamine raises a family of errors (zip, XML, CFB) for a damaged or foreign file
        raise ValidationError(
            f"{path.name} could not be read as an Excel workbook ({_first_line(exc)}). If it opens in Excel, "
            "save it again as an .xlsx workbook or as 'CSV UTF-8 (Comma delimited)' and import that."
        ) from exc


def worksheet_names(book) -> list[str]:
    """The sheets that hold cells (not charts or macros), visible ones first, in the workbook's order."""
    from python_calamine import SheetTypeEnum, SheetVisibleEnum

    sheets = [m for m in book.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    visible = [m.name for m in sheets if m.visible == SheetVisibleEnum.Visible]
    return visible + [m.name for m in sheets if m.name not in visible]


def sheet_rows(book, name: str, nrows: int | None = None) -> list[list[Any]]:
    """The sheet's cells from A1, row by row (a row's index is its spreadsheet row number less one)."""
    try:
        sheet = book.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=False, nrows=nrows)
    except Exception as exc:
        raise ValidationError(f"The sheet '{name}' could not be read: {_first_line(exc)}.") from exc


def rows_text(rows: Sequence[Sequence[Any]]) -> list[list[str]]:
    """Rows of cells as the text the import reads (for the heading search, the preview and summary lines)."""
    if not rows:
        return []
    width = max(len(r) for r in rows)
    columns = [column_text([r[j] if j < len(r) else "" for r in rows]).to_pylist() for j in range(width)]
    return [list(cells) for cells in zip(*columns, strict=True)]


def columns_of(rows: Sequence[Sequence[Any]], wanted: Sequence[int]) -> dict[int, list[Any]]:
    """The cells of columns *wanted* (0-based) down *rows*, short rows padded with empty cells."""
    if not rows:
        return {j: [] for j in wanted}
    width = max(map(len, rows))
    if min(map(len, rows)) != width:
        rows = [list(r) + [""] * (width - len(r)) for r in rows]
    transposed = list(zip(*rows, strict=True))  # one pass in C, where a Python loop per column cost more
    return {j: list(transposed[j]) if j < width else [""] * len(rows) for j in wanted}


def column_text(values: Sequence[Any], dates: bool = False) -> pa.Array:
    """One column of cells as text, as a CSV of the sheet saved by Excel would hold it (see the module's
    docstring); *dates* reads numbers as Excel day numbers. Built a kind of cell at a time with Arrow: a
    Python call per cell would cost more than calamine's whole read."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return pa.array(values, pa.string())
    parts = []
    if str in kinds:
        parts.append(pa.array([v if type(v) is str else None for v in values], pa.string()))
    if kinds & {float, int}:
        plain = kinds <= {float, int}
        numbers = pa.array(values if plain else [v if type(v) in (float, int) else None for v in values], pa.float64())
        parts.append(_day_numbers(numbers) if dates else _numbers(numbers))
    if dt.datetime in kinds:
        stamps = pa.array([v if type(v) is dt.datetime else None for v in values], pa.timestamp("us"))
        parts.append(_stamps(stamps))
    if dt.date in kinds:
        parts.append(_dates(pa.array([v if type(v) is dt.date else None for v in values], pa.date32())))
    if kinds - {str, float, int, dt.datetime, dt.date}:  # booleans, times, durations: as Excel shows them
        parts.append(pa.array([_other(v) for v in values], pa.string()))
    return pc.fill_null(pc.coalesce(*parts) if len(parts) > 1 else parts[0], "")


def _numbers(numbers: pa.Array) -> pa.Array:
    # Arrow writes a double as its shortest exact decimal, with no ".0" on a whole number: 9000000009, 0.3056.
    return pc.cast(numbers, pa.string())


def _day_numbers(numbers: pa.Array) -> pa.Array:
    """Excel day numbers as dd/mm/yyyy (a fraction is a time of day, dropped); numbers that are no day left as
    numbers, for the rules to refuse as dates."""
    serial = np.floor(numbers.to_numpy(zero_copy_only=False))
    real = ~np.isnan(serial) & (serial >= 1) & (serial <= _EXCEL_LAST_DAY) & (serial != 60)
    days = np.where(serial < 60, _EXCEL_DAY0 + serial, _EXCEL_DAY0_AFTER_LEAP_BUG + serial)
    as_dates = pa.array(np.where(real, days, 0).astype(np.int32), pa.date32(), mask=~real)
    return pc.coalesce(_dates(as_dates), _numbers(numbers))


def _dates(days: pa.Array) -> pa.Array:
    return pc.strftime(days.cast(pa.timestamp("s")), format="%d/%m/%Y")


def _stamps(stamps: pa.Array) -> pa.Array:
    """Date-times at midnight as dates (how a date cell is often stored); others with their time, in ISO form."""
    midnight = pc.equal(pc.cast(stamps, pa.date32()).cast(pa.timestamp("us")), stamps)
    return pc.if_else(
        midnight,
        pc.strftime(stamps, format="%d/%m/%Y"),
        pc.strftime(stamps.cast(pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S"),
    )


def _other(value: Any) -> str | None:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str | int | float | dt.date):
        return None
    return str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
