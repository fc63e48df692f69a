"""The Linux build that `make package` makes (dist/LocalityDesk/) starts and opens a workspace.

Built here first when dist/ has none or was built from other sources, with the same command as `make package`:
a build takes about a minute on two cores.
"""

from __future__ import annotations

import configparser
import csv
import fcntl
import hashlib
import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest

from desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
# packaging/build.py, what `make package` runs (packaging/ is not a package: it would shadow PyPI's "packaging").
_spec = importlib.util.spec_from_file_location("locality_desk_build", ROOT / "packaging" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

FOLDER = ROOT / "dist" / "LocalityDesk"
EXECUTABLE = FOLDER / build.EXECUTABLE
SHIPPED = ("resources", "data", "docs")  # what the app reads at run time, beside the code
SOURCES = ("desktop", *SHIPPED, "packaging")


STAMP = FOLDER / ".built-from.sha256"
LOCK = ROOT / "dist" / ".building.lock"


def _sources_digest() -> str:
    """What the build was made from, by content: a build's file times say nothing when it was made under a
    faked clock (make test-dates) or the checkout's times were reset."""
    files = sorted(
        p for top in SOURCES for p in (ROOT / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    digest = hashlib.sha256()
    for path in [*files, ROOT / "pyproject.toml"]:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.fixture(scope="module")
def app() -> Path:
    wanted = _sources_digest()
    # The suite's workers may each reach this module's tests (work-stealing): one builds while the others wait on
    # the lock, then find the build made from these sources.
    LOCK.parent.mkdir(exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not EXECUTABLE.exists() or not STAMP.exists() or STAMP.read_text() != wanted:
            assert build.main() == 0, "the build failed; its output is above"
            STAMP.write_text(wanted)
    return EXECUTABLE


def _run(app: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(app), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT.parent,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
    )


def test_version_is_the_apps(app):
    out = _run(app, "--version")
    assert (out.returncode, out.stdout.strip()) == (0, f"locality-desk {__version__}"), out.stderr


def test_opens_the_demo_world_to_a_painted_main_window_and_runs_child_processes(app, small_world_path):
    out = _run(app, "gui", "--db", str(small_world_path), LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT="1")
    log_file = Path(os.environ["LOCALITY_DESK_HOME"]) / "logs" / "locality-desk.log"
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    assert out.returncode == 0, out.stderr[-3000:] + log[-3000:]  # the crash handler logs the traceback
    assert f"First paint: {small_world_path.name} — Locality Desk" in out.stdout.splitlines()
    assert "Child process: started" in out.stdout.splitlines()  # how sync runs; a frozen app needs freeze_support
    assert "Window icon: drawn" in out.stdout.splitlines()  # from the SVG, through a Qt plugin the build must hold
    assert f"Locality Desk {__version__} starting" in log
    # A missing style sheet, catalogue or rule file is logged by the app as a warning or worse.
    assert [line for line in log.splitlines() if " WARNING desktop" in line or " ERROR " in line] == []


def test_builds_the_demo_world_from_the_shipped_reference_data(app, tmp_path):
    made = _run(app, "demo", "--db", str(tmp_path / "demo.sqlite"), "--small")
    assert made.returncode == 0, made.stderr[-3000:]
    info = _run(app, "info", "--db", str(tmp_path / "demo.sqlite"), "--json")
    assert info.returncode == 0, info.stderr[-3000:]
    with open(ROOT / "data" / "localities.csv", newline="", encoding="utf-8") as fh:
        teams = {row["code"]: row["name"] for row in csv.DictReader(fh)}
    built = json.loads(info.stdout)["localities"]
    assert {team["code"]: team["name"] for team in built} == teams
    assert all(team["practices"] and team["care_homes"] for team in built)


def test_the_build_holds_every_file_the_app_reads(app):
    for top in SHIPPED:
        wanted = {p.relative_to(ROOT) for p in (ROOT / top).rglob("*") if p.is_file()}
        held = {p.relative_to(FOLDER / "_internal") for p in (FOLDER / "_internal" / top).rglob("*") if p.is_file()}
        assert wanted - held == set(), f"{top}/ files missing from the build"


def test_desktop_entry_launches_the_built_executable_with_the_app_icon(app):
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "packaging" / "linux" / "locality-desk.desktop", encoding="utf-8")
    fields = entry["Desktop Entry"]
    assert fields["Exec"].split()[0] == fields["TryExec"] == app.name
    assert (ROOT / "resources" / "icons" / f"{fields['Icon']}-256.png").is_file()
    assert fields["Terminal"] == "false"
    assert set(fields["Categories"].strip(";").split(";")) >= {"Office", "MedicalSoftware"}
