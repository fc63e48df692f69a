"""packaging/icu_data.py, which makes the Linux build's English-only ICU data library, read against the ICU data the
development environment's PySide6 ships (test_linux_build checks what Qt does with the built one)."""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path

import PySide6
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("icu_data", ROOT / "packaging" / "icu_data.py")
icu_data = importlib.util.module_from_spec(_spec)
sys.modules["icu_data"] = icu_data  # its dataclasses look their module up there
_spec.loader.exec_module(icu_data)

ICU_LIBRARY = next((Path(PySide6.__file__).parent / "Qt" / "lib").glob("libicudata.so.*"))


@pytest.fixture(scope="module")
def wheel_icu():
    return icu_data.read_library(ICU_LIBRARY)


def test_reads_the_package_behind_the_symbol_libicuuc_links_to(wheel_icu):
    assert wheel_icu.soname == ICU_LIBRARY.name
    assert wheel_icu.symbol == f"icudt{ICU_LIBRARY.name.rsplit('.', 1)[1]}_dat"
    # A package read and written again is the same bytes: the format is understood whole.
    assert icu_data.write(icu_data.parse(wheel_icu.blob)) == wheel_icu.blob


def test_keeps_english_and_what_every_locale_shares_and_drops_the_rest(wheel_icu):
    names = {name.split("/", 1)[1] for name, _ in icu_data.parse(icu_data.filtered(wheel_icu.blob)).items}
    for tree in ("", "coll/", "zone/", "curr/", "lang/", "region/", "unit/"):
        assert {f"{tree}root.res", f"{tree}en.res"} <= names
        assert {f"{tree}fr.res", f"{tree}de.res", f"{tree}zh.res"}.isdisjoint(names)
    assert {"en_GB.res", "en_001.res", "zone/en_GB.res", "zone/pool.res", "coll/res_index.res"} <= names
    # Collation's root table, the time zones, normalisation, Unicode names, converter aliases and windows-1252.
    assert {"coll/ucadata.icu", "zoneinfo64.res", "metaZones.res", "nfkc.nrm", "unames.icu", "cnvalias.icu"} <= names
    assert "ibm-5348_P100-1997.cnv" in names
    assert not any(n.startswith("translit/") or n.endswith(".dict") for n in names)
    assert "gb18030.cnv" not in names and "ibm-1047_P100-1995.cnv" not in names


def test_english_is_under_a_sixth_of_the_whole_package(wheel_icu):
    assert len(icu_data.filtered(wheel_icu.blob)) < len(wheel_icu.blob) / 6


def test_items_of_any_length_start_on_16_byte_boundaries_in_name_order(wheel_icu):
    header = icu_data.parse(wheel_icu.blob).header
    items = [("icudt99l/zz.res", b"z" * 5), ("icudt99l/aa.res", b"a" * 17), ("icudt99l/coll/mm.res", b"m" * 16)]
    written = icu_data.write(icu_data.Package(header, items))
    toc = written[len(header) :]
    offsets = [struct.unpack_from("<II", toc, 4 + 8 * i)[1] for i in range(struct.unpack_from("<I", toc)[0])]
    assert all((len(header) + offset) % 16 == 0 for offset in offsets)
    read = icu_data.parse(written).items
    assert [name for name, _ in read] == sorted(name for name, _ in items)
    assert [data.rstrip(icu_data.PAD) for _, data in read] == [b"a" * 17, b"m" * 16, b"z" * 5]
