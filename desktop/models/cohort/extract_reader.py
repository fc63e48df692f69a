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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..errors import ValidationError
from . import extract_chunks, workbook
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
    "RawBatch",
    "RawExtract",
    "Reread",
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
class RawBatch:
    """Some consecutive rows of the file as text columns keyed by canonical name, with the spreadsheet row number
    of each, and the ragged rows among them."""

    columns: dict[str, pa.ChunkedArray]
    line_numbers: np.ndarray  # as a spreadsheet numbers them: the first line (or row of the sheet) is row 1
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) for ragged rows

    @property
    def num_rows(self) -> int:
        return len(self.line_numbers)


class Reread(Exception):
    """The file must be read again from its start: a byte past the first block was not UTF-8, and the encoding
    has now been decided on the whole file (RawExtract.encoding and damaged_text say how)."""


@dataclass
class RawExtract:
    """The file's layout, and its rows as text columns keyed by canonical name, read block by block (batches())
    so that a large file is never held whole; columns, line_numbers and malformed give the whole file at once."""

    headings: list[str]
    mapping: dict[str, str]  # heading in the file -> canonical column
    encoding: str  # "" for a workbook
    delimiter: str  # "" for a workbook
    # A UTF-8 file with some bytes that are not UTF-8: they were read as U+FFFD, and the rules reject their rows.
    damaged_text: bool = False
    heading_row: int = 1
    title_lines: list[str] = field(default_factory=list)  # the report's title, above the heading row
    # (row, text): the summary below the patients; known once the last batch has been read.
    ignored: list[tuple[int, str]] = field(default_factory=list)
    sheet: str | None = None  # the sheet read, for a workbook
    sheets: list[str] = field(default_factory=list)  # all the workbook's sheets
    _read: Callable[[RawExtract], Iterator[RawBatch]] | None = field(default=None, repr=False)
    _whole: RawBatch | None = field(default=None, repr=False)

    def batches(self) -> Iterator[RawBatch]:
        """The rows, a block at a time, less the summary below the patients (then in ignored). Raises Reread
        when the file must be read again from the start (see Reread); ValidationError when the file has a
        heading row but no rows."""
        if self._whole is not None:
            yield self._whole
            return
        assert self._read is not None
        yield from self._read(self)

    def read_whole(self) -> RawBatch:
        """Every row at once (a small file, or a caller that needs them together)."""
        while self._whole is None:
            try:
                parts = list(self.batches())
            except Reread:
                continue
            self._whole = _joined(parts, list(self.mapping.values()))
        return self._whole

    @property
    def columns(self) -> dict[str, pa.ChunkedArray]:
        return self.read_whole().columns

    @property
    def line_numbers(self) -> np.ndarray:
        return self.read_whole().line_numbers

    @property
    def malformed(self) -> list[tuple[int, str]]:
        return self.read_whole().malformed

    @property
    def num_rows(self) -> int:
        return self.read_whole().num_rows

    @property
    def present(self) -> set[str]:
        """The canonical columns the file has."""
        return {target for heading, target in self.mapping.items() if heading in self.headings}

    @property
    def notes(self) -> list[str]:
        """What was read other than patients, in words for the person importing (complete once every batch has
        been read)."""
        notes = []
        if len(self.sheets) > 1:
            others = ", ".join(f"'{s}'" for s in self.sheets if s != self.sheet)
            notes.append(f"Read the sheet '{self.sheet}' of the workbook; its other sheets ({others}) were not read.")
        for note in (title_note(self.heading_row, self.title_lines), summary_note(self.ignored)):
            if note:
                notes.append(note)
        return notes


def _joined(parts: list[RawBatch], names: list[str]) -> RawBatch:
    if len(parts) == 1:
        return parts[0]
    return RawBatch(
        columns={
            name: pa.chunked_array([c for p in parts for c in p.columns[name].chunks], pa.string())
            for name in (parts[0].columns if parts else names)
        },
        line_numbers=np.concatenate([p.line_numbers for p in parts]) if parts else np.zeros(0, dtype=np.int64),
        malformed=[m for p in parts for m in p.malformed],
    )


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


def file_encoding(path: Path) -> tuple[str, bool]:
    """(encoding, damaged): the encoding of the whole file, decided on all of it rather than its first 64 kB;
    *damaged* when it is UTF-8 with a few bytes that are not (they are read as U+FFFD).

    One stray Windows-1252 byte deep in a UTF-8 file re-read the whole file as Windows-1252, turning every
    "Zoë" into "ZoÃ«" without a word (issue 19). Now a file with any good UTF-8 in it is UTF-8; its bad bytes
    become U+FFFD, and the rows holding them are rejected by name (extract_rules), never guessed at.
    """
    bad = good = False
    strict = codecs.getincrementaldecoder("utf-8")()
    carry = b""
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(4 << 20)
            last = not chunk
            if chunk.isascii() and not carry and not last:
                continue
            if not bad:
                try:
                    good |= not strict.decode(chunk, final=last).isascii()
                except UnicodeDecodeError:
                    bad = True
            if bad and not good:
                data = carry + chunk
                # A character cut at the end of this read is looked at with the next.
                keep = 0 if last else min(3, len(data))
                good = _has_good_utf8(np.frombuffer(data, dtype=np.uint8), len(data) - keep)
                carry = data[len(data) - keep :]
            if last or (bad and good):
                break
    if not bad:
        return "utf-8", False
    return ("utf-8", True) if good else ("cp1252", False)


