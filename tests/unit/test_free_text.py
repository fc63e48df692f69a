"""No patient identifier in free text that leaves the workspace (issue 20, point 2): the one detector
(desktop/models/free_text.py) on a corpus of tricky strings that must be flagged and ordinary ones that must
pass, then where it is applied: a return's comment as it is written, sign-off and export (refused, naming the
KPI and the kind, never the identifier), the locality report's comments and the commissioner's import.

Before this issue only NHS numbers and postcodes were looked for: a comment naming a patient, or giving a date
of birth, was signed off and exported with exit 0."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from corpus_returns import nhs_number, spaced
from extract_helpers import patient, synthetic_nhs, write_csv
from return_files import return_doc, write

from desktop.models import free_text, quarters
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.errors import ValidationError
from desktop.models.free_text import DATE_OF_BIRTH, NAME, NHS_NUMBER, POSTCODE, Patients, kinds_in
from desktop.models.kpi import returns
from desktop.models.kpi.return_import import import_returns
from desktop.models.workspace import create_workspace

# Invented people with names from Leicester's communities; the staff's names pass even where a patient shares one.
PEOPLE = [
    ("Łukasz", "Wiśniewski-Ağaoğlu", "1950-02-01"),
    ("Hodan", "Warsame", "1941-04-03"),
    ("Siobhán", "Ó Briain", "1936-11-30"),
    ("Bhavnaben", "Mistry", "1944-07-19"),
    ("Mary Ann", "van der Berg", "1930-01-01"),
    ("Seán", "O'Donnell", "1939-09-09"),
    ("Amber", "Green", "1952-06-06"),  # two everyday words, together a patient's name
    ("Grace", "Ashworth", "1944-05-05"),  # a member of staff has the same name
    ("Zoë", "Kettleby", "1947-12-25"),
    ("Ayo", "Adeyemi", "2025-04-01"),  # a young patient, born on a go-live date
]
STAFF = ["Dr Grace Ashworth", "Priya Kettleby", "Sam Hall"]
WORKSPACE = Patients.build(PEOPLE, STAFF)
NUMBER = nhs_number(943_476_591)  # 9434765919

MUST_FLAG = [
    # NHS numbers, however they are written
    (f"Review of {NUMBER} delayed", NHS_NUMBER),
    (f"Review of {spaced(NUMBER, (3, 3, 4), ' ')} delayed", NHS_NUMBER),
    (f"NHS no. {spaced(NUMBER, (3, 3, 4), '-')}", NHS_NUMBER),
    (f"ref {spaced(NUMBER, (4, 3, 3), '.')}", NHS_NUMBER),
    (f"seen {spaced(NUMBER, (3, 3, 4), '/')}", NHS_NUMBER),
    (f"seen {spaced(NUMBER, (3, 3, 4), chr(0xA0))}", NHS_NUMBER),
    (f"seen {spaced(NUMBER, (2, 2, 2, 2, 2), ' ')}", NHS_NUMBER),
    # dates of birth: said to be one, in any common UK form
    ("DOB 01/02/1950", DATE_OF_BIRTH),
    ("dob: 1.2.50", DATE_OF_BIRTH),
    ("d.o.b. 1950-02-01", DATE_OF_BIRTH),
    ("(born 1 Feb 1950)", DATE_OF_BIRTH),
    ("Date of birth - 14 March 1938", DATE_OF_BIRTH),
    ("born 14/03/1938, lives alone", DATE_OF_BIRTH),
    ("DOB 1 April 2025", DATE_OF_BIRTH),
    # ... or a date that is a patient's birth date, whatever it is written beside
    ("Reviewed the man of 3/4/41", DATE_OF_BIRTH),
    ("fell on 25 December 1947", DATE_OF_BIRTH),
    ("1930-01-01 admission", DATE_OF_BIRTH),
    ("December 25, 1947", DATE_OF_BIRTH),
    ("30-Nov-36", DATE_OF_BIRTH),
    # postcodes, whole
    ("Moved to LE11 3QF", POSTCODE),
    ("moved to le11 3qf", POSTCODE),
    ("LE113QF", POSTCODE),
    ("Moved to LE11\u00a03QF", POSTCODE),
    ("address NN1 1AA", POSTCODE),
    ("W1A 1AA", POSTCODE),
    # names from the workspace's list: given and family together, either order, or a titled family name
    ("Review of Hodan Warsame delayed", NAME),
    ("WARSAME, Hodan: review delayed", NAME),
    ("Warsame Hodan", NAME),
    ("hodan warsame", NAME),
    ("Łukasz Wiśniewski-Ağaoğlu", NAME),
    ("Lukasz Wisniewski-Agaoglu", NAME),  # typed without the accents
    ("WIŚNIEWSKI-AĞAOĞLU, Łukasz", NAME),
    ("Lukasz Wisniewski Agaoglu", NAME),  # the hyphen left out
    ("Siobhan O Briain", NAME),
    ("Seán O’Donnell", NAME),  # a curly apostrophe
    ("Mrs Mistry's daughter", NAME),
    ("Hodan Warsame’s review", NAME),
    ("Sean ODonnell", NAME),
    ("Mary van der Berg", NAME),  # the first given name is enough
    ("VAN DER BERG, Mary Ann", NAME),
    ("Mrs Mistry declined", NAME),
    ("Mr. Warsame", NAME),
    ("Zoe Kettleby", NAME),
    ("Amber Green", NAME),
]

MUST_PASS = [
    "3 of 12 homes missed a week in August",
    "1234567890",  # ten digits failing modulus 11
    "Reference 1234567890 from the trust",
    f"{NUMBER[:9]}{(int(NUMBER[9]) + 1) % 10}",  # an NHS number with its check digit wrong
    "LE1",
    "Homes in LE1 and LE11 were slow",
    "Postcode district LE67 only",
    "Q3 2nd week",
    "Seen in W3 3rd week",  # a lower-case ordinal after a district
    "Cohort 4,512 (up 3.2%); 12 of 4500 reviewed on 01/02/2026",
    "Meeting on 01/02/2026 10:30 with 12 34 homes",
    "Live since 01/04/2025 in every home",  # a young patient's birth date, but recent: an event
    "2025-26-Q3 and 2025/26 Q3",
    "Signed 2026-01-12T16:00:00+00:00",
    "Call 0116 295 0000 or 07700 900123",
    "Counts 1.5, 2.25, 3.125 and 44.5%",
    "Matron vacancy covered by agency staff since the start of the quarter; recruitment under way.",
    "Winter pressures: reviews deferred in favour of crisis response; recovery plan agreed with the ICB.",
    "Two case managers on leave.",
    "RAG amber, green next quarter",  # a comma between two words parts them
    "Green homes up; amber down",
    "Mistry",  # a family name alone
    "Warsame and Kettleby homes",
    "Hodan",  # a given name alone
    "Grace Ashworth on leave",  # a member of staff (a patient's namesake)
    "Dr Ashworth covering",
    "Mrs Ashworth covering",
    "Priya Kettleby chased the homes",  # staff
    "Hodan. Warsame",  # a full stop between ends a name
    "Born in 1950s housing",
    "born on the 3rd",  # no whole date
    "DOB field added to the template",
    "New care homes aligned in the quarter (born of the 2023 review)",
]


@pytest.mark.parametrize(("text", "kind"), MUST_FLAG, ids=[t for t, _ in MUST_FLAG])
def test_each_tricky_identifier_is_found(text, kind):
    assert kinds_in(text, WORKSPACE) == [kind]


@pytest.mark.parametrize("text", MUST_PASS)
def test_ordinary_text_passes(text):
    assert kinds_in(text, WORKSPACE) == []


def test_without_the_patient_list_only_what_is_an_identifier_anywhere_is_found():
    """A commissioner's workspace holds no patients: names and unmarked birth dates cannot be known there."""
    assert kinds_in("Hodan Warsame, 3/4/41") == []
    assert kinds_in("Hodan Warsame, DOB 3/4/41, LE11 3QF, " + NUMBER) == [NHS_NUMBER, DATE_OF_BIRTH, POSTCODE]


