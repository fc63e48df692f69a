"""The one face every report prints in: DejaVu Sans Condensed, shipped in resources/fonts/ and embedded in each PDF.

reportlab's built-in Helvetica covers Latin-1 only, so a Polish, Turkish, Vietnamese, Greek or Cyrillic name
came out with boxes for letters (WIŚNIEWSKI as WI■NIEWSKI), and a garbled name on a clinical paper risks the
wrong patient (issue 20). DejaVu Sans has all of these; reportlab embeds the subset of glyphs a PDF uses with
a ToUnicode map, so a name also searches and copies back as typed. The files are found through
desktop.paths.resources_dir, which points into the bundle in the PyInstaller build.

Importing this module registers the faces, once; the names below are what styles and charts ask for."""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from ..paths import resources_dir

# The condensed cut: its widths match Helvetica's within 1 % (bold within 8 %), so the tables and charts laid
# out for Helvetica keep their lines and pages; it covers exactly the characters the normal width does.
REGULAR = "DejaVuSansCondensed"
BOLD = "DejaVuSansCondensed-Bold"
OBLIQUE = "DejaVuSansCondensed-Oblique"
BOLD_OBLIQUE = "DejaVuSansCondensed-BoldOblique"
FILES = {face: f"{face}.ttf" for face in (REGULAR, BOLD, OBLIQUE, BOLD_OBLIQUE)}


def register() -> None:
    """Register the faces with reportlab and tie them into a family, so <b> and <i> in a paragraph's markup
    pick the bold and oblique files (<b> in an oblique style, bold oblique). Safe to call again."""
    if REGULAR in pdfmetrics.getRegisteredFontNames():
        return
    folder = resources_dir() / "fonts"
    for name, file in FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=OBLIQUE, boldItalic=BOLD_OBLIQUE)


register()
