"""A CSV extract read in blocks of whole lines, each parsed by pyarrow into text columns (issue 22).

Reading a 1.1 M-row extract whole held every one of its 15 columns as text at once (pandas' own parse peaks at
~530 MB on such a file). Here the file is cut into blocks of about BLOCK_BYTES that end at a line break; each is
parsed on a thread of its own while the rules check the one before, so a core parses while the other checks,
and only what the import keeps of a block outlives it.

A block is parsed on one thread, so Arrow knows each ragged row's number; the block's rows are numbered as a
spreadsheet numbers the file's lines, running on from the lines of the blocks before.

Windows-1252 is read without transcoding the whole file: its line breaks, separators and quotes are the same
bytes as in UTF-8, so a block is parsed as bytes and only the columns holding bytes above 0x7F (names, as a rule)
are decoded. A UTF-8 file with a few stray bytes has each block decoded with the bad bytes made U+FFFD.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import ValidationError

BLOCK_BYTES = 4 << 20
# The most a line may hold before the file is refused (the reader's own limit was 2 MB per Arrow block).
_LONGEST_LINE = 2 << 20


class NotUtf8(Exception):
    """The parse met a byte that is not UTF-8."""


@dataclass
class Block:
    """One block's rows as text columns (by position in the heading row) and its ragged rows."""

    table: pa.Table
    first_line: int  # the spreadsheet row of the block's first line
    malformed: list[tuple[int, str, str]]  # (row, reason, text) of ragged rows
    lines: np.ndarray | None = None  # each row's spreadsheet row, once worked out


def _line_breaks(data: bytes, end: int) -> int:
    """Lines ended in data[:end], counting CR LF, a lone LF and a lone CR each as one, as the parser does."""
    ends = data.count(b"\n", 0, end)
    if data.find(b"\r", 0, end) >= 0:
        ends += data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)
    return ends


def blocks(
    path: Path,
    heading: int,
    expected: int,
    encoding: str,
    delimiter: str,
    damaged: bool = False,
    block_bytes: int | None = None,
) -> Iterator[Block]:
    """The rows below the heading (0-based line *heading*) block by block, each parsed on a thread of its own
    while the caller checks the one before: a block is parsed on one core (which also numbers its ragged rows),
    and checking it takes the other."""
    return _read_ahead(_blocks(path, heading, expected, encoding, delimiter, damaged, block_bytes))