def test_findings_say_where_each_is_and_a_number_is_not_also_a_date():
    text = f"Hodan Warsame ({spaced(NUMBER, (2, 2, 2, 2, 2), '-')}) at LE11 3QF"
    found = free_text.findings(text, WORKSPACE)
    assert [(f.kind, text[f.start : f.end]) for f in found] == [
        (NAME, "Hodan Warsame"),
        (NHS_NUMBER, spaced(NUMBER, (2, 2, 2, 2, 2), "-")),
        (POSTCODE, "LE11 3QF"),
    ]


def test_a_message_names_the_kind_and_the_field_never_the_identifier():
    found = free_text.found_in(
        {"comment on COH-02": f"Hodan Warsame {NUMBER}", "comment on CH-01": "fine", "comment on CH-02": "LE11 3QF"},
        WORKSPACE,
    )
    said = free_text.describe(found)
    assert said == (
        "The comment on COH-02 holds what looks like an NHS number and a patient's name, and the comment on "
        "CH-02 what looks like a postcode"
    )


def test_the_detector_is_fast_on_a_whole_localitys_list():
    """60,000 patients (every combination of 250 given and 240 family names), and a thousand comments."""
    given = [f"Given{chr(65 + i % 26)}{chr(65 + i // 26)}a" for i in range(250)]
    family = [f"Family{chr(65 + i % 26)}{chr(65 + i // 26)}o" for i in range(240)]
    started = time.perf_counter()
    big = Patients.build((g, f, dt.date(1940, 1, 1) + dt.timedelta(days=n % 9000)) for n, (g, f) in enumerate(
        (g, f) for g in given for f in family
    ))  # fmt: skip
    built = time.perf_counter() - started
    comment = "Winter pressures: reviews deferred in favour of crisis response; 12 of 4500 on 01/02/2026. " * 3
    started = time.perf_counter()
    for _ in range(1000):
        assert kinds_in(comment, big) == []
    assert built < 3 and time.perf_counter() - started < 2


