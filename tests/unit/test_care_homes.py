"""Care homes (EHCH): the working-day PCSP rule, the register's gaps, visits with actions, the round grid."""

from __future__ import annotations

import datetime as dt

import pytest
from extract_helpers import synthetic_nhs

from desktop.models import audit, quarters, reference
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.errors import ValidationError
from desktop.models.mdt import actions
from desktop.models.working_days import add_working_days, is_working_day

ACTOR = Actor(user="matron.b", device_id="laptop-9")
TODAY = dt.date(2026, 1, 20)


def test_seven_working_days_skip_weekends_and_england_bank_holidays():
    # Friday 19 December 2025: Christmas, Boxing Day and New Year's Day all fall in the next fortnight.
    assert add_working_days(dt.date(2025, 12, 19), 7) == dt.date(2026, 1, 2)
    # An ordinary week: Monday 2 March 2026 + 7 working days = Wednesday 11 March.
    assert add_working_days(dt.date(2026, 3, 2), 7) == dt.date(2026, 3, 11)
    # Easter 2026: Good Friday 3 April and Easter Monday 6 April are not working days.
    assert not is_working_day(dt.date(2026, 4, 3)) and not is_working_day(dt.date(2026, 4, 6))
    assert add_working_days(dt.date(2026, 4, 1), 7) == dt.date(2026, 4, 14)


def test_quarters():
    q = quarters.parse("2025-26-Q3")
    assert (q.start, q.end, q.label) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31), "2025/26 Q3")
    assert quarters.parse("2025-26-Q4").end == dt.date(2026, 3, 31)
    assert quarters.of(dt.date(2026, 2, 1)).code == "2025-26-Q4"
    assert quarters.of(dt.date(2026, 4, 1)).code == "2026-27-Q1"
    # Weeks ending (Sunday) in the quarter: 5 Oct (from Mon 29 Sep) to 28 Dec; the week ending 4 Jan is Q4's.
    assert q.weeks()[0] == dt.date(2025, 9, 29) and q.weeks()[-1] == dt.date(2025, 12, 22) and len(q.weeks()) == 13
    with pytest.raises(ValidationError):
        quarters.parse("2025-27-Q3")
    with pytest.raises(ValidationError):
        quarters.parse("Q5")


@pytest.fixture
def home(small_world):
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    home = next(iter(small_world.query("SELECT * FROM care_homes WHERE locality_id = ? ORDER BY name LIMIT 1", [loc])))
    gp = small_world.execute(
        "SELECT id FROM staff WHERE locality_id = ? AND role = 'GP' ORDER BY name", [loc]
    ).fetchone()[0]
    return small_world, loc, home, gp


def admit(db, home_id, n, admitted="2025-12-19", **over):
    values = {
        "nhs_number": synthetic_nhs(n),
        "given_name": f"Res{n}",
        "family_name": f"Ident{n}",
        "date_of_birth": "1930-05-01",
        "admitted_on": admitted,
        **over,
    }
    return residents.save(db, ACTOR, home_id, values, today=TODAY)[0]


def test_pcsp_timeliness_across_christmas(home):
    db, _, h, _ = home
    on_time = admit(db, h["id"], 1, pcsp_on="2026-01-02")
    late = admit(db, h["id"], 2, pcsp_on="2026-01-05")
    missing = admit(db, h["id"], 3)
    fresh = admit(db, h["id"], 4, admitted="2026-01-16")
    status = {r["id"]: r["pcsp_status"] for r in residents.listing(db, h["id"], today=TODAY)}
    assert status == {on_time: "on time", late: "late", missing: "overdue", fresh: "due"}
    summary = residents.pcsp_timeliness(db, [h["id"]], dt.date(2025, 12, 1), dt.date(2026, 1, 31), TODAY)
    # The one admitted on 16 January is still within its 7 working days: not yet due, so not yet counted.
    counts = ("admissions", "on_time", "late", "overdue", "pending")
    assert tuple(summary[k] for k in counts) == (3, 1, 1, 1, 1)
    assert dict(zip([r["id"] for r in summary["residents"]], summary["statuses"], strict=True))[fresh] == "not yet due"
    # a re-admission restarts the clock
    residents.save(
        db,
        ACTOR,
        h["id"],
        {**residents.get(db, late), "readmitted_on": "2026-01-12", "pcsp_on": "2026-01-20"},
        late,
        today=TODAY,
    )
    assert residents.listing(db, h["id"], today=TODAY)[1]["pcsp_status"] == "on time"


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"nhs_number": "1234567890"}, "nhs_number"),
        ({"family_name": ""}, "family_name"),
        ({"admitted_on": ""}, "admitted_on"),
        ({"admitted_on": "2026-02-01"}, "admitted_on"),
        ({"pcsp_on": "2025-12-01"}, "pcsp_on"),
        ({"eol_plan_on": "2026-01-01"}, "eol_plan_on"),
    ],
)
def test_bad_resident_records_are_refused(home, over, field):
    db, _, h, _ = home
    with pytest.raises(ValidationError) as caught:
        admit(db, h["id"], 1, **over)
    assert caught.value.field == field
    assert db.execute("SELECT COUNT(*) FROM residents").fetchone()[0] == 0


