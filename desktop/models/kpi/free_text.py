"""Patient identifiers in free text that leaves a workspace (DESIGN §14): a return's comments, checked as the
team types them and again by the commissioner's import.

An NHS number is looked for in every way people write one: ten digits together, 3-3-4, 4-3-3 or five pairs,
the groups parted by spaces of any kind (the non-breaking ones a word processor or Excel puts in), dashes,
dots or slashes. Only a number whose modulus-11 check digit is right counts, so an ordinary figure of ten
digits is flagged one time in eleven at most, and a count, a date or a time never is.
"""

from __future__ import annotations

import re

from ..identifiers import nhs_check_digit

# \s covers U+00A0, U+202F, U+2007 and U+2009; the zero-width characters are not space to Python but are
# invisible, so a number split by them still reads as one.
_SPACE = r"[\s\u200b-\u200d\u2060\ufeff]"
# ASCII and Unicode dashes, the minus sign, dot, slash, and their full-width forms.
_MARK = r"[-./\u2010-\u2015\u2212\u00b7\uff0d\uff0e\uff0f]"
_GAP = rf"(?:{_SPACE}*{_MARK}{_SPACE}*|{_SPACE}+)"
GROUPINGS = ((10,), (3, 3, 4), (4, 3, 3), (2, 2, 2, 2, 2))
# One pattern per grouping; each group is whole (no digit either side of it). The pattern is a lookahead, so a
# match takes no text and the next search starts one character on: in a longer run of groups (a phone number,
# a list of counts) every place a grouping could start is tried, not only the places left after a match.
_PATTERNS = tuple(
    re.compile(r"(?<!\d)(?=" + _GAP.join(rf"(\d{{{size}}})" for size in grouping) + r"(?!\d))")
    for grouping in GROUPINGS
)

_POSTCODE = re.compile(
    rf"\b(?:LE|NN|CV|DE|NG|PE|[A-Z]{{1,2}})\d[A-Z\d]?{_SPACE}{{0,3}}\d[ABD-HJLNP-UW-Z]{{2}}\b", re.IGNORECASE
)


def nhs_number_in(text: str) -> str | None:
    """A valid NHS number written in *text*, as its ten ASCII digits; None when there is none."""
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            digits = "".join(match.groups())
            if not digits.isascii():  # \d matched full-width or other decimal digits: int() reads them all
                digits = "".join(str(int(c)) for c in digits)
            if nhs_check_digit(digits[:9]) == int(digits[9]):
                return digits
    return None


def postcode_in(text: str) -> str | None:
    """The first thing in *text* shaped like a UK postcode (LE11 3QF), as written; None when there is none."""
    match = _POSTCODE.search(text)
    return match.group() if match else None


def identifier_in(text: str) -> str | None:
    """What kind of patient identifier *text* holds ("an NHS number", "a postcode"), or None."""
    if nhs_number_in(text):
        return "an NHS number"
    if postcode_in(text):
        return "a postcode"
    return None
