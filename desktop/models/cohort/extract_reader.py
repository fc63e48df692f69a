"""Reading a risk extract: encoding, separator, sheet, headings and structure (DESIGN §6.1, issue 21).

A CSV (UTF-8 or Windows-1252, comma or semicolon) or a workbook (.xlsx, .xls: workbook.py) becomes the same
text columns, so one set of rules checks both. The heading row is found below any title lines a practice
system writes, and summary lines below the last patient are left out with a note (extract_layout.py).
Structural problems (not a CSV, empty, a required column missing or doubled, no heading row) refuse the whole
file with one message; row-level problems are left to extract_rules.py. pyarrow parses, every column as text,
so that no value is silently coerced before it is checked.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import ValidationError
from . import workbook
from .extract_layout import (
    CANONICAL,
    EFI_COLUMNS,
    HEADING_SEARCH_ROWS,
    REQUIRED,
    Layout,
    covers_required,
    find_heading,
    normalise_heading,
    suggest_mapping,
    summary_note,
    title_note,
    trailing_summary,
)

__all__ = [
    "CANONICAL",
    "EFI_COLUMNS",
    "REQUIRED",
    "Located",
    "RawExtract",
    "check_structure",
    "choose_sheet",
    "locate",
    "line_cells",
    "locate_csv",
    "normalise_heading",
    "read_extract",
    "read_headings",
    "sheet_layout",
    "sniff",
    "suggest_mapping",
]
# How many rows at the end of a file are looked at for a summary below the patients.
_TAIL_ROWS = 50


@dataclass
class RawExtract:
    """The file as text columns, keyed by canonical name, with the spreadsheet row number of each row."""

    columns: dict[str, pa.ChunkedArray]
    line_numbers: np.ndarray  # as a spreadsheet numbers them: the first line (or row of the sheet) is row 1
    headings: list[str]
    mapping: dict[str, str]  # heading in the file -> canonical column
    encoding: str  # "" for a workbook
    delimiter: str  # "" for a workbook
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) for ragged rows
    # A UTF-8 file with some bytes that are not UTF-8: they were read as U+FFFD, and the rules reject their rows.
    damaged_text: bool = False
    heading_row: int = 1
    title_lines: list[str] = field(default_factory=list)  # the report's title, above the heading row
    ignored: list[tuple[int, str]] = field(default_factory=list)  # (row, text): the summary below the patients
    sheet: str | None = None  # the sheet read, for a workbook
    sheets: list[str] = field(default_factory=list)  # all the workbook's sheets

    @property
    def num_rows(self) -> int:
        return len(self.line_numbers)

    @property
    def notes(self) -> list[str]:
        """What was read other than patients, in words for the person importing."""
        notes = []
        if len(self.sheets) > 1:
            others = ", ".join(f"'{s}'" for s in self.sheets if s != self.sheet)
            notes.append(f"Read the sheet '{self.sheet}' of the workbook; its other sheets ({others}) were not read.")
        for note in (title_note(self.heading_row, self.title_lines), summary_note(self.ignored)):
            if note:
                notes.append(note)
        return notes


@dataclass(frozen=True)
class Located:
    """Where the patients are in a file, found from its opening rows."""

    layout: Layout
    encoding: str = ""  # a CSV's; "" for a workbook
    delimiter: str = ""
    sheet: str | None = None  # a workbook's sheet holding the patients
    sheets: tuple[str, ...] = ()


def sniff(path: str | Path) -> tuple[bytes, str, str]:
    """The first bytes, the encoding and the separator; refuses what is plainly not a CSV."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path.name} is not a file that can be read.")
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
    if not head.strip(b"\xef\xbb\xbf \r\n\t"):
        raise ValidationError(f"{path.name} is empty: there is nothing to import.")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode Text" is UTF-16; it was refused as binary (for its NUL bytes), which misled.
        raise ValidationError(
            f"{path.name} is saved as UTF-16 ('Unicode Text'), which this import does not read. "
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and import that."
        )
    # Control characters other than tab, CR and LF do not occur in a CSV; a binary file without a NUL byte
    # in its first 64 kB (a PNG, say) was read as one and refused for its "missing columns".
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 13))
    if (
        b"\x00" in head
        or controls > max(4, len(head) // 200)
        or head.startswith((b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0"))
    ):
        raise ValidationError(
            f"{path.name} is not a CSV file (it looks like a binary or Excel file). "
            "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and import that."
        )
    try:
        text = head.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8; so is a sample that holds good
        # UTF-8 beside a stray byte (read_extract then decides on the whole file).
        bad, good = utf8_evidence(head[: len(head) - 3] if exc.start >= len(head) - 3 else head)
        encoding = "utf-8" if not bad or good else "cp1252"
        text = head.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    first = _first_line_of(text)
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return head, encoding, delimiter


def utf8_evidence(data: bytes, decoder=None) -> tuple[int, int]:
    """(byte sequences that are not UTF-8, bytes of good non-ASCII UTF-8 characters) in *data*.

    A Windows-1252 file has the first and never the second (its accented letters are lone high bytes); a UTF-8
    file with a row pasted from elsewhere has both. *decoder* carries a character cut at a chunk's end over.
    """
    if decoder is None and data.isascii():
        return 0, 0
    text = (decoder or codecs.getincrementaldecoder("utf-8")(errors="replace")).decode(data)
    if text.isascii():
        return 0, 0
    bad = text.count("\ufffd")
    # Each U+FFFD takes three bytes in UTF-8, two more than one; what is left is good multi-byte text.
    return bad, len(text.encode("utf-8")) - len(text) - 2 * bad


def whole_file_encoding(path: Path) -> tuple[str, bytes | None]:
    """The encoding of the whole file, decided on all of it rather than its first 64 kB, and the text to parse
    when it is UTF-8 with a few bytes that are not (None when the file can be parsed as it is).

    One stray Windows-1252 byte deep in a UTF-8 file re-read the whole file as Windows-1252, turning every
    "Zoë" into "ZoÃ«" without a word (issue 19). Now a file with any good UTF-8 in it is UTF-8; its bad bytes
    become U+FFFD, and the rows holding them are rejected by name (extract_rules), never guessed at.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    bad = good = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            b, g = utf8_evidence(chunk, decoder)
            bad, good = bad + b, good + g
        tail = decoder.decode(b"", final=True)
        bad += tail.count("\ufffd")
    if not bad:
        return "utf-8", None
    if not good:
        return "cp1252", None
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    parts = []
    with open(path, "rb") as fh:
        while chunk := fh.read(4 << 20):
            parts.append(decoder.decode(chunk).encode("utf-8"))
    parts.append(decoder.decode(b"", final=True).encode("utf-8"))
    return "utf-8", b"".join(parts)


def _first_line_of(text: str) -> str:
    # Only CR and LF end a line, as for the CSV parser: str.splitlines() also breaks at form feeds, vertical tabs
    # and the like, so the headings could disagree with the rows (or be missing).
    return re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]


def _lines_of(text: str, count: int) -> list[str]:
    """The first *count* lines, split where the CSV parser splits them (so that line k here is its row k)."""
    return re.split(r"\r\n|\r|\n", text, maxsplit=count)[:count]


def line_cells(line: str, delimiter: str) -> list[str]:
    """One line of a CSV as its cells."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return [line]


def locate(
    path: str | Path,
    sheet: str | None = None,
    remembered: dict[str, str] | None = None,
    encoding: str | None = None,
) -> Located:
    """Where the patients are: the heading row (below any title lines) and, for a CSV, its encoding and
    separator, for a workbook the sheet (*sheet*, or the first that holds a risk extract). Only the start of the
    file is read for a CSV; a workbook's sheet is read whole (calamine has no partial read), so a caller that
    reads the rows too should use read_extract, which reads it once."""
    if workbook.is_workbook(path):
        book = workbook.open_book(path)
        name, rows = choose_sheet(book, Path(path).name, sheet, remembered, HEADING_SEARCH_ROWS)
        return Located(
            sheet_layout(rows, name, Path(path).name, remembered),
            sheet=name,
            sheets=tuple(workbook.worksheet_names(book)),
        )
    head, sniffed, _ = sniff(path)
    return locate_csv(Path(path), head, encoding or sniffed, remembered)


def locate_csv(path: Path, head: bytes, encoding: str, remembered: dict[str, str] | None) -> Located:
    """The heading row of a CSV, under whichever separator, comma or semicolon, makes more sense of it."""
    text = head.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    lines = _lines_of(text, HEADING_SEARCH_ROWS)
    found = []
    for delimiter in (",", ";"):
        layout = find_heading([line_cells(line, delimiter) for line in lines], remembered)
        if layout is not None:
            found.append((layout.found, layout.known, len(layout.headings), delimiter == ";", layout, delimiter))
    if not found:  # every one of the opening lines is blank: a bare vertical tab or form feed, say
        raise ValidationError(
            f"{path.name} has no column headings: its first lines are blank. Put the headings on the first line "
            "and import again."
        )
    layout, delimiter = max(found, key=lambda f: f[:4])[4:]
    return Located(layout, encoding, delimiter)


def choose_sheet(
    book, file_name: str, sheet: str | None, remembered: dict[str, str] | None, nrows: int | None
) -> tuple[str, list[list]]:
    """(sheet name, its rows): the sheet asked for, or the first holding a risk extract's headings (every
    required column named, else any known ones). A sheet that is not there or holds no extract, and a workbook
    with no such sheet, are refused naming the sheets."""
    names = workbook.worksheet_names(book)
    if not names:
        raise ValidationError(f"{file_name} has no worksheet: there is nothing to import.")
    if sheet is not None and sheet not in names:
        raise ValidationError(
            f"{file_name} has no sheet called '{sheet}'. Its sheets are {_listed(names)}: choose the one that "
            "holds the patients."
        )
    # Failing a sheet that names every required column: one that names some, else one of headings to map by hand.
    fallbacks: dict[int, tuple[str, list[list]]] = {}
    for name in [sheet] if sheet is not None else names:
        rows = workbook.sheet_rows(book, name, nrows)
        layout = find_heading(workbook.rows_text(rows[:HEADING_SEARCH_ROWS]), remembered)
        if layout is None or not layout.found:
            continue
        if sheet is not None or covers_required(layout.mapping):
            return name, rows
        fallbacks.setdefault(0 if layout.mapping else 1, (name, rows))
    if fallbacks:
        return fallbacks[min(fallbacks)]
    if sheet is not None:
        better = next((n for n in names if n != sheet and _holds_extract(book, n, remembered)), None)
        hint = f" '{better}' has a risk extract's headings: choose that one." if better else ""
        raise ValidationError(
            f"The sheet '{sheet}' of {file_name} holds no risk extract: none of its first {HEADING_SEARCH_ROWS} "
            f"rows names the columns (NHS number, date of birth, practice code ...). The workbook's sheets are "
            f"{_listed(names)}.{hint or ' Choose the sheet that holds the patients.'}"
        )
    raise ValidationError(
        f"No sheet of {file_name} has a risk extract's column headings (NHS number, date of birth, practice "
        f"code ...) in its first {HEADING_SEARCH_ROWS} rows. Its sheets are {_listed(names)}. Check the workbook is "
        "the risk extract, or save the sheet that holds the patients as 'CSV UTF-8 (Comma delimited)' and import "
        "that."
    )


def _holds_extract(book, name: str, remembered: dict[str, str] | None) -> bool:
    layout = find_heading(workbook.rows_text(workbook.sheet_rows(book, name, HEADING_SEARCH_ROWS)), remembered)
    return layout is not None and layout.found and bool(layout.mapping)


def sheet_layout(rows: list[list], sheet: str, file_name: str, remembered: dict[str, str] | None) -> Layout:
    layout = find_heading(workbook.rows_text(rows[:HEADING_SEARCH_ROWS]), remembered)
    if layout is None:
        raise ValidationError(f"The sheet '{sheet}' of {file_name} is empty: there is nothing to import.")
    return layout


def _listed(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def read_headings(path: str | Path, encoding: str | None = None) -> tuple[list[str], str, str]:
    """The headings, encoding and separator ("" for a workbook); *encoding* overrides the one the first 64 kB
    suggest."""
    found = locate(path, encoding=encoding)
    return found.layout.headings, found.encoding, found.delimiter


def check_structure(headings: list[str], mapping: dict[str, str], file_name: str, layout_known: bool = True) -> None:
    """Refuses headings that cannot make an extract: one doubled, a mapping to no column of ours, a required
    column missing. *layout_known* False says no heading row was found, and the message says so."""
    stripped = [h for h in headings if h]
    seen: set[str] = set()
    for h in stripped:
        if normalise_heading(h) in seen:
            raise ValidationError(
                f"{file_name}: the column '{_shown(h)}' appears twice. Remove one copy and import again."
            )
        seen.add(normalise_heading(h))
    # A mapping from a stored or hand-made source may name columns the app does not have (or not even text,
    # which raised TypeError below), or headings the file does not have (every row was then "missing" a value).
    odd = next((t for t in mapping.values() if not isinstance(t, str) or t not in CANONICAL), None)
    if odd is not None:
        raise ValidationError(
            f"{file_name}: the column mapping names {_shown(repr(odd))}, which is not a column of "
            "a risk extract. Choose the columns again in the import dialog."
        )
    targets = {t for h, t in mapping.items() if h in headings}
    missing = [c for c in REQUIRED if c not in targets]
    if not targets.intersection(EFI_COLUMNS):
        missing.append("efi_score or efi_deficits")
    if missing:
        # Headings are shortened: a file that is one 50 MB line has a "heading" as long as the sample read.
        found = f"Columns found: {', '.join(_shown(h) for h in stripped[:20])}{' ...' if len(stripped) > 20 else ''}. "
        if layout_known:
            advice = "Map them in the import dialog, or add them to the extract."
        else:
            found = f"Its first line reads: {_shown(', '.join(stripped))}. "
            advice = (
                f"No line among its first {HEADING_SEARCH_ROWS} names a risk extract's columns, so its layout is "
                "unknown: export the report with its column headings and import again."
            )
        raise ValidationError(f"{file_name} has no column for {', '.join(missing)}. {found}{advice}")


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_extract(
    path: str | Path,
    mapping: dict[str, str] | None = None,
    sheet: str | None = None,
    remembered: dict[str, str] | None = None,
) -> RawExtract:
    """Parse the whole file into text columns under canonical names; structural faults refuse it whole.
    *mapping* (heading -> column) is the import dialog's; without it one is suggested from the headings and
    *remembered* (the last import's). *sheet* picks a workbook's sheet (default: the first that holds an
    extract)."""
    if workbook.is_workbook(path):
        return _read_workbook(Path(path), mapping, sheet, remembered)
    path = Path(path)
    head, encoding, _ = sniff(path)
    found = locate_csv(path, head, encoding, remembered)
    cleaned = None
    if encoding != "utf-8":  # the first 64 kB had a byte that is not UTF-8: decide on the whole file
        encoding, cleaned = whole_file_encoding(path)
        found = locate_csv(path, head, encoding, remembered)
    layout, delimiter = found.layout, found.delimiter
    headings = layout.headings
    mapping = mapping if mapping is not None else layout.mapping
    check_structure(headings, mapping, path.name, layout.found)
    try:
        table, malformed = _parse(path, layout.row, headings, encoding, delimiter, cleaned)
    except _NotUtf8 as exc:  # a byte that is not UTF-8 beyond the first 64 kB
        encoding, cleaned = whole_file_encoding(path)
        if encoding == "utf-8" and cleaned is None:  # Arrow and Python disagree: say so rather than loop
            raise ValidationError(
                f"{path.name} could not be read as UTF-8 text: {_first_line(exc.__cause__ or exc)}. "
                "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and import that."
            ) from exc
        table, malformed = _parse(path, layout.row, headings, encoding, delimiter, cleaned)
    lines = np.arange(table.num_rows, dtype=np.int64) + layout.heading_row + 1
    for skipped, _, _ in sorted(malformed):
        lines[lines >= skipped] += 1
    table, lines, malformed, ignored = _without_summary(table, lines, malformed, delimiter)
    if table.num_rows == 0 and not malformed:
        raise ValidationError(f"{path.name} has a heading row but no patient rows.")
    columns = {
        target: table.column(headings.index(heading)) for heading, target in mapping.items() if heading in headings
    }
    return RawExtract(
        columns=columns,
        line_numbers=lines,
        headings=headings,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        malformed=[(line, reason) for line, reason, _ in malformed],
        damaged_text=cleaned is not None,
        heading_row=layout.heading_row,
        title_lines=layout.title_lines,
        ignored=ignored,
    )


def _without_summary(
    table: pa.Table, lines: np.ndarray, malformed: list[tuple[int, str, str]], delimiter: str
) -> tuple[pa.Table, np.ndarray, list[tuple[int, str, str]], list[tuple[int, str]]]:
    """The rows less the summary below the last patient ("Total: 1,234"), and that summary as (row, text).
    A summary line is often short, so the parser may have set it aside as a ragged row: both are looked at."""
    if not table.num_rows and not malformed:
        return table, lines, malformed, []
    keep = max(0, table.num_rows - _TAIL_ROWS)
    tail_table = table.slice(keep).to_pylist() if table.num_rows else []
    since = int(lines[keep]) if table.num_rows else 0
    tail: list[tuple[int, list[str], bool]] = [
        (int(line), list(row.values()), False) for line, row in zip(lines[keep:], tail_table, strict=True)
    ]
    tail += [(line, line_cells(text, delimiter), True) for line, _, text in malformed if line >= since]
    tail.sort(key=lambda t: t[0])
    drop = trailing_summary([cells for _, cells, _ in tail])
    if not drop:
        return table, lines, malformed, []
    gone = tail[len(tail) - drop :]
    ignored = [(line, ", ".join(c.strip() for c in cells if c.strip())) for line, cells, _ in gone]
    dropped_rows = sum(1 for _, _, ragged in gone if not ragged)
    gone_lines = {line for line, _, ragged in gone if ragged}
    n = table.num_rows - dropped_rows
    return table.slice(0, n), lines[:n], [m for m in malformed if m[0] not in gone_lines], ignored


def _read_workbook(
    path: Path, mapping: dict[str, str] | None, sheet: str | None, remembered: dict[str, str] | None
) -> RawExtract:
    """A workbook's sheet as the same text columns a CSV gives, read once by calamine."""
    book = workbook.open_book(path)
    name, rows = choose_sheet(book, path.name, sheet, remembered, None)
    layout = sheet_layout(rows, name, path.name, remembered)
    headings = layout.headings
    mapping = mapping if mapping is not None else layout.mapping
    check_structure(headings, mapping, f"The sheet '{name}' of {path.name}", layout.found)
    data = rows[layout.row + 1 :]
    first_line = layout.heading_row + 1
    tail_from = max(0, len(data) - _TAIL_ROWS)
    tail = workbook.rows_text(data[tail_from:])
    drop = trailing_summary(tail)
    ignored = [
        (first_line + tail_from + k, ", ".join(c.strip() for c in cells if c.strip()))
        for k, cells in enumerate(tail[len(tail) - drop :], start=len(tail) - drop)
    ]
    data = data[: len(data) - drop]
    if not data:
        raise ValidationError(f"The sheet '{name}' of {path.name} has a heading row but no patient rows.")
    wanted = {headings.index(heading): target for heading, target in mapping.items() if heading in headings}
    cells = workbook.columns_of(data, list(wanted))
    columns = {
        target: pa.chunked_array([workbook.column_text(cells[j], dates=target == "date_of_birth")])
        for j, target in wanted.items()
    }
    return RawExtract(
        columns=columns,
        line_numbers=np.arange(len(data), dtype=np.int64) + first_line,
        headings=headings,
        mapping=mapping,
        encoding="",
        delimiter="",
        heading_row=layout.heading_row,
        title_lines=layout.title_lines,
        ignored=ignored,
        sheet=name,
        sheets=workbook.worksheet_names(book),
    )


class _NotUtf8(Exception):
    """The parse met a byte that is not UTF-8."""


def _parse(
    path: Path,
    heading: int,
    headings: list[str],
    encoding: str,
    delimiter: str,
    cleaned: bytes | None = None,
    threaded: bool = True,
) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """(table, ragged rows as (row, reason, text)): the rows below the heading (0-based line *heading*) as text
    columns (*cleaned*, the file's text made good, when given; else the file)."""
    malformed: list[tuple[int | None, str, str]] = []
    expected = len(headings)

    def on_bad_row(row) -> str:
        found = row.text.count(delimiter) + 1 if row.text else 0
        # The text's start is kept to tell a summary line below the patients from a patient's ragged row.
        malformed.append((row.number, f"has {found} fields; the heading row has {expected}", row.text[:1000]))
        return "skip"

    names = [f"c{i}" for i in range(expected)]
    try:
        table = pacsv.read_csv(
            path if cleaned is None else pa.BufferReader(cleaned),
            read_options=pacsv.ReadOptions(
                encoding=encoding,
                column_names=names,
                skip_rows=heading + 1,
                use_threads=threaded,
                block_size=2 << 20,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_bad_row, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if encoding == "utf-8" and cleaned is None and ("UTF8" in str(exc) or "utf-8" in str(exc).lower()):
            raise _NotUtf8 from exc
        if "straddl" in str(exc):
            # Arrow's own words ("straddling object straddles two block boundaries") meant nothing to a user.
            raise ValidationError(
                f"{path.name} has a line far longer than any patient's row (over 2 MB): it has "
                "lost its line breaks or is not a risk extract. Export it again as CSV."
            ) from exc
        raise ValidationError(f"{path.name} could not be read as a CSV file: {_first_line(exc)}") from exc
    if malformed and any(number is None for number, _, _ in malformed):
        # Row numbers are only known on a single-threaded read; ragged rows are rare, so pay for it then.
        return _parse(path, heading, headings, encoding, delimiter, cleaned, threaded=False)
    return table, [(int(n), reason, text) for n, reason, text in malformed]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