def test_register_gaps_one_home_one_lead(home):
    db, loc, h, gp = home
    reference.save(db, ACTOR, "care_homes", {**h, "clinical_lead_id": None, "aligned_practice_id": None}, h["id"])
    gaps = {g["id"]: g["problems"] for g in visits.register_gaps(db, loc)}
    assert gaps[h["id"]] == ["no named clinical lead", "not aligned to a practice"]
    practice = db.execute("SELECT id FROM practices WHERE locality_id = ? LIMIT 1", [loc]).fetchone()[0]
    reference.save(db, ACTOR, "care_homes", {**h, "clinical_lead_id": gp, "aligned_practice_id": practice}, h["id"])
    assert h["id"] not in {g["id"] for g in visits.register_gaps(db, loc)}


def test_a_visit_with_outcomes_and_follow_up_actions_lands_whole(home):
    db, loc, h, gp = home
    a, b = admit(db, h["id"], 1), admit(db, h["id"], 2)
    visit_id, _ = visits.log_visit(
        db,
        ACTOR,
        h["id"],
        "2026-01-14",
        "weekly home round",
        gp,
        residents=[
            {"resident_id": a, "outcome": "managed in the home"},
            {"resident_id": b, "outcome": "transferred to hospital", "note": "Suspected sepsis"},
        ],
        follow_ups=[
            {
                "description": "Update the PCSP after discharge",
                "owner_name": "Home manager",
                "owner_organisation": "care home",
                "due_date": "2026-01-28",
                "resident_id": b,
            }
        ],
        today=TODAY,
    )
    visit = visits.get(db, visit_id)
    assert [r["outcome"] for r in visit["residents"]] == ["managed in the home", "transferred to hospital"]
    assert len(visit["actions"]) == 1 and visit["actions"][0]["reference"] == "CHA-2026-0001"
    log = actions.listing(db, loc, actions.ActionFilter(text="PCSP after discharge"), TODAY)
    assert len(log) == 1
    assert "1 actions" in audit.entries(db, "visits", visit_id)[0]["summary"]


def test_a_bad_visit_writes_nothing(home):
    db, _, h, gp = home
    a = admit(db, h["id"], 1)
    other = db.execute("SELECT id FROM care_homes WHERE id != ? LIMIT 1", [h["id"]]).fetchone()[0]
    stranger = admit(db, other, 2)
    cases = [
        dict(visited_on="2026-03-01"),
        dict(kind="picnic"),
        dict(residents=[{"resident_id": stranger, "outcome": "referred on"}]),
        dict(residents=[{"resident_id": a, "outcome": "cured"}]),
        dict(
            follow_ups=[
                {"description": "", "owner_name": "X", "owner_organisation": "care home", "due_date": "2026-02-01"}
            ]
        ),
    ]
    for case in cases:
        args = {"visited_on": "2026-01-14", "kind": "reactive visit", **case}
        with pytest.raises(ValidationError):
            visits.log_visit(db, ACTOR, h["id"], args.pop("visited_on"), args.pop("kind"), gp, today=TODAY, **args)
    assert db.execute("SELECT COUNT(*) FROM visits").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM actions").fetchone()[0] == 0


def test_round_grid_shows_missed_weeks(home):
    db, loc, h, gp = home
    q = quarters.parse("2025-26-Q4")  # January to March 2026
    for day in ("2026-01-06", "2026-01-13", "2026-01-14"):  # week 2 twice, week 3 missed
        visits.log_visit(db, ACTOR, h["id"], day, "weekly home round", gp, today=TODAY)
    visits.log_visit(db, ACTOR, h["id"], "2026-01-08", "reactive visit", gp, today=TODAY)
    grid = visits.round_grid(db, loc, q, today=TODAY)
    row = next(r for r in grid["homes"] if r["id"] == h["id"])
    assert grid["weeks"][0] == dt.date(2025, 12, 29)
    assert [len(c) for c in row["cells"][:4]] == [0, 1, 2, 0]
    # Three weeks are over; the week of 19 January is under way with no round yet, so it is not a miss.
    assert row["due"] == 3 and row["covered"] == 2
    visits.log_visit(db, ACTOR, h["id"], "2026-01-19", "weekly home round", gp, today=TODAY)
    row = next(r for r in visits.round_grid(db, loc, q, today=TODAY)["homes"] if r["id"] == h["id"])
    assert row["due"] == 4 and row["covered"] == 3


