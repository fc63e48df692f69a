"""What the three platform specs share: the analysis of the app, its data files, and the one-folder layout.

Each spec (locality-desk-<platform>.spec) imports this module and adds only what its platform needs on top.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import icu_data
from PyInstaller.building.api import COLLECT, EXE, PYZ
from PyInstaller.building.build_main import Analysis
from PyInstaller.utils.hooks import collect_submodules

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "packaging"
NAME = "LocalityDesk"
CONSOLE_NAME = "locality-desk"  # the console twin on Windows, for scripts and scheduled tasks (windows spec)
ICONS = ROOT / "resources" / "icons"

HIDDEN_IMPORTS = [
    # Every app module: a spawned child process imports its work by name (desktop.models.child_process).
    *collect_submodules("desktop"),
    # Loaded by name at run time, where the import scan cannot see them.
    "PySide6.QtOpenGL",  # pyqtgraph's curves and image widget, through importlib
    "PySide6.QtOpenGLWidgets",
    "PySide6.QtSvg",  # pyqtgraph's SVG export; the icon and style sheet's SVGs go through Qt's own plugins
    "holidays.countries.united_kingdom",  # holidays.country_holidays("GB") finds its country by name
    # Found by the scan today (imported plainly); named as well, so that a later by-name import of one of them
    # does not quietly leave it out of the build.
    "pyqtgraph",
    "reportlab.pdfgen.canvas",
    "apsw",
    "cryptography.hazmat.primitives.ciphers.aead",
    "cryptography.hazmat.primitives.kdf.scrypt",
    "openpyxl",
    "pyarrow.compute",
    "pyarrow.csv",
    "pyarrow.ipc",
]

# Nothing the app uses: leaving them out keeps the folder smaller and the build faster.
EXCLUDES = [
    "tkinter",
    "_tkinter",
    "turtle",
    "idlelib",
    "pydoc_data",
    "pytest",
    "_pytest",
    "pytestqt",
    "hypothesis",
    "pypdf",
    "ruff",
    "IPython",
    "matplotlib",
    "PyInstaller",
    "setuptools",
    "pip",
    "PySide6.QtWebEngineCore",
    "PySide6.QtWebEngineWidgets",
    "PySide6.QtWebChannel",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtMultimedia",
    "PySide6.QtNetwork",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDesigner",
    "PySide6.QtUiTools",
    "pyqtgraph.opengl",
    "pyqtgraph.examples",
    "pyqtgraph.jupyter",
    "OpenGL",
    # pyarrow's network file systems, Flight RPC and its own test suite: the app reads and writes local files only.
    "pyarrow.flight",
    "pyarrow._flight",
    "pyarrow._s3fs",
    "pyarrow._gcsfs",
    "pyarrow._azurefs",
    "pyarrow._hdfs",
    "pyarrow._pyarrow_cpp_tests",
    "pyarrow.tests",
    # pyarrow's file formats and query engines beyond CSV and IPC (the app reads CSV and keeps IPC files), and its
    # GPU, Gandiva and dataframe-interchange parts; their C++ libraries stay, as pyarrow.lib links to them.
    "pyarrow.parquet",
    "pyarrow._parquet",
    "pyarrow._parquet_encryption",
    "pyarrow.dataset",
    "pyarrow._dataset",
    "pyarrow._dataset_parquet",
    "pyarrow._dataset_parquet_encryption",
    "pyarrow._dataset_orc",
    "pyarrow.orc",
    "pyarrow._orc",
    "pyarrow.feather",
    "pyarrow._feather",
    "pyarrow.acero",
    "pyarrow._acero",
    "pyarrow.substrait",
    "pyarrow._substrait",
    "pyarrow.cuda",
    "pyarrow._cuda",
    "pyarrow.gandiva",
    "pyarrow.interchange",
    "pyarrow.conftest",
    # scipy: the statistics compute their special functions themselves (desktop/models/stats/special.py); the
    # tests compare them with scipy's. pyqtgraph imports parts of it only if present, for what the app does not use
    # (sparse frames, interpolation, image filters). ~34 MB with its OpenBLAS.
    "scipy",
    # Pillow's codecs beyond what reportlab needs (it imports PIL.Image for bitmaps; the app's PDFs have none):
    # AVIF, WebP, colour management and Tk.
    "PIL._avif",
    "PIL.AvifImagePlugin",
    "PIL._webp",
    "PIL.WebPImagePlugin",
    "PIL._imagingcms",
    "PIL.ImageCms",
    "PIL._imagingtk",
    "PIL.ImageTk",
    # numpy's test suite and its Fortran wrapper generator, which numpy imports only when asked for by name.
    "numpy.tests",
    "numpy.f2py",
    # pandas: only the tests and benchmarks use it; pyarrow and sqlite-utils import it only if it is there.
    "pandas",
    # Python's OpenSSL modules and the libssl and libcrypto they bring (5.5 MB): the app opens no network connection,
    # its one use of OpenSSL (the sync bundle's Scrypt) goes through cryptography, which carries an OpenSSL of its
    # own, and hashlib and hmac fall back to Python's own digests without _hashlib.
    "ssl",
    "_ssl",
    "_hashlib",
]
# Files the hooks collect that nothing loads (patterns on the path inside the folder):
UNUSED_FILES = (
    # The shared libraries behind the pyarrow modules excluded above, which pyarrow's hook collects wholesale; the
    # two unversioned copies of libarrow_python (pyarrow.lib links libarrow_python.so.<N>); its C++ headers, Cython
    # sources and tests.
    "*/libarrow_flight*",
    "*/libarrow_python_flight*",
    "*/libarrow_s3*",
    "*/libarrow_python_parquet_encryption*",
    "pyarrow/libarrow_python.so",
    "pyarrow/libarrow_python.so.*.*.*",
    "pyarrow/include/*",
    "pyarrow/includes/*",
    "pyarrow/src/*",
    "pyarrow/tests/*",
    "pyarrow/*.pyx",
    "pyarrow/*.pxd",
    "pyarrow/*.pxi",
    # Qt's translations of its own dialogs, which the app (English only, no QTranslator) never loads.
    "PySide6/Qt/translations/*",
    # Qt platforms for embedded devices and VNC, with their input plugins and libraries: the app runs on a desktop
    # (xcb or Wayland; offscreen for tests). And the GTK 3 theme: it needs the system's GTK, which the folder does
    # not ship, and without it Qt draws its own dialogs, as it does today where GTK is missing.
    "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platforms/libqlinuxfb.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so",
    "PySide6/Qt/plugins/platforms/libqminimalegl.so",
    "PySide6/Qt/plugins/platforms/libqvkkhrdisplay.so",
    "PySide6/Qt/plugins/egldeviceintegrations/*",
    "PySide6/Qt/plugins/generic/*",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "*/libQt6EglFSDeviceIntegration.so*",
    "*/libQt6EglFsKmsSupport.so*",
    # Image formats the app neither reads nor writes (its icons are PNG and SVG; charts export PNG).
    "PySide6/Qt/plugins/imageformats/libqjpeg.so",
    "PySide6/Qt/plugins/imageformats/libqwebp.so",
    "PySide6/Qt/plugins/imageformats/libqtiff.so",
    "PySide6/Qt/plugins/imageformats/libqgif.so",
    "PySide6/Qt/plugins/imageformats/libqicns.so",
    "PySide6/Qt/plugins/imageformats/libqtga.so",
    "PySide6/Qt/plugins/imageformats/libqwbmp.so",
)


def version() -> str:
    """desktop.__version__, read from the file rather than imported, so the spec does not start the app."""
    text = (ROOT / "desktop" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def datas() -> list[tuple[str, str]]:
    """The folders the app reads at run time (desktop/paths.py finds them beside the bundle)."""
    folders = ["resources", "data", "docs"]  # docs/ is the user guide, shipped when the checkout has one
    return [(str(ROOT / folder), folder) for folder in folders if (ROOT / folder).is_dir()]


def _used(entry: tuple) -> bool:
    # "x/" so that a pattern "*/lib…" also matches a library at the top of the folder.
    name = str(entry[0]).replace("\\", "/")
    return not any(fnmatch.fnmatch(name, unused) or fnmatch.fnmatch(f"x/{name}", unused) for unused in UNUSED_FILES)


def analysis() -> Analysis:
    a = Analysis(
        [str(HERE / "entry.py")],
        pathex=[str(ROOT)],
        datas=datas(),
        hiddenimports=HIDDEN_IMPORTS,
        excludes=EXCLUDES,
        noarchive=False,
    )
    dropped = [entry for entry in a.binaries if not _used(entry)]
    a.binaries = [entry for entry in a.binaries if _used(entry)]
    a.datas = [entry for entry in a.datas if _used(entry)]
    if sys.platform.startswith("linux"):
        # patchelf after strip, which leaves a file patchelf has rewritten unloadable (_stripped).
        a.binaries = _unlinked(_english_icu(_stripped(_without_orphans(a.binaries, dropped))))
    return a


def _linked(path: str) -> set[str]:
    """The names of every library the binary loads when it loads, its libraries' libraries too (ldd)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return {line.split()[0].rsplit("/", 1)[-1] for line in out.splitlines() if "=>" in line}


