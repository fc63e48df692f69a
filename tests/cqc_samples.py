"""Writes the invented CQC care-directory samples in tests/data/reference/ (`python tests/cqc_samples.py`; the
outputs are committed). Invented homes only, in CQC's published "care directory with filters" layout."""
# ruff: noqa: E501 - one invented home to a line reads as the table it is

import csv
from pathlib import Path

from openpyxl import Workbook

OUT = Path(__file__).resolve().parent / "data" / "reference"
NOTES = [
    ["Care directory with filters"],
    ["Data as at: 01 November 2026 (invented sample for Locality Desk's tests, in CQC's published layout)"],
    ["This file lists active registered locations. Ratings are the latest overall rating published."],
    [],
]
HEAD = [
    "Location ID",
    "Location Name",
    "Location ODS Code",
    "Care home?",
    "Location Telephone Number",
    "Registered manager",
    "Location Web Address",
    "Care homes beds",
    "Location Type/Sector",
    "Location Latest Overall Rating",
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location County",
    "Location Postal Code",
    "Location Local Authority",
    "Location Region",
    "Location HSCA start date",
    "Provider ID",
    "Provider Name",
    "Service type - Care home service with nursing",
    "Service type - Care home service without nursing",
    "Service type - Domiciliary care service",
    "Service user band - Dementia",
    "Service user band - Learning disabilities or autistic spectrum disorder",
    "Service user band - Older People",
    "Service user band - Younger Adults",
]
ROWS = [
    # id, name, carehome, beds, rating, street, line2, city, county, postcode, LA, start, provider, nursing, without, dom, dementia, ld, older, younger
    (
        "1-900000001",
        "Bramble Court Care Home",
        "Y",
        42,
        "Good",
        "12 Orchard Lane",
        "",
        "Leicester",
        "Leicestershire",
        "LE2 1ZZ",
        "Leicester",
        "2012-03-01",
        "Bramble Care Ltd",
        "Y",
        "",
        "",
        "Y",
        "",
        "Y",
        "",
    ),
    (
        "1-900000002",
        "Heron House",
        "Y",
        28,
        "Requires improvement",
        "3 Mill Road",
        "Quorn",
        "Loughborough",
        "Leicestershire",
        "LE12 9ZZ",
        "Leicestershire",
        "2015-07-14",
        "Heron Homes Ltd",
        "",
        "Y",
        "",
        "Y",
        "",
        "Y",
        "",
    ),
    (
        "1-900000003",
        "Oakley Grange Nursing Home",
        "Y",
        60,
        "Outstanding",
        "The Grange",
        "Main Street",
        "Oakham",
        "Rutland",
        "LE15 9ZZ",
        "Rutland",
        "2010-10-01",
        "Oakley Healthcare plc",
        "Y",
        "Y",
        "",
        "Y",
        "",
        "Y",
        "Y",
    ),
    (
        "1-900000004",
        "Willow View",
        "Y",
        8,
        "Good",
        "45 Field Road",
        "",
        "Hinckley",
        "Leicestershire",
        "LE10 9ZZ",
        "Leicestershire",
        "2018-01-22",
        "Willow Support",
        "",
        "Y",
        "",
        "",
        "Y",
        "",
        "Y",
    ),
    (
        "1-900000005",
        "Riverside Home Care",
        "N",
        "",
        "Good",
        "Unit 4, Trade Park",
        "",
        "Leicester",
        "Leicestershire",
        "LE4 9ZZ",
        "Leicester",
        "2016-05-05",
        "Riverside Home Care Ltd",
        "",
        "",
        "Y",
        "",
        "",
        "Y",
        "",
    ),
    (
        "1-900000006",
        "Lindens Care Home",
        "Y",
        35,
        "Good",
        "1 Linden Close",
        "",
        "Nottingham",
        "Nottinghamshire",
        "NG1 9ZZ",
        "Nottingham",
        "2011-09-09",
        "Linden Group",
        "",
        "Y",
        "",
        "Y",
        "",
        "Y",
        "",
    ),
]


def table():
    out = []
    for r in ROWS:
        (i, n, ch, beds, rating, st, l2, city, county, pc, la, start, prov, nur, wo, dom, dem, ld, old, yng) = r
        out.append(
            [
                i,
                n,
                "",
                ch,
                "01160000000",
                "",
                "",
                beds,
                "Social Care Org",
                rating,
                st,
                l2,
                city,
                county,
                pc,
                la,
                "East Midlands",
                start,
                "1-" + i[2:].replace("9", "8", 1),
                prov,
                nur,
                wo,
                dom,
                dem,
                ld,
                old,
                yng,
            ]
        )
    return out


with (OUT / "cqc-care-directory-sample.csv").open("w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerows(NOTES)
    w.writerow(HEAD)
    w.writerows(table())

book = Workbook()
info = book.active
info.title = "Notes"
info.append(["About this file: an invented sample in the layout of CQC's care directory with filters."])
sheet = book.create_sheet("HSCA_Active_Locations")
for r in NOTES:
    sheet.append(r)
sheet.append(HEAD)
for r in table():
    sheet.append([c if c != "" else None for c in r])
book.save(OUT / "cqc-care-directory-sample.xlsx")
