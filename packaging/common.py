"""What the three platform specs share: the analysis of the app, its data files, and the one-folder layout.

Each spec (locality-desk-<platform>.spec) imports this module and adds only what its platform needs on top.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
    "scipy.special",
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
    # scipy beyond scipy.special (the statistics' four functions; `import scipy.special` loads scipy._lib and
    # nothing else): pyqtgraph imports these only if present, for what the app does not use (sparse
    # frames, interpolation, image filters).
    "scipy.cluster",
    "scipy.constants",
    "scipy.datasets",
    "scipy.differentiate",
    "scipy.fft",
    "scipy.fftpack",
    "scipy.integrate",
    "scipy.interpolate",
    "scipy.io",
    "scipy.linalg",
    "scipy.misc",
    "scipy.ndimage",
    "scipy.odr",
    "scipy.optimize",
    "scipy.signal",
    "scipy.sparse",
    "scipy.spatial",
    "scipy.stats",
    "scipy.special.cython_special",  # for Cython code calling scipy's functions; `import scipy.special` does not
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
    # numpy's test suite. (Not numpy.f2py: scipy.special's array-API layer copies every attribute of numpy, f2py
    # among them.)
    "numpy.tests",
    # pandas: only the tests and benchmarks use it; pyarrow and sqlite-utils import it only if it is there.
    "pandas",
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
        a.binaries = _stripped(_without_orphans(a.binaries, dropped))
    return a


def _linked(path: str) -> set[str]:
    """The names of every library the binary loads when it loads, its libraries' libraries too (ldd)."""
    out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return {line.split()[0].rsplit("/", 1)[-1] for line in out.splitlines() if "=>" in line}


def _without_orphans(binaries: list, dropped: list) -> list:
    """Leaves out the system libraries collected only for a binary dropped above (the GTK theme's cairo, pango …):
    those no kept binary links to, directly or through another library. A library nothing links to at all (one
    loaded by name at run time) stays."""
    with ThreadPoolExecutor() as pool:
        kept = set().union(*pool.map(_linked, [src for _dest, src, kind in binaries if kind != "SYMLINK"]))
        only_dropped = set().union(*pool.map(_linked, [src for _dest, src, kind in dropped if kind != "SYMLINK"]))
    orphans = only_dropped - kept
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
