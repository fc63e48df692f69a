"""The Cohort screen paints at once and reads its frame off the GUI thread (issue 26): the filters and "Loading the
cohort…" first, the patients when they are read; an answer overtaken by a change of locality is never shown."""

from __future__ import annotations

import threading

import pytest
from cohort_helpers import EXTRACT_DATE, choose_locality, locality_id, wait_loaded

from desktop.models.cohort import frame as cohort
from desktop.models.cohort.risk_import import import_extract
from desktop.models.demo.extract import write_extract
from desktop.views.cohort import page as cohort_page_module
from desktop.views.cohort.page import LOADING


@pytest.fixture
def imported(session, tmp_path):
    """Charnwood's and Harborough's cohorts, imported before the screen is first shown."""
    for code, rows in (("CHA", 1500), ("HAB", 900)):
        path = tmp_path / f"{code.lower()}.csv"
        write_extract(path, code, rows)
        import_extract(session.db, session.actor, code, path, EXTRACT_DATE)


@pytest.fixture
def held(monkeypatch):
    """Loads of the cohort wait until the test lets them go, so it can look at the screen meanwhile."""
    gate = threading.Event()
    real = cohort_page_module.load

    def slow(db, locality):
        assert gate.wait(30), "the test never let the load go"
        return real(db, locality)

    monkeypatch.setattr(cohort_page_module, "load", slow)
    yield gate
    gate.set()  # a load still waiting finishes before the workspace goes


def test_the_screen_paints_before_its_frame_is_read_then_shows_the_patients(qtbot, imported, window, session, held):
    choose_locality(window, "CHA")
    window.show_screen("cohort")
    page = window.current_page()
    window.repaint()  # returns while the frame is still being read: the GUI thread is not the one reading it

    assert page.loading and page.frame is None
    assert page.filters.text.isVisible() and page.filters.text.isEnabled()
    assert page.no_match.isVisible() and page.no_match.text() == LOADING
    assert page.count.text() == LOADING
    assert not page.header.empty_card.isVisible()  # not "no extract imported" while it is still being read
    assert page.model.rowCount() == 0

    held.set()
    wait_loaded(qtbot, page)
    frame = cohort.load(session.db, locality_id(session.db, "CHA"))
    assert len(frame) > 0
    assert page.model.rowCount() == len(frame)
    assert page.table.isVisible() and not page.no_match.isVisible()
    assert page.count.text() == f"{len(frame):,} patients"


def test_a_load_overtaken_by_another_locality_is_not_shown(qtbot, imported, window, session, held):
    choose_locality(window, "CHA")
    window.show_screen("cohort")
    page = window.current_page()
    choose_locality(window, "HAB")  # before Charnwood's frame is read
    held.set()
    wait_loaded(qtbot, page)
    qtbot.wait(50)  # Charnwood's late answer, had it been shown, would have arrived by now
    hab = cohort.load(session.db, locality_id(session.db, "HAB"))
    assert page.frame is not None and page.locality["code"] == "HAB"
    assert sorted(str(i) for i in page.frame.ids) == sorted(str(i) for i in hab.ids)
    assert page.model.rowCount() == len(hab)