def _without_orphans(binaries: list, dropped: list) -> list:
    """Leaves out the system libraries collected only for a binary dropped above (the GTK theme's cairo, pango …):
    those no kept binary links to, directly or through another library. A library nothing links to at all (one
    loaded by name at run time) stays.

    The libraries a dropped binary links to are only candidates: what keeps one is a link from a binary that is not
    a candidate itself, since ldd lists every level, and counting the candidates' own links would keep pango for
    cairo and cairo for pango (~5 MB)."""
    with ThreadPoolExecutor() as pool:
        candidates = set().union(*pool.map(_linked, [src for _dest, src, kind in dropped if kind != "SYMLINK"]))
        roots = [src for dest, src, kind in binaries if kind != "SYMLINK" and Path(dest).name not in candidates]
        kept = set().union(*pool.map(_linked, roots))
    orphans = candidates - kept
    return [entry for entry in binaries if Path(entry[0]).name not in orphans]


def _stripped(binaries: list) -> list:
    """Linux: the binaries built with their symbol tables (the Python interpreter, pyarrow's and cryptography's
    libraries: about 45 MB of them), stripped of the symbols no loader reads, as copies under the build folder.

    Left alone: auditwheel's grafted libraries (in a `<package>.libs/` folder) and the modules that link to them,
    which patchelf rewrote: strip leaves those unloadable ("ELF load command address/offset not page-aligned");
    and Qt's, which PySide6 ships stripped already.
    """
    if not binaries or shutil.which("strip") is None or shutil.which("readelf") is None:
        return binaries
    from PyInstaller.config import CONF

    folder = Path(CONF["workpath"]) / "stripped"

    def strip(entry: tuple) -> tuple:
        dest, src, kind = entry
        if kind == "SYMLINK" or ".libs/" in dest or dest.startswith("PySide6/"):
            return entry
        elf = subprocess.run(["readelf", "-S", "-d", src], capture_output=True, text=True).stdout
        if ".symtab" not in elf or ".libs" in elf:  # nothing to strip, or its run path names a grafted folder
            return entry
        copy = folder / dest
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, copy)
        subprocess.run(["strip", "--strip-unneeded", str(copy)], check=True)
        return dest, str(copy), kind

    with ThreadPoolExecutor() as pool:
        return list(pool.map(strip, binaries))


