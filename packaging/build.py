"""Build the installer folder for this platform into dist/ (what `make package` runs).

python packaging/build.py        ->  dist/LocalityDesk/LocalityDesk[.exe] (macOS: dist/LocalityDesk.app too)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTABLE = {"win32": "LocalityDesk.exe"}.get(sys.platform, "LocalityDesk")
SPECS = {
    "linux": "locality-desk-linux.spec",
    "win32": "locality-desk-windows.spec",
    "darwin": "locality-desk-macos.spec",
}


def spec_for(platform: str = sys.platform) -> Path:
    key = next((k for k in SPECS if platform.startswith(k)), None)
    if key is None:
        raise SystemExit(f"No installer spec for platform {platform!r}; there are: {', '.join(SPECS)}")
    return ROOT / "packaging" / SPECS[key]


def main() -> int:
    # From scratch each time (--clean): an incremental build can keep a module as it was read mid-save, and here
    # it saves almost nothing (about a minute either way on two cores).
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level",
        "WARN",
        "--distpath",
        str(ROOT / "dist"),
        "--workpath",
        str(ROOT / "build"),
        str(spec_for()),
    ]
    started = time.time()
    code = subprocess.run(command, cwd=ROOT).returncode
    if code == 0:
        # PyInstaller links some libraries at the top of the folder; a link to one the spec left out points nowhere.
        for link in (ROOT / "dist" / "LocalityDesk").rglob("*"):
            if link.is_symlink() and not link.exists():
                link.unlink()
        # The executable's time says which sources the folder was built from (PyInstaller may reuse an executable it
        # built earlier): tests/packaging rebuilds when a source is newer, even one saved while this build ran.
        os.utime(ROOT / "dist" / "LocalityDesk" / EXECUTABLE, (started, started))
    return code


if __name__ == "__main__":
    raise SystemExit(main())
