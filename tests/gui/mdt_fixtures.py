"""Fixtures for the MDT screen: the small demo world with its two years of meetings and actions.

Test modules take them with `from mdt_fixtures import *`; the world is built once per run and copied.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cohort_helpers import choose_locality, locality_id
from worlds import copy_world

from desktop.models import clock
from desktop.models.mdt import actions
from desktop.views.kit.session import Session
from desktop.views.shell.main_window import MainWindow

__all__ = ["mdt_page", "mdt_session", "mdt_window", "mdt_world_template", "listed"]


@pytest.fixture(scope="session")
def mdt_world_template(history_world_template) -> Path:
    return history_world_template


@pytest.fixture
def mdt_session(mdt_world_template, tmp_path, settings) -> Session:
    return Session.open(copy_world(mdt_world_template, tmp_path / "mdt-world.sqlite"), settings)


@pytest.fixture
def mdt_window(make_window, mdt_session) -> MainWindow:
    return make_window(mdt_session)


@pytest.fixture
def mdt_page(mdt_window):
    """The MDT & actions screen of Charnwood, shown."""
    choose_locality(mdt_window, "CHA")
    mdt_window.show_screen("mdt")
    return mdt_window.current_page()


def listed(session, **f) -> list[dict]:
    """What the domain lists for Charnwood today under the filter *f*."""
    return actions.listing(session.db, locality_id(session.db), actions.ActionFilter(**f), clock.today())