def _english_icu(binaries: list) -> list:
    """Linux: Qt's ICU data library with English only (packaging/icu_data.py), built under the build folder with
    gcc: 4 MB in place of 32."""
    from PyInstaller.config import CONF

    def english(entry: tuple) -> tuple:
        dest, src, kind = entry
        if kind == "SYMLINK" or not re.fullmatch(r"libicudata\.so\.\d+", Path(dest).name):
            return entry
        if shutil.which("gcc") is None:
            print(f"WARNING: no gcc, so {dest} ships whole (every locale: 28 MB more)", file=sys.stderr)
            return entry
        return dest, str(icu_data.build_library(Path(src), Path(CONF["workpath"]) / "icu")), kind

    return [english(entry) for entry in binaries]


# pyarrow's C++ libraries for Parquet, datasets, Acero and Substrait (~18 MB). The modules the app imports
# (pyarrow.lib, _compute, _csv, _fs, _json) and libarrow_python name them as needed but use none of their symbols:
# the wheel was linked without --as-needed. _unlinked removes those links, which is what linking with --as-needed
# would have done, and leaves the libraries out.
UNLINKED = ("libparquet.so.*", "libarrow_substrait.so.*", "libarrow_dataset.so.*", "libarrow_acero.so.*")


def _symbols(path: str, which: str) -> set[str]:
    """The dynamic symbols the binary defines (which="--defined-only") or wants ("--undefined-only"), without
    their versions."""
    out = subprocess.run(["nm", "-D", which, path], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}


