"""Every PDF renders every name (issue 20, point 1): the reports print in DejaVu Sans Condensed, shipped in
resources/fonts/ and embedded, so names in Latin Extended-A/B, Vietnamese, Greek and Cyrillic, with apostrophes
and hyphens, extract back from the MDT pack and the care-home report exactly as they were typed, and no letter
is drawn as the missing-glyph box.

How a box is caught: reportlab gives a character its TrueType face lacks code 0 of the embedded subset, the
.notdef glyph (ttfonts.TTFont.splitString). So every text-showing operator is read with the font selected at
that point; text in a non-embedded base-14 font (Helvetica, which covers Latin-1 only) or a 0 byte in a
DejaVu subset is a letter the reader does not see."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import pytest
from extract_helpers import patient, synthetic_nhs, write_csv
from pinned import TODAY as DEMO_TODAY
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from worlds import copy_world

from desktop.models import quarters
from desktop.models.care_homes import residents, visits
from desktop.models.clock import Actor
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.identifiers import patient_id
from desktop.models.kpi import consolidated
from desktop.models.mdt import meetings
from desktop.paths import resources_dir
from desktop.reports import care_home_report, fonts, locality_report, mdt_pack, system_report

ACTOR = Actor(user="chair.gp", device_id="laptop-3")

# (given name, family name), as a Leicester practice system might hold them.
NAMES = [
    ("Łukasz", "Wiśniewski-Ałaoğlu"),  # Polish and Turkish: Latin Extended-A
    ("Miloš", "Ǆoković"),  # the DŽ digraph, Latin Extended-B
    ("Şükrü", "Yılmaz"),  # dotless ı, s-cedilla
    ("Thị Ánh", "Nguyễn"),  # Vietnamese stacked diacritics, Latin Extended Additional
    ("Văn Đức", "Trương"),  # ư and Đ: Extended-B and -A
    ("Ștefania", "Țurcanu"),  # Romanian comma-below letters, Extended-B
    ("Ελένη", "Παπαδόπουλος"),  # Greek
    ("Анастасия", "Кузнецова"),  # Cyrillic
    ("Siobhán", "O'Dónaill"),  # Irish, straight apostrophe
    ("Pádraig", "Ó’Súilleabháin"),  # typographic apostrophe, as pasted from a letter
    ("Aoife", "Ní Bhriain-Smith"),  # space and hyphen inside the family name
    ("Cabdiraxmaan", "Ma'allin Xuseen"),  # Somali in Latin script
    ("Hemlataben", "Chauhan-Mistry"),  # Gujarati-origin, Latin script
    ("Zoe\u0308", "Lefe\u0300vre"),  # typed with combining accents (NFD): prints as Zoë Lefèvre
]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def flat(text: str) -> str:
    """NFC, with each run of white space (a wrapped line, a cell break) as one space."""
    return " ".join(nfc(text).split())


def listed(given: str, family: str) -> str:
    """A name as the pack and the report list it: FAMILY, Given."""
    return flat(f"{family.upper()}, {given}")


def text_of(path) -> str:
    return flat("\n".join(page.extract_text() for page in PdfReader(path).pages))


def drawn_text(path) -> list[tuple[str, bytes]]:
    """(BaseFont, bytes) of every string a page's content stream draws, with the font selected at that point."""
    runs = []
    reader = PdfReader(path)
    for page in reader.pages:
        fonts_here = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
        current = None
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                current = fonts_here[operands[0]]["/BaseFont"]
            elif operator in (b"Tj", b"'", b'"'):
                runs.append((current, bytes(operands[-1].original_bytes)))
            elif operator == b"TJ":
                runs += [(current, bytes(s.original_bytes)) for s in operands[0] if hasattr(s, "original_bytes")]
    return [(font, data) for font, data in runs if data]


def assert_every_letter_drawn(path) -> None:
    runs = drawn_text(path)
    assert runs
    faces = {font for font, _ in runs}
    assert all(re.fullmatch(r"/[A-Z]{6}\+DejaVuSansCondensed(-Bold|-Oblique|-BoldOblique)?", f) for f in faces), faces
    boxes = [(font, data) for font, data in runs if b"\x00" in data]
    assert not boxes, f"drawn with the missing-glyph box: {boxes[:3]}"
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/BaseFont"] in faces:
                assert "/FontFile2" in font["/FontDescriptor"], f"{font['/BaseFont']} is not embedded"


def fonts_referenced(path) -> set[str]:
    pages = PdfReader(path).pages
    return {font.get_object()["/BaseFont"] for page in pages for font in page["/Resources"]["/Font"].values()}


def test_the_face_holds_every_letter_of_every_name():
    for face in fonts.FILES:
        glyphs = pdfmetrics.getFont(face).face.charToGlyph
        for given, family in NAMES:
            for text in (nfc(f"{given} {family}"), listed(given, family)):
                missing = [c for c in text if ord(c) not in glyphs]
                assert not missing, (face, text, missing)


