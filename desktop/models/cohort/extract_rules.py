"""Row-level validation of a risk extract, vectorised over the whole file (DESIGN §6.2).

Each rule marks the rows it fails; a row is rejected for the first rule it fails, in column order, and the
rejection names the spreadsheet row, the column and a reason a person can act on.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .extract_layout import USE_COLUMNS
from .extract_reader import CANONICAL, RawBatch, RawExtract, Reread

MAX_REJECTIONS_LISTED = 20_000
# The dearest patient's year of acute care is in the hundreds of thousands of pounds; a cost above this is a
# unit or a typing mistake (pence, an extra digit, 1e300), and it would put the patient top of every list.
MAX_COST = 10_000_000
# A year's emergency admissions or A&E attendances above this is a typing or unit mistake: the most frequent
# attenders reach a few dozen a year (NHS England's high intensity use programme counts 5 or more).
MAX_USE_COUNT = 365
USE_LABELS = {
    "emergency_admissions_12m": "emergency admissions in the last 12 months",
    "ae_attendances_12m": "A&E attendances in the last 12 months",
    "emergency_bed_days_12m": "emergency bed days in the last 12 months",
    "cost_12m": "cost of the last 12 months",
}


@dataclass(frozen=True)
class Rejection:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class CheckedExtract:
    """Valid rows as typed numpy arrays (index-aligned), plus what was rejected and why."""

    rows: int  # data rows read, blank rows excluded
    values: dict[str, np.ndarray]
    rejections: list[Rejection] = field(default_factory=list)
    _text: dict[str, pa.ChunkedArray] = field(default_factory=dict)  # the valid rows' text columns, as read
    # What was read other than patients (the sheet, a report's title lines, its summary below the patients).
    notes: list[str] = field(default_factory=list)
    # The valid rows counted batch by batch as they were read (None when they could not be: then the counts are
    # made from values): by age in whole years on *counted_on*, eFI deficits, LTC count and practice code.
    histograms: dict[str, np.ndarray] | None = None
    practice_counts: dict[str, int] | None = None
    counted_on: dt.date | None = None
    # When only the cohort's rows were kept (check_rows' *keep*): how many rows were valid, and every valid row's
    # NHS number (to tell "left the cohort" from "not in the extract", and which practices' patients are in it).
    valid_rows: int | None = None
    population_nhs: np.ndarray | None = None
    # The whole valid population's use columns, counted as read: column -> (sum of known values, known values).
    use_totals: dict[str, tuple[float, int]] | None = None

    @property
    def imported(self) -> int:
        return self.valid_rows if self.valid_rows is not None else len(self.values["nhs_number"])

    @property
    def everyone(self) -> np.ndarray:
        """The NHS numbers of every valid row, kept or not."""
        return self.population_nhs if self.population_nhs is not None else self.values["nhs_number"]

    def text(self, name: str, subset: np.ndarray | None = None) -> np.ndarray:
        """A text column for the valid rows (or a subset of them), built only when asked: strings are costly.
        It is numpy's variable-width string type, which holds short text in 16 bytes a value: as Python
        strings, a 220,000-patient cohort's six text columns took ~150 MB (issue 22)."""
        column = self._text[name]
        taken = pc.utf8_trim_whitespace(column if subset is None else column.take(pa.array(subset, pa.int64())))
        if name == "postcode":
            taken = pc.utf8_upper(taken)
        return np.asarray(taken.to_numpy(zero_copy_only=False), dtype=np.dtypes.StringDType())

    def counts(self, name: str) -> dict[str, int]:
        """How many valid rows hold each value of a text column."""
        if name == "practice_code" and self.practice_counts is not None:
            return dict(self.practice_counts)
        return _value_counts(self._text[name])


def _value_counts(column) -> dict[str, int]:
    counted = pc.value_counts(column)
    return dict(zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True))


# Bins of the population histograms: whole years of age (a valid row is 0 to 125), eFI deficits, LTC counts.
HISTOGRAM_BINS = {"age": 201, "efi_deficits": 37, "ltc_count": 61}


def ages_on(day: dt.date, born: np.ndarray) -> np.ndarray:
    """Each date of birth's age in whole years on *day* (a year of 365.2425 days)."""
    return (np.datetime64(day, "D") - born.astype("datetime64[D]", copy=False)).astype(np.int64) // 365.2425


def _bins(values: dict[str, np.ndarray], extract_date: dt.date) -> dict[str, np.ndarray]:
    """Which bin of each population histogram each of a batch's valid rows falls in (risk_import's summary)."""
    age = ages_on(extract_date, values["date_of_birth"])
    return {
        "age": np.clip(age, 0, HISTOGRAM_BINS["age"] - 1).astype(np.int16),
        "efi_deficits": values["efi_deficits"].astype(np.int16),
        "ltc_count": values["ltc_count"].astype(np.int16),
    }


def _text(batch: RawBatch, column: str, n: int) -> pa.Array:
    """The column as read. Whitespace is trimmed only where a fast check fails (it costs a pass per column)."""
    col = batch.columns.get(column)
    if col is not None:
        return col
    return pa.StringArray.from_buffers(n, pa.py_buffer(np.zeros(n + 1, dtype=np.int32)), pa.py_buffer(b""))


def _normalised(col, allowed: list[str], normalise) -> pa.Array:
    """*col* as is when every value is already one of *allowed*; otherwise normalise the whole column."""
    if pc.all(pc.is_in(col, pa.array(allowed))).as_py() is not False:
        return col
    return normalise(pc.utf8_trim_whitespace(col))


def _np_bool(arr) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Rules:
    """Accumulates the first failure per row while the columns are checked in order."""

    def __init__(self, lines: np.ndarray, live: np.ndarray, listed_before: int = 0):
        self.lines = lines
        self.live = live  # rows that are neither blank nor already rejected
        self.rejected: list[tuple[int, int, str, str]] = []  # (row index, order, column, reason)
        self.listed_before = listed_before  # rejections listed for earlier batches of the file

    def fail(self, mask: np.ndarray, column: str, reason, values: pa.Array | None = None) -> None:
        hits = np.flatnonzero(mask & self.live)
        if not len(hits):
            return
        self.live[hits] = False
        # Every rejected row is counted; only the first MAX_REJECTIONS_LISTED get a message built.
        listed = hits[: max(0, MAX_REJECTIONS_LISTED - self.listed_before - len(self.rejected))]
        shown = values.take(pa.array(listed)).to_pylist() if values is not None else [None] * len(listed)
        for i, value in zip(listed, shown, strict=True):
            text = reason(value) if callable(reason) else reason
            self.rejected.append((int(i), len(self.rejected), column, text))


_THOUSANDS = r"^[-+]?[1-9]\d{0,2}(,\d{3})+(\.\d*)?$"


