"""Fixtures for the MDT screen: the small demo world with its two years of meetings and actions.

Test modules take them with `from mdt_fixtures import *`; the world is built once per run and copied.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from cohort_helpers import choose_locality, locality_id

from desktop.models import actions
from desktop.models.db import open_workspace
from desktop.models.demo import build_demo
from desktop.views.main_window import MainWindow
from desktop.views.session import Session

__all__ = ["mdt_page", "mdt_session", "mdt_window", "mdt_world_template", "listed"]


@pytest.fixture(scope="session")
def mdt_world_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("mdt") / "small-history.sqlite"
    db = open_workspace(path)
    build_demo(db, small=True)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def mdt_session(mdt_world_template, tmp_path, settings) -> Session:
    dest = tmp_path / "mdt-world.sqlite"
    src, out = sqlite3.connect(mdt_world_template), sqlite3.connect(dest)
    src.backup(out)
    src.close()
    out.close()
    return Session.open(dest, settings)


@pytest.fixture
def mdt_window(qtbot, styled_app, settings, mdt_session) -> MainWindow:
    win = MainWindow(settings, mdt_session)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def mdt_page(mdt_window):
    """The MDT & actions screen of Charnwood, shown."""
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("mdt")
    return mdt_window.current_page()


def listed(session, **f) -> list[dict]:
    """What the domain lists for Charnwood today under the filter *f*."""
    return actions.listing(session.db, locality_id(session.db), actions.ActionFilter(**f), dt.date.today())
