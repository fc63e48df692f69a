"""The return files of the bad-input corpus added by the second hardening pass (issue 19, point 4): each is a
return a team's app could not have made, yet the import took it before (exit 0). Every one is otherwise a
good return of Charnwood, its digest matching what a plain JSON reader sees, so the check that refuses it is
the only thing standing between it and the workspace.

`python tests/corpus_helpers.py` writes the whole corpus under tests/data/bad/ (tests/unit/test_bad_input_corpus.py
checks the committed copies); tests/unit/test_return_import_hardening.py runs each file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from return_files import _signed, return_doc
from return_files import as_json as _json

from desktop.models.identifiers import nhs_check_digit
from desktop.models.kpi import returns

CORPUS = Path(__file__).resolve().parent / "data" / "bad"


def nhs_number(first_nine: int) -> str:
    """A synthetic NHS number (the 9xx test range) with a valid check digit: the first one from *first_nine* on."""
    while True:
        digits = f"{first_nine:09d}"
        check = nhs_check_digit(digits)
        if check is not None:
            return digits + str(check)
        first_nine += 1


# Synthetic numbers (9xx range, valid check digit), one per way of writing them, so no file repeats another's.
NUMBERS = [nhs_number(943_476_591 + 1_000 * n) for n in range(8)]


def spaced(number: str, sizes: tuple[int, ...], gap: str) -> str:
    out, at = [], 0
    for size in sizes:
        out.append(number[at : at + size])
        at += size
    return gap.join(out)


# file name -> the NHS number as a comment writes it
WRITTEN = {
    "nhs_4_3_3.json": spaced(NUMBERS[0], (4, 3, 3), " "),
    "nhs_dots.json": spaced(NUMBERS[1], (3, 3, 4), "."),
    "nhs_nbsp.json": spaced(NUMBERS[2], (3, 3, 4), "\u00a0"),
    "nhs_narrow_nbsp.json": spaced(NUMBERS[3], (3, 3, 4), "\u202f"),
    "nhs_slashes.json": spaced(NUMBERS[4], (3, 3, 4), "/"),
    "nhs_digit_pairs.json": spaced(NUMBERS[5], (2, 2, 2, 2, 2), " "),
}


def _doc(change=None, **kw) -> dict:
    doc = return_doc(**kw)
    if change is not None:
        change(doc)
    doc["sha256"] = returns.digest(doc)
    # Signed again as changed, as a team's app would sign it: each file tests its own refusal, not the signature.
    return _signed(doc)


def _comment(text: str):
    def change(doc):
        next(v for v in doc["values"] if v["kpi"] == "COH-02")["comment"] = text

    return change


def _set(**fields):
    return lambda doc: doc.update(fields)


def _repeated_key(doc: dict, key: str, first: object) -> bytes:
    """*doc* as JSON, with its *key* written twice: *first*, then the value the digest was made of."""
    text = _json(doc).decode("utf-8")
    line = f'\n "{key}": '
    assert text.count(line) == 1
    return text.replace(line, f"{line}{json.dumps(first, ensure_ascii=False)},{line}", 1).encode("utf-8")


def files() -> dict[str, bytes]:
    """Every file, by its path under tests/data/bad/."""
    out = {
        # A first-revision copy renumbered: held above every revision the team could send, it locked them out.
        "revision_99999.json": _json(_doc(revision=99999)),
        "future_year.json": _json(
            _doc(
                _set(signed_off_at="2030-07-14T16:00:00+00:00", generated_at="2030-07-14T16:05:00+00:00"),
                period="2030-31-Q1",
            )
        ),
        # The tests live on 20/11/2026 (tests/pinned.py), in 2026/27 Q3.
        "quarter_under_way.json": _json(
            _doc(
                _set(signed_off_at="2026-11-19T16:00:00+00:00", generated_at="2026-11-19T16:05:00+00:00"),
                period="2026-27-Q3",
            )
        ),
        "signed_off_before_quarter_end.json": _json(
            _doc(_set(signed_off_at="2025-12-15T16:00:00+00:00", generated_at="2025-12-15T16:05:00+00:00"))
        ),
        "null_signer.json": _json(_doc(_set(signed_off_by=None))),
        "blank_signer.json": _json(_doc(_set(signed_off_by="   "))),
        "name_of_another_locality.json": _json(_doc(_set(locality={"code": "CHA", "name": "Blaby & Lutterworth"}))),
        # A plain reader keeps the last of a repeated key; the digest is of that, so only the repeat is wrong.
        "duplicate_revision.json": _repeated_key(_doc(revision=2), "revision", 1),
        # The values a plain reader drops carry an NHS number in a comment.
        "duplicate_values.json": _repeated_key(_doc(), "values", _doc(_comment(f"Seen as {NUMBERS[6]}"))["values"]),
    }
    out.update({name: _json(_doc(_comment(f"Review of {number} delayed"))) for name, number in WRITTEN.items()})
    return {f"returns/{name}": data for name, data in out.items()}
