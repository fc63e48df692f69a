"""The Windows and macOS specs, which only build on their own platforms, read here with PyInstaller's build steps
recorded instead of run: each makes a one-folder app with the icon and the version of desktop.__version__."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


class Step:
    """Stands in for one of PyInstaller's build steps (Analysis, PYZ, EXE, COLLECT, BUNDLE) and keeps its inputs."""

    made: list[Step] = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.binaries, self.datas, self.pure, self.scripts = [], list(kwargs.get("datas", [])), [], []
        Step.made.append(self)


def _named(kind: str) -> type[Step]:
    return type(kind, (Step,), {})


@pytest.fixture
def read_spec(monkeypatch):
    """Run a spec's text as PyInstaller would, with every build step recorded; returns them by kind."""
    monkeypatch.syspath_prepend(str(PACKAGING))
    monkeypatch.delitem(sys.modules, "common", raising=False)
    import common

    for kind in ("Analysis", "PYZ", "EXE", "COLLECT"):
        monkeypatch.setattr(common, kind, _named(kind))
    monkeypatch.setattr("PyInstaller.building.osx.BUNDLE", _named("BUNDLE"))
    # PyInstaller's version-resource module needs pefile, which only Windows installs with it; the spec does not
    # use the part that does.
    monkeypatch.setitem(sys.modules, "pefile", sys.modules.get("pefile") or types.ModuleType("pefile"))
    monkeypatch.setattr("PyInstaller.compat.win32api", None, raising=False)
    Step.made = []

    def read(name: str) -> dict[str, Step]:
        exec(compile((PACKAGING / name).read_text(encoding="utf-8"), name, "exec"), {"SPECPATH": str(PACKAGING)})
        steps = {type(step).__name__: step for step in Step.made}
        monkeypatch.delitem(sys.modules, "common", raising=False)
        return steps

    return read


@pytest.mark.parametrize("name", ["locality-desk-linux.spec", "locality-desk-windows.spec", "locality-desk-macos.spec"])
def test_every_spec_builds_one_folder_holding_what_the_app_reads(read_spec, name):
    steps = read_spec(name)
    assert steps["EXE"].kwargs["exclude_binaries"] is True  # one folder, not one self-unpacking file
    assert steps["COLLECT"].kwargs["name"] == "LocalityDesk"
    shipped = {dest for _src, dest in steps["Analysis"].kwargs["datas"]}
    assert shipped == {top for top in ("resources", "data", "docs") if (ROOT / top).is_dir()}
    assert Path(steps["Analysis"].args[0][0]) == PACKAGING / "entry.py"


def test_windows_exe_has_the_icon_and_a_version_resource(read_spec):
    exe = read_spec("locality-desk-windows.spec")["EXE"].kwargs
    assert Path(exe["icon"]) == ROOT / "resources" / "icons" / "locality-desk.ico"
    assert Path(exe["icon"]).is_file()
    assert exe["console"] is False
    resource = exe["version"]
    assert resource.toRaw()  # serialises, as PyInstaller will when it writes it into the .exe
    strings = {s.name: s.val for table in resource.kids[0].kids for s in table.kids}
    assert strings["ProductVersion"] == strings["FileVersion"] == __version__
    ffi = resource.ffi  # the numeric version Explorer shows, four 16-bit parts
    shown = (ffi.fileVersionMS >> 16, ffi.fileVersionMS & 0xFFFF, ffi.fileVersionLS >> 16, ffi.fileVersionLS & 0xFFFF)
    assert ".".join(map(str, shown)) == __version__ + ".0" * (4 - len(__version__.split(".")))


def test_macos_bundle_has_the_icon_and_the_version(read_spec):
    bundle = read_spec("locality-desk-macos.spec")["BUNDLE"].kwargs
    assert Path(bundle["icon"]) == ROOT / "resources" / "icons" / "locality-desk.icns"
    assert Path(bundle["icon"]).is_file()
    assert bundle["version"] == bundle["info_plist"]["CFBundleVersion"] == __version__
    assert bundle["name"] == "Locality Desk.app"