def _read_ahead(source: Iterator[Block]) -> Iterator[Block]:
    """*source*'s items, the next made on another thread while the caller works on this one."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    done = object()

    def work() -> None:
        try:
            for item in source:
                while not stop.is_set():
                    try:
                        ready.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((done, None))
        except BaseException as exc:  # handed to the caller, raised there
            ready.put((done, exc))

    thread = threading.Thread(target=work, name="extract-reader", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = ready.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            ready.get_nowait()  # let a reader waiting to hand over a block see the stop
        thread.join()


def _blocks(
    path: Path,
    heading: int,
    expected: int,
    encoding: str,
    delimiter: str,
    damaged: bool = False,
    block_bytes: int | None = None,
) -> Iterator[Block]:
    """The rows below the heading (0-based line *heading*) block by block. *damaged*: a UTF-8 file with bytes
    that are not UTF-8, read with them as U+FFFD.

    Every block is read into the same buffer (a fresh buffer for each left the allocator holding memory it could
    not give back); what follows a block's last line break is moved to the buffer's start for the next."""
    buffer = bytearray(block_bytes or BLOCK_BYTES)
    held = 0  # bytes of an unfinished line at the buffer's start
    line = 1  # the spreadsheet row of the next block's first line
    first = True
    with open(path, "rb", buffering=0) as fh:
        while True:
            size = held + _fill(fh, buffer, held)
            at_end = size < len(buffer)
            cut = size if at_end else buffer.rfind(b"\n", 0, size) + 1
            if cut == 0:  # no line break in the whole buffer: read on to one
                if size > _LONGEST_LINE:
                    _too_long(path)
                buffer = buffer + bytes(len(buffer))
                held = size
                continue
            if size == 0 and not first:
                break
            yield _block(path, buffer, cut, first, heading, line, expected, encoding, delimiter, damaged)
            line += _line_breaks(buffer, cut)
            first = False
            if at_end:
                break
            held = size - cut
            buffer[:held] = buffer[cut:size]


def _fill(fh, buffer: bytearray, start: int) -> int:
    """Read into buffer[start:] until it is full or the file ends; how many bytes came."""
    got = 0
    view = memoryview(buffer)
    while start + got < len(buffer):
        n = fh.readinto(view[start + got :])
        if not n:
            break
        got += n
    return got


def _block(
    path: Path,
    buffer: bytearray,
    cut: int,
    first: bool,
    heading: int,
    line: int,
    expected: int,
    encoding: str,
    delimiter: str,
    damaged: bool,
) -> Block:
    """buffer[:cut] parsed (the heading and any title lines skipped in the first block). The parse copies what
    it keeps, so the buffer may be filled again as soon as it returns (pyarrow may hold on to the view a while,
    so it is never released by hand)."""
    data: bytes | memoryview = memoryview(buffer)[:cut]
    if damaged:
        data = bytes(data).decode("utf-8-sig" if first else "utf-8", errors="replace").encode("utf-8")
    return _parse_block(path, data, heading + 1 if first else 0, line, expected, encoding, delimiter)


def _too_long(path: Path) -> None:
    raise ValidationError(
        f"{path.name} has a line far longer than any patient's row (over 2 MB): it has "
        "lost its line breaks or is not a risk extract. Export it again as CSV."
    )


def _parse_block(
    path: Path, chunk: bytes | memoryview, skip: int, line: int, expected: int, encoding: str, delimiter: str
) -> Block:
    table = None
    if encoding != "utf-8":
        try:
            table, malformed = _numbered(path, chunk, skip, expected, encoding, delimiter)
            table = _decoded(path, table, encoding)
        except _RaggedNotUtf8:
            # A ragged row's bytes cannot be handed to the row handler as text: decode the whole block.
            try:
                chunk = bytes(chunk).decode(encoding).encode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(f"{path.name} could not be read as a CSV file: {_first_line(exc)}") from exc
            table = None
    if table is None:
        table, malformed = _numbered(path, chunk, skip, expected, "utf-8", delimiter)
    shifted = [(int(n) + line - 1, reason, text) for n, reason, text in malformed]
    return Block(table, line + skip, shifted)


class _RaggedNotUtf8(Exception):
    """A ragged row of a block parsed as bytes holds bytes that are not UTF-8."""


def _numbered(
    path: Path, chunk: bytes | memoryview, skip: int, expected: int, encoding: str, delimiter: str
) -> tuple[pa.Table, list[tuple[int | None, str, str]]]:
    # One thread: the ragged rows' numbers are known (a threaded parse leaves them out), the next block is being
    # checked on the other core meanwhile, and the allocator keeps less memory than across Arrow's threads.
    return _parse(path, chunk, skip, expected, encoding, delimiter, threaded=False)


def _parse(
    path: Path, chunk: bytes | memoryview, skip: int, expected: int, encoding: str, delimiter: str, threaded: bool
) -> tuple[pa.Table, list[tuple[int | None, str, str]]]:
    malformed: list[tuple[int | None, str, str]] = []
    text_type = pa.string() if encoding == "utf-8" else pa.binary()

    def on_bad_row(row) -> str:
        found = row.text.count(delimiter) + 1 if row.text else 0
        # The text's start is kept to tell a summary line below the patients from a patient's ragged row.
        malformed.append((row.number, f"has {found} fields; the heading row has {expected}", row.text[:1000]))
        return "skip"

    names = [f"c{i}" for i in range(expected)]
    swallowed: list[BaseException] = []
    hook = sys.unraisablehook
    if encoding != "utf-8":
        # pyarrow hands a ragged row to on_bad_row as UTF-8 text; a Windows-1252 byte in it fails there, and
        # Python would print the failure to stderr. It is caught here, and the block read as decoded text.
        def quiet(unraisable) -> None:
            if isinstance(unraisable.exc_value, UnicodeDecodeError):
                swallowed.append(unraisable.exc_value)
            else:
                hook(unraisable)

        sys.unraisablehook = quiet
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(chunk)),
            read_options=pacsv.ReadOptions(
                encoding="utf8", column_names=names, skip_rows=skip, use_threads=threaded, block_size=2 << 20
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, ignore_empty_lines=False, invalid_row_handler=on_bad_row, newlines_in_values=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, text_type),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if swallowed:
            raise _RaggedNotUtf8 from exc
        if encoding == "utf-8" and ("UTF8" in str(exc) or "utf-8" in str(exc).lower()):
            raise NotUtf8 from exc
        if "straddl" in str(exc):
            _too_long(path)
        raise ValidationError(f"{path.name} could not be read as a CSV file: {_first_line(exc)}") from exc
    finally:
        sys.unraisablehook = hook
    if swallowed:
        raise _RaggedNotUtf8
    return table, malformed


def _decoded(path: Path, table: pa.Table, encoding: str) -> pa.Table:
    """The byte columns of a single-byte-encoded block as text: pure ASCII ones as they are, the rest decoded."""
    columns = []
    for column in table.columns:
        chunks = []
        for chunk in column.chunks:
            chunks.append(_decoded_chunk(path, chunk, encoding))
        columns.append(pa.chunked_array(chunks, pa.string()))
    return pa.table(columns, names=table.column_names)


def _decoded_chunk(path: Path, chunk: pa.Array, encoding: str) -> pa.Array:
    if not len(chunk):
        return pa.array([], pa.string())
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset : chunk.offset + len(chunk) + 1]
    data_buffer = chunk.buffers()[2]
    if data_buffer is None or offsets[-1] == offsets[0]:
        return chunk.view(pa.string())
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    if data.max() < 0x80:
        return chunk.view(pa.string())
    try:
        text = data.tobytes().decode(encoding)
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path.name} could not be read as a CSV file: {_first_line(exc)}") from exc
    utf8 = text.encode("utf-8")
    # Each byte becomes one character: its UTF-8 length moves every later value's start.
    widths = _utf8_widths(encoding)[data].astype(np.int64)
    ends = np.concatenate([[0], np.cumsum(widths)])
    new_offsets = ends[offsets - offsets[0]].astype(np.int32)
    return pa.StringArray.from_buffers(len(chunk), pa.py_buffer(new_offsets.tobytes()), pa.py_buffer(utf8))


_WIDTHS: dict[str, np.ndarray] = {}


def _utf8_widths(encoding: str) -> np.ndarray:
    """The UTF-8 length of each byte's character in a single-byte *encoding* (1 for a byte it has no character
    for: decoding refuses those anyway)."""
    if encoding not in _WIDTHS:
        widths = np.ones(256, dtype=np.uint8)
        for b in range(256):
            with contextlib.suppress(UnicodeDecodeError):
                widths[b] = len(bytes([b]).decode(encoding).encode("utf-8"))
        _WIDTHS[encoding] = widths
    return _WIDTHS[encoding]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
