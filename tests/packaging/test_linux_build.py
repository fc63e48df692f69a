"""The Linux build that `make package` makes (dist/LocalityDesk/) starts, opens a workspace and every screen, writes
every report, imports an extract and imports every module of the app: whatever the build left out fails here.

Built here first when dist/ has none or was built from other sources, with the same command as `make package`:
a build takes about a minute on two cores.
"""

from __future__ import annotations

import ast
import configparser
import csv
import fcntl
import hashlib
import importlib.util
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from worlds import copy_world

from desktop import __version__
from desktop.models import clock, quarters
from desktop.models.kpi.monthly_figures import last_complete
from desktop.models.sync import bundle
from desktop.views.shell.screens import SCREENS

ROOT = Path(__file__).resolve().parents[2]
# packaging/build.py, what `make package` runs (packaging/ is not a package: it would shadow PyPI's "packaging").
_spec = importlib.util.spec_from_file_location("locality_desk_build", ROOT / "packaging" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)
# packaging/entry.py, the built app's entry point: its qt_text() run here gives what the development environment's
# Qt (ICU with every locale) answers.
_spec = importlib.util.spec_from_file_location("locality_desk_entry", ROOT / "packaging" / "entry.py")
entry = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(entry)

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


def _modules() -> list[str]:
    """Every module of the app, as the spec collects them (desktop.__main__ would start the app), and every module
    they import by name at any depth: several import a library only in the function that needs it (openpyxl,
    python_calamine), where only a run of that function would find it missing."""
    files = sorted((ROOT / "desktop").rglob("*.py"))
    names = [".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for p in files]
    imported = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module)
    # One for another platform (none today) is left to that platform's build.
    imported = {name for name in imported if importlib.util.find_spec(name.split(".")[0]) is not None}
    return [name for name in names if not name.endswith("__main__")] + sorted(imported - set(names))


def _self_check(world: Path, out: Path) -> dict:
    """What the built app runs after its window: every module imported, every report written (reportlab, Pillow,
    the statistics' special functions), a return signed (cryptography), an extract made and imported (pyarrow), and
    a sync bundle sealed and opened by a teammate's copy (Scrypt, AES-GCM; the build has no hashlib OpenSSL)."""
    quarter = quarters.of(clock.today()).previous().code
    conn = sqlite3.connect(world)
    try:
        home = conn.execute(
            "SELECT h.cqc_id FROM care_homes h JOIN localities l ON l.id = h.locality_id WHERE l.code = 'CHA' "
            "ORDER BY h.cqc_id LIMIT 1"
        ).fetchone()[0]
    finally:
        conn.close()
    db = ["--db", str(world)]
    extract = str(out / "cha-extract.csv")
    bundle.ensure_team_id(world)
    teammate = copy_world(world, out / "teammate.sqlite")
    return {
        "modules": _modules(),
        "commands": [
            ["report", "locality", *db, "--locality", "CHA", "--quarter", quarter, "--out", str(out / "locality.pdf")],
            ["report", "system", *db, "--quarter", quarter, "--out", str(out / "system.pdf")],
            ["report", "mdt", *db, "--locality", "CHA", "--out", str(out / "mdt.pdf")],
            ["report", "care-home", *db, "--home", home, "--quarter", quarter, "--out", str(out / "home.pdf")],
            ["report", "monthly", *db, "--locality", "CHA", "--month", last_complete(clock.today()).code,
             "--out", str(out / "monthly.pdf")],
            ["return", "export", *db, "--locality", "CHA", "--quarter", quarter, "--out", str(out / "return.json")],
            ["demo-extract", "--locality", "CHA", "--rows", "200", "--out", extract],
            ["import-risk", *db, "--locality", "CHA", extract, "--accept-partial"],
            ["sync", "export", *db, "--out", str(out / "changes.ldsync")],
            ["sync", "import", "--db", str(teammate), str(out / "changes.ldsync")],
        ],
    }  # fmt: skip


def test_opens_every_screen_writes_every_report_and_imports_every_module(app, history_world_template, tmp_path):
    world = copy_world(history_world_template, tmp_path / "world.sqlite")
    (tmp_path / "check.json").write_text(json.dumps(_self_check(world, tmp_path)), encoding="utf-8")
    out = _run(
        app,
        "gui",
        "--db",
        str(world),
        LOCALITY_DESK_QUIT_AFTER_FIRST_PAINT="1",
        LOCALITY_DESK_SELF_CHECK=str(tmp_path / "check.json"),
        LOCALITY_DESK_PASSPHRASE="correct horse battery staple",
    )
    log_file = Path(os.environ["LOCALITY_DESK_HOME"]) / "logs" / "locality-desk.log"
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    lines = out.stdout.splitlines()
    failures = [line for line in lines if ": failed" in line or ": exit " in line and not line.endswith(" 0")]
    # An import that failed prints its traceback after that line; a crash is logged by the crash handler.
    traceback = "Traceback" + out.stdout.partition("Traceback")[2][:3000] if "Traceback" in out.stdout else ""
    assert out.returncode == 0, "\n".join([*failures, traceback, out.stderr[-3000:], log[-3000:]])
    assert f"First paint: {world.name} — Locality Desk" in lines
    assert "Child process: started" in lines  # how sync runs; a frozen app needs freeze_support
    assert "Window icon: drawn" in lines  # from the SVG, through a Qt plugin the build must hold
    screens = [line for line in lines if line.startswith("Screen ")]
    assert sorted(screens) == sorted(f"Screen {s.key}: shown" for s in SCREENS)  # a team's workspace has them all
    assert f"Imports: {len(_modules())} of {len(_modules())}" in lines
    commands = [line for line in lines if line.startswith("Command ")]
    assert len(commands) == 10 and all(line.endswith(": exit 0") for line in commands), commands
    for report in ("locality", "system", "mdt", "home", "monthly"):
        assert (tmp_path / f"{report}.pdf").read_bytes().startswith(b"%PDF")
    assert f"Locality Desk {__version__} starting" in log
    # A missing style sheet, catalogue or rule file, or a screen that fails, is logged as a warning or worse.
    assert [line for line in log.splitlines() if " WARNING desktop" in line or " ERROR " in line] == []


def test_sorts_formats_and_decodes_text_as_qt_with_every_locale_does(app, tmp_path):
    """The build ships ICU's data for English only (packaging/icu_data.py): names sorted, dates, numbers, case and
    time-zone names in en_GB, and windows-1252 text come out as the development environment's full ICU gives them."""
    (tmp_path / "check.json").write_text(json.dumps({"qt_text": True}), encoding="utf-8")
    out = _run(app, "spc", "--values", "1,2,3", LOCALITY_DESK_SELF_CHECK=str(tmp_path / "check.json"))
    assert out.returncode == 0, out.stderr[-3000:]
    built = next(line for line in out.stdout.splitlines() if line.startswith("Qt text: ")).removeprefix("Qt text: ")
    expected = json.loads(json.dumps(entry.qt_text()))
    assert json.loads(built) == expected
    assert expected["sorted"][:6] == ["Ángel", "Anna", "d'Arcy", "Dart", "Émile Durand", "Eve Adams"]
    assert expected["zone"] == ["British Summer Time", "Greenwich Mean Time", "BST"]
    assert expected["windows-1252"][0] == "€ café “O’Brien”"


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
