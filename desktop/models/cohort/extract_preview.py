"""The first rows of a risk extract as text, for the import dialog's preview (DESIGN §6.1).

Only the start of the file is read, with the encoding and separator extract_reader detects, so a 100 MB
extract previews at once. A file the import would refuse for its form (empty, binary, not a file) raises
the same ValidationError here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .extract_reader import sniff

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Preview:
    headings: list[str]
    rows: list[list[str]]  # each exactly as long as headings: short rows padded, long ones cut
    encoding: str
    delimiter: str
    file_size: int  # bytes


def preview(path: str | Path, limit: int = PREVIEW_ROWS) -> Preview:
    """The headings and up to *limit* non-blank rows of the extract at *path*."""
    path = Path(path)
    head, encoding, delimiter = sniff(path)
    size = path.stat().st_size
    text = head.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    if len(head) < size and "\n" in text:
        text = text[: text.rindex("\n")]  # the sample may end inside a row; a cut row would mislead
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    headings = [h.strip() for h in next(reader, [])]
    rows: list[list[str]] = []
    for record in reader:
        if len(rows) >= limit:
            break
        if not any(cell.strip() for cell in record):
            continue  # the import skips blank rows too
        cells = [cell.strip() for cell in record[: len(headings)]]
        rows.append(cells + [""] * (len(headings) - len(cells)))
    return Preview(headings=headings, rows=rows, encoding=encoding, delimiter=delimiter, file_size=size)
