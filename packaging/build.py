"""Build the installer folder for this platform into dist/ (what `make package` runs).

    python packaging/build.py        ->  dist/LocalityDesk/LocalityDesk[.exe] (macOS: dist/LocalityDesk.app too)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXECUTABLE = {"win32": "LocalityDesk.exe"}.get(sys.platform, "LocalityDesk")
SPECS = {"linux": "locality-desk-linux.spec", "win32": "locality-desk-windows.spec",
         "darwin": "locality-desk-macos.spec"}


def spec_for(platform: str = sys.platform) -> Path:
    key = next((k for k in SPECS if platform.startswith(k)), None)
    if key is None:
        raise SystemExit(f"No installer spec for platform {platform!r}; there are: {', '.join(SPECS)}")
    return ROOT / "packaging" / SPECS[key]


def main() -> int:
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
               "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"), str(spec_for())]
    code = subprocess.run(command, cwd=ROOT).returncode
    if code == 0:
        # PyInstaller may copy an executable it built earlier; its time should say when the folder was made, which
        # is how tests/packaging tells a build that is older than the sources.
        os.utime(ROOT / "dist" / "LocalityDesk" / EXECUTABLE)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
