"""Patient identifiers in free text that leaves a workspace (DESIGN §14): the one detector for a return's
comments as the team types them, at sign-off and export, in the locality report, and in the commissioner's
import.

Four kinds are looked for:

- **NHS numbers**, in every way people write one: ten digits together, 3-3-4, 4-3-3 or five pairs, the groups
  parted by spaces of any kind (the non-breaking ones a word processor or Excel puts in), dashes, dots or
  slashes. Only a number whose modulus-11 check digit is right counts, so an ordinary figure of ten digits is
  flagged one time in eleven at most, and a count, a date or a time never is.
- **Dates of birth**: a whole date (01/02/1950, 1.2.50, 1 Feb 1950, 1st of February 1950, February 1, 1950,
  1950-02-01) that follows "DOB", "d.o.b.", "born" or "date of birth", or that is the birth date of one of the
  workspace's patients and more than ten years ago. Other dates (a meeting, a deadline, a go-live that happens to
  be a child's birthday) pass.
- **Postcodes**, whole ones only (LE11 3QF, le113qf): a district alone ("LE1", "LE11") is shared by thousands
  and passes. The area must be a real UK postcode area, so "Q3 2ND" is not one, and an ordinal written in
  lower case after a district ("W3 3rd") is read as the ordinal.
- **Names** from the workspace's own patient list (each locality's latest cohort, every patient the team has
  worked on, every care-home resident): given and family name side by side in either order
  ("Jane Doe", "DOE, Jane", "Doe Jane"; the first given name is enough), or a title (Mr, Mrs, Ms, Miss, Mx,
  Master) before a patient's family name ("Mrs Doe"). Case, accents and apostrophes are ignored, so "lukasz
  wisniewski" finds Łukasz Wiśniewski. A family name alone is never flagged: patients' family names include
  everyday words and place names (Green, Hall, Upton) and the staff's own. A name that is also a member of
  staff's (given and family, or a titled family name) passes: a team names its staff in returns (owners,
  leave), and the same name on a patient cannot be told apart from it.

Nothing here echoes what it found: a message names the kind and the field, never the identifier.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from . import clock
from .errors import ValidationError
from .identifiers import nhs_check_digit

NHS_NUMBER = "an NHS number"
DATE_OF_BIRTH = "a date of birth"
POSTCODE = "a postcode"
NAME = "a patient's name"
KINDS = (NHS_NUMBER, DATE_OF_BIRTH, POSTCODE, NAME)  # the order messages list them in

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

# -- postcodes -------------------------------------------------------------------------------------------------
# The UK's postcode areas (Royal Mail), and BF for BFPO: an outward code must start with one of them.
_AREAS = (
    "AB|AL|B|BA|BB|BD|BF|BH|BL|BN|BR|BS|BT|CA|CB|CF|CH|CM|CO|CR|CT|CV|CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|E|EC|EH|EN|EX|"
    "FK|FY|G|GL|GU|GY|HA|HD|HG|HP|HR|HS|HU|HX|IG|IM|IP|IV|JE|KA|KT|KW|KY|L|LA|LD|LE|LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|"
    "NN|NP|NR|NW|OL|OX|PA|PE|PH|PL|PO|PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|"
    "TW|UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE"
)
_POSTCODE = re.compile(
    rf"(?<![^\W\d_])(?<!\d)(?:{_AREAS})\d[A-Z\d]?"
    rf"{_SPACE}{{0,3}}(\d[ABD-HJLNP-UW-Z]{{2}})(?![^\W_])",
    re.IGNORECASE,
)
_ORDINAL = {"1": "st", "2": "nd", "3": "rd"}

# -- dates -----------------------------------------------------------------------------------------------------
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(\d{4}|\d{2})"
_SEP = r"[\s\-/.,]+"
_DATES = (
    # 01/02/1950, 1.2.50, 01-02-1950: day first, as in the UK; the same mark twice
    ("dmy", re.compile(r"(?<![\d.])(\d{1,2})\s?([./\-\u2010-\u2013])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})(?![\d])")),
    # 1950-02-01, 1950/02/01
    ("ymd", re.compile(r"(?<![\d.])(\d{4})([./\-])(\d{1,2})\2(\d{1,2})(?![\d])")),
    # 1 Feb 1950, 1st of February 1950, 01-Feb-50
    ("d month y", re.compile(rf"(?<![\d.]){_DAY}(?:\s+of)?{_SEP}{_MONTH}{_SEP}{_YEAR}(?!\d)", re.IGNORECASE)),
    # February 1, 1950; Feb 1st 1950
    ("month d y", re.compile(rf"(?<![^\W\d_]){_MONTH}\s+{_DAY},?\s+(\d{{4}})(?!\d)", re.IGNORECASE)),
)
# What says the date that follows is a birth date: "DOB:", "d.o.b.", "(born on", "date of birth -".
_BIRTH_MARK = re.compile(
    r"(?:(?<![^\W\d_])d\.?\s?o\.?\s?b(?![^\W\d_])\.?|(?<![^\W\d_])born(?:\s+on)?|date\s+of\s+birth)"
    r"\s*[:=\-\u2013(]?\s*$",
    re.IGNORECASE,
)

# -- names -----------------------------------------------------------------------------------------------------
# A word: letters, with apostrophes or hyphens inside it (O'Brien, Kibworth-Hale).
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\u02bc\u2018`\u00b4\-\u2010\u2011][^\W\d_]+)*")
_PARTS = re.compile(r"[\-\u2010\u2011]")
_APOSTROPHES = re.compile(r"['\u2019\u02bc\u2018`\u00b4]")
_POSSESSIVE = re.compile(r"['\u2019\u02bc]s$", re.IGNORECASE)
# Letters NFKD leaves whole, as people type them on an English keyboard.
_PLAIN = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "æ": "ae", "œ": "oe", "ı": "i", "ð": "d", "þ": "th"})
# What may stand between two words of one name: space, or a hyphen (Kibworth-Hale written either way), or a
# comma (DOE, Jane). A full stop, a semicolon or a bracket ends a name.
_NAME_GAP = re.compile(rf"{_SPACE}*,?{_SPACE}*|{_SPACE}*[\-\u2010\u2011]{_SPACE}*")
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "master"})
# Titles a staff name may carry, dropped before it is compared ("Dr Jane Doe").
_STAFF_TITLES = TITLES | {"dr", "prof", "professor", "sister", "nurse", "rev", "sir", "dame"}
_LONGEST = 6  # words in the longest name looked for (Mary Ann van der Berg)
EVENT_YEARS = 10  # an unmarked date this recent is not read as a birth date


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


def fold(word: str) -> str:
    """A word as compared: lower case, without accents or apostrophes (Ó'Bríen → obrien)."""
    word = unicodedata.normalize("NFKD", word.casefold()).translate(_PLAIN)
    return _APOSTROPHES.sub("", "".join(c for c in word if not unicodedata.combining(c)))


def name_words(text: str) -> tuple[str, ...]:
    """The folded words of a name, hyphenated parts apart and a possessive dropped: "Kibworth-Hale's" →
    ("kibworth", "hale")."""
    return tuple(fold(part) for word in _WORD.findall(text) for part in _PARTS.split(_POSSESSIVE.sub("", word)) if part)


@dataclass(frozen=True)
class Patients:
    """What the detector knows of a workspace's patients and staff, folded for comparison."""

    names: frozenset[tuple[str, ...]] = frozenset()  # given + family, and first given + family
    families: frozenset[tuple[str, ...]] = frozenset()
    births: frozenset[dt.date] = frozenset()
    staff_names: frozenset[tuple[str, ...]] = frozenset()
    staff_families: frozenset[tuple[str, ...]] = frozenset()

    @classmethod
    def build(cls, patients: Iterable[tuple[str, str, Any]], staff: Iterable[str] = ()) -> Patients:
        """From (given name, family name, date of birth) rows and the staff's full names."""
        names, families, births = set(), set(), set()
        words: dict[str, tuple[str, ...]] = {}  # a cohort repeats its given names thousands of times
        for given, family, born in patients:
            g = words.get(given) or words.setdefault(given, name_words(given or ""))
            f = words.get(family) or words.setdefault(family, name_words(family or ""))
            if f:
                families.add(f)
                if g:
                    names.add(g + f)
                    names.add(g[:1] + f)
            day = _as_date(born)
            if day is not None:
                births.add(day)
        staff_names, staff_families = set(), set()
        for full in staff:
            parts = name_words(full or "")
            while parts and parts[0] in _STAFF_TITLES:
                parts = parts[1:]
            if len(parts) >= 2:
                staff_names.update({parts, parts[:1] + parts[-1:]})
                staff_families.update({parts[-1:], parts[1:]})
        return cls(frozenset(names), frozenset(families), frozenset(births), frozenset(staff_names),
                   frozenset(staff_families))  # fmt: skip


NOBODY = Patients()

# One index per open workspace, rebuilt when what it is built from changes: sign-off, export and each comment
# edit then cost a few aggregate queries, not a read of every patient. Every write of the app stamps the rows
# it changes, and imports add runs; the counts and lengths catch a row deleted or edited in place.
_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple, Patients]] = weakref.WeakKeyDictionary()
_PEOPLE = "COUNT(*), MAX(updated_at), TOTAL(LENGTH(given_name) + LENGTH(family_name) + LENGTH(date_of_birth))"
_FINGERPRINT = (
    f"SELECT {_PEOPLE} FROM patients",
    f"SELECT {_PEOPLE} FROM residents",
    "SELECT COUNT(*), MAX(updated_at), MAX(rowid) FROM risk_runs",
    "SELECT COUNT(*), MAX(updated_at), TOTAL(LENGTH(name)) FROM staff",
)


