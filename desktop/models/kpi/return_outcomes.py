"""The outcomes section of a quarterly return (issue 27), and the commissioner's forest plot of it.

A return for quarter R carries the matched evaluation of the team's caseload joiners whose follow-up ends with R
(outcomes.periods.joining_quarter): per outcome, the difference-in-differences estimate with its 95 % interval, the
naive before/after figure, how many joiners were matched and not, and the same per intervention type. Aggregates
only: the section is built from Evaluation.as_json's overall and per-intervention figures and nothing else of it
(its balance table and chart series stay in the team's workspace).

The section is worked out when the return is signed off and frozen with its figures: a later extract can add
follow-up data, and the commissioner must see the estimate the team signed off, as for every other figure.

Every outcome the app knows is listed, so a team that does not measure one says so ("not measured") rather than
leaving the reader to wonder; a team with no outcome data at all sends no section (and a version 1 file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from ..clock import Actor, new_id
from ..outcomes.periods import DEFAULT_FOLLOW_UP, joining_quarter
from ..outcomes.records import LABELS, OUTCOMES
from ..quarters import Quarter
from .consolidated import latest, localities

STATUSES = ("estimated", "too few", "not measured")
GROUP_STATUSES = ("estimated", "too few")
FIELDS = (
    "outcome",
    "joining_quarter",
    "follow_up_quarters",
    "status",
    "estimate",
    "ci_low",
    "ci_high",
    "naive_estimate",
    "matched",
    "unmatched",
    "by_intervention",
)
GROUP_FIELDS = ("intervention", "status", "estimate", "ci_low", "ci_high", "naive_estimate", "matched", "unmatched")
NUMBERS = ("estimate", "ci_low", "ci_high", "naive_estimate")
DIGITS = 4  # decimals kept in the file: rounding never reorders ci_low <= estimate <= ci_high
# The evaluation's statuses as the return says them: nobody joined is too few to estimate; joiners whose follow-up
# the records do not reach yet have no outcome measured.
_STATUS = {
    "estimated": "estimated",
    "too few": "too few",
    "no joiners": "too few",
    "awaiting follow-up": "not measured",
}


def label(outcome: str) -> str:
    return LABELS.get(outcome, outcome.replace("_", " ").capitalize())


def _rounded(value: Any) -> float | None:
    return None if value is None else round(float(value), DIGITS)


def _figures(result: Mapping[str, Any], status: str) -> dict[str, Any]:
    estimated = status == "estimated"
    return {
        "status": status,
        **{k: _rounded(result.get(k)) if estimated or k == "naive_estimate" else None for k in NUMBERS},
        "matched": int(result.get("matched") or 0),
        "unmatched": int(result.get("unmatched") or 0),
    }


def section(evaluation: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The return's section from an Evaluation.as_json(): one entry per outcome the app knows, in OUTCOMES order;
    None when the evaluation measured no outcome at all."""
    results = {r["outcome"]: r for r in evaluation.get("outcomes", ())}
    if not results:
        return None
    joining, follow_up = evaluation["period"], int(evaluation["follow_up_quarters"])
    out = []
    for outcome in OUTCOMES:
        result = results.get(outcome)
        status = _STATUS.get(result["status"], "not measured") if result else "not measured"
        groups = [
            {"intervention": g["intervention"], **_figures(g, "estimated" if g["status"] == "estimated" else "too few")}
            for g in (result or {}).get("by_intervention", ())
            if status != "not measured"
        ]
        out.append(
            {
                "outcome": outcome,
                "joining_quarter": joining,
                "follow_up_quarters": follow_up,
                **_figures(result or {}, status),
                "by_intervention": sorted(groups, key=lambda g: g["intervention"]),
            }
        )
    return out


def evaluate(db: sqlite_utils.Database, locality_id: str, quarter: Quarter) -> list[dict[str, Any]] | None:
    """The section a return of *quarter* carries, from the team's own risk runs and caseload; None when the team
    has no outcome data for the joiners it would evaluate."""
    joining = joining_quarter(quarter, DEFAULT_FOLLOW_UP)
    # A joiner is measured from the risk run at or before joining: with no run by the joining quarter's end there
    # is nothing to measure, and the evaluation's read of every run (~0.3 s a team on the full demo world) is spared.
    first = db.execute(
        "SELECT 1 FROM risk_runs WHERE locality_id = ? AND extract_date <= ? LIMIT 1",
        [locality_id, joining.end.isoformat()],
    ).fetchone()
    if first is None:
        return None
    return section(_evaluation(db, locality_id, joining, DEFAULT_FOLLOW_UP))


