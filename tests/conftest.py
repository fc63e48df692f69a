"""Shared fixtures: every app directory goes to tmp_path; the demo world is built once and copied."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.models.db import open_workspace
from desktop.models.demo import build_demo


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOCALITY_DESK_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def small_world_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "small.sqlite"
    db = open_workspace(path)
    # Reference data only: the import tests bring their own extracts and count exactly what they add.
    build_demo(db, small=True, history=False)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def small_world_path(small_world_template, tmp_path) -> Path:
    """A private copy of the small demo world, made with SQLite's backup API (safe with WAL)."""
    dest = tmp_path / "world.sqlite"
    src = sqlite3.connect(small_world_template)
    out = sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return dest


@pytest.fixture
def small_world(small_world_path):
    db = open_workspace(small_world_path)
    yield db
    db.close()
