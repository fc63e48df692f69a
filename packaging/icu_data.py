"""ICU's data library with English only: what the Linux build ships as PySide6/Qt/lib/libicudata.so.<N>.

Qt links ICU for collation (sorting a table's names), locale-aware case mapping and legacy encodings. The wheel's
libicudata holds ICU's whole common data package (32 MB: every locale, dictionary, transliterator and converter);
the app is English-only, so the build ships a library with the same soname and the same one symbol whose package
holds what English needs. A locale left out is not an error to ICU: it falls back to root, as for any locale it
does not know.

The package format (ICU's udata.cpp, ucmndata.cpp): a DataHeader (a 16-bit header size, magic 0xda 0x27, then
UDataInfo with dataFormat "CmnD"), then at the header's end the table of contents: a 32-bit count, then per item a
32-bit name offset and a 32-bit data offset, both from the start of the table; the names (sorted: ICU looks them up
by binary search), then the items, each starting on a 16-byte boundary. An item's length is where the next begins.
"""

from __future__ import annotations

import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

ALIGN = 16
PAD = b"\xaa"  # what ICU's own packager pads with, so that a package read and written again is the same bytes
# root is every tree's fallback; en_GB falls back to en_001 (as en_150 does), then en.
ENGLISH = frozenset({"root", "en", "en_GB", "en_001", "en_150", "en_US", "en_US_POSIX"})
# Kept in every tree, whatever the locales: the shared string pool and the index of the tree's locales.
TREE_FILES = frozenset({"pool.res", "res_index.res"})
# The converter aliases, and the table behind windows-1252 (cp1252), the encoding of spreadsheets saved on Windows.
# ISO-8859-1, US-ASCII and the UTFs are computed by ICU's code and have no table.
CONVERTERS = frozenset({"cnvalias.icu", "ibm-5348_P100-1997.cnv", "ibm-1252_P100-2000.cnv"})
# A locale's bundle is named for it (language, then script, region or variant after underscores; coll/ has "de_.res"
# as well); every other .res is data shared by all locales (supplementalData, zoneinfo64, metaZones …).
_LOCALE = re.compile(r"^(root|[a-z]{2,3}(_\w*)*)\.res$")


@dataclass(frozen=True)
class Package:
    header: bytes  # the DataHeader as it was, copyright string and padding included
    items: list[tuple[str, bytes]]  # (name with the package prefix, e.g. "icudt73l/coll/root.res"; data)


def parse(blob: bytes) -> Package:
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    data_format = blob[12:16]  # UDataInfo: size, reserved, endianness, charset, sizeof(UChar), reserved, format
    if (magic1, magic2) != (0xDA, 0x27) or data_format != b"CmnD" or blob[16] != 1:
        raise ValueError("not an ICU common data package (CmnD, format version 1)")
    if blob[8] != 0:
        raise ValueError("a big-endian ICU package; this reads little-endian ones only")
    toc = blob[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    items = []
    for i, (name_at, data_at) in enumerate(entries):
        end = entries[i + 1][1] if i + 1 < count else len(toc)
        name = toc[name_at : toc.index(b"\0", name_at)].decode("ascii")
        items.append((name, toc[data_at:end]))
    return Package(blob[:header_size], items)


def write(package: Package) -> bytes:
    items = sorted(package.items)  # ICU's binary search needs them in byte order
    names = b"".join(name.encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_at = _aligned(toc_size + len(names))
    entries, name_at = [], toc_size
    datas = []
    for name, data in items:
        entries.append(struct.pack("<II", name_at, data_at))
        name_at += len(name) + 1
        padded = data + PAD * (_aligned(len(data)) - len(data))
        datas.append(padded)
        data_at += len(padded)
    toc = struct.pack("<I", len(items)) + b"".join(entries) + names
    toc += PAD * (_aligned(len(toc)) - len(toc))
    if len(package.header) % ALIGN:
        raise ValueError("the header's size must keep the items 16-byte aligned")
    return package.header + toc + b"".join(datas)


def _aligned(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def english_only(name: str) -> bool:
    """Whether the item (its name with the package prefix) is one English needs, or one shared by every locale."""
    path = name.split("/", 1)[1]
    tree, _, leaf = path.rpartition("/")
    if tree == "translit" or leaf.endswith(".dict"):  # transliterators; Thai, Lao, Khmer, Burmese and CJK words
        return False
    if tree and leaf in TREE_FILES:
        return True
    if _LOCALE.match(leaf):
        return leaf.removesuffix(".res") in ENGLISH
    if not tree and (leaf.endswith(".cnv") or leaf == "cnvalias.icu"):
        return leaf in CONVERTERS
    return True


def filtered(blob: bytes) -> bytes:
    package = parse(blob)
    return write(Package(package.header, [item for item in package.items if english_only(item[0])]))


@dataclass(frozen=True)
class Library:
    soname: str
    symbol: str  # e.g. icudt73_dat, the name libicuuc links to
    blob: bytes


def read_library(path: Path) -> Library:
    """The package inside a libicudata: its one exported symbol's bytes, found through the section holding it."""
    dynamic = _readelf("-d", path)
    soname = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic).group(1)
    symbols = [
        line.split()
        for line in _readelf("--dyn-syms", path).splitlines()
        if re.match(r"\s*\d+:", line) and " OBJECT " in line and " UND " not in line
    ]
    if len(symbols) != 1 or "@" in symbols[0][7]:
        raise ValueError(f"{path}: expected one unversioned data symbol, found {[s[7] for s in symbols]}")
    _num, value, size, _type, _bind, _vis, section, symbol = symbols[0]
    sections = {}
    for line in _readelf("-S", path).splitlines():
        match = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
        if match:
            sections[match.group(1)] = (int(match.group(3), 16), int(match.group(4), 16))
    address, offset = sections[section]
    start = int(value, 16) - address + offset
    size = int(size, 16) if size.startswith("0x") else int(size)
    with open(path, "rb") as fh:
        fh.seek(start)
        blob = fh.read(size)
    return Library(soname, symbol, blob)


def _readelf(option: str, path: Path) -> str:
    return subprocess.run(["readelf", "-W", option, str(path)], capture_output=True, text=True, check=True).stdout


def build_library(original: Path, folder: Path) -> Path:
    """folder/<soname>: the library with the English-only package under the original's soname and symbol (gcc,
    which links it as it would ICU's own --with-data-packaging=library)."""
    library = read_library(original)
    folder.mkdir(parents=True, exist_ok=True)
    package = folder / f"{library.symbol}.dat"
    package.write_bytes(filtered(library.blob))
    source = folder / f"{library.symbol}.S"
    source.write_text(
        f"""\
    .section .rodata
    .globl {library.symbol}
    .type {library.symbol}, @object
    .balign {ALIGN}
{library.symbol}:
    .incbin "{package.name}"
    .size {library.symbol}, . - {library.symbol}
    .section .note.GNU-stack,"",@progbits
""",
        encoding="ascii",
    )
    out = folder / library.soname
    subprocess.run(
        ["gcc", "-shared", "-nostdlib", "-o", str(out), f"-Wl,-soname,{library.soname}", source.name],
        cwd=folder,
        check=True,
    )
    return out
