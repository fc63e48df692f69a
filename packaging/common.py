"""What the three platform specs share: the analysis of the app, its data files, and the one-folder layout.

Each spec (locality-desk-<platform>.spec) imports this module and adds only what its platform needs on top.
"""

from __future__ import annotations

import re
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
]
# The shared libraries behind those modules, which pyarrow's hook collects wholesale, and its C++ headers; and Qt's
# translations of its own dialogs, which the app (English only, no QTranslator) never loads.
UNUSED_FILES = (
    "libarrow_flight",
    "libarrow_python_flight",
    "libarrow_s3",
    "pyarrow/include/",
    "pyarrow/includes/",
    "PySide6/Qt/translations/",
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
    name = str(entry[0]).replace("\\", "/")
    return not any(name.startswith(unused) or f"/{unused}" in name for unused in UNUSED_FILES)


def analysis() -> Analysis:
    a = Analysis(
        [str(HERE / "entry.py")],
        pathex=[str(ROOT)],
        datas=datas(),
        hiddenimports=HIDDEN_IMPORTS,
        excludes=EXCLUDES,
        noarchive=False,
    )
    a.binaries = [entry for entry in a.binaries if _used(entry)]
    a.datas = [entry for entry in a.datas if _used(entry)]
    return a


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
