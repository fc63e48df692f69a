"""The demo world: a deterministic, believable LLR built from the seeds' numbers (DESIGN §5).

The world is built by a list of steps. Each step draws from its own random stream, named after it, so a
later issue can append a step (quarterly extracts, MDT history, home rounds) without changing what the
earlier steps produce for the same seed.
"""

from __future__ import annotations

import datetime as dt

import sqlite_utils

from .. import audit, clock
from ..errors import ValidationError
from ..progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress
from ..sync import tracking
from ..workspace import set_meta
from .context import DEFAULT_SEED, DEMO_ACTOR, DemoContext, Step, actor_on, history_start

__all__ = ["DEFAULT_SEED", "DEMO_ACTOR", "DemoContext", "actor_on", "build_demo", "history_start"]


def _steps(history: bool) -> list[tuple[str, Step]]:
    # Imported when a world is built, not when the app starts (startup and the first-run wizard import this).
    from .care_home_history import build_care_home_history
    from .history import build_risk_history
    from .mdt_history import build_mdt_history
    from .reference_world import build_reference
    from .returns_history import build_returns_history

    steps = [("Localities, practices, care homes and staff", build_reference)]
    if history:
        steps.append(("Two years of risk extracts and caseload work", build_risk_history))
        steps.append(("Two years of MDT meetings and actions", build_mdt_history))
        steps.append(("Two years of care-home rounds and residents", build_care_home_history))
        steps.append(("Signed-off quarterly returns", build_returns_history))
    return steps


def build_demo(
    db: sqlite_utils.Database,
    seed: int = DEFAULT_SEED,
    small: bool = False,
    history: bool = True,
    progress: Progress = no_progress,
    cancel: CancelCheck = never_cancel,
    today: dt.date | None = None,
) -> None:
    """Fill an empty workspace with the demo world, in one transaction (a cancel leaves it empty).

    Its history (risk runs, caseload work, meetings, visits, returns) runs up to *today* (the clock's day unless
    given), so a world built on any date looks like a live team; the day is kept as the workspace's data_ends.
    history=False stops after the reference data: tests that import their own extracts start from there.
    """
    if db.execute("SELECT COUNT(*) FROM localities").fetchone()[0]:
        raise ValidationError("This workspace already holds localities; build the demo world in a new file.")
    today = today or clock.today()
    writer = actor_on(history_start(today))
    steps = _steps(history)
    # The demo world is where its copies start from: history to share, not changes to send (sync.tracking).
    with db.atomic(), tracking.untracked(db.conn):
        for n, (label, step) in enumerate(steps):
            check_cancel(cancel)
            progress(n / len(steps), label)

            def within(fraction: float, message: str, n: int = n) -> None:
                progress((n + fraction) / len(steps), message)

            step(DemoContext(db=db, seed=seed, small=small, today=today, actor=writer, progress=within, cancel=cancel))
        set_meta(
            db,
            kind="locality",
            demo_seed=str(seed),
            demo_size="small" if small else "full",
            demo_data_ends=today.isoformat(),
        )
        audit.record(
            db,
            actor_on(today),
            "demo",
            "workspace",
            None,
            f"Built the {'small ' if small else ''}demo world (seed {seed}), its history up to {today:%d/%m/%Y}",
        )
    progress(1.0, "Done")
