"""Where the app keeps its files. Tests point LOCALITY_DESK_HOME at a temporary folder."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import platformdirs

APP = "LocalityDesk"


def _install_root() -> Path:
    # A PyInstaller build unpacks what the source tree holds beside desktop/ into sys._MEIPASS.
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """The app's own read-only files: style sheet, icons, KPI catalogue, rule defaults."""
    return _install_root() / "resources"


def demo_data_dir() -> Path:
    """The locality table and name pools the demo world is built from."""
    return _install_root() / "data"


def docs_dir() -> Path:
    """The user guide shipped with the app."""
    return _install_root() / "docs"


def data_dir() -> Path:
    home = os.environ.get("LOCALITY_DESK_HOME")
    path = Path(home) / "data" if home else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    home = os.environ.get("LOCALITY_DESK_HOME")
    path = Path(home) / "logs" if home else Path(platformdirs.user_log_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def backups_dir() -> Path:
    """Where the rolling backups go, one folder per workspace inside it (DESIGN §14)."""
    path = data_dir() / "backups"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_workspace() -> Path:
    return data_dir() / "workspace.sqlite"


def device_id() -> str:
    """A stable id for this laptop, stamped on every row it writes (DESIGN §5, §15)."""
    path = data_dir() / "device-id"
    if path.exists():
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
    value = str(uuid.uuid4())
    path.write_text(value, encoding="utf-8")
    return value