def _unlinked(binaries: list) -> list:
    """Linux: the binaries without the UNLINKED libraries, once nm has shown that no binary kept wants a symbol
    that only one of those defines (otherwise the build stops, naming them); the links to them removed (patchelf)
    from copies under the build folder, since the loader refuses to load a binary whose needed library is missing."""
    unlinked = [e for e in binaries if any(fnmatch.fnmatch(Path(e[0]).name, name) for name in UNLINKED)]
    if not unlinked:
        return binaries
    kept = [entry for entry in binaries if entry not in unlinked and entry[2] != "SYMLINK"]
    libraries = [entry for entry in unlinked if entry[2] != "SYMLINK"]
    with ThreadPoolExecutor() as pool:
        wanted = dict(zip(kept, pool.map(lambda e: _symbols(e[1], "--undefined-only"), kept), strict=True))
        offered = dict(zip(libraries, pool.map(lambda e: _symbols(e[1], "--defined-only"), libraries), strict=True))
        defined = set().union(*pool.map(lambda e: _symbols(e[1], "--defined-only"), kept))
    # A symbol a kept binary defines as well (the template code C++ libraries each carry) is found there.
    only_unlinked = {symbol: lib[0] for lib, symbols in offered.items() for symbol in symbols - defined}
    uses = sorted(
        f"{entry[0]} uses {symbol} from {only_unlinked[symbol]}"
        for entry, symbols in wanted.items()
        for symbol in symbols & only_unlinked.keys()
    )
    if uses:
        raise SystemExit("Libraries in UNLINKED (packaging/common.py) are in use:\n" + "\n".join(uses[:20]))
    sonames = {Path(entry[0]).name for entry in libraries}
    patchelf = shutil.which("patchelf", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if patchelf is None:
        raise SystemExit("patchelf is missing: `make package` installs it (pyproject.toml, the package extras)")
    from PyInstaller.config import CONF

    folder = Path(CONF["workpath"]) / "unlinked"

    def relink(entry: tuple) -> tuple:
        dest, src, kind = entry
        needed = subprocess.run([patchelf, "--print-needed", src], capture_output=True, text=True, check=True)
        removed = sonames & set(needed.stdout.split())
        if not removed:
            return entry
        copy = folder / dest
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, copy)
        options = [option for name in sorted(removed) for option in ("--remove-needed", name)]
        subprocess.run([patchelf, *options, str(copy)], check=True)
        return dest, str(copy), kind

    with ThreadPoolExecutor() as pool:
        relinked = dict(zip(kept, pool.map(relink, kept), strict=True))
    return [relinked.get(entry, entry) for entry in binaries if entry not in unlinked]


def one_folder(a: Analysis, *, console: bool, icon: Path | None = None, version_file=None) -> tuple[EXE, COLLECT]:
    """The executable and everything beside it in dist/LocalityDesk/."""
    exe = executable(a, PYZ(a.pure), NAME, console=console, icon=icon, version_file=version_file)
    return exe, collect(a, exe)


def executable(a: Analysis, pyz: PYZ, name: str, *, console: bool, icon: Path | None = None, version_file=None) -> EXE:
    """One executable of the app, its libraries left to collect() (a one-folder build). Several made from the same
    analysis and archive share everything but themselves."""
    return EXE(
        pyz,
        a.scripts,
        [],
        exclude_binaries=True,
        name=name,
        console=console,
        icon=str(icon) if icon else None,
        version=version_file,
        upx=False,
        strip=False,
    )


def collect(a: Analysis, *executables: EXE) -> COLLECT:
    """dist/LocalityDesk/: the executables side by side with the libraries and data files they share."""
    return COLLECT(*executables, a.binaries, a.datas, name=NAME, upx=False, strip=False)
