"""Shared fixtures: every app directory goes to tmp_path; the clock is pinned; the demo world is built once
and copied."""

from __future__ import annotations

import os
from pathlib import Path

import pinned
import pytest
from worlds import copy_world, shared_world

from desktop.models import clock
from desktop.models.db import open_workspace


@pytest.fixture(scope="session", autouse=True)
def _pinned_day():
    """The whole run lives on pinned.TODAY, set before any session fixture builds a world; the environment
    carries the day into the command lines and child processes the tests start."""
    before = os.environ.get(clock.ENV_TODAY)
    os.environ[clock.ENV_TODAY] = pinned.TODAY.isoformat()
    clock.pin(pinned.NOW)
    yield
    clock.pin(None)
    if before is None:
        os.environ.pop(clock.ENV_TODAY, None)
    else:
        os.environ[clock.ENV_TODAY] = before


@pytest.fixture(autouse=True)
def _pinned_clock(_pinned_day):
    """Each test starts at 09:00 on pinned.TODAY, whatever the test before it pinned."""
    clock.pin(pinned.NOW)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALITY_DESK_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def templates(tmp_path_factory, worker_id) -> Path:
    """Where the demo-world templates are built: shared by every worker of a run on several cores."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def small_world_template(templates) -> Path:
    # Reference data only: the import tests bring their own extracts and count exactly what they add.
    return shared_world(templates, "small", history=False)


@pytest.fixture(scope="session")
def history_world_template(templates) -> Path:
    """The small demo world with its two years of history: meetings, visits and eight signed-off returns of
    every locality."""
    return shared_world(templates, "small-history", history=True)


@pytest.fixture(scope="session", autouse=True)
def _templates_side_by_side(request, worker_id):
    """The second worker of a run builds the world without history first, while the first builds the one with
    history that nearly every GUI test waits for: the two are made side by side, not one after the other."""
    if worker_id == "gw1":
        request.getfixturevalue("small_world_template")


@pytest.fixture
def small_world_path(small_world_template, tmp_path) -> Path:
    """A private copy of the small demo world."""
    return copy_world(small_world_template, tmp_path / "world.sqlite")


@pytest.fixture
def small_world(small_world_path):
    db = open_workspace(small_world_path)
    yield db
    db.close()


@pytest.fixture
def quick_kdf(monkeypatch):
    """Bundles made in this process take a cheap Scrypt cost, recorded in each as always, so the many bundles of the
    sync tests stay quick (they ask for it with pytestmark); tests/unit/test_passphrase.py checks the real cost."""
    from desktop.models.sync import bundle as sync_bundle

    monkeypatch.setattr(sync_bundle, "SCRYPT_N", 2**12)