def test_the_fonts_and_their_licence_ship_in_resources():
    folder = resources_dir() / "fonts"
    for face, file in fonts.FILES.items():
        assert (folder / file).is_file()
        assert pdfmetrics.getFont(face).face.filename == str(folder / file)
    assert "Bitstream Vera" in (folder / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")


def test_a_missing_glyph_is_caught(tmp_path):
    """The check is not vacuous: a name in Gujarati script, which DejaVu lacks, is drawn as boxes and found."""
    out = tmp_path / "gujarati.pdf"
    c = Canvas(str(out), initialFontName=fonts.REGULAR)
    c.setFont(fonts.REGULAR, 10)
    c.drawString(50, 700, "ભાવના Patel")
    c.save()
    with pytest.raises(AssertionError, match="missing-glyph box"):
        assert_every_letter_drawn(out)
    helvetica = tmp_path / "helvetica.pdf"
    c = Canvas(str(helvetica))
    c.setFont("Helvetica", 10)
    c.drawString(50, 700, "WIŚNIEWSKI-AŁAOĞLU, Łukasz")
    c.save()
    assert listed("Łukasz", "Wiśniewski-Ałaoğlu") not in text_of(helvetica)
    with pytest.raises(AssertionError, match="Helvetica"):
        assert_every_letter_drawn(helvetica)


def test_the_mdt_pack_prints_every_name_as_typed(small_world, cha, tmp_path):
    code, practices, _ = cha
    rows = [
        patient(n, practices[n % 2], given_name=given, family_name=family)
        for n, (given, family) in enumerate(NAMES, start=1)
    ]
    import_extract(small_world, ACTOR, code, write_csv(tmp_path / "names.csv", rows), dt.date(2026, 10, 1))
    loc = small_world.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
    attendees = [
        {"name": f"{given} {family}", "role": "GP", "organisation": "primary care"} for given, family in NAMES[:6]
    ]
    meeting, _ = meetings.create(small_world, ACTOR, loc, "2026-10-22", attendees=attendees)
    pids = [patient_id(int(synthetic_nhs(n))) for n in range(1, len(NAMES) + 1)]
    meetings.add_patients(small_world, ACTOR, meeting, pids, "new this run")

    out = mdt_pack.export(small_world, ACTOR, meeting, tmp_path / "pack.pdf", today=dt.date(2026, 10, 20))

    text = text_of(out)
    for given, family in NAMES:
        assert listed(given, family) in text, listed(given, family)
    for a in attendees:
        assert flat(a["name"]) in text, a["name"]
    assert "LEFÈVRE, Zoë" in text
    # printed precomposed: reportlab would set a combining accent beside its letter, not over it
    assert not any(unicodedata.combining(c) for page in PdfReader(out).pages for c in page.extract_text())
    assert_every_letter_drawn(out)
    assert not any("Helvetica" in f for f in fonts_referenced(out))


def test_the_care_home_report_prints_every_resident_as_typed(small_world, tmp_path):
    today = dt.date(2026, 1, 20)
    loc = small_world.execute("SELECT id FROM localities WHERE code = 'CHA'").fetchone()[0]
    home = next(iter(small_world.query("SELECT * FROM care_homes WHERE locality_id = ? ORDER BY name LIMIT 1", [loc])))
    gp = small_world.execute(
        "SELECT id FROM staff WHERE locality_id = ? AND role = 'GP' ORDER BY name", [loc]
    ).fetchone()[0]
    ids = [
        residents.save(
            small_world,
            ACTOR,
            home["id"],
            {
                "nhs_number": synthetic_nhs(n),
                "given_name": given,
                "family_name": family,
                "date_of_birth": "1931-02-11",
                "admitted_on": "2026-01-05",
            },
            today=today,
        )[0]
        for n, (given, family) in enumerate(NAMES, start=1)
    ]
    visits.log_visit(
        small_world,
        ACTOR,
        home["id"],
        "2026-01-14",
        "weekly home round",
        gp,
        residents=[{"resident_id": r, "outcome": "managed in the home"} for r in ids],
        today=today,
    )

    out = care_home_report.export(
        small_world, ACTOR, home["cqc_id"], quarters.parse("2025-26-Q4"), tmp_path / "home.pdf", today=today
    )

    text = text_of(out)
    for given, family in NAMES:
        assert text.count(listed(given, family)) == 2, listed(given, family)  # residents reviewed and PCSPs
    assert_every_letter_drawn(out)
    assert not any("Helvetica" in f for f in fonts_referenced(out))


def test_the_locality_and_system_reports_draw_no_letter_outside_the_shipped_face(history_world_template, tmp_path):
    """The aggregate reports name no patient, but their comments, team and home names, symbols (≥, ✓, →, φ)
    and chart labels go through the same face."""
    db = open_workspace(copy_world(history_world_template, tmp_path / "w.sqlite"))
    try:
        local = locality_report.export(
            db, ACTOR, "CHA", quarters.parse("2026-27-Q2"), tmp_path / "cha.pdf", today=DEMO_TODAY
        )
        system = tmp_path / "system.pdf"
        system_report.export(db, ACTOR, consolidated.held_quarters(db)[-1], system)
    finally:
        db.close()
    for out in (local, system):
        assert_every_letter_drawn(out)
