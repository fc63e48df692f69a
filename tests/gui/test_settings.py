"""The settings registry: declared keys only, plain types, recent list, stored in the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.settings import MAX_RECENT, SETTINGS, Settings, qsettings


def test_defaults_then_round_trip_through_a_fresh_store():
    settings = Settings(qsettings())  # not the fixture's, which switches the backups off
    assert {name: settings.get(name) for name in SETTINGS} == {
        "user_name": "",
        "recent_workspaces": [],
        "last_locality": "",
        "backups_keep": 10,
        "colour_scheme": "system",
        "user_role": "",
        "home_locality": "",
        "start_workspace": "",
        "first_run_done": False,
    }
    settings.set("user_name", "Dr A Example")
    settings.set("recent_workspaces", ["/one/file.sqlite"])  # a one-item list comes back from INI as a string
    settings.sync()
    again = Settings(qsettings())
    assert again.get("user_name") == "Dr A Example"
    assert again.get("recent_workspaces") == ["/one/file.sqlite"]


def test_recent_workspaces_are_newest_first_without_repeats_and_capped(settings, tmp_path):
    files = [tmp_path / f"w{i}.sqlite" for i in range(MAX_RECENT + 3)]
    for f in files:
        settings.add_recent(f)
    settings.add_recent(files[-3])
    recent = settings.recent_workspaces()
    assert len(recent) == MAX_RECENT
    assert recent[0] == files[-3].resolve()
    assert len(set(recent)) == MAX_RECENT
    settings.clear_recent()
    assert settings.recent_workspaces() == []


def test_undeclared_keys_and_wrong_types_are_refused(settings):
    with pytest.raises(KeyError):
        settings.set("toolbar_icons", "large")
    with pytest.raises(TypeError):
        settings.set("recent_workspaces", "/not/a/list")
    with pytest.raises(TypeError):
        settings.set_state("last_screen", 3)


def test_using_the_window_writes_only_declared_keys_to_a_temporary_file(window, settings, tmp_path):
    window.show_screen("staff")
    window.close()
    assert settings.unknown_keys() == []
    assert Path(settings.file_name).is_relative_to(tmp_path)
    assert settings.state("last_screen") == "staff"
    assert settings.state_bytes("window_geometry") is not None