def patients_of(db: Any) -> Patients:
    """The workspace's patients as the detector reads them: each locality's latest cohort, every patient the
    team has worked on (in the cohort or not) and every care-home resident; and its staff."""
    fingerprint = tuple(tuple(db.execute(query).fetchone()) for query in _FINGERPRINT)
    try:
        held = _CACHE.get(db)
    except TypeError:  # a bare sqlite3 connection cannot be weakly referenced: read it afresh each time
        held = None
    if held is not None and held[0] == fingerprint:
        return held[1]
    rows = [
        *db.execute("SELECT given_name, family_name, date_of_birth FROM patients").fetchall(),
        *db.execute("SELECT given_name, family_name, date_of_birth FROM residents").fetchall(),
        *_cohorts(db),
    ]
    built = Patients.build(rows, (row[0] for row in db.execute("SELECT name FROM staff").fetchall()))
    with suppress(TypeError):
        _CACHE[db] = (fingerprint, built)
    return built


def _cohorts(db: Any) -> list[tuple[str, str, Any]]:
    """(given, family, date of birth) of everyone in each locality's latest risk run, read from the stored
    cohorts without the columns the detector does not need."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    from .cohort.store import COHORT_SCHEMA

    latest = db.execute(
        "SELECT c.data FROM risk_run_cohorts c JOIN risk_runs r ON r.id = c.run_id WHERE r.id = (SELECT l.id "
        "FROM risk_runs l WHERE l.locality_id = r.locality_id ORDER BY l.extract_date DESC, l.imported_at DESC "
        "LIMIT 1)"
    ).fetchall()
    wanted = ["given_name", "family_name", "date_of_birth"]
    options = ipc.IpcReadOptions(included_fields=[COHORT_SCHEMA.get_field_index(k) for k in wanted])
    out: list[tuple[str, str, Any]] = []
    for (data,) in latest:
        table = ipc.open_file(pa.py_buffer(data), options=options).read_all()
        out += zip(*(table[k].to_pylist() for k in wanted), strict=True)
    return out


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# -- the detector ----------------------------------------------------------------------------------------------
def nhs_number_in(text: str) -> str | None:
    """A valid NHS number written in *text*, as its ten ASCII digits; None when there is none."""
    for digits, _, _ in _nhs_numbers(text):
        return digits
    return None


def _nhs_numbers(text: str) -> Iterable[tuple[str, int, int]]:
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            digits = "".join(match.groups())
            if not digits.isascii():  # \d matched full-width or other decimal digits: int() reads them all
                digits = "".join(str(int(c)) for c in digits)
            if nhs_check_digit(digits[:9]) == int(digits[9]):
                yield digits, match.start(1), match.end(match.lastindex or 1)


def postcode_in(text: str) -> str | None:
    """The first whole UK postcode in *text* (LE11 3QF), as written; None when there is none."""
    for match in _postcodes(text):
        return match.group()
    return None


def _postcodes(text: str) -> Iterable[re.Match[str]]:
    for match in _POSTCODE.finditer(text):
        inward = match.group(1)
        # "W3 3rd", "S1 1st": an ordinal in lower case is what the writer meant.
        if inward[1:] == _ORDINAL.get(inward[0], "th") and inward[1:].islower():
            continue
        yield match


def _dates(text: str) -> Iterable[tuple[tuple[dt.date, ...], int, int]]:
    """Every whole date in *text*: the days it may be (a two-digit year is either century), where it is."""
    for form, pattern in _DATES:
        for match in pattern.finditer(text):
            if form == "dmy":
                day, month, year = match.group(1), match.group(3), match.group(4)
            elif form == "ymd":
                year, month, day = match.group(1), match.group(3), match.group(4)
            elif form == "d month y":
                day, month, year = match.group(1), str(_MONTHS[match.group(2).casefold()]), match.group(3)
            else:
                month, day, year = str(_MONTHS[match.group(1).casefold()]), match.group(2), match.group(3)
            years = [int(year)] if len(year) == 4 else [1900 + int(year), 2000 + int(year)]
            days = []
            for y in years:
                try:
                    days.append(dt.date(y, int(month), int(day)))
                except ValueError:
                    continue
            yield tuple(days), match.start(), match.end()


def _names(text: str, patients: Patients) -> Iterable[tuple[int, int]]:
    if not patients.families:
        return
    # Each word's folded parts (a hyphenated word gives several), with how each is joined to the part before:
    # "" within a word or by space, "," by a comma, None not at all (a full stop, a bracket, a digit...).
    flat: list[tuple[str, int, int, str | None]] = []
    previous_end = None
    for match in _WORD.finditer(text):
        gap = None
        if previous_end is not None:
            between = _NAME_GAP.fullmatch(text[previous_end : match.start()])
            gap = None if between is None else "," if "," in between.group() else ""
        for k, part in enumerate(name_words(match.group())):
            flat.append((part, match.start(), match.end(), gap if k == 0 else ""))
        previous_end = match.end()
    for i in range(len(flat)):
        if flat[i][0] in TITLES:  # Mrs Doe, Mr. Doe
            yield from _titled(text, flat, i, patients)
        for size in range(2, _LONGEST + 1):
            window = flat[i : i + size]
            if len(window) < size or window[-1][3] is None:
                break
            found = tuple(w for w, *_ in window)
            commas = {j for j in range(1, size) if window[j][3] == ","}
            # Family name first is the same words turned round at the comma, if any: DOE, Jane → Jane Doe. A comma
            # anywhere else ("amber, green") parts two things, not the halves of a name.
            turns = [found[k:] + found[:k] for k in range(size) if commas <= {k}]
            if any(t in patients.names for t in turns) and not any(t in patients.staff_names for t in turns):
                yield window[0][1], window[-1][2]
                break


def _titled(text: str, flat: list[tuple[str, int, int, str | None]], i: int, patients: Patients):
    after = i + 1
    if after >= len(flat) or not re.fullmatch(rf"\.?{_SPACE}+", text[flat[i][2] : flat[after][1]]):
        return
    for size in range(1, _LONGEST):
        family = tuple(w for w, *_ in flat[after : after + size])
        if len(family) < size or (size > 1 and flat[after + size - 1][3] != ""):
            return
        if family in patients.families and family not in patients.staff_families:
            yield flat[i][1], flat[after + size - 1][2]
            return


def findings(text: str, patients: Patients = NOBODY) -> list[Finding]:
    """Every identifier in *text*, by kind and place. Without *patients*, names and unmarked birth dates cannot
    be known: only what holds in any workspace (NHS numbers, postcodes, dates said to be births) is found."""
    if not text:
        return []
    found: list[Finding] = []
    numbers = [(start, end) for _, start, end in _nhs_numbers(text)]
    found += [Finding(NHS_NUMBER, start, end) for start, end in numbers]

    def inside_a_number(start: int, end: int) -> bool:
        return any(start < e and s < end for s, e in numbers)

    # A recent date is a meeting or a go-live, even when some young patient was born that day.
    events_since = clock.today() - dt.timedelta(days=365 * EVENT_YEARS)
    for days, start, end in _dates(text):
        if inside_a_number(start, end):
            continue
        marked = _BIRTH_MARK.search(text[max(0, start - 24) : start]) is not None
        if marked or any(day in patients.births and day < events_since for day in days):
            found.append(Finding(DATE_OF_BIRTH, start, end))
    found += [Finding(POSTCODE, m.start(), m.end()) for m in _postcodes(text) if not inside_a_number(*m.span())]
    found += [Finding(NAME, start, end) for start, end in _names(text, patients)]
    return sorted(found, key=lambda f: (f.start, KINDS.index(f.kind)))


def kinds_in(text: str, patients: Patients = NOBODY) -> list[str]:
    """The kinds of identifier *text* holds, each once, in KINDS order."""
    held = {f.kind for f in findings(text, patients)}
    return [kind for kind in KINDS if kind in held]


def identifier_in(text: str, patients: Patients = NOBODY) -> str | None:
    """The first kind of patient identifier *text* holds ("an NHS number", "a postcode"...), or None."""
    kinds = kinds_in(text, patients)
    return kinds[0] if kinds else None


def listed(kinds: Iterable[str]) -> str:
    """ "an NHS number", "an NHS number and a postcode", "an NHS number, a postcode and a patient's name"."""
    items = list(kinds)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def found_in(fields: Mapping[str, str], patients: Patients = NOBODY) -> dict[str, list[str]]:
    """The kinds each field holds, by the field's label; fields that hold none are left out."""
    out = {}
    for label, text in fields.items():
        kinds = kinds_in(text or "", patients)
        if kinds:
            out[label] = kinds
    return out


def describe(found: Mapping[str, list[str]]) -> str:
    """What found_in() found, without the identifiers: "The comment on COH-02 holds what looks like a postcode,
    and the comment on CH-01 what looks like a patient's name". Labels are written to follow "the"."""
    (first, kinds), *others = found.items()
    return f"The {first} holds what looks like {listed(kinds)}" + "".join(
        f"{', and' if n == len(others) - 1 else ','} the {label} what looks like {listed(more)}"
        for n, (label, more) in enumerate(others)
    )


def refuse(db: Any, fields: Mapping[str, str | None], refused: str, next_step: str, why: str) -> None:
    """ValidationError (field "comment") when any of *fields* (text by label, the label written to follow
    "the": "comment on COH-02", "description of action CHA-2026-0001") holds a patient identifier of this
    workspace's, naming each field and the kind found, never the identifier. *refused* says what cannot be done
    ("the return cannot be signed off"), *why* why not, *next_step* what to do about it."""
    if not any((text or "").strip() for text in fields.values()):
        return  # nothing written: no need to read the patient list
    found = found_in({label: text or "" for label, text in fields.items()}, patients_of(db))
    if found:
        raise ValidationError(f"{describe(found)}, so {refused}: {why}. {next_step}", "comment")