def _has_good_utf8(data: np.ndarray, upto: int) -> bool:
    """Whether a well-formed multi-byte UTF-8 character starts before *upto* in *data*. A lead byte always
    starts a character for a UTF-8 decoder (it is never a continuation), so each can be judged on its own."""
    leads = np.flatnonzero(data[:upto] >= 0xC2)
    leads = leads[data[leads] <= 0xF4]
    if not len(leads):
        return False
    padded = np.concatenate([data, np.zeros(3, dtype=np.uint8)])
    first = data[leads]
    b1, b2, b3 = padded[leads + 1], padded[leads + 2], padded[leads + 3]

    def cont(b):
        return (b & 0xC0) == 0x80

    two = (first <= 0xDF) & cont(b1)
    low = np.where(first == 0xE0, 0xA0, 0x80)
    high = np.where(first == 0xED, 0x9F, 0xBF)
    three = (first >= 0xE0) & (first <= 0xEF) & (b1 >= low) & (b1 <= high) & cont(b2)
    low = np.where(first == 0xF0, 0x90, 0x80)
    high = np.where(first == 0xF4, 0x8F, 0xBF)
    four = (first >= 0xF0) & (b1 >= low) & (b1 <= high) & cont(b2) & cont(b3)
    return bool((two | three | four).any())


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
    """The file's layout, with its rows as text columns under canonical names to be read (RawExtract.batches, or
    whole); structural faults refuse it whole, here. *mapping* (heading -> column) is the import dialog's;
    without it one is suggested from the headings and *remembered* (the last import's). *sheet* picks a
    workbook's sheet (default: the first that holds an extract)."""
    if workbook.is_workbook(path):
        return _read_workbook(Path(path), mapping, sheet, remembered)
    path = Path(path)
    head, encoding, _ = sniff(path)
    found = locate_csv(path, head, encoding, remembered)
    damaged = False
    if encoding != "utf-8":  # the first 64 kB had a byte that is not UTF-8: decide on the whole file
        encoding, damaged = file_encoding(path)
        found = locate_csv(path, head, encoding, remembered)
    layout, delimiter = found.layout, found.delimiter
    headings = layout.headings
    mapping = mapping if mapping is not None else layout.mapping
    check_structure(headings, mapping, path.name, layout.found)
    wanted = {target: headings.index(heading) for heading, target in mapping.items() if heading in headings}

    def read(raw: RawExtract) -> Iterator[RawBatch]:
        yield from _csv_batches(raw, path, layout.row, len(headings), wanted)

    return RawExtract(
        headings=headings,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        damaged_text=damaged,
        heading_row=layout.heading_row,
        title_lines=layout.title_lines,
        _read=read,
    )


def _csv_batches(
    raw: RawExtract, path: Path, heading: int, expected: int, wanted: dict[str, int]
) -> Iterator[RawBatch]:
    """The rows block by block. The last _TAIL_ROWS rows are held back until the end of the file, where the
    summary below the patients is told from them."""
    raw.ignored = []
    pending: extract_chunks.Block | None = None
    rows = 0
    yielded = False
    try:
        for block in extract_chunks.blocks(path, heading, expected, raw.encoding, raw.delimiter, raw.damaged_text):
            if pending is not None and block.table.num_rows < _TAIL_ROWS:
                pending = _merged(pending, block)
                continue
            if pending is not None:
                batch = _batch(pending, wanted)
                rows += batch.num_rows
                yielded = True
                yield batch
            pending = block
    except extract_chunks.NotUtf8 as exc:  # a byte that is not UTF-8 beyond the first 64 kB
        encoding, damaged = file_encoding(path)
        if encoding == raw.encoding and damaged == raw.damaged_text:  # Arrow and Python disagree: say so
            raise ValidationError(
                f"{path.name} could not be read as UTF-8 text: {_first_line(exc.__cause__ or exc)}. "
                "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and import that."
            ) from exc
        raw.encoding, raw.damaged_text = encoding, damaged
        if yielded:
            raise Reread from exc
        yield from _csv_batches(raw, path, heading, expected, wanted)
        return
    if pending is None:
        pending = extract_chunks.Block(pa.table({f"c{i}": pa.array([], pa.string()) for i in range(expected)}), 0, [])
    lines = _lines(pending)
    table, lines, malformed, raw.ignored = _without_summary(pending.table, lines, pending.malformed, raw.delimiter)
    if rows + table.num_rows == 0 and not malformed:
        raise ValidationError(f"{path.name} has a heading row but no patient rows.")
    yield _batch(extract_chunks.Block(table, 0, malformed), wanted, lines)


def _merged(a: extract_chunks.Block, b: extract_chunks.Block) -> extract_chunks.Block:
    """Two consecutive blocks as one (the second too short to hold back the tail on its own)."""
    lines = np.concatenate([_lines(a), _lines(b)])
    return extract_chunks.Block(pa.concat_tables([a.table, b.table]), a.first_line, a.malformed + b.malformed, lines)


def _lines(block: extract_chunks.Block) -> np.ndarray:
    """Each row's spreadsheet row number: the rows run on from the block's first line, stepping over ragged
    rows (which the parser set aside)."""
    if block.lines is not None:
        return block.lines
    lines = np.arange(block.table.num_rows, dtype=np.int64) + block.first_line
    for skipped, _, _ in sorted(block.malformed):
        lines[lines >= skipped] += 1
    return lines


def _batch(block: extract_chunks.Block, wanted: dict[str, int], lines: np.ndarray | None = None) -> RawBatch:
    return RawBatch(
        columns={target: block.table.column(i) for target, i in wanted.items()},
        line_numbers=_lines(block) if lines is None else lines,
        malformed=[(line, reason) for line, reason, _ in block.malformed],
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
        _whole=RawBatch(columns=columns, line_numbers=np.arange(len(data), dtype=np.int64) + first_line),
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


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
