"""The demo world: a deterministic, believable LLR built from the seeds' numbers (DESIGN §5).

The world is built by a list of steps. Each step draws from its own random stream, named after it, so a
later issue can append a step (quarterly extracts, MDT history, home rounds) without changing what the
earlier steps produce for the same seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from .. import audit
from ..clock import Actor
from ..errors import ValidationError
from ..progress import CancelCheck, Progress, check_cancel, never_cancel, no_progress
from ..workspace import set_meta

DEFAULT_SEED = 2017
# Fixed stamp and device: the same seed must give byte-identical content, whenever it is built.
DEMO_ACTOR = Actor(user="demo generator", device_id="demo-00000000", fixed_time="2026-04-01T09:00:00+00:00")


@dataclass
class DemoContext:
    db: sqlite_utils.Database
    seed: int
    small: bool
    actor: Actor = DEMO_ACTOR
    progress: Progress = no_progress
    cancel: CancelCheck = never_cancel

    def rng(self, step: str) -> random.Random:
        return random.Random(f"{self.seed}:{step}")

    @staticmethod
    def uuid(rng: random.Random) -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))


Step = Callable[[DemoContext], None]


def _steps(history: bool) -> list[tuple[str, Step]]:
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


def build_demo(db: sqlite_utils.Database, seed: int = DEFAULT_SEED, small: bool = False, history: bool = True,
               progress: Progress = no_progress, cancel: CancelCheck = never_cancel) -> None:
    """Fill an empty workspace with the demo world, in one transaction (a cancel leaves it empty).

    history=False stops after the reference data: tests that import their own extracts start from there.
    """
    if db.execute("SELECT COUNT(*) FROM localities").fetchone()[0]:
        raise ValidationError("This workspace already holds localities; build the demo world in a new file.")
    steps = _steps(history)
    with db.atomic():
        for n, (label, step) in enumerate(steps):
            check_cancel(cancel)
            progress(n / len(steps), label)

            def within(fraction: float, message: str, n: int = n) -> None:
                progress((n + fraction) / len(steps), message)

            step(DemoContext(db=db, seed=seed, small=small, progress=within, cancel=cancel))
        set_meta(db, kind="locality", demo_seed=str(seed), demo_size="small" if small else "full")
        audit.record(db, DEMO_ACTOR, "demo", "workspace", None,
                     f"Built the {'small ' if small else ''}demo world (seed {seed})")
    progress(1.0, "Done")
