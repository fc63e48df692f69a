"""The commissioner's return import, second hardening pass (issue 19, point 4): revisions that cannot lock a
team out, returns a team's app could not have made (a year not begun, a quarter under way, signed off early or
by nobody, a code with another team's name, a key written twice), and NHS numbers in free text however they
are written. Each corpus file (tests/corpus_returns.py) was imported with exit 0 before."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from corpus_helpers import refused_return, snapshot
from corpus_returns import CORPUS, NUMBERS, files, nhs_number, spaced
from hypothesis import given, settings
from hypothesis import strategies as st
from return_files import return_doc, trust_teams, write

from desktop.cli import main
from desktop.models import clock, quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.errors import ValidationError
from desktop.models.free_text import GROUPINGS, identifier_in, nhs_number_in
from desktop.models.kpi import consolidated, returns
from desktop.models.kpi.return_import import MAX_AHEAD, import_returns
from desktop.models.workspace import create_workspace

ACTOR = Actor(user="commissioner", device_id="icb-laptop")

# file -> (code, words the reason must hold, lower-cased)
REFUSED = {
    "revision_99999.json": ("revision-conflict", ["revision 99999", "too far ahead", "export the return again"]),
    "future_year.json": ("impossible-value", ["2030/31", "begins on 01/04/2030", "no team can have made it"]),
    "quarter_under_way.json": ("impossible-value", ["still under way", "31/12/2026", "from 01/01/2027"]),
    "signed_off_before_quarter_end.json": ("impossible-value", ["signed off on 15/12/2025", "before 2025/26 q3"]),
    "null_signer.json": ("bad-field", ["signed off, but not by whom"]),
    "blank_signer.json": ("bad-field", ["signed off, but not by whom"]),
    "name_of_another_locality.json": ("unknown-locality", ["blaby & lutterworth", "the name of bal", "charnwood"]),
    "duplicate_revision.json": ("bad-field", ["'revision' appears twice"]),
    "duplicate_values.json": ("patient-data", ["nhs number", "(in values)"]),
    "nhs_4_3_3.json": ("patient-data", ["nhs number"]),
    "nhs_dots.json": ("patient-data", ["nhs number"]),
    "nhs_nbsp.json": ("patient-data", ["nhs number"]),
    "nhs_narrow_nbsp.json": ("patient-data", ["nhs number"]),
    "nhs_slashes.json": ("patient-data", ["nhs number"]),
    "nhs_digit_pairs.json": ("patient-data", ["nhs number"]),
}


@pytest.fixture
def commissioner(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    trust_teams(db)
    yield db
    db.close()


@pytest.fixture
def commissioner_path(tmp_path, capsys):
    path = tmp_path / "icb-cli.sqlite"
    assert main(["new", "--db", str(path), "--kind", "commissioner"]) == 0
    trust_teams(open_workspace(path))
    capsys.readouterr()
    return path


def test_every_committed_file_has_its_expected_refusal_here():
    assert {name.split("/", 1)[1] for name in files()} == set(REFUSED)


def one(db, path):
    outcomes, _ = import_returns(db, ACTOR, [path])
    return outcomes[0]


def doc(**fields):
    """A good Charnwood return of 2025/26 Q3 (revision 1, signed off 12/01/2026) with *fields* changed."""
    made = return_doc(**{k: fields.pop(k) for k in ("code", "period", "revision", "scale") if k in fields})
    made.update(fields)
    return made


# -- the corpus ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REFUSED))
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_each_file_is_rejected_with_its_code_exit_1_and_changes_nothing(commissioner_path, capsys, name, dry_run):
    got = refused_return(commissioner_path, capsys, CORPUS / "returns" / name, dry_run)
    expected, words = REFUSED[name]
    assert (got["status"], got["code"]) == ("rejected", expected), got
    for w in words:
        assert w in got["reason"].lower(), got["reason"]


def test_the_whole_batch_is_refused_file_by_file(commissioner_path, capsys):
    before = snapshot(commissioner_path, capsys)
    paths = [str(CORPUS / "returns" / n) for n in sorted(REFUSED)]
    assert main(["return", "import", "--db", str(commissioner_path), *paths]) == 1
    assert f"0 imported, 0 superseded, 0 ignored, {len(paths)} rejected" in capsys.readouterr().out
    assert snapshot(commissioner_path, capsys) == before


# -- revisions -----------------------------------------------------------------------------------------------


def latest(db) -> int:
    return consolidated.latest(db, quarters.parse("2025-26-Q3"))["CHA"]["revision"]


@pytest.mark.parametrize("first_held", [True, False], ids=["revision-1-held", "nothing-held"])
def test_a_revision_99999_does_not_lock_out_the_teams_next_revision(commissioner, tmp_path, first_held):
    if first_held:
        assert one(commissioner, write(tmp_path / "r1.json", doc())).status == "imported"
    bogus = one(commissioner, CORPUS / "returns" / "revision_99999.json")
    assert (bogus.status, bogus.code) == ("rejected", "revision-conflict")
    genuine = doc(revision=2, scale=2, signed_off_at="2026-01-20T10:00:00+00:00")
    got = one(commissioner, write(tmp_path / "r2.json", genuine))
    assert got.status == ("superseded" if first_held else "imported"), got.reason
    assert latest(commissioner) == 2


def test_revisions_never_sent_may_be_skipped_but_only_a_few(commissioner, tmp_path):
    """Only a quarter's current revision can be exported, so one signed off and reopened before it was sent
    never reaches the commissioner: revision 3 may follow revision 1, and be the first one held."""
    assert one(commissioner, write(tmp_path / "r3.json", doc(revision=3))).status == "imported"
    got = one(commissioner, write(tmp_path / "r5.json", doc(revision=5, scale=2)))
    assert got.status == "superseded", got.reason
    far = one(commissioner, write(tmp_path / "far.json", doc(revision=5 + MAX_AHEAD + 1, scale=3)))
    assert (far.status, far.code) == ("rejected", "revision-conflict")
    assert "at most 10 can follow" in far.reason
    assert one(commissioner, write(tmp_path / "next.json", doc(revision=5 + MAX_AHEAD, scale=3))).status == (
        "superseded"
    )


def test_a_later_revision_signed_off_before_the_one_held_is_refused(commissioner, tmp_path):
    assert one(commissioner, write(tmp_path / "r1.json", doc())).status == "imported"
    early = doc(revision=2, scale=2, signed_off_at="2026-01-05T10:00:00+00:00")
    got = one(commissioner, write(tmp_path / "r2.json", early))
    assert (got.status, got.code) == ("rejected", "revision-conflict")
    assert "signed off later, 12/01/2026 16:00" in got.reason
    assert latest(commissioner) == 1


# -- dates ---------------------------------------------------------------------------------------------------


def _q(period, signed, **kw):
    return doc(period=period, signed_off_at=signed, generated_at="2026-11-20T08:00:00+00:00", **kw)


@pytest.mark.parametrize(
    "period,signed,code,words",
    [
        # 20/11/2026 is in 2026/27 Q3: Q4 has not begun, and its year has.
        ("2026-27-Q4", "2026-11-19T10:00:00+00:00", "impossible-value", "which begins on 01/01/2027"),
        ("2027-28-Q1", "2026-11-19T10:00:00+00:00", "impossible-value", "financial year 2027/28 begins"),
        # 30/06 at 23:30 UTC is 00:30 on 1 July in British Summer Time: the quarter is over.
        ("2026-27-Q1", "2026-06-30T23:30:00+00:00", None, ""),
        ("2026-27-Q1", "2026-07-01T00:30:00+01:00", None, ""),
        ("2026-27-Q1", "2026-06-30T22:30:00+00:00", "impossible-value", "before 2026/27 q1 ended on 30/06/2026"),
        ("2026-27-Q2", "2026-10-01T09:00:00", None, ""),  # no offset: read as UTC
        ("2026-27-Q2", "2026-11-21T09:00:00+00:00", None, ""),  # a day ahead: clocks may disagree by hours
        ("2026-27-Q2", "2026-11-23T09:00:00+00:00", "impossible-value", "after today (20/11/2026)"),
        ("2026-27-Q2", "next Tuesday", "bad-field", "must be a date and time"),
        ("2026-27-Q2", None, "bad-field", "signed off, but not when"),
    ],
)
def test_a_return_must_report_a_quarter_that_is_over_and_be_signed_off_after_it(
    commissioner, tmp_path, period, signed, code, words
):
    got = one(commissioner, write(tmp_path / "r.json", _q(period, signed)))
    if code is None:
        assert got.status == "imported", got.reason
    else:
        assert (got.status, got.code) == ("rejected", code)
        assert words in got.reason.lower(), got.reason


def test_the_quarter_under_way_is_judged_by_the_apps_clock(commissioner, tmp_path):
    path = write(tmp_path / "q3.json", _q("2026-27-Q3", "2027-01-02T10:00:00+00:00"))
    got = one(commissioner, path)
    assert got.code == "impossible-value" and "still under way" in got.reason
    with clock.pinned(dt.date(2027, 1, 4)):
        assert one(commissioner, path).status == "imported"


# -- who signed it off, and which team it is -----------------------------------------------------------------


@pytest.mark.parametrize("signer", [None, "", " \t "])
def test_signed_off_by_nobody_is_refused(commissioner, tmp_path, signer):
    got = one(commissioner, write(tmp_path / "r.json", doc(signed_off_by=signer)))
    assert (got.status, got.code) == ("rejected", "bad-field") and "not by whom" in got.reason


@pytest.mark.parametrize(
    "code,name,status",
    [
        ("CHA", "Blaby & Lutterworth", "rejected"),
        ("CHA", "blaby and lutterworth", "rejected"),
        ("CTN", "City South", "rejected"),
        ("CHA", "Charnwood", "imported"),
        ("CHA", " CHARNWOOD ", "imported"),
        ("BAL", "Blaby and Lutterworth", "imported"),
        ("MSR", "Melton Syston and Rutland", "imported"),
        ("CHA", "Team CHA", "imported"),  # no team's name: a spelling of the team's own, the code decides
    ],
)
def test_a_code_with_another_teams_name_is_refused(commissioner, tmp_path, code, name, status):
    got = one(commissioner, write(tmp_path / "r.json", doc(code=code, locality={"code": code, "name": name})))
    assert got.status == status, got.reason
    if status == "rejected":
        assert got.code == "unknown-locality" and "not clear whose return it is" in got.reason


# -- JSON keys written twice ---------------------------------------------------------------------------------


def _twice(tmp_path, good: dict, anchor: str, extra: str):
    """*good* as JSON with *extra* written just before *anchor* (which must occur once)."""
    text = json.dumps(good, indent=1)
    assert text.count(anchor) == 1, anchor
    path = tmp_path / "twice.json"
    path.write_text(text.replace(anchor, extra + anchor), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "anchor,extra,code,words",
    [
        ('"status": ', '"status": "draft",\n ', "bad-field", "'status' appears twice"),
        ('"code": "CHA"', '"code": "BAL", ', "bad-field", "'code' appears twice"),
        ('"kpi": "COH-02"', '"kpi": "COH-01", ', "bad-field", "'kpi' appears twice"),
        ('"kpi": "COH-02"', f'"comment": "{NUMBERS[7]}", ', "patient-data", "nhs number"),
        ('"kpi": "COH-02"', '"nhs_number": "x", ', "patient-data", "'nhs_number' field"),
    ],
)
def test_a_key_written_twice_anywhere_is_refused(commissioner, tmp_path, anchor, extra, code, words):
    got = one(commissioner, _twice(tmp_path, doc(), anchor, extra))
    assert (got.status, got.code) == ("rejected", code), got.reason
    assert words in got.reason.lower()


# -- patient data --------------------------------------------------------------------------------------------


NUMBER = nhs_number(943_476_591)  # 9434765919
FORMS = {
    "together": NUMBER,
    "3-3-4 spaces": spaced(NUMBER, (3, 3, 4), " "),
    "3-3-4 dashes": spaced(NUMBER, (3, 3, 4), "-"),
    "3-3-4 spaced dashes": spaced(NUMBER, (3, 3, 4), " - "),
    "3-3-4 en dashes": spaced(NUMBER, (3, 3, 4), "\u2013"),
    "3-3-4 dots": spaced(NUMBER, (3, 3, 4), "."),
    "3-3-4 slashes": spaced(NUMBER, (3, 3, 4), "/"),
    "3-3-4 no-break space": spaced(NUMBER, (3, 3, 4), "\u00a0"),
    "3-3-4 narrow no-break space": spaced(NUMBER, (3, 3, 4), "\u202f"),
    "3-3-4 thin space": spaced(NUMBER, (3, 3, 4), "\u2009"),
    "3-3-4 zero-width space": spaced(NUMBER, (3, 3, 4), "\u200b"),
    "3-3-4 two spaces": spaced(NUMBER, (3, 3, 4), "  "),
    "3-3-4 line break": spaced(NUMBER, (3, 3, 4), "\n"),
    "4-3-3 spaces": spaced(NUMBER, (4, 3, 3), " "),
    "4-3-3 dashes": spaced(NUMBER, (4, 3, 3), "-"),
    "pairs": spaced(NUMBER, (2, 2, 2, 2, 2), " "),
    "pairs no-break": spaced(NUMBER, (2, 2, 2, 2, 2), "\u00a0"),
    "pairs dashes": spaced(NUMBER, (2, 2, 2, 2, 2), "-"),
    "full-width digits": "".join(chr(0xFF10 + int(c)) for c in spaced(NUMBER, (3, 3, 4), " ") if c != " "),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_an_nhs_number_is_found_however_it_is_written(form):
    text = f"Review of {FORMS[form]} was delayed"
    assert nhs_number_in(text) == NUMBER
    assert identifier_in(text) == "an NHS number"


@pytest.mark.parametrize("form", ["4-3-3 spaces", "3-3-4 no-break space", "pairs", "3-3-4 slashes"])
def test_an_nhs_number_in_a_comment_is_refused_by_the_import(commissioner, tmp_path, form):
    made = doc()
    made["values"][3]["comment"] = f"Review of {FORMS[form]} was delayed"
    got = one(commissioner, write(tmp_path / "r.json", made))
    assert (got.status, got.code) == ("rejected", "patient-data")


@pytest.mark.parametrize(
    "text",
    [
        "12 of 4500 reviewed; 3 deferred to Q4",
        "Meeting on 01/02/2026 10:30 with 12 34 homes",
        "2025-26-Q3 and 2025/26 Q3",
        "Call 0116 295 0000 or 07700 900123",
        "Reference 94347659190 (eleven digits)",
        "Signed 2026-01-12T16:00:00+00:00",
        f"{NUMBER[:9]}{(int(NUMBER[9]) + 1) % 10}",  # the check digit wrong
        spaced(f"{NUMBER[:9]}{(int(NUMBER[9]) + 1) % 10}", (3, 3, 4), " "),
        "Counts 1.5, 2.25, 3.125 and 44.5%",
    ],
)
def test_ordinary_numbers_are_not_nhs_numbers(text):
    assert nhs_number_in(text) is None


@settings(max_examples=200, deadline=None)
@given(
    first_nine=st.integers(900_000_000, 999_999_999),
    grouping=st.sampled_from(GROUPINGS),
    gap=st.sampled_from([" ", "-", ".", "/", "\u00a0", "\u202f", " / ", "\u2013"]),
)
def test_only_a_valid_check_digit_makes_a_number(first_nine, grouping, gap):
    digits = f"{first_nine:09d}"
    for last in range(10):
        number = digits + str(last)
        written = spaced(number, grouping, gap) if len(grouping) > 1 else number
        valid = nhs_number(first_nine) == number
        assert (nhs_number_in(f"about {written} today") == number) is valid


@pytest.mark.parametrize("key", ["NHS Number", "nhs-number", "Date of Birth", "POSTCODE"])
def test_a_patient_key_is_refused_however_it_is_spelled(commissioner, tmp_path, key):
    made = doc()
    made["values"][0][key] = "x"
    got = one(commissioner, write(tmp_path / "r.json", made))
    assert (got.status, got.code) == ("rejected", "patient-data")


def test_a_postcode_with_a_no_break_space_is_refused(commissioner, tmp_path):
    made = doc()
    made["values"][0]["comment"] = "Moved to LE11\u00a03QF"
    got = one(commissioner, write(tmp_path / "r.json", made))
    assert (got.status, got.code) == ("rejected", "patient-data") and "postcode" in got.reason


# -- the team's side: a comment that the import would refuse is refused where it is typed ------------------


@pytest.fixture
def draft(small_world):
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    team = Actor(user="fed.manager", device_id="laptop-5")
    return_id, _ = returns.draft(small_world, team, loc, quarters.parse("2025-26-Q4"), dt.date(2026, 4, 10))
    return small_world, team, return_id


@pytest.mark.parametrize("form", ["4-3-3 spaces", "pairs", "3-3-4 narrow no-break space"])
def test_a_comment_naming_a_patient_is_refused_as_it_is_typed(draft, form):
    db, team, return_id = draft
    with pytest.raises(ValidationError, match="looks like an NHS number") as caught:
        returns.comment(db, team, return_id, "COH-02", f"Review of {FORMS[form]} delayed")
    assert caught.value.field == "comment"
    assert returns.values(db, return_id)["COH-02"]["comment"] == ""
    returns.comment(db, team, return_id, "COH-02", "12 of 4500 reviewed on 01/02/2026")


def test_a_held_comment_naming_a_patient_is_not_exported(draft, tmp_path):
    db, team, return_id = draft
    db.execute(
        "UPDATE return_values SET comment = ? WHERE return_id = ? AND kpi = 'COH-02'",
        [f"Seen {FORMS['4-3-3 dashes']}", return_id],
    )
    out = tmp_path / "r.json"
    with pytest.raises(ValidationError, match="COH-02 holds what looks like an NHS number"):
        returns.export(db, team, return_id, out, "0.1.0", allow_draft=True)
    assert not out.exists()
