"""Return files built for the import tests: a valid signed-off return of any locality and quarter, which a
test then spoils in one way (and re-digests and re-signs, unless the digest is what it spoils).

Each team signs with a fixed test key (team_key), so a file made twice is the same; trust_teams(db) trusts
those keys in a commissioner workspace, as its user would have at each team's first return."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from desktop.models import quarters
from desktop.models.clock import Actor
from desktop.models.kpi import returns, signing
from desktop.models.kpi.catalogue import catalogue


def return_doc(code: str = "CHA", period: str = "2025-26-Q3", revision: int = 1, scale: int = 1) -> dict[str, Any]:
    values = []
    for n, kpi in enumerate(catalogue()):
        numerator = float(40 + n * scale)
        denominator = float(100 + n) if kpi.denominator else None
        value = kpi.value(numerator, denominator)
        values.append(
            {
                "kpi": kpi.code,
                "numerator": numerator,
                "denominator": denominator,
                "value": value,
                "rag": kpi.rag(value),
                "comment": "",
            }
        )
    # Signed off twelve days after the quarter ended (12/01/2026 for 2025-26-Q3): the import refuses a return
    # signed off before its quarter ended.
    signed = quarters.parse(period).end + dt.timedelta(days=12)
    doc = {
        "format": returns.FORMAT,
        "version": returns.VERSION,
        "locality": {"code": code, "name": f"Team {code}"},
        "period": period,
        "revision": revision,
        "status": "signed_off",
        "signed_off_by": "Federation manager",
        "signed_off_at": f"{signed}T16:00:00+00:00",
        "generated_at": f"{signed}T16:05:00+00:00",
        "app_version": "0.1.0",
        "values": values,
    }
    doc["sha256"] = returns.digest(doc)
    return _signed(doc)


def as_json(doc: dict[str, Any]) -> bytes:
    """*doc* as a corpus file holds it: one line per KPI value, so 33 of them keep the corpus small and a diff
    readable. ensure_ascii=False: a non-breaking space is in the file as the character a word processor leaves."""
    values = doc.get("values")
    if not isinstance(values, list):
        return json.dumps(doc, indent=1, ensure_ascii=False).encode("utf-8")
    text = json.dumps({**doc, "values": "\0"}, indent=1, ensure_ascii=False)
    rows = ",\n  ".join(json.dumps(v, ensure_ascii=False) for v in values)
    return text.replace('"\\u0000"', "[\n  " + rows + "\n ]", 1).encode("utf-8")


def write(path: Path, doc: dict[str, Any], redigest: bool = True) -> Path:
    if redigest:
        doc["sha256"] = returns.digest(doc)
        _signed(doc)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def team_key(code: str) -> dict[str, str]:
    """Team *code*'s signing key in the tests: fixed, where a real workspace makes a random one."""
    return signing.new_pair(hashlib.sha256(f"tests/return_files.py {code}".encode()).digest())


def trust_teams(db, actor: Actor | None = None) -> None:
    """Trust every team's test key in the commissioner workspace *db*."""
    actor = actor or Actor(user="commissioner", device_id="icb-laptop")
    for (code,) in db.execute("SELECT code FROM localities ORDER BY code").fetchall():
        signing.trust(db, actor, code, team_key(code)["public_key"])


def _signed(doc: dict[str, Any]) -> dict[str, Any]:
    loc = doc.get("locality")
    code = loc.get("code") if isinstance(loc, dict) else None
    return signing.sign_with(doc, team_key(code if isinstance(code, str) else "CHA"))
