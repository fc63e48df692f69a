"""The installer folder (`make package`, dist/LocalityDesk) against its floor: the same PyInstaller, one folder,
around a bare PySide6 window (QtCore, QtGui, QtWidgets and what their hooks bring), built in the same run.

Both are built from scratch here (~1 minute each on two cores); the figures are the bytes on disk of each folder.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from common import HERE, Result

ROOT = HERE.parent
BUDGET_MB = 250

_spec = importlib.util.spec_from_file_location("locality_desk_build", ROOT / "packaging" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

BARE = textwrap.dedent(
    """
    import sys
    from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget

    app = QApplication(sys.argv)
    window = QMainWindow()
    window.setCentralWidget(QTableWidget(10, 3))
    window.show()
    """
)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def biggest(folder: Path, n: int = 6) -> str:
    """The largest top-level parts of the folder's _internal/, in MB."""
    inner = folder / "_internal" if (folder / "_internal").is_dir() else folder
    parts = []
    for child in inner.iterdir():
        if child.is_symlink():  # PyInstaller's links to libraries counted where they are
            continue
        size = folder_bytes(child) if child.is_dir() else child.stat().st_size
        parts.append((size, child.name))
    parts.sort(reverse=True)
    return ", ".join(f"{name} {size / 1e6:.0f}" for size, name in parts[:n])


def largest_files(folder: Path, n: int = 8) -> str:
    """The largest single files, in MB: what is left is mostly libraries one module links to whole."""
    files = sorted(
        ((p.stat().st_size, p) for p in folder.rglob("*") if p.is_file() and not p.is_symlink()), reverse=True
    )
    return ", ".join(f"{p.name} {size / 1e6:.0f}" for size, p in files[:n])


def bare_floor(work: Path) -> int:
    script = work / "bare.py"
    script.write_text(BARE, encoding="utf-8")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--onedir",
            "--log-level",
            "WARN",
            "--distpath",
            str(work / "dist"),
            "--workpath",
            str(work / "build"),
            "--specpath",
            str(work),
            str(script),
        ],
        check=True,
        cwd=work,
    )
    return folder_bytes(work / "dist" / "bare")


def run() -> list[Result]:
    if build.main() != 0:
        raise RuntimeError("make package failed; its output is above")
    folder = ROOT / "dist" / "LocalityDesk"
    size = folder_bytes(folder)
    with tempfile.TemporaryDirectory() as work:
        floor = bare_floor(Path(work))
    return [
        Result(
            "installer folder (dist/LocalityDesk)",
            f"≤ {BUDGET_MB} MB",
            f"{size / 1e6:.0f} MB; floor {floor / 1e6:.0f} MB ({size / floor:.1f}×)",
            size <= BUDGET_MB * 1e6,
            f"floor: the same PyInstaller one-folder build of a bare PySide6 window; largest parts (MB): "
            f"{biggest(folder)}; largest files (MB): {largest_files(folder)}",
        )
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))