def test_care_home_report_pdf_holds_the_facts_and_is_audited(home, tmp_path):
    from pypdf import PdfReader

    from desktop.cli import main

    db, loc, h, gp = home
    a = admit(db, h["id"], 1, admitted="2026-01-05", pcsp_on="2026-01-20")
    visits.log_visit(
        db,
        ACTOR,
        h["id"],
        "2026-01-14",
        "weekly home round",
        gp,
        residents=[{"resident_id": a, "outcome": "referred on"}],
        follow_ups=[
            {
                "description": "Refer to tissue viability",
                "owner_name": "Nurse",
                "owner_organisation": "community health",
                "due_date": "2026-01-28",
            }
        ],
        today=TODAY,
    )
    path = db.execute("PRAGMA database_list").fetchone()[2]
    out = tmp_path / "home.pdf"
    assert (
        main(["report", "care-home", "--db", path, "--home", h["cqc_id"], "--quarter", "2025-26-Q4", "--out", str(out)])
        == 0
    )
    pages = PdfReader(out).pages
    text = "\n".join(page.extract_text() for page in pages)
    assert h["name"] in text and "2025/26 Q4" in text
    assert all("OFFICIAL-SENSITIVE" in page.extract_text() for page in pages)
    assert "IDENT1, Res1" in text and "Refer to tissue viability" in text
    assert "late" in text  # the PCSP on 20 January was due on 14 January
    assert audit.entries(db, "care_homes", h["id"])[0]["action"] == "export"
    assert (
        main(
            [
                "report",
                "care-home",
                "--db",
                path,
                "--home",
                "1-000000000",
                "--quarter",
                "2025-26-Q4",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 1
    )
    assert (
        main(
            [
                "report",
                "care-home",
                "--db",
                path,
                "--home",
                h["cqc_id"],
                "--quarter",
                "Q9",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 1
    )


def test_the_visit_report_counts_pcsps_by_ch03s_rule(home, tmp_path):
    """Issue 24.6: the report said "0 of 1 admissions (0%)" for a resident still inside their 7 working days,
    which CH-03 leaves out. Both now count by residents.pcsp_standing: an admission counts in the quarter its
    PCSP falls due in, once that day has come; the rest of the quarter's admissions are shown apart."""
    from pypdf import PdfReader

    from desktop.models.kpi import compute as kpi_compute
    from desktop.reports import care_home_report

    db, loc, h, _ = home
    q = quarters.parse("2025-26-Q4")  # under way on TODAY, 20 January 2026

    def ch03() -> tuple[float | None, float | None]:
        figure = next(f for f in kpi_compute.compute(db, loc, q, TODAY) if f.kpi == "CH-03")
        return figure.numerator, figure.denominator

    def report(quarter: quarters.Quarter) -> dict:
        homes = [r[0] for r in db.execute("SELECT id FROM care_homes WHERE locality_id = ?", [loc])]
        return residents.pcsp_timeliness(db, homes, quarter.start, quarter.end, TODAY)

    before = ch03()
    summary = report(q)
    assert (summary["on_time"], summary["admissions"]) == before  # the same figure, home by home summed
    admit(db, h["id"], 1, admitted="2026-01-05", pcsp_on="2026-01-09")  # due 14 January: on time
    admit(db, h["id"], 2, admitted="2026-01-16")  # due 27 January: not yet
    admit(db, h["id"], 3, admitted="2026-01-19", pcsp_on="2026-01-20")  # done early, but not due till 28th
    summary = report(q)
    assert ch03() == (before[0] + 1, before[1] + 1) == (summary["on_time"], summary["admissions"])
    # Seen after the quarter, an admission of 26 March is left to Q1 2026-27 (due 8 April, after Easter).
    assert (
        residents.pcsp_standing({"admitted_on": "2026-03-26"}, q.start, q.end, dt.date(2026, 5, 1)) == residents.PENDING
    )
    assert residents.pcsp_standing(
        {"admitted_on": "2026-03-26"}, q.next().start, q.next().end, dt.date(2026, 5, 1)
    ) == ("overdue")

    out = tmp_path / "home.pdf"
    care_home_report.build_report(db, care_home_report.find_home(db, h["cqc_id"]), q, out, TODAY)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(out).pages).split())
    own = residents.pcsp_timeliness(db, [h["id"]], q.start, q.end, TODAY)
    assert own["pending"] >= 2
    assert (
        f"{own['on_time']} of {own['admissions']} admissions" in text
        and f"{own['pending']} more admitted recently, PCSP not yet due" in text
    )
    assert "not yet due" in text and "IDENT2, Res2" in text
