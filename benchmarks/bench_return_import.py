"""Commissioner import of 88 return files, 11 localities × 8 quarters of the full demo world (DESIGN §13:
under 2 s). Each run imports into a fresh commissioner workspace; the files are written once."""

from __future__ import annotations

import shutil

from bench_kpi import demo_world
from common import OUT, Result, median_seconds

from desktop.models.clock import Actor
from desktop.models.kpi import returns, signing
from desktop.models.kpi.return_import import import_returns
from desktop.models.workspace import create_workspace

ACTOR = Actor(user="benchmark", device_id="bench")


# One fixed key signs every file (the demo world is one workspace holding all 11 teams, as its returns are).
BENCH_KEY = signing.new_pair(bytes(range(32)))


def return_files() -> list:
    folder = OUT / "returns-88"
    if not folder.exists() or len(list(folder.glob("*.json"))) != 88 or not _signed(folder):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        db = demo_world()
        held = list(
            db.query(
                "SELECT r.id, l.code, r.period FROM returns r JOIN localities l ON l.id = r.locality_id "
                "WHERE r.status != 'draft' ORDER BY r.period, l.code"
            )
        )
        for r in held:
            doc = signing.sign_with(returns.document(db, r["id"], "2026-11-23T12:00:00+00:00", "bench"), BENCH_KEY)
            (folder / f"{r['code']}-{r['period']}.json").write_text(returns.json.dumps(doc), encoding="utf-8")
        db.close()
    return sorted(folder.glob("*.json"))


def run(runs: int = 5) -> list[Result]:
    files = return_files()
    assert len(files) == 88, f"the demo world should hold 88 signed-off returns, found {len(files)}"
    target = OUT / "commissioner.sqlite"
    template = OUT / "commissioner-empty.sqlite"
    if not template.exists():
        create_workspace(template, "commissioner").close()
    state: dict = {}

    def fresh():
        if "db" in state:
            state["db"].close()
        for suffix in ("", "-wal", "-shm"):
            (OUT / f"commissioner.sqlite{suffix}").unlink(missing_ok=True)
        shutil.copy(template, target)
        from desktop.models.db import open_workspace

        state["db"] = open_workspace(target)

    def once():
        outcomes, _ = import_returns(state["db"], ACTOR, files, accept_keys=[BENCH_KEY["fingerprint"]])
        assert len(outcomes) == len(files) and all(o.status == "imported" for o in outcomes), outcomes[:1]

    seconds = median_seconds(once, runs, setup=fresh)
    return [
        Result(
            f"commissioner import of {len(files)} return files",
            "< 2 s",
            f"{seconds:.2f} s",
            seconds < 2.0,
            "into an empty commissioner workspace; every file checked, digested and stored",
        )
    ]


if __name__ == "__main__":
    from common import table

    print(table(run()))


def _signed(folder) -> bool:
    """Files made before returns were signed are made again."""
    first = next(iter(sorted(folder.glob("*.json"))), None)
    return first is not None and "signature" in returns.json.loads(first.read_text(encoding="utf-8"))
