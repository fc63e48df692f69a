"""NHS numbers, ODS and CQC codes (REFERENCE.md §8)."""

from __future__ import annotations

import hashlib
import re
import uuid

PRACTICE_CODE = re.compile(r"^[A-Z]\d{5}$")
PCN_CODE = re.compile(r"^U\d{5}$")
CQC_LOCATION = re.compile(r"^1-\d{9,11}$")
# Synthetic and test patients only (PDS: "not to be issued"), DESIGN §5.
SYNTHETIC_RANGE = (9_000_000_000, 9_999_999_999)


def nhs_check_digit(first_nine: str) -> int | None:
    """The modulus-11 check digit for nine digits, or None when no valid number can end them."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(text: str) -> str:
    return re.sub(r"[\s-]", "", text)


def is_valid_nhs_number(text: str) -> bool:
    digits = normalise_nhs_number(text)
    if len(digits) != 10 or not digits.isdigit():
        return False
    return nhs_check_digit(digits[:9]) == int(digits[9])


def is_synthetic_nhs_number(text: str) -> bool:
    digits = normalise_nhs_number(text)
    return is_valid_nhs_number(digits) and SYNTHETIC_RANGE[0] <= int(digits) <= SYNTHETIC_RANGE[1]


def practice_code_problem(code: str) -> str | None:
    if not PRACTICE_CODE.match(code):
        return f"'{code}' is not a GP practice ODS code: one capital letter then five digits, e.g. C82001."
    return None


def pcn_code_problem(code: str) -> str | None:
    if not PCN_CODE.match(code):
        return f"'{code}' is not a PCN code: U then five digits, e.g. U12345."
    return None


def cqc_id_problem(code: str) -> str | None:
    if not CQC_LOCATION.match(code):
        return f"'{code}' is not a CQC location id: '1-' then 9 to 11 digits, e.g. 1-187729429."
    return None


PATIENT_NAMESPACE = uuid.UUID("5d1c2a6e-3b7f-4c1e-9a51-6c0de5c0a1f4")


_NAMESPACE_BYTES = PATIENT_NAMESPACE.bytes
# RFC 4122 variant bits (10xx) on the first hex digit of the fourth group.
_VARIANT = {f"{i:x}": f"{(i & 0x3) | 0x8:x}" for i in range(16)}


def patient_id(nhs_number: int) -> str:
    """A patient's id follows from their NHS number (a version-5 UUID), so every run and every laptop
    names them alike. Spelled out rather than uuid.uuid5 because a first import makes 60,000 of them."""
    x = hashlib.sha1(_NAMESPACE_BYTES + str(nhs_number).encode()).hexdigest()
    return f"{x[:8]}-{x[8:12]}-5{x[13:16]}-{_VARIANT[x[16]]}{x[17:20]}-{x[20:32]}"


_HEX = b"0123456789abcdef"


def patient_ids(nhs_numbers) -> list[str]:
    """patient_id for many NHS numbers at once (a first import's whole cohort): the same ids, at about half
    the cost, since only the hashing is done one by one and the spelling out is done on all of them together."""
    import numpy as np  # only here: identifiers is imported where numpy is not needed

    numbers = [int(x) for x in nhs_numbers] if not isinstance(nhs_numbers, list) else nhs_numbers
    if not numbers:
        return []
    sha1, prefix = hashlib.sha1, _NAMESPACE_BYTES
    digests = np.frombuffer(b"".join([sha1(prefix + b"%d" % x).digest() for x in numbers]), dtype=np.uint8)
    digests = digests.reshape(-1, 20)
    hexdigits = np.frombuffer(_HEX, dtype=np.uint8)
    x = np.empty((len(digests), 40), dtype=np.uint8)
    x[:, 0::2] = hexdigits[digests >> 4]
    x[:, 1::2] = hexdigits[digests & 15]
    out = np.full((len(digests), 36), ord("-"), dtype=np.uint8)
    out[:, 0:8] = x[:, 0:8]
    out[:, 9:13] = x[:, 8:12]
    out[:, 14] = ord("5")
    out[:, 15:18] = x[:, 13:16]
    out[:, 19] = np.frombuffer(b"89ab", dtype=np.uint8)[(digests[:, 8] >> 4) & 0x3]  # x[16]: the RFC 4122 variant
    out[:, 20:23] = x[:, 17:20]
    out[:, 24:36] = x[:, 20:32]
    text = out.tobytes().decode("ascii")
    return [text[i : i + 36] for i in range(0, len(text), 36)]