# -- where it is applied: a return's comments ----------------------------------------------------------------
FED = Actor(user="fed.manager", device_id="laptop-5", role="federation manager")
Q = quarters.parse("2025-26-Q4")
TODAY = dt.date(2026, 4, 10)
ENTERED = {"OUT-01": (41, 900), "OUT-02": (120, 900), "OUT-03": (12, 1000), "OUT-04": (30, None)}


@pytest.fixture
def ready(small_world, cha, tmp_path):
    """A Charnwood return of 2025/26 Q4 with nothing blocking its sign-off, after an extract of the PEOPLE."""
    code, mine, _ = cha
    rows = [
        patient(n, mine[0], given_name=g, family_name=f, date_of_birth=dt.date.fromisoformat(b).strftime("%d/%m/%Y"))
        for n, (g, f, b) in enumerate(PEOPLE, start=1)
    ]
    import_extract(small_world, FED, code, write_csv(tmp_path / "x.csv", rows), dt.date(2026, 2, 1))
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    return_id, _ = returns.draft(small_world, FED, loc, Q, TODAY)
    for kpi, (n, d) in ENTERED.items():
        returns.enter(small_world, FED, return_id, kpi, n, d)
    for issue in returns.check(small_world, return_id, TODAY):
        if issue["blocking"] and issue["kpi"]:
            returns.comment(small_world, FED, return_id, issue["kpi"], "Recovery plan agreed with the ICB.")
    assert not [i for i in returns.check(small_world, return_id, TODAY) if i["blocking"]]
    return small_world, return_id


def _hold(db, return_id, kpi, text):
    """Put *text* in a comment as a comment from an older version, or from sync, would arrive: unchecked."""
    db.execute("UPDATE return_values SET comment = ? WHERE return_id = ? AND kpi = ?", [text, return_id, kpi])


