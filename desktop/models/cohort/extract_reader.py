"""Reading a risk extract: encoding, separator, headings and structure (DESIGN §6.1).

Structural problems (not a CSV, empty, a required column missing or doubled) refuse the whole file with one
message; row-level problems are left to extract_rules.py. pyarrow parses, every column as text, so that no
value is silently coerced before it is checked.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import ValidationError

REQUIRED = ("nhs_number", "date_of_birth", "practice_code", "ltc_count", "predicted_cost", "expected_cost")
EFI_COLUMNS = ("efi_score", "efi_deficits")  # one of the two is required
OPTIONAL = (
    "given_name",
    "family_name",
    "sex",
    "postcode",
    "prob_unplanned_admission",
    "care_home_id",
    "eol_register",
    "housebound",
)
CANONICAL = (
    REQUIRED[:2]
    + ("given_name", "family_name", "sex", "postcode")
    + REQUIRED[2:4]
    + EFI_COLUMNS
    + ("prob_unplanned_admission",)
    + REQUIRED[4:]
    + ("care_home_id", "eol_register", "housebound")
)

# Headings other tools use for the canonical columns (compared after lower-casing and dropping punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhsnumber", "nhsno", "nhs", "patientnhsnumber", "nhsnum", "patientid"),
    "given_name": ("forename", "firstname", "givenname", "forenames", "first"),
    "family_name": ("surname", "lastname", "familyname", "last"),
    "date_of_birth": ("dob", "dateofbirth", "birthdate", "birthdt"),
    "sex": ("gender", "sex"),
    "postcode": ("postcode", "postalcode", "pcode"),
    "practice_code": (
        "practicecode",
        "odscode",
        "practiceods",
        "practice",
        "gppractice",
        "pracid",
        "practiceid",
        "registeredpractice",
    ),
    "ltc_count": (
        "ltccount",
        "ltcs",
        "numberofltcs",
        "ltc",
        "chronicconditioncount",
        "chroniccount",
        "longtermconditions",
        "noofltcs",
        "conditioncount",
    ),
    "efi_score": ("efiscore", "efi", "electronicfrailtyindex", "frailtyindex", "efivalue"),
    "efi_deficits": ("efideficits", "deficits", "deficitcount", "efideficitcount"),
    "prob_unplanned_admission": (
        "probunplannedadmission",
        "probunplannedinpatienthospitalization",
        "probunplannedinpatienthospitalisation",
        "probunplannediphosp",
        "probip",
        "probabilityofhospitalisation",
        "probabilityofhospitalization",
        "pih",
        "probinpatienthospitalization",
        "unplannedadmissionrisk",
    ),
    "predicted_cost": (
        "predictedcost",
        "predictedtotalcost",
        "rescaledpredictedtotalcost",
        "predcost",
        "predictedacutecost",
    ),
    "expected_cost": ("expectedcost", "expectedtotalcost", "expcost", "expectedacutecost"),
    "care_home_id": ("carehomeid", "cqcid", "cqclocationid", "carehome", "carehomecqc", "nursinghome"),
    "eol_register": ("eolregister", "endoflife", "eol", "palliativeregister", "palliative", "eolflag"),
    "housebound": ("housebound", "houseboundflag", "hb"),
}


def normalise_heading(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass
class RawExtract:
    """The file as text columns, keyed by canonical name, with the spreadsheet row number of each row."""

    columns: dict[str, pa.ChunkedArray]
    line_numbers: np.ndarray  # as a spreadsheet numbers them: the heading is row 1
    headings: list[str]
    mapping: dict[str, str]  # heading in the file -> canonical column
    encoding: str
    delimiter: str
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason) for ragged rows
    # A UTF-8 file with some bytes that are not UTF-8: they were read as U+FFFD, and the rules reject their rows.
    damaged_text: bool = False

    @property
    def num_rows(self) -> int:
        return len(self.line_numbers)


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


def suggest_mapping(headings: list[str], remembered: dict[str, str] | None = None) -> dict[str, str]:
    """heading -> canonical column, from a remembered mapping first, then canonical names and aliases."""
    remembered = remembered or {}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for heading in headings:
        target = remembered.get(heading)
        if target is None:
            key = normalise_heading(heading)
            target = next((c for c in CANONICAL if key == normalise_heading(c)), None)
            if target is None:
                target = next((c for c, names in ALIASES.items() if key in names), None)
        if target and target not in taken:
            mapping[heading] = target
            taken.add(target)
    return mapping


def read_headings(path: str | Path, encoding: str | None = None) -> tuple[list[str], str, str]:
    """The headings, encoding and separator; *encoding* overrides the one the first 64 kB suggest."""
    head, sniffed, delimiter = sniff(path)
    encoding = encoding or sniffed
    text = head.decode("utf-8-sig" if encoding == "utf-8" else "cp1252", errors="replace")
    first = _first_line_of(text)
    import csv

    if not first.strip():  # a bare vertical tab or form feed first: csv.reader gave nothing (StopIteration)
        raise ValidationError(
            f"{Path(path).name} has no column headings: its first line is blank. Put the headings "
            "on the first line and import again."
        )
    headings = next(csv.reader(io.StringIO(first), delimiter=delimiter))
    return [h.strip() for h in headings], encoding, delimiter


def check_structure(headings: list[str], mapping: dict[str, str], file_name: str) -> None:
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
        raise ValidationError(
            f"{file_name} has no column for {', '.join(missing)}. Columns found: "
            f"{', '.join(_shown(h) for h in stripped[:20])}{' ...' if len(stripped) > 20 else ''}. "
            "Map them in the import dialog, or add them to the extract."
        )


def _shown(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_extract(path: str | Path, mapping: dict[str, str] | None = None) -> RawExtract:
    """Parse the whole file into text columns under canonical names; structural faults refuse it whole."""
    path = Path(path)
    headings, encoding, delimiter = read_headings(path)
    cleaned = None
    if encoding != "utf-8":  # the first 64 kB had a byte that is not UTF-8: decide on the whole file
        encoding, cleaned = whole_file_encoding(path)
        if encoding == "utf-8":
            headings = read_headings(path, encoding)[0]
    mapping = mapping if mapping is not None else suggest_mapping(headings)
    check_structure(headings, mapping, path.name)
    try:
        table, malformed = _parse(path, headings, encoding, delimiter, cleaned)
    except _NotUtf8 as exc:  # a byte that is not UTF-8 beyond the first 64 kB
        encoding, cleaned = whole_file_encoding(path)
        if encoding == "utf-8" and cleaned is None:  # Arrow and Python disagree: say so rather than loop
            raise ValidationError(
                f"{path.name} could not be read as UTF-8 text: {_first_line(exc.__cause__ or exc)}. "
                "Save it from Excel as 'CSV UTF-8 (Comma delimited)' and import that."
            ) from exc
        table, malformed = _parse(path, headings, encoding, delimiter, cleaned)
    if table.num_rows == 0 and not malformed:
        raise ValidationError(f"{path.name} has a heading row but no patient rows.")
    lines = np.arange(table.num_rows, dtype=np.int64) + 2
    for skipped, _ in sorted(malformed):
        lines[lines >= skipped] += 1
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
        malformed=malformed,
        damaged_text=cleaned is not None,
    )


class _NotUtf8(Exception):
    """The parse met a byte that is not UTF-8."""


def _parse(
    path: Path,
    headings: list[str],
    encoding: str,
    delimiter: str,
    cleaned: bytes | None = None,
    threaded: bool = True,
) -> tuple[pa.Table, list[tuple[int, str]]]:
    """The rows as text columns (*cleaned*, the file's text made good, when given; else the file)."""
    malformed: list[tuple[int | None, str]] = []
    expected = len(headings)

    def on_bad_row(row) -> str:
        found = row.text.count(delimiter) + 1 if row.text else 0
        malformed.append((row.number, f"has {found} fields; the heading row has {expected}"))
        return "skip"

    names = [f"c{i}" for i in range(expected)]
    try:
        table = pacsv.read_csv(
            path if cleaned is None else pa.BufferReader(cleaned),
            read_options=pacsv.ReadOptions(
                encoding=encoding, column_names=names, skip_rows=1, use_threads=threaded, block_size=2 << 20
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
    if malformed and any(number is None for number, _ in malformed):
        # Row numbers are only known on a single-threaded read; ragged rows are rare, so pay for it then.
        return _parse(path, headings, encoding, delimiter, cleaned, threaded=False)
    return table, [(int(n), reason) for n, reason in malformed]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]