def _number(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(values, ok, bad comma): numbers with thousands separators, currency signs and spaces tolerated.

    *bad comma* marks the rows refused for a comma (None when no row has one). A comma is read as a thousands
    separator only in the form 1,839 or 12,345,678.5: "1839,99" became £183,999 and an LTC count "1,2" became
    12 (issue 19). A decimal comma is refused rather than read, because beside one "1,500" could mean either;
    so a column with any decimal comma has every comma in it refused.
    """
    commas = _has_bytes(text, _COMMA)
    if not commas:  # a column with a comma cannot be cast as it is: do not try
        try:  # the common case, a clean column, costs one cast
            return (*_finite(_cast_float(text), np.ones(len(text), dtype=bool)), None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    blank = pc.equal(text, "")
    if not commas:
        try:  # clean but for empty cells (an optional column, or a missing value the rules will name)
            values = pc.cast(pc.if_else(blank, "0", text), pa.float64()).to_numpy(zero_copy_only=False)
            return (*_finite(values, ~_np_bool(blank)), None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    cleaned = pc.replace_substring_regex(text, r"[£$\s]", "") if _has_bytes(text, _NOISE) else text
    comma = _np_bool(pc.match_substring(cleaned, ",")) if commas else np.zeros(len(text), dtype=bool)
    bad_comma = None
    if comma.any():
        at = np.flatnonzero(comma)
        grouped = comma.copy()
        grouped[at] = _np_bool(pc.match_substring_regex(cleaned.take(pa.array(at)), _THOUSANDS))
        bad_comma = comma if (comma & ~grouped).any() else None
        cleaned = pc.replace_substring(cleaned, ",", "")
    try:  # Excel's numbers (1,839.99) are clean once their commas are gone: one cast, as for a clean column
        ok = ~_np_bool(blank)
        values = pc.cast(pc.if_else(blank, "0", cleaned), pa.float64()).to_numpy(zero_copy_only=False)
        if bad_comma is not None:
            ok &= ~bad_comma
        return (*_finite(values, ok), bad_comma)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # RE2's \d is 0-9 only: full-width digits are not numbers here (Arrow could not cast them either).
    ok = _np_bool(pc.match_substring_regex(cleaned, r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"))
    if bad_comma is not None:
        ok &= ~bad_comma
    safe = pc.if_else(pa.array(ok), cleaned, "0")
    return (*_finite(pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False), ok), bad_comma)


_COMMA = np.array([ord(",")], dtype=np.uint8)


# Bytes of what _number strips before reading a number: £ (its UTF-8 ends in 0xA3), $ and RE2's \s.
_NOISE = np.array([0xA3, ord("$"), ord(" "), ord("\t"), ord("\n"), ord("\r"), 0x0B, 0x0C], dtype=np.uint8)


def _has_bytes(text, wanted: np.ndarray) -> bool:
    """Whether any value of *text* holds one of the bytes *wanted* (a byte scan, no regex)."""
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if not len(chunk) or chunk.buffers()[2] is None:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        if np.isin(data, wanted).any():
            return True
    return False


def _finite(values: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Arrow reads "nan", "inf" and 1e999 as numbers: an eFI score or a cost of NaN passed every range rule
    (NaN compares false) and was imported (found by fuzzing). They are not numbers a person means."""
    finite = np.isfinite(values)
    if finite.all():
        return values, ok
    return np.where(finite, values, 0.0), ok & finite


def _comma_reason(value) -> str:
    text = str(value)
    if re.fullmatch(_THOUSANDS, re.sub(r"[£$\s]", "", text)):
        return (
            f"'{text}' could be read with a thousands comma or a decimal comma, and this column has decimal "
            "commas elsewhere. Export the extract with full stops for decimals (1839.99) and import again."
        )
    return (
        f"'{text}' has a decimal comma (or a comma that is not a thousands separator), which this import does "
        "not read. Export the extract with full stops for decimals (1839.99) and import again."
    )


def _fail_commas(rules: _Rules, parsed: tuple, column: str, shown: pa.Array) -> None:
    if parsed[2] is not None:
        rules.fail(parsed[2], column, _comma_reason, shown)


def _odd_digits(reason):
    """*reason* for a value, plus a word when its digits are not 0-9 (full-width ones look the same in Excel)."""

    def say(value) -> str:
        text = reason(value)
        if any(c.isdigit() and not c.isascii() for c in str(value)):
            text += " Its digits are not the plain digits 0-9 (full-width ones, say): type them again."
        return text

    return say


def _cast_float(text) -> np.ndarray:
    """The text cast to float64 chunk by chunk into one numpy array: casting the whole column first would hold
    it twice (Arrow's result, then numpy's copy) for a moment."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    out = np.empty(len(text), dtype=np.float64)
    at = 0
    for chunk in chunks:
        out[at : at + len(chunk)] = pc.cast(chunk, pa.float64()).to_numpy(zero_copy_only=False)
        at += len(chunk)
    return out


_DATE_FORMS = (
    (r"^(?P<d>\d{1,2})[/.-](?P<m>\d{1,2})[/.-](?P<y>\d{4})$", "dmy"),
    # A time may follow (Excel writes "1950-01-01 00:00:00"), but only a time: "1950-01-01Tgarbage" was a date.
    (
        r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
        r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$",
        "ymd",
    ),
    (r"^(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})$", "ymd"),
)
# EMIS Web writes 14-Mar-1938 and SystmOne 14 Mar 1938; a month's full name is read too, and nothing else.
_NAMED_MONTH = r"^(?P<d>\d{1,2})[ -](?P<b>[A-Za-z]{3,9})[ -](?P<y>\d{4})$"
_MONTH_NAMES = [
    *("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
    *("january", "february", "march", "april", "may", "june", "july", "august", "september", "october"),
    *("november", "december", "sept"),
]
_MONTH_NUMBERS = np.array([*range(1, 13), *range(1, 13), 9, 0])  # the last: not a month
_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def parse_dates(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dates as datetime64[D], recognised form, real calendar date) for dd/mm/yyyy and ISO text."""
    fast = _fixed_width_dmy(text)
    if fast is not None:
        return _real_dates(*fast, np.ones(len(text), dtype=bool))
    # dd/mm/yyyy and yyyy-mm-dd mixed in one column, as Excel leaves a column it has partly retyped (issue 22):
    # each ten-byte value of either form is read from its bytes; only the rest go through the patterns.
    d, m, y, form = _ten_byte_dates(text)
    rest = np.flatnonzero(~form)
    if len(rest):
        taken = text.take(pa.array(rest)) if len(rest) < len(text) else text
        d[rest], m[rest], y[rest], form[rest] = _patterned_dates(taken)
    return _real_dates(d, m, y, form)


def _ten_byte_dates(text) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(day, month, year, read) for the values that are exactly dd/mm/yyyy or yyyy-mm-dd in ten ASCII bytes."""
    n = len(text)
    d = np.zeros(n, dtype=np.int64)
    m = np.zeros(n, dtype=np.int64)
    y = np.zeros(n, dtype=np.int64)
    form = np.zeros(n, dtype=bool)
    at = 0
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        k = len(chunk)
        if k and not chunk.null_count and chunk.buffers()[2] is not None:
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + k + 1]
            data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
            rows = np.flatnonzero(np.diff(offsets) == 10)
            raw = data[offsets[rows][:, None] + np.arange(10, dtype=np.int32)]
            uk = (raw[:, 2] == ord("/")) & (raw[:, 5] == ord("/"))
            iso = (raw[:, 4] == ord("-")) & (raw[:, 7] == ord("-"))
            raw -= np.uint8(ord("0"))  # wraps below '0', so one comparison checks both ends
            uk &= (raw[:, [0, 1, 3, 4, 6, 7, 8, 9]] <= 9).all(axis=1)
            iso &= (raw[:, [0, 1, 2, 3, 5, 6, 8, 9]] <= 9).all(axis=1)
            g = raw.astype(np.int64)
            day = np.where(uk, g[:, 0] * 10 + g[:, 1], g[:, 8] * 10 + g[:, 9])
            month = np.where(uk, g[:, 3] * 10 + g[:, 4], g[:, 5] * 10 + g[:, 6])
            year = np.where(
                uk,
                g[:, 6] * 1000 + g[:, 7] * 100 + g[:, 8] * 10 + g[:, 9],
                g[:, 0] * 1000 + g[:, 1] * 100 + g[:, 2] * 10 + g[:, 3],
            )
            ok = uk | iso
            where = at + rows[ok]
            d[where], m[where], y[where] = day[ok], month[ok], year[ok]
            form[where] = True
        at += k
    return d, m, y, form


def _patterned_dates(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(day, month, year, recognised form) by the patterns of _DATE_FORMS and _NAMED_MONTH."""
    n = len(text)
    y = np.zeros(n, dtype=np.int64)
    m = np.zeros(n, dtype=np.int64)
    d = np.zeros(n, dtype=np.int64)
    form = np.zeros(n, dtype=bool)
    text = pc.utf8_trim_whitespace(text)
    for pattern, _ in _DATE_FORMS:
        parts = pc.extract_regex(text, pattern)
        hit = _np_bool(pc.is_valid(parts)) & ~form
        if hit.any():
            for name, target in (("y", y), ("m", m), ("d", d)):
                field_text = pc.fill_null(pc.struct_field(parts, name), "0")
                target[hit] = pc.cast(field_text, pa.int64()).to_numpy(zero_copy_only=False)[hit]
            form |= hit
    parts = pc.extract_regex(text, _NAMED_MONTH)
    named = _np_bool(pc.is_valid(parts)) & ~form
    if named.any():
        which = pc.index_in(pc.utf8_lower(pc.struct_field(parts, "b")), pa.array(_MONTH_NAMES))
        month = _MONTH_NUMBERS[pc.fill_null(which, len(_MONTH_NAMES)).to_numpy(zero_copy_only=False)]
        named &= month > 0
        m[named] = month[named]
        for name, target in (("y", y), ("d", d)):
            field_text = pc.fill_null(pc.struct_field(parts, name), "0")
            target[named] = pc.cast(field_text, pa.int64()).to_numpy(zero_copy_only=False)[named]
        form |= named
    return d, m, y, form


def _real_dates(
    d: np.ndarray, m: np.ndarray, y: np.ndarray, form: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dates, form, real) from day, month and year numbers (of one integer type) where *form* holds."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_ok = (m >= 1) & (m <= 12)
    dim = np.where(month_ok, _DAYS.astype(d.dtype)[np.clip(m - 1, 0, 11)] + ((m == 2) & leap), 0)
    real = form & month_ok & (d >= 1) & (d <= dim) & (y >= 1800)
    del leap, month_ok, dim
    days = days_from_civil(y, m, d).astype(np.int64)
    days[~real] = np.iinfo(np.int64).min  # int64 min is NaT
    return days.view("datetime64[D]"), form, real


def days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 for proleptic Gregorian dates, in integer arithmetic (H. Hinnant's algorithm):
    numpy's month-to-day conversion is several times slower on a million dates."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, m.dtype.type(-3), m.dtype.type(9))) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def fixed_width_bytes(text, width: int) -> np.ndarray | None:
    """The column as an (n, width) byte matrix when every value is exactly *width* bytes, else None.

    Extracts are machine-written, so NHS numbers and dates are usually fixed width; reading their bytes
    straight from Arrow's buffers checks a million rows in milliseconds.
    """
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    parts = []
    for chunk in chunks:
        if chunk.null_count or not len(chunk):
            if len(chunk):
                return None
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
        if not (np.diff(offsets) == width).all():
            return None
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
        parts.append(data.reshape(-1, width))
    return np.concatenate(parts) if parts else None


def _fixed_width_dmy(text: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(day, month, year) when every value is exactly dd/mm/yyyy, the usual export; else None."""
    raw = fixed_width_bytes(text, 10)
    if raw is None or not ((raw[:, 2] == ord("/")) & (raw[:, 5] == ord("/"))).all():
        return None
    digits = raw[:, [0, 1, 3, 4, 6, 7, 8, 9]]
    del raw
    digits -= np.uint8(ord("0"))
    if not (digits <= 9).all():
        return None

    # int32 is ample for four-digit years and their day numbers, and halves the memory of int64.
    def col(i: int) -> np.ndarray:
        return digits[:, i].astype(np.int32)

    return (col(0) * 10 + col(1), col(2) * 10 + col(3), col(4) * 1000 + col(5) * 100 + col(6) * 10 + col(7))


def _fixed_nhs(text) -> tuple[np.ndarray, np.ndarray] | None:
    """(NHS numbers as int64, check digit valid) when every value is ten plain digits, else None."""
    raw = fixed_width_bytes(text, 10)
    if raw is None:
        return None
    digits = raw  # a copy of Arrow's bytes, so it can be worked in place
    digits -= np.uint8(ord("0"))  # wraps below '0', so one comparison checks both ends
    if not (digits <= 9).all():
        return None
    value = np.zeros(len(raw), dtype=np.int64)
    for i in range(10):
        value *= 10
        value += digits[:, i]
    return value, _check_digit_ok(digits)


def _check_digit_ok(digits: np.ndarray) -> np.ndarray:
    """Modulus 11 on an (n, 10) matrix of digits: weights 10 down to 2 on the first nine."""
    total = np.zeros(len(digits), dtype=np.int32)
    for i in range(9):
        total += digits[:, i] * np.int32(10 - i)
    check = 11 - total % 11
    check[check == 11] = 0
    return (check != 10) & (check == digits[:, 9])


def nhs_check_ok(digits: np.ndarray) -> np.ndarray:
    """Modulus 11 over int64 ten-digit numbers, vectorised."""
    rest = digits // 10
    total = np.zeros(len(digits), dtype=np.int64)
    for weight in range(2, 11):  # the ninth digit weighs 2, the first 10
        digit = rest % 10
        rest = rest // 10
        total += digit * weight
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    return (check != 10) & (check == digits % 10)


def _clean_digits(text: pa.Array) -> pa.Array:
    """NHS numbers without the spaces or dashes people type in them (skipped when there are none)."""
    if pc.all(pc.match_substring_regex(text, r"^\d*$")).as_py() is not False:
        return text
    return pc.replace_substring_regex(text, r"[\s-]", "")


def _ten_digits(text: pa.Array) -> np.ndarray:
    """Ten digits 0-9. utf8_is_digit also passes full-width digits, which the int cast then refused with an
    ArrowInvalid traceback (issue 19): ten bytes long and all digits is ten ASCII digits."""
    length_ok = _np_bool(pc.equal(pc.binary_length(text), 10))
    if length_ok.all() and pc.all(pc.utf8_is_digit(text)).as_py():
        return length_ok
    return _np_bool(pc.match_substring_regex(text, r"^[0-9]{10}$"))


# What check_rows asks of each column, in the words the import dialog's column mapping shows as help.
COLUMN_HELP = {
    "nhs_number": "Required: 10 digits, spaces allowed, with a valid modulus-11 check digit; not in Excel's "
    "scientific notation (9.00E+09), and not a placeholder of one digit ten times (0000000000). A second row for "
    "the same number is a duplicate.",
    "date_of_birth": "Required: dd/mm/yyyy, yyyy-mm-dd (a time of day may follow) or 14-Mar-1938, or a date cell "
    "of a workbook; a real date, not after the extract date and not more than 125 years before it.",
    "given_name": "Optional; no control characters.",
    "family_name": "Optional; no control characters.",
    "sex": "Optional: M, F, U, I or O.",
    "postcode": "Optional; no control characters.",
    "practice_code": "Required: the ODS code of one of this locality's practices.",
    "ltc_count": "Required: the number of long-term conditions, a whole number from 0 to 60.",
    "efi_score": "The electronic frailty index, 0 to 1; this or the deficit count is required. With both, the "
    "score must agree with the count (score × 36) to within one deficit.",
    "efi_deficits": "The eFI deficit count, a whole number from 0 to 36; this or the score is required.",
    "prob_unplanned_admission": "Optional: the probability of an unplanned admission, 0 to 1.",
    "predicted_cost": "Required: the predicted cost in pounds, from 0 to £10,000,000; thousands separators "
    "allowed (1,839.99), decimal commas (1839,99) not.",
    "expected_cost": "Required: the expected cost in pounds, more than 0 and at most £10,000,000; thousands "
    "separators allowed (1,839.99), decimal commas (1839,99) not.",
    "care_home_id": "Optional: the CQC location id when the patient lives in a care home: '1-' then 9 to 11 digits.",
    "eol_register": "Optional: Y or N.",
    "housebound": "Optional: Y or N.",
    "emergency_admissions_12m": "Optional: emergency (unplanned) admissions in the 12 months before the extract, "
    f"a whole number from 0 to {MAX_USE_COUNT}; blank when not known.",
    "ae_attendances_12m": "Optional: A&E attendances in the 12 months before the extract, a whole number from 0 "
    f"to {MAX_USE_COUNT}; blank when not known.",
    "emergency_bed_days_12m": "Optional: days in hospital after an emergency admission in the 12 months before "
    "the extract, from 0 to 366; blank when not known.",
    "cost_12m": "Optional: the cost of the patient's care in the 12 months before the extract, in pounds, from 0 "
    "to £10,000,000; thousands separators allowed; blank when not known.",
}
_FLAG_YES = {"y", "yes", "true", "1", "Y"}
_FLAG_NO = {"n", "no", "false", "0", "", "N"}


def _flag(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    lower = _normalised(text, ["Y", "N", ""], pc.utf8_lower)
    yes = _np_bool(pc.is_in(lower, pa.array(sorted(_FLAG_YES))))
    no = _np_bool(pc.is_in(lower, pa.array(sorted(_FLAG_NO))))
    return yes, yes | no


_NUMBERS = (
    "ltc_count",
    "efi_deficits",
    "efi_score",
    "prob_unplanned_admission",
    "predicted_cost",
    "expected_cost",
    *USE_COLUMNS,
)


def _parse_columns(cols: dict[str, pa.Array], present: set[str]) -> dict[str, object]:
    """Parse the costly columns. A column the file does not have is not parsed at all.

    One after another: the reader parses the next batch on the other core meanwhile (extract_chunks), and
    parsing the columns side by side on the thread pool as well was slower and held ~40 MB more (issue 22)."""
    n = len(cols["nhs_number"])
    jobs = {"nhs": (_fixed_nhs, cols["nhs_number"]), "date_of_birth": (parse_dates, cols["date_of_birth"])}
    jobs.update({name: (_number, cols[name]) for name in _NUMBERS if name in present})
    jobs.update({name: (_flag, cols[name]) for name in ("eol_register", "housebound")})
    parsed = {name: fn(arg) for name, (fn, arg) in jobs.items()}
    for name in _NUMBERS:
        parsed.setdefault(name, (np.zeros(n), np.zeros(n, dtype=bool), None))
    return parsed


def check_rows(
    raw: RawExtract,
    practice_codes: set[str],
    other_practices: dict[str, str],
    extract_date: dt.date,
    keep: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None,
) -> CheckedExtract:
    """Validate every row, a batch of the file at a time (a large file is never held whole: issue 22).
    *other_practices* maps codes of other localities to their locality's name. *keep*, given a batch's valid
    values, says which rows to keep row by row (the import keeps the cohort's, so that 1.1 M rows fit in 400 MB);
    every valid row is still counted, and its NHS number kept."""
    while True:
        try:
            return _check_batches(raw, practice_codes, other_practices, extract_date, keep)
        except Reread:  # the encoding was decided again on the whole file: start again
            continue


@dataclass
class _Checked:
    """One batch's outcome: its valid rows (before the duplicate check, which needs the whole file) and the
    NHS numbers of its ten-digit rows."""

    rows: int
    rejected: list[tuple[int, str, str]]  # (spreadsheet row, column, reason)
    lines: np.ndarray  # of the valid rows
    values: dict[str, np.ndarray]
    text: dict[str, pa.Array | pa.ChunkedArray]
    numbers: np.ndarray  # NHS numbers of the ten-digit rows, in row order, and for those rows:
    number_lines: np.ndarray  # their spreadsheet rows
    number_live: np.ndarray  # whether every other rule passed them


class _Stacked:
    """Arrays of many batches laid end to end in one allocation each, made room for as they come.

    Keeping each batch's arrays and joining them at the end left them scattered among the batches' freed
    temporaries, so the allocator could not hand the memory back (~150 MB at 1.1 M rows), and the join held
    everything twice. Room is made generously (16 batches, then doubling): pages never written cost nothing."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.n = 0

    def add(self, parts: dict[str, np.ndarray]) -> None:
        k = len(next(iter(parts.values())))
        for name, part in parts.items():
            room = self.arrays.get(name)
            if room is None:
                room = self.arrays[name] = np.empty(max(16 * k, 1024), dtype=part.dtype)
            elif self.n + k > len(room):
                bigger = np.empty(max(2 * len(room), self.n + k), dtype=room.dtype)
                bigger[: self.n] = room[: self.n]
                room = self.arrays[name] = bigger
            room[self.n : self.n + k] = part
        self.n += k

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name][: self.n]


def _check_batches(
    raw: RawExtract,
    practice_codes: set[str],
    other_practices: dict[str, str],
    extract_date: dt.date,
    keep: Callable[[dict[str, np.ndarray]], np.ndarray] | None,
) -> CheckedExtract:
    present = raw.present
    # Every valid row in a few bytes: its line, practice and histogram bins. The population is counted from these
    # once the duplicates (found only at the end) are known, without the values of rows not kept.
    values, numbers, counted_rows = _Stacked(), _Stacked(), _Stacked()
    practice_index: dict[str, int] = {}
    texts: list[dict[str, pa.Array | pa.ChunkedArray]] = []
    rejected: list[tuple[int, str, str]] = []
    rows = 0
    for batch in raw.batches():
        done = _check_batch(
            batch, present, raw.damaged_text, practice_codes, other_practices, extract_date, len(rejected)
        )
        rows += done.rows
        rejected += done.rejected
        if done.lines.size:
            column = done.text["practice_code"]
            codes = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
            index = np.array(
                [practice_index.setdefault(c, len(practice_index)) for c in codes.dictionary.to_pylist()], np.int32
            )
            practice_of = index[codes.indices.to_numpy(zero_copy_only=False)]
            use = {name: done.values[name].astype(np.float32) for name in USE_COLUMNS if name in present}
            counted_rows.add({"line": done.lines, "practice": practice_of, **_bins(done.values, extract_date), **use})
        if keep is not None:
            chosen = keep(done.values)
            done.lines = done.lines[chosen]
            done.values = {name: a[chosen] for name, a in done.values.items()}
            done.text = {name: col.filter(pa.array(chosen)) for name, col in done.text.items()}
        values.add({"_line": done.lines, **done.values})
        numbers.add({"number": done.numbers, "line": done.number_lines, "live": done.number_live})
        texts.append(done.text)
        del done
    names = [name for name in values.arrays if name != "_line"]
    kept = {name: values[name] for name in names}
    text = {name: _chunked([t[name] for t in texts]) for name in texts[0]}
    drop = _reject_duplicates(numbers, rejected)
    valid_row = np.ones(counted_rows.n, dtype=bool)
    if drop is not None:
        gone = np.isin(values["_line"], drop)
        kept = {name: a[~gone] for name, a in kept.items()}
        text = {name: col.filter(pa.array(~gone)) for name, col in text.items()}
        if counted_rows.n:  # a file whose every row was rejected may still repeat a number: nothing was counted
            valid_row = ~np.isin(counted_rows["line"], drop)
    valid = int(valid_row.sum())
    histograms = {
        name: np.bincount(counted_rows[name][valid_row], minlength=bins) if counted_rows.n else np.zeros(bins, np.int64)
        for name, bins in HISTOGRAM_BINS.items()
    }
    per_practice = np.bincount(counted_rows["practice"][valid_row], minlength=len(practice_index)) if valid else []
    practices = {code: int(per_practice[i]) for code, i in practice_index.items() if valid and per_practice[i]}
    counted = {
        "histograms": histograms,
        "practice_counts": practices,
        "counted_on": extract_date,
        "use_totals": _use_totals(counted_rows, valid_row, present),
    }
    if keep is not None:
        live = numbers["live"] & (~np.isin(numbers["line"], drop) if drop is not None else True)
        counted |= {"valid_rows": valid, "population_nhs": numbers["number"][live].copy()}
    rejected.sort(key=lambda r: r[0])
    del values, numbers, texts, counted_rows
    _give_back_memory()
    return CheckedExtract(
        rows=rows,
        values=kept,
        rejections=[Rejection(row, column, reason) for row, column, reason in rejected[:MAX_REJECTIONS_LISTED]],
        _text=text,
        notes=raw.notes,
        **counted,
    )


def _use_totals(counted_rows: _Stacked, valid_row: np.ndarray, present: set[str]) -> dict[str, tuple[float, int]]:
    """Each use column's sum over the valid population's known values, and how many were known."""
    totals = {}
    for name in USE_COLUMNS:
        if name not in present or not counted_rows.n:
            totals[name] = (0.0, 0)
            continue
        values = counted_rows[name][valid_row]
        known = ~np.isnan(values)
        totals[name] = (float(values[known].sum(dtype=np.float64)), int(known.sum()))
    return totals


def _give_back_memory() -> None:
    """Hand the check's freed working memory back to the system before the import goes on to store the run:
    Arrow's allocator and C's keep what the batches freed for reuse, ~40 MB at 1.1 M rows."""
    pa.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # not glibc (musl has no malloc_trim)
            ctypes.CDLL(None).malloc_trim(0)


def _chunked(parts: list[pa.Array | pa.ChunkedArray]) -> pa.ChunkedArray:
    chunks = [c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.chunked_array(chunks, pa.string())


def _check_batch(
    batch: RawBatch,
    present: set[str],
    damaged_text: bool,
    practice_codes: set[str],
    other_practices: dict[str, str],
    extract_date: dt.date,
    listed_before: int,
) -> _Checked:
    n = batch.num_rows
    cols = {name: _text(batch, name, n) for name in CANONICAL}
    parsed = _parse_columns(cols, present)
    blank = _blank_rows(batch, cols, present, every_nhs_fixed=parsed["nhs"] is not None)
    rules = _Rules(batch.line_numbers, ~blank, listed_before)
    for line, reason in batch.malformed:
        rules.rejected.append((-line, len(rules.rejected), "(whole row)", f"This row {reason}."))
    # Order matters: a row is rejected for the first rule it fails, and later rules no longer see it.
    if damaged_text:
        _check_damaged_text(rules, cols, present)
    ten, digits = _check_nhs_number(rules, cols, parsed["nhs"])
    dob = _check_date_of_birth(rules, cols, parsed["date_of_birth"], extract_date)
    _check_free_text(rules, cols)
    sex = _check_sex(rules, cols)
    practice = _check_practice(rules, cols, practice_codes, other_practices)
    ltc = _check_ltc_count(rules, cols, parsed["ltc_count"])
    deficits, score = _check_efi(rules, cols, parsed, present)
    prob = _check_probability(rules, cols, parsed["prob_unplanned_admission"])
    costs = _check_costs(rules, cols, parsed)
    home = _check_care_home(rules, cols["care_home_id"])
    flags = _check_flags(rules, cols, parsed)
    use = _check_use(rules, cols, parsed, present)
    # The duplicate check is the last rule; it needs the whole file (_reject_duplicates).
    keep = np.flatnonzero(rules.live)
    values = _valid_rows(
        keep,
        n,
        {
            "nhs_number": digits,
            "date_of_birth": dob,
            "ltc_count": ltc,
            "efi_deficits": deficits,
            "efi_score": score,
            "prob_unplanned_admission": prob,
            **costs,
            **flags,
            **use,
        },
    )
    values["ltc_count"] = values["ltc_count"].astype(np.int64)
    # Postcodes are upper-cased as cohort rows are taken (text()), not for the whole population.
    text = {
        "given_name": cols["given_name"],
        "family_name": cols["family_name"],
        "sex": sex,
        "postcode": cols["postcode"],
        "practice_code": practice,
        "care_home_id": home,
    }
    if len(keep) != n:
        take = pa.array(keep)
        text = {name: column.take(take) for name, column in text.items()}
    if ten.all():
        numbers, number_lines, number_live = digits, batch.line_numbers, rules.live
    else:
        numbers, number_lines, number_live = digits[ten], batch.line_numbers[ten], rules.live[ten]
    return _Checked(
        rows=int((~blank).sum()) + len(batch.malformed),
        rejected=[(-i if i < 0 else int(rules.lines[i]), c, r) for i, _, c, r in rules.rejected],
        lines=batch.line_numbers[keep] if len(keep) != n else batch.line_numbers,
        values=values,
        text=text,
        numbers=numbers,
        number_lines=number_lines,
        number_live=number_live,
    )


def _blank_rows(batch: RawBatch, cols: dict[str, pa.Array], present: set[str], every_nhs_fixed: bool) -> np.ndarray:
    """Rows with every field empty. Only a row with no NHS number can be one, so look no further than those
    (and when every NHS number is ten digits, there are none)."""
    n = batch.num_rows
    if every_nhs_fixed:
        return np.zeros(n, dtype=bool)
    blank = _np_bool(pc.equal(pc.utf8_trim_whitespace(cols["nhs_number"]), ""))
    maybe = np.flatnonzero(blank)
    if len(maybe):
        take = pa.array(maybe)
        for c in present:
            blank[maybe] &= _np_bool(pc.equal(pc.utf8_trim_whitespace(cols[c].take(take)), ""))
    return blank


def _check_nhs_number(
    rules: _Rules, cols: dict[str, pa.Array], fast_nhs: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(ten digits, the numbers) for the NHS numbers."""
    shown = cols["nhs_number"]
    if fast_nhs is not None:
        ten, (digits, check_ok) = np.ones(len(shown), dtype=bool), fast_nhs
    else:
        nhs_text = _clean_digits(shown)
        rules.fail(_np_bool(pc.equal(nhs_text, "")), "nhs_number", "The NHS number is missing.")
        sci = _np_bool(pc.match_substring_regex(nhs_text, r"^\d(\.\d+)?[eE]\+?\d+$"))
        rules.fail(
            sci,
            "nhs_number",
            lambda v: (
                f"'{v}' is an NHS number Excel has turned into scientific "
                "notation; format the column as text in Excel and export again."
            ),
            shown,
        )
        ten = _ten_digits(nhs_text)
        rules.fail(
            ~ten, "nhs_number", _odd_digits(lambda v: f"'{v}' is not an NHS number: it must be 10 digits."), shown
        )
        digits = pc.cast(pc.if_else(pa.array(ten), nhs_text, "0"), pa.int64()).to_numpy(zero_copy_only=False)
        check_ok = nhs_check_ok(digits)
    rules.fail(
        ten & ~check_ok,
        "nhs_number",
        lambda v: f"{v} fails the NHS number check digit (modulus 11); check it was typed correctly.",
        shown,
    )
    # One digit ten times passes modulus 11 (0000000000, 1111111111, ... 9999999999): systems use them for
    # "not known", and they were imported as patients (issue 19). d × 1111111111 is exactly those ten.
    rules.fail(
        ten & (digits % 1_111_111_111 == 0),
        "nhs_number",
        lambda v: (
            f"'{v}' is a placeholder (one digit ten times), not a patient's NHS number; find the patient's "
            "number or leave the row out."
        ),
        shown,
    )
    return ten, digits


def _check_date_of_birth(
    rules: _Rules, cols: dict[str, pa.Array], parsed: tuple[np.ndarray, np.ndarray, np.ndarray], extract_date: dt.date
) -> np.ndarray:
    dob, form, real = parsed
    shown = cols["date_of_birth"]
    today = np.datetime64(extract_date, "D")
    rules.fail(_np_bool(pc.equal(shown, "")), "date_of_birth", "The date of birth is missing.")
    rules.fail(
        ~form, "date_of_birth", _odd_digits(lambda v: f"'{v}' is not a date; use dd/mm/yyyy or yyyy-mm-dd."), shown
    )
    rules.fail(~real, "date_of_birth", lambda v: f"{v} is not a real calendar date.", shown)
    rules.fail(
        real & (dob > today),
        "date_of_birth",
        lambda v: f"{v} is after the extract date ({extract_date:%d/%m/%Y}).",
        shown,
    )
    rules.fail(
        real & (dob < today - np.timedelta64(125 * 366, "D")),
        "date_of_birth",
        lambda v: f"{v} would make the patient older than 125.",
        shown,
    )
    return dob


# C0 controls but the tab (a tab-led formula is kept as written and defused on export), DEL, C1 controls,
# Unicode's bidirectional overrides and isolates (they reorder what a name looks like on screen), and U+FFFD
# (text some tool could not read before us).
_CONTROL = r"[\x00-\x08\x0a-\x1f\x7f-\x{9f}\x{202a}-\x{202e}\x{2066}-\x{2069}\x{fffd}]"
_FREE_TEXT = {"given_name": "given name", "family_name": "family name", "postcode": "postcode"}


def _check_free_text(rules: _Rules, cols: dict[str, pa.Array]) -> None:
    """Names and postcodes are stored as written, so a NUL, BEL or ANSI escape in one was stored too, and
    rang, recoloured or cut short whatever showed it (issue 19). Such a row is refused, not stripped: what is
    left of "\\x1b[31mSmith" is not a name either. A byte scan finds the few rows worth a regex."""
    for name, label in _FREE_TEXT.items():
        maybe = _rows_with_suspect_bytes(cols[name])
        if not len(maybe):
            continue
        bad = np.zeros(len(cols[name]), dtype=bool)
        bad[maybe] = _np_bool(pc.match_substring_regex(cols[name].take(pa.array(maybe)), _CONTROL))
        rules.fail(bad, name, lambda v, label=label: _control_reason(label, v), cols[name])


def _control_reason(label: str, value) -> str:
    text = str(value)
    found = next((c for c in text if _is_control(c)), "\x00")
    what = "a character that is not UTF-8 text" if found == "\ufffd" else f"a control character (U+{ord(found):04X})"
    return f"The {label} {text!r} holds {what}, which no {label} has; correct the cell in the extract and import again."


def _is_control(c: str) -> bool:
    """One character of _CONTROL, for the message (only rejected rows are looked at one by one)."""
    o = ord(c)
    bidi = 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069
    return (o < 0x20 and c != "\t") or 0x7F <= o <= 0x9F or bidi or o == 0xFFFD


def _rows_with_suspect_bytes(text) -> np.ndarray:
    """Rows whose UTF-8 holds a byte that may start a _CONTROL character: below 0x20 but the tab, DEL, or a
    lead byte of U+0080-U+00BF (0xC2), U+2000-U+2FFF (0xE2) or U+F000-U+FFFF (0xEF). Two reductions clear a
    clean ASCII column of a million names in about a millisecond."""
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    found = []
    at = 0
    for chunk in chunks:
        data_buffer = chunk.buffers()[2] if len(chunk) else None
        if data_buffer is not None:
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
            data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
            if len(data) and (data.min() < 0x20 or data.max() >= 0x7F):
                hits = np.flatnonzero(
                    ((data < 0x20) & (data != 0x09)) | (data == 0x7F) | (data == 0xC2) | (data == 0xE2) | (data == 0xEF)
                )
                if len(hits):
                    found.append(at + np.unique(np.searchsorted(offsets, hits + offsets[0], side="right") - 1))
        at += len(chunk)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _check_damaged_text(rules: _Rules, cols: dict[str, pa.Array], present) -> None:
    """A UTF-8 file with a few bytes that are not (a row pasted from a Windows-1252 file): the reader made them
    U+FFFD rather than read the whole file as Windows-1252; the rows holding them are rejected here, naming
    the cell, so that no guess about them is stored."""
    for name in CANONICAL:
        if name not in present:
            continue
        bad = _np_bool(pc.match_substring(cols[name], "\ufffd"))
        rules.fail(
            bad,
            name,
            lambda v: (
                f"{v!r} holds bytes that are not UTF-8 text, though the rest of the file is UTF-8: this cell was "
                "saved in another encoding (Windows-1252, say). Correct it, or save the whole file from Excel as "
                "'CSV UTF-8 (Comma delimited)', and import again."
            ),
            cols[name],
        )


def _check_sex(rules: _Rules, cols: dict[str, pa.Array]) -> pa.Array:
    """Optional. Returns the column as stored: its first letter, upper-cased."""
    sex = _normalised(cols["sex"], ["M", "F", ""], lambda c: pc.utf8_upper(pc.utf8_slice_codeunits(c, 0, 1)))
    rules.fail(
        ~_np_bool(pc.is_in(sex, pa.array(["M", "F", "U", "I", "O", ""]))),
        "sex",
        lambda v: f"'{v}' is not a recognised sex (M, F, U, I or O).",
        cols["sex"],
    )
    return sex


def _check_practice(
    rules: _Rules, cols: dict[str, pa.Array], practice_codes: set[str], other_practices: dict[str, str]
) -> pa.Array:
    """Returns the column as stored: upper-cased."""
    shown = cols["practice_code"]
    practice = _normalised(shown, sorted(practice_codes | set(other_practices)), pc.utf8_upper)
    rules.fail(_np_bool(pc.equal(practice, "")), "practice_code", "The practice code is missing.")
    elsewhere = _np_bool(pc.is_in(practice, pa.array(sorted(other_practices) or [""])))
    rules.fail(
        elsewhere & ~_np_bool(pc.is_in(practice, pa.array(sorted(practice_codes) or [""]))),
        "practice_code",
        lambda v: (
            f"Practice {v} belongs to {other_practices.get(str(v).strip().upper(), 'another locality')}, "
            "not this locality."
        ),
        shown,
    )
    rules.fail(
        ~_np_bool(pc.is_in(practice, pa.array(sorted(practice_codes) or [""]))),
        "practice_code",
        lambda v: (
            f"Practice {v} is not one of this locality's practices; add it under Practices first if it has joined."
        ),
        shown,
    )
    return practice


def _check_ltc_count(rules: _Rules, cols: dict[str, pa.Array], parsed: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    ltc, ltc_ok, _ = parsed
    shown = cols["ltc_count"]
    rules.fail(_np_bool(pc.equal(shown, "")), "ltc_count", "The long-term condition count is missing.")
    _fail_commas(rules, parsed, "ltc_count", shown)
    rules.fail(~ltc_ok, "ltc_count", _odd_digits(lambda v: f"'{v}' is not a number of long-term conditions."), shown)
    rules.fail(
        ltc_ok & ((ltc != np.floor(ltc)) | (ltc < 0) | (ltc > 60)),
        "ltc_count",
        lambda v: f"{v} is not a whole number of conditions between 0 and 60.",
        shown,
    )
    return ltc


def _check_efi(
    rules: _Rules, cols: dict[str, pa.Array], parsed: dict[str, object], present: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(deficits, score): from the deficit count when the file has one, else from the score. A file with both
    has each row's score checked against its count: they were let disagree, the count silently winning."""
    if "efi_deficits" in present:
        deficits_f, d_ok, _ = parsed["efi_deficits"]
        shown = cols["efi_deficits"]
        _fail_commas(rules, parsed["efi_deficits"], "efi_deficits", shown)
        rules.fail(~d_ok, "efi_deficits", _odd_digits(lambda v: f"'{v}' is not an eFI deficit count."), shown)
        rules.fail(
            d_ok & ((deficits_f != np.floor(deficits_f)) | (deficits_f < 0) | (deficits_f > 36)),
            "efi_deficits",
            lambda v: f"{v} is not an eFI deficit count (a whole number 0–36).",
            shown,
        )
        # Out-of-range counts are rejected above; clipping keeps e.g. 1e308 from overflowing the int cast (fuzzing).
        deficits = np.clip(np.where(d_ok, deficits_f, 0), 0, 36).astype(np.int64)
        if "efi_score" in present:
            _check_score_agrees(rules, cols, parsed["efi_score"], deficits)
        return deficits, deficits / 36.0
    score, s_ok, _ = parsed["efi_score"]
    shown = cols["efi_score"]
    rules.fail(_np_bool(pc.equal(shown, "")), "efi_score", "The eFI score is missing.")
    _check_score(rules, parsed["efi_score"], shown)
    # Half up, as a person would round: 8.5 deficits is 9, never banker's 8.
    # Scores outside 0-1 are rejected above; clipping keeps e.g. 1e308 from overflowing * 36 (fuzzing).
    deficits = np.floor(np.clip(np.where(s_ok, score, 0), 0, 1) * 36 + 0.5 + 1e-9).astype(np.int64)
    return deficits, score


def _check_score(rules: _Rules, parsed: tuple, shown: pa.Array, blank: np.ndarray | None = None) -> None:
    """The eFI score's own rules (rows where *blank* holds are not looked at)."""
    score, s_ok, _ = parsed
    filled = ~blank if blank is not None else np.ones(len(score), dtype=bool)
    if parsed[2] is not None:
        rules.fail(parsed[2] & filled, "efi_score", _comma_reason, shown)
    rules.fail(~s_ok & filled, "efi_score", _odd_digits(lambda v: f"'{v}' is not an eFI score."), shown)
    rules.fail(s_ok & ((score < 0) | (score > 1)), "efi_score", lambda v: f"{v} is outside the eFI range 0–1.", shown)


def _check_score_agrees(rules: _Rules, cols: dict[str, pa.Array], parsed: tuple, deficits: np.ndarray) -> None:
    """With a deficit count and a score, a filled score must be a number 0-1 within one deficit of the count.
    One deficit leaves room for scores rounded to two places (0.31 for 11/36) and none for 0.5 beside 3."""
    shown = cols["efi_score"]
    blank = _np_bool(pc.equal(pc.utf8_trim_whitespace(shown), ""))
    _check_score(rules, parsed, shown, blank)
    score, s_ok, _ = parsed
    apart = np.abs(score * 36 - deficits) >= 1 - 1e-9
    rules.fail(
        s_ok & ~blank & apart,
        "efi_score",
        lambda v: (
            f"The eFI score {v} does not agree with the row's deficit count (score × 36 should be within one "
            "deficit of the count). Correct the one that is wrong, or map only one of the two columns."
        ),
        shown,
    )


def _check_probability(rules: _Rules, cols: dict[str, pa.Array], parsed: tuple) -> np.ndarray:
    """Optional: a blank cell is NaN."""
    prob, p_ok, _ = parsed
    p_blank = _np_bool(pc.equal(cols["prob_unplanned_admission"], ""))
    _fail_commas(rules, parsed, "prob_unplanned_admission", cols["prob_unplanned_admission"])
    rules.fail(
        ~p_blank & (~p_ok | (prob < 0) | (prob > 1)),
        "prob_unplanned_admission",
        lambda v: f"'{v}' is not a probability between 0 and 1.",
        cols["prob_unplanned_admission"],
    )
    return np.where(p_blank, np.nan, prob) if p_blank.any() else prob


def _check_costs(rules: _Rules, cols: dict[str, pa.Array], parsed: dict[str, object]) -> dict[str, np.ndarray]:
    costs = {}
    for name, label in (("predicted_cost", "predicted cost"), ("expected_cost", "expected cost")):
        value, ok, _ = parsed[name]
        rules.fail(_np_bool(pc.equal(cols[name], "")), name, f"The {label} is missing.")
        _fail_commas(rules, parsed[name], name, cols[name])
        rules.fail(~ok, name, _odd_digits(lambda v, label=label: f"'{v}' is not a {label} in pounds."), cols[name])
        rules.fail(ok & (value < 0), name, lambda v, label=label: f"The {label} {v} is negative.", cols[name])
        rules.fail(
            ok & (value > MAX_COST),
            name,
            lambda v, label=label: (
                f"The {label} {v} is more than £{MAX_COST:,} for one patient's year, which no risk tool "
                "predicts: check the column holds pounds (not pence) and was not mistyped."
            ),
            cols[name],
        )
        costs[name] = value
    rules.fail(
        costs["expected_cost"] == 0, "expected_cost", "The expected cost is 0, so the cost ratio cannot be worked out."
    )
    return costs


def _check_use(rules: _Rules, cols: dict[str, pa.Array], parsed: dict[str, object], present: set[str]):
    """Optional: blank is not known (NaN). Only the columns the file has are returned."""
    use = {}
    for name in USE_COLUMNS:
        if name not in present:  # not in values at all: a column of NaN for each batch would cost 8 bytes a row
            continue
        value, ok, _ = parsed[name]
        label = USE_LABELS[name]
        blank = _np_bool(pc.equal(pc.utf8_trim_whitespace(cols[name]), ""))
        if parsed[name][2] is not None:
            rules.fail(parsed[name][2] & ~blank, name, _comma_reason, cols[name])
        unit = "a sum in pounds" if name == "cost_12m" else "a number"
        rules.fail(
            ~blank & ~ok,
            name,
            _odd_digits(lambda v, label=label, unit=unit: f"'{v}' is not {unit} of {label}."),
            cols[name],
        )
        rules.fail(ok & ~blank & (value < 0), name, lambda v, label=label: f"{v} {label} is negative.", cols[name])
        if name == "cost_12m":
            too_big = value > MAX_COST
            reason = lambda v, label=label: (  # noqa: E731
                f"The {label} {v} is more than £{MAX_COST:,} for one patient's year: check the column holds "
                "pounds (not pence) and was not mistyped."
            )
        elif name == "emergency_bed_days_12m":
            too_big = value > 366
            reason = lambda v, label=label: f"{v} {label} is more than the days of a year (366)."  # noqa: E731
        else:
            too_big = (value > MAX_USE_COUNT) | (value != np.floor(value))
            reason = lambda v, label=label: f"{v} is not a whole number of {label} from 0 to {MAX_USE_COUNT}."  # noqa: E731
        rules.fail(ok & ~blank & too_big, name, reason, cols[name])
        use[name] = np.where(blank | ~ok, np.nan, value)
    return use


def _check_care_home(rules: _Rules, home: pa.Array) -> pa.Array:
    """Optional: the CQC location id form. Returns the column as stored (trimmed when any cell is filled)."""
    filled = np.flatnonzero(~_np_bool(pc.equal(home, "")))
    if len(filled):
        home = pc.utf8_trim_whitespace(home)
        bad_home = np.zeros(len(home), dtype=bool)
        bad_home[filled] = ~_np_bool(pc.match_substring_regex(home.take(pa.array(filled)), r"^(1-\d{9,11})?$"))
        rules.fail(
            bad_home, "care_home_id", lambda v: f"'{v}' is not a CQC location id ('1-' then 9 to 11 digits).", home
        )
    return home


def _check_flags(rules: _Rules, cols: dict[str, pa.Array], parsed: dict[str, object]) -> dict[str, np.ndarray]:
    flags = {}
    for name in ("eol_register", "housebound"):
        yes, ok = parsed[name]
        rules.fail(~ok, name, lambda v: f"'{v}' is not Y or N.", cols[name])
        flags[name] = yes
    return flags


def _reject_duplicates(seen: _Stacked, rejected: list[tuple[int, str, str]]) -> np.ndarray | None:
    """The second row for an NHS number is rejected, pointing at the first (which may itself have been rejected
    for another reason), across the whole file. Adds the rejections; returns the rows to drop from the valid
    ones (None when no number repeats, the usual case: then only one sort of the numbers is paid for)."""
    numbers = seen["number"]
    ordered = np.sort(numbers)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    del ordered
    if not len(repeated):
        return None
    again = pa.array(np.unique(repeated))
    lines, live = seen["line"], seen["live"]
    # Few rows: look at them one by one, in row order.
    at = np.flatnonzero(_np_bool(pc.is_in(numbers, again)))
    first_line: dict[int, int] = {}
    drop = []
    for i, number in zip(at.tolist(), numbers[at].tolist(), strict=True):
        if number not in first_line:
            first_line[number] = int(lines[i])
        elif live[i]:
            rejected.append(
                (
                    int(lines[i]),
                    "nhs_number",
                    f"NHS number {number} appears again: a duplicate of row {first_line[number]}.",
                )
            )
            drop.append(int(lines[i]))
    return np.array(drop, dtype=np.int64)


def _valid_rows(keep: np.ndarray, n: int, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each column's valid rows. A clean file keeps every row: then the arrays are used as they are rather than
    copied."""
    if len(keep) == n:
        return columns
    return {name: a[keep] for name, a in columns.items()}