def _audit_count(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"Review of {spaced(NUMBER, (3, 3, 4), ' ')} delayed", "an NHS number"),
        ("Moved to LE11 3QF", "a postcode"),
        ("Hodan Warsame's review delayed", "a patient's name"),
        ("Fall on 3 April 1941", "a date of birth"),
    ],
)
def test_sign_off_is_refused_naming_the_kpi_and_the_kind(ready, text, kind):
    db, return_id = ready
    _hold(db, return_id, "CH-02", text)
    before = _audit_count(db)
    with pytest.raises(ValidationError) as caught:
        returns.sign_off(db, FED, return_id, TODAY)
    said = str(caught.value)
    assert f"The comment on CH-02 holds what looks like {kind}, so the return cannot be signed off" in said
    assert caught.value.field == "comment"
    for piece in ("Warsame", "LE11", "3QF", "1941", NUMBER[:3] + " "):
        assert piece not in said
    assert returns.get(db, return_id)["status"] == "draft" and _audit_count(db) == before
    _hold(db, return_id, "CH-02", "Review delayed by the home")
    returns.sign_off(db, FED, return_id, TODAY)
    assert returns.get(db, return_id)["status"] == "signed_off"


def test_a_name_is_kept_in_the_draft_with_a_warning_but_an_nhs_number_is_refused_as_written(ready):
    db, return_id = ready
    returns.comment(db, FED, return_id, "CH-02", "WARSAME, Hodan: review delayed")  # the screen warns
    assert returns.comment_identifiers(db, returns.values(db, return_id)["CH-02"]["comment"]) == [NAME]
    for refused in (f"Seen {NUMBER}", "at LE11 3QF", "DOB 03/04/1941"):
        with pytest.raises(ValidationError, match="The comment on CH-01 holds what looks like") as caught:
            returns.comment(db, FED, return_id, "CH-01", refused)
        assert caught.value.field == "comment"
    assert returns.values(db, return_id)["CH-01"]["comment"] != "at LE11 3QF"
    with pytest.raises(ValidationError, match="CH-02 holds what looks like a patient's name"):
        returns.sign_off(db, FED, return_id, TODAY)


def test_every_comment_holding_one_is_named(ready):
    db, return_id = ready
    _hold(db, return_id, "CH-02", "Hodan Warsame")
    _hold(db, return_id, "COH-02", f"Seen {NUMBER}")
    with pytest.raises(ValidationError) as caught:
        returns.sign_off(db, FED, return_id, TODAY)
    said = str(caught.value)  # in the catalogue's order
    assert (
        "comment on CH-02 holds what looks like a patient's name, and the comment on COH-02 what looks like an "
        "NHS number, so the return cannot be signed off" in said
    )


def test_export_is_refused_too_even_of_a_return_signed_off_before_the_patient_joined(ready, small_world, cha, tmp_path):
    db, return_id = ready
    returns.comment(db, FED, return_id, "CH-02", "Ayaan Farah's home declined the round")
    returns.sign_off(db, FED, return_id, TODAY)  # nobody of that name in the workspace yet
    code, mine, _ = cha
    joined = [patient(50, mine[0], given_name="Ayaan", family_name="Farah")]
    import_extract(db, FED, code, write_csv(tmp_path / "y.csv", joined), dt.date(2026, 4, 1))
    out = tmp_path / "r.json"
    with pytest.raises(ValidationError) as caught:
        returns.export(db, FED, return_id, out, "0.1.0")
    said = str(caught.value)
    assert "comment on CH-02 holds what looks like a patient's name, so the return cannot be exported" in said
    assert "Reopen the return" in said and "Farah" not in said
    assert not out.exists() and returns.get(db, return_id)["status"] == "signed_off"


def test_the_command_line_export_exits_1_naming_the_kpi(ready, small_world_path, tmp_path, capsys):
    """The issue's case: a signed-off return whose comment names a patient (arrived by sync, say) was exported
    with exit 0."""
    from desktop.cli import main

    db, return_id = ready
    returns.sign_off(db, FED, return_id, TODAY)
    _hold(db, return_id, "COH-02", f"Hodan Warsame, {spaced(NUMBER, (3, 3, 4), ' ')}, LE11 3QF")
    out = tmp_path / "r.json"
    args = ["return", "export", "--db", str(small_world_path), "--locality", "CHA", "--quarter", Q.code]
    assert main([*args, "--out", str(out)]) == 1
    said = capsys.readouterr().err
    assert "comment on COH-02 holds what looks like an NHS number, a postcode and a patient's name" in said
    assert "Warsame" not in said and "LE11" not in said and not out.exists()


