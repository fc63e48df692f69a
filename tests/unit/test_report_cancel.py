"""Cancelling a report export (STYLE practice 6): every PDF builder checks its cancel between sections, charts
and pages and says what it is doing; a Cancel at any check, the last one inside the audit transaction included,
raises Cancelled and leaves no file, no temporary file and no audit entry, and an earlier report of the same
name stays as it was. A file that cannot be written is refused by its own name, and not audited either."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pinned import TODAY as DEMO_TODAY
from worlds import copy_world

from desktop.models import audit, quarters
from desktop.models.clock import Actor
from desktop.models.db import open_workspace
from desktop.models.progress import Cancelled
from desktop.reports import care_home_report, locality_report, mdt_pack, system_report

ACTOR = Actor("tester", "device-test")
QUARTER = quarters.parse("2026-27-Q2")
Export = Callable[..., object]  # export(out, progress=..., cancel=...)


@pytest.fixture(scope="module")
def world(tmp_path_factory, history_world_template):
    db = open_workspace(copy_world(history_world_template, tmp_path_factory.mktemp("cancel") / "w.sqlite"))
    yield db
    db.close()


def _exports(db) -> dict[str, Export]:
    meeting = mdt_pack.resolve_meeting(db, "CHA", "latest")
    home = db.execute(
        "SELECT h.cqc_id FROM care_homes h JOIN localities l ON l.id = h.locality_id WHERE l.code = 'CHA' "
        "ORDER BY h.cqc_id LIMIT 1"
    ).fetchone()[0]
    return {
        "locality": lambda out, **kw: locality_report.export(db, ACTOR, "CHA", QUARTER, out, DEMO_TODAY, **kw),
        "system": lambda out, **kw: system_report.export(db, ACTOR, QUARTER, out, for_publication=True, **kw),
        "mdt": lambda out, **kw: mdt_pack.export(db, ACTOR, meeting["id"], out, DEMO_TODAY, **kw),
        "care home": lambda out, **kw: care_home_report.export(db, ACTOR, home, QUARTER, out, DEMO_TODAY, **kw),
    }


KINDS = ("locality", "system", "mdt", "care home")


def _audit_rows(db) -> int:
    return db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


class CancelAt:
    """A cancel check that turns true at its *at*-th call (never, when *at* is None), counting its calls."""

    def __init__(self, at: int | None = None):
        self.at, self.calls = at, 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.at is not None and self.calls >= self.at


@pytest.mark.parametrize("kind", KINDS)
def test_an_export_cancelled_partway_raises_cancelled_and_leaves_no_file_and_no_audit_entry(world, tmp_path, kind):
    export = _exports(world)[kind]
    # A whole run first: how often it checks, and what it says meanwhile.
    said: list[tuple[float, str]] = []
    counter = CancelAt()
    whole = tmp_path / "whole" / "report.pdf"
    whole.parent.mkdir()
    before = _audit_rows(world)
    export(whole, progress=lambda fraction, message: said.append((fraction, message)), cancel=counter)
    assert whole.stat().st_size > 1000 and _audit_rows(world) == before + 1
    assert counter.calls >= 10  # between sections, charts and pages, not once at the end
    assert len({message for _, message in said}) >= 4 and all(message.endswith("…") for _, message in said)
    assert [f for f, _ in said] == sorted(f for f, _ in said) and said[0][0] >= 0 and said[-1][0] < 1

    # Then Cancel at the first check, at one in the middle, and at the last, in the audit
    # transaction after the PDF was written.
    for at in (1, counter.calls // 2, counter.calls):
        folder = tmp_path / f"at-{at}"
        folder.mkdir()
        out = folder / "report.pdf"
        before = _audit_rows(world)
        with pytest.raises(Cancelled):
            export(out, cancel=CancelAt(at))
        assert list(folder.iterdir()) == [], f"cancelled at check {at} of {counter.calls}"
        assert _audit_rows(world) == before
        assert not world.conn.in_transaction


def test_a_cancelled_export_keeps_the_earlier_report_of_the_same_name(world, tmp_path):
    out = tmp_path / "report.pdf"
    out.write_bytes(b"%PDF- the report of last quarter")
    with pytest.raises(Cancelled):
        locality_report.export(world, ACTOR, "CHA", QUARTER, out, DEMO_TODAY, cancel=CancelAt(40))
    assert out.read_bytes() == b"%PDF- the report of last quarter"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
    locality_report.export(world, ACTOR, "CHA", QUARTER, out, DEMO_TODAY)  # replaced when it goes through
    assert out.read_bytes().startswith(b"%PDF-1.") and out.stat().st_size > 10_000


def test_a_folder_that_is_not_there_is_named_and_nothing_is_audited(world, tmp_path):
    out = tmp_path / "gone" / "report.pdf"
    before = _audit_rows(world)
    with pytest.raises(OSError) as raised:
        system_report.export(world, ACTOR, QUARTER, out)
    assert raised.value.filename == str(out)  # the file asked for, not the temporary one beside it
    assert _audit_rows(world) == before and not Path(tmp_path / "gone").exists()


def test_the_exports_run_as_before_when_given_no_progress_or_cancel(world, tmp_path):
    before = _audit_rows(world)
    for n, export in enumerate(_exports(world).values()):
        export(tmp_path / f"{n}.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.pdf", "1.pdf", "2.pdf", "3.pdf"]
    assert _audit_rows(world) == before + 4
    assert audit.entries(world, "report")