def _evaluation(db: sqlite_utils.Database, locality_id: str, joining: Quarter, follow_up: int) -> Mapping[str, Any]:
    from ..outcomes import from_store  # reads the stored cohorts (pyarrow): only when a return is signed off

    return from_store.evaluate_locality(db, locality_id, joining, follow_up=follow_up).as_json()


def store(db: sqlite_utils.Database, actor: Actor, return_id: str, entries: Sequence[Mapping[str, Any]]) -> None:
    """Keep a return's section (the team's at sign-off, or what an imported file carried)."""
    db.execute("DELETE FROM return_outcomes WHERE return_id = ?", [return_id])
    db["return_outcomes"].insert_all(
        {
            "id": new_id(),
            "return_id": return_id,
            **{k: e[k] for k in FIELDS if k != "by_intervention"},
            "by_intervention": json.dumps(list(e["by_intervention"]), separators=(",", ":"), ensure_ascii=False),
            "created_at": actor.now(),
            **actor.stamp(),
        }
        for e in entries
    )


def held(db: sqlite_utils.Database, return_id: str) -> list[dict[str, Any]] | None:
    """The section a return holds, as its file carries it; None when it holds none."""
    rows = {r["outcome"]: r for r in db.query("SELECT * FROM return_outcomes WHERE return_id = ?", [return_id])}
    if not rows:
        return None
    order = {o: n for n, o in enumerate(OUTCOMES)}
    return [
        {
            **{k: rows[o][k] for k in FIELDS if k != "by_intervention"},
            "by_intervention": json.loads(rows[o]["by_intervention"]),
        }
        for o in sorted(rows, key=lambda o: (order.get(o, len(order)), o))
    ]


# -- the commissioner's forest plot -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ForestRow:
    code: str
    name: str
    estimate: float
    ci_low: float
    ci_high: float
    naive_estimate: float | None
    matched: int
    unmatched: int


@dataclass
class Forest:
    quarter: Quarter
    outcome: str
    joining_quarter: str | None  # the joiners the returns evaluate (None when no return carries the outcome)
    follow_up_quarters: int | None
    rows: list[ForestRow]  # the estimated teams, lowest estimate (the largest fall in use) first
    too_few: list[tuple[str, str, int]] = field(default_factory=list)  # (code, name, matched joiners)
    not_measured: list[tuple[str, str]] = field(default_factory=list)  # a return without this outcome measured
    no_return: list[tuple[str, str]] = field(default_factory=list)  # no signed-off return held for the quarter

    @property
    def label(self) -> str:
        return label(self.outcome)


def outcomes_held(db: sqlite_utils.Database, quarter: Quarter) -> list[str]:
    """The outcomes at least one team's latest return for *quarter* has estimated or tried to, in OUTCOMES order:
    the forest plot's choices. Empty when no return of the quarter carries an outcomes section."""
    ids = [r["id"] for r in latest(db, quarter).values()]
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    found = {
        r[0]
        for r in db.execute(
            f"SELECT DISTINCT outcome FROM return_outcomes WHERE status != 'not measured' AND return_id IN ({marks})",
            ids,
        )
    }
    return [o for o in OUTCOMES if o in found] + sorted(found - set(OUTCOMES))


def forest(db: sqlite_utils.Database, quarter: Quarter, outcome: str) -> Forest:
    """Every team's estimate of *outcome* in its latest signed-off return for *quarter*."""
    held_returns = latest(db, quarter)
    by_return = {}
    if held_returns:
        ids = [r["id"] for r in held_returns.values()]
        marks = ",".join("?" * len(ids))
        by_return = {
            r["return_id"]: r
            for r in db.query(
                f"SELECT * FROM return_outcomes WHERE outcome = ? AND return_id IN ({marks})", [outcome, *ids]
            )
        }
    out = Forest(quarter, outcome, None, None, [])
    for team in localities(db):
        code, name = team["code"], team["name"]
        ret = held_returns.get(code)
        if ret is None:
            out.no_return.append((code, name))
            continue
        row = by_return.get(ret["id"])
        if row is None or row["status"] == "not measured":
            out.not_measured.append((code, name))
            continue
        out.joining_quarter = out.joining_quarter or row["joining_quarter"]
        out.follow_up_quarters = out.follow_up_quarters or row["follow_up_quarters"]
        if row["status"] == "too few":
            out.too_few.append((code, name, row["matched"]))
            continue
        out.rows.append(
            ForestRow(
                code,
                name,
                row["estimate"],
                row["ci_low"],
                row["ci_high"],
                row["naive_estimate"],
                row["matched"],
                row["unmatched"],
            )
        )
    out.rows.sort(key=lambda r: (r.estimate, r.code))
    return out
