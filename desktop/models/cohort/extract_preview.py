"""The first rows of a risk extract as text, for the import dialog's preview (DESIGN §6.1, issue 21).

Only the start of a CSV is read, with the encoding, separator and heading row extract_reader finds, so a
100 MB extract previews at once; a workbook's sheet is read by calamine (whole, as it reads) and its cells
shown as the import will read them. The lines above the heading row (a report's title) are given apart. A file
the import would refuse for its form (empty, binary, not a file, no such sheet) raises the same
ValidationError here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import workbook
from .extract_layout import HEADING_SEARCH_ROWS, Layout, trailing_summary
from .extract_reader import choose_sheet, line_cells, locate_csv, sheet_layout, sniff

PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Preview:
    headings: list[str]
    rows: list[list[str]]  # each exactly as long as headings: short rows padded, long ones cut
    encoding: str  # "" for a workbook
    delimiter: str  # "" for a workbook
    file_size: int  # bytes
    heading_row: int = 1  # the heading's row as a spreadsheet numbers it
    title_lines: list[str] = field(default_factory=list)  # the lines above it, each as text
    mapping: dict[str, str] = field(default_factory=dict)  # heading -> column, as suggested
    layout_known: bool = True  # False: no line looked like headings, and the first was taken
    sheet: str | None = None  # for a workbook, the sheet shown
    sheets: list[str] = field(default_factory=list)  # and all its sheets
    row_numbers: list[int] = field(default_factory=list)  # each shown row's number (blank rows are skipped)
    # The summary below the last patient, as (row, text), when the whole file was read for the preview.
    summary_lines: list[tuple[int, str]] = field(default_factory=list)


def preview(
    path: str | Path, limit: int = PREVIEW_ROWS, sheet: str | None = None, remembered: dict[str, str] | None = None
) -> Preview:
    """The headings and up to *limit* non-blank rows of the extract at *path* (for a workbook, of *sheet*, or of
    the first sheet holding an extract); *remembered* is the last import's mapping, which helps find the
    headings."""
    path_obj = Path(path)
    if workbook.is_workbook(path_obj):
        return _preview_workbook(path_obj, limit, sheet, remembered)
    head, encoding, _ = sniff(path_obj)
    size = path_obj.stat().st_size
    found = locate_csv(path_obj, head, encoding, remembered)
    layout = found.layout
    text = head.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    if len(head) < size and "\n" in text:
        text = text[: text.rindex("\n")]  # the sample may end inside a row; a cut row would mislead
    lines = re.split(r"\r\n|\r|\n", text)  # where the import's parser splits rows
    records = [(k + 1, line_cells(line, found.delimiter)) for k, line in enumerate(lines) if k > layout.row]
    return _shown(layout, records, limit, encoding, found.delimiter, size, whole=len(head) >= size)


def sheet_names(path: str | Path) -> list[str]:
    """A workbook's sheets (for the dialog's chooser, also when the sheet chosen was refused); [] for a CSV or
    a file that is not a readable workbook."""
    if not workbook.is_workbook(path):
        return []
    try:
        return workbook.worksheet_names(workbook.open_book(path))
    except Exception:  # the preview says why the file cannot be read; here there is just no chooser
        return []


def _preview_workbook(path: Path, limit: int, sheet: str | None, remembered: dict[str, str] | None) -> Preview:
    book = workbook.open_book(path)
    # Enough rows for the title, the heading and the preview even with blank rows between the patients.
    wanted = HEADING_SEARCH_ROWS + 4 * limit + 20
    name, rows = choose_sheet(book, path.name, sheet, remembered, wanted)
    layout = sheet_layout(rows, name, path.name, remembered)
    body = rows[layout.row + 1 :]
    dates = {j for j, h in enumerate(layout.headings) if layout.mapping.get(h) == "date_of_birth"}
    width = max((len(r) for r in body), default=0)
    columns = [
        workbook.column_text([r[j] if j < len(r) else "" for r in body], dates=j in dates).to_pylist()
        for j in range(width)
    ]
    texts = [list(cells) for cells in zip(*columns, strict=True)] if columns else [[] for _ in body]
    records = [(layout.row + 2 + k, cells) for k, cells in enumerate(texts)]
    shown = _shown(layout, records, limit, "", "", path.stat().st_size, whole=len(rows) < wanted)
    return replace(shown, sheet=name, sheets=workbook.worksheet_names(book))


def _shown(
    layout: Layout,
    records: list[tuple[int, list[str]]],
    limit: int,
    encoding: str,
    delimiter: str,
    size: int,
    whole: bool,
) -> Preview:
    """The preview of *records* (row number, cells) below the heading; *whole* when they run to the file's end,
    so that a summary below the last patient is known and set apart as the import will."""
    summary: list[tuple[int, str]] = []
    if whole:
        drop = trailing_summary([cells for _, cells in records[-50:]])
        if drop:
            summary = [(n, ", ".join(c.strip() for c in cells if c.strip())) for n, cells in records[-drop:]]
            summary = [(n, text) for n, text in summary if text]
            records = records[:-drop]
    headings = layout.headings
    rows: list[list[str]] = []
    numbers: list[int] = []
    for number, record in records:
        if len(rows) >= limit:
            break
        if not any(str(cell).strip() for cell in record):
            continue  # the import skips blank rows too
        cells = [str(cell).strip() for cell in record[: len(headings)]]
        rows.append(cells + [""] * (len(headings) - len(cells)))
        numbers.append(number)
    return Preview(
        headings=headings,
        rows=rows,
        encoding=encoding,
        delimiter=delimiter,
        file_size=size,
        heading_row=layout.heading_row,
        title_lines=layout.title_lines,
        mapping=layout.mapping,
        layout_known=layout.found,
        row_numbers=numbers,
        summary_lines=summary,
    )
