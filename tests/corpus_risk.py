"""Risk extracts (and stored cohort criteria) from the second hardening pass (issue 19, point 5 and point 6's
cohort rules), for the bad-input corpus under tests/data/bad/risk/.

`python tests/corpus_helpers.py` writes the whole corpus. The extract that needs a stray byte
beyond the first 64 kB is made by the test (`past_64_kb`), not committed: the corpus is held under 200 kB.
All data is synthetic; the placeholder NHS numbers are the ones a real extract uses for "unknown".
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus_helpers import CHA_PRACTICES
from extract_helpers import HEADER, USE_HEADER, patient

# Names a UTF-8 extract carries that a Windows-1252 misreading would turn into "ZoÃ«" and "Ã‘ÃºÃ±ez".
ZOE, NUNEZ = "Zoë", "Ñúñez"


def _good(n: int, **overrides) -> dict[str, str]:
    return patient(n, CHA_PRACTICES[n % 2], **overrides)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def _csv(rows: list[dict[str, str]], header: list[str] | None = None) -> str:
    header = header or HEADER
    lines = [",".join(header)] + [",".join(_quote(row.get(h, "")) for h in header) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _rows(column: str, values: tuple[str, ...], **also) -> list[dict[str, str]]:
    return [_good(n, **{column: v}, **also) for n, v in enumerate(values, start=1)]


FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def files() -> dict[str, bytes]:
    """Every committed file, by its path under tests/data/bad/."""
    efi_both = [*HEADER[:9], "efi_deficits", *HEADER[9:]]
    out = {
        "decimal_comma.csv": _csv(
            [
                _good(1, predicted_cost="1839,99"),
                _good(2, ltc_count="1,2"),
                _good(3, expected_cost="1200,5"),
                _good(4, efi_score="0,3056"),
                _good(5, prob_unplanned_admission="0,21"),
                # Reads as thousands alone, but this column has a decimal comma elsewhere: 1.500 or 1,500?
                _good(6, predicted_cost="1,500"),
            ]
        ).encode(),
        # A UTF-8 extract with one row saved in Windows-1252 inside the first 64 kB.
        "stray_cp1252_byte.csv": _csv([_good(1, given_name=ZOE, family_name=NUNEZ), _good(2, given_name=ZOE)]).encode()
        + _csv([_good(3, given_name=ZOE)]).split("\r\n", 1)[1].encode("cp1252")
        + _csv([_good(4, family_name=NUNEZ)]).split("\r\n", 1)[1].encode(),
        "control_characters.csv": _csv(
            [
                _good(1, given_name="Ann\x07"),  # BEL
                _good(2, family_name="\x1b[31mSmith\x1b[0m"),  # an ANSI colour escape
                _good(3, given_name="Ro\x7fse"),  # DEL
                _good(4, family_name="Lee\x85"),  # a C1 control (NEL)
                _good(5, given_name="\u202eeoJ"),  # right-to-left override
                _good(6, postcode="LE11\x0c2AB"),  # form feed
            ]
        ).encode(),
        "placeholder_nhs.csv": _csv(_rows("nhs_number", ("0000000000", "1111111111", "9999999999"))).encode(),
        "date_with_garbage.csv": _csv(
            _rows("date_of_birth", ("1950-01-01Tgarbage", "1950-01-01T25:00", "1950-01-01 10:30x", "1950-01-01T"))
        ).encode(),
        # Use in the last 12 months (issue 27): a count that is negative, not whole, not a number or past the
        # ceiling; bed days past a year; a cost past the ceiling, and one with a decimal comma.
        "bad_use.csv": _csv(
            [
                _good(1, emergency_admissions_12m="-1"),
                _good(2, emergency_admissions_12m="1.5"),
                _good(3, ae_attendances_12m="lots"),
                _good(4, ae_attendances_12m="400"),
                _good(5, emergency_bed_days_12m="367"),
                _good(6, cost_12m="£12,000,000"),
                _good(7, emergency_bed_days_12m="-2"),
            ],
            [*HEADER, *USE_HEADER],
        ).encode(),
        "absurd_cost.csv": _csv(
            [
                _good(1, predicted_cost="1e300"),
                _good(2, expected_cost="1e300"),
                _good(3, predicted_cost="10,000,001"),
            ]
        ).encode(),
        "efi_disagrees.csv": _csv(
            [
                _good(1, efi_score="0.5", efi_deficits="3"),
                _good(2, efi_score="0.05", efi_deficits="30"),
            ],
            efi_both,
        ).encode(),
        "fullwidth_digits.csv": _csv(
            [
                _good(1, nhs_number=_good(1)["nhs_number"].translate(FULL_WIDTH)),
                _good(2, date_of_birth="14/03/1938".translate(FULL_WIDTH)),
                _good(3, ltc_count="2".translate(FULL_WIDTH)),
                _good(4, predicted_cost="1500".translate(FULL_WIDTH)),
                _good(5, efi_score="0.3056".translate(FULL_WIDTH)),
            ]
        ).encode(),
        # The workspace's stored cohort criteria (meta cohort_rules), damaged.
        "cohort_rules_not_json.txt": b"{frailty_min_deficits: 9,",
        "cohort_rules_a_list.json": b"[9, 13, 5]",
        "cohort_rules_null.json": b"null",
        "cohort_rules_zero_ratio.json": b'{"high_cost_min_ratio": 0}',
        "cohort_rules_wrong_types.json": (
            b'{"high_cost_min_ratio": NaN, "multimorbidity_min_ltc": true, "frailty_min_deficits": "9", '
            b'"review_interval_months": 1e400, "mild_frailty_min_deficits": 4}'
        ),
    }
    return {f"risk/{name}": data for name, data in out.items()}


PAST_64_KB_GOOD = 800  # rows of "Zoë Ñúñez" before the damaged ones: 67 kB


def past_64_kb() -> bytes:
    """A UTF-8 extract whose every row names Zoë Ñúñez, but for three rows after the first 64 kB: one saved in
    Windows-1252, one with a NUL in the family name and one with an ANSI escape in the given name; a good row
    ends it. The damaged rows are spreadsheet rows PAST_64_KB_GOOD + 2 to + 4 (the heading is row 1)."""
    n = PAST_64_KB_GOOD
    body = _csv([_good(k, given_name=ZOE, family_name=NUNEZ) for k in range(1, n + 1)]).encode()
    assert len(body) > 64 * 1024
    tail = [
        _csv([_good(n + 1, given_name=ZOE)]).split("\r\n", 1)[1].encode("cp1252"),
        _csv([_good(n + 2, family_name="Nu\x00nez")]).split("\r\n", 1)[1].encode(),
        _csv([_good(n + 3, given_name="\x1b[2JZoe")]).split("\r\n", 1)[1].encode(),
        _csv([_good(n + 4, given_name=ZOE, family_name=NUNEZ)]).split("\r\n", 1)[1].encode(),
    ]
    return body + b"".join(tail)