def test_a_draft_export_is_refused(ready, tmp_path):
    db, return_id = ready
    _hold(db, return_id, "CH-02", "Zoe Kettleby fell")
    with pytest.raises(ValidationError, match="Edit the comment, then export again"):
        returns.export(db, FED, return_id, tmp_path / "d.json", "0.1.0", allow_draft=True)
    assert not (tmp_path / "d.json").exists()


def test_the_locality_reports_comments_are_checked_the_same_way(ready):
    """What the locality report's export calls before it prints the comments of a draft."""
    db, return_id = ready
    comments = {code: row["comment"] for code, row in returns.values(db, return_id).items()}
    returns.refuse_identifiers(db, comments, "the report cannot be exported", "Edit the comment.")
    comments["CH-02"] = "Mrs Mistry declined"
    with pytest.raises(ValidationError, match="comment on CH-02 holds what looks like a patient's name, so the report"):
        returns.refuse_identifiers(db, comments, "the report cannot be exported", "Edit the comment.")


def test_the_locality_report_of_a_draft_refuses_a_comment_naming_a_patient(ready, tmp_path):
    from desktop.reports import locality_report

    db, return_id = ready
    _hold(db, return_id, "CH-02", "Mrs Mistry declined")
    out = tmp_path / "report.pdf"
    with pytest.raises(ValidationError, match="comment on CH-02 holds what looks like a patient's name"):
        locality_report.export(db, FED, "CHA", Q, out, today=TODAY)
    assert not out.exists()


def test_the_patient_list_is_read_again_when_it_changes(ready, cha, tmp_path):
    db, _ = ready
    assert free_text.patients_of(db) is free_text.patients_of(db)  # held while nothing changes
    assert kinds_in("Ayaan Farah", free_text.patients_of(db)) == []
    code, mine, _ = cha
    import_extract(
        db,
        FED,
        code,
        write_csv(tmp_path / "z.csv", [patient(60, mine[0], given_name="Ayaan", family_name="Farah")]),
        dt.date(2026, 4, 2),
    )
    assert kinds_in("Ayaan Farah", free_text.patients_of(db)) == [NAME]  # a new run's cohort
    # A care-home resident added, then renamed: each write stamps the row, as every write of the app does.
    home = db.execute("SELECT id FROM care_homes LIMIT 1").fetchone()[0]
    stamp = {"created_at": "2026-04-03T09:00:00+00:00", "updated_by": "t", "device_id": "d"}
    person = {
        "nhs_number": synthetic_nhs(61),
        "given_name": "Idris",
        "family_name": "Nwosu",
        "date_of_birth": "1931-05-17",
    }
    db["residents"].insert(
        {
            "id": "r1",
            "care_home_id": home,
            **person,
            "admitted_on": "2026-01-05",
            "updated_at": stamp["created_at"],
            **stamp,
        }
    )
    assert kinds_in("Idris Nwosu", free_text.patients_of(db)) == [NAME]
    db["residents"].update("r1", {"family_name": "Nwosa", "updated_at": "2026-04-03T10:00:00+00:00"})
    assert kinds_in("Idris Nwosa", free_text.patients_of(db)) == [NAME]
    assert kinds_in("Idris Nwosu", free_text.patients_of(db)) == []


# -- the commissioner's import -------------------------------------------------------------------------------
def test_the_commissioners_import_refuses_a_date_said_to_be_a_birth(tmp_path):
    db = create_workspace(tmp_path / "icb.sqlite", "commissioner")
    try:
        made = return_doc()
        made["values"][3]["comment"] = "Delay for the lady with DOB 03/04/1941"
        outcomes, _ = import_returns(db, Actor("commissioner", "icb"), [write(tmp_path / "r.json", made)])
        got = outcomes[0]
        assert (got.status, got.code) == ("rejected", "patient-data")
        assert "a date of birth" in got.reason and "1941" not in got.reason
        assert json.loads((tmp_path / "r.json").read_text())["values"][3]["comment"].endswith("1941")
    finally:
        db.close()
