"""The preview of an ODS import: what the files would change in the workspace, computed without writing.

Matching is by code (a practice's ODS code, a PCN's code), never by name, so a renamed practice is the same
practice. Records the workspace holds but the file does not recognise (the invented Z82xxx practices of a demo
reference set, or a practice that has closed) are left untouched and listed with what the team's work still
refers to (patients, care homes), so nothing the team relies on disappears.

Locality membership is the team's choice: a practice or PCN already in the workspace keeps its locality. A new
PCN takes the locality the caller chose for it, else the one most of its practices already in the workspace
share, else (the schema needs one) the first locality of its CCG area, marked "to confirm". A new practice takes
its PCN's locality; a new practice with no PCN takes the first locality of its commissioner's CCG area, also
marked "to confirm".
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from ..errors import ValidationError
from ..workspace import get_meta
from .ods import LLR_COMMISSIONERS, STATUS_WORDS, OdsFiles

META_KEY = "ods_commissioners"  # comma-separated commissioner codes this workspace covers
# The CCG area names localities carry (reference.LOCALITIES' ccg choices), by commissioner code.
CCG_AREAS = {"03W": "East Leicestershire & Rutland", "04C": "Leicester City", "04V": "West Leicestershire"}
TO_CONFIRM = "to confirm"


def covered_commissioners(db: sqlite_utils.Database) -> tuple[str, ...]:
    stored = get_meta(db, META_KEY)
    if stored:
        return tuple(c.strip().upper() for c in stored.split(",") if c.strip())
    return LLR_COMMISSIONERS


@dataclass
class Plan:
    commissioners: tuple[str, ...]
    files: list[str]
    practices_in_area: int = 0  # what the file holds for the covered area and filter (the target state)
    pcns_in_area: int = 0
    new_pcns: list[dict[str, Any]] = field(default_factory=list)
    renamed_pcns: list[dict[str, Any]] = field(default_factory=list)
    new_practices: list[dict[str, Any]] = field(default_factory=list)
    renamed: list[dict[str, Any]] = field(default_factory=list)
    moved: list[dict[str, Any]] = field(default_factory=list)  # to another PCN
    changed: list[dict[str, Any]] = field(default_factory=list)  # postcode
    closed: list[dict[str, Any]] = field(default_factory=list)  # kept as they are; see apply's docstring
    not_in_file: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # covered-area rows left out, by reason
    store_commissioners: bool = False  # the workspace has no list of its own yet

    @property
    def writes(self) -> bool:
        return bool(
            self.new_pcns or self.renamed_pcns or self.new_practices or self.renamed or self.moved or self.changed
        )

    @property
    def referenced(self) -> list[dict[str, Any]]:
        """Kept records the team's work refers to: a closed practice with patients, one a home is aligned to."""
        return [r for r in self.closed + self.not_in_file if r["patients"] or r["care_homes"]]

    def counts(self) -> dict[str, int]:
        return {
            "new PCNs": len(self.new_pcns),
            "renamed PCNs": len(self.renamed_pcns),
            "new practices": len(self.new_practices),
            "renamed practices": len(self.renamed),
            "moved to another PCN": len(self.moved),
            "postcode changed": len(self.changed),
            "closed or left the area (kept)": len(self.closed),
            "not in the NHS file (kept)": len(self.not_in_file),
            "kept and referred to by the team's work": len(self.referenced),
        }

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["counts"] = self.counts()
        out["referenced"] = self.referenced
        return out


def _localities(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT id, code, name, ccg FROM localities ORDER BY code"))
    if not rows:
        raise ValidationError(
            "This workspace has no localities yet, and every practice belongs to one. Add your team's locality "
            "(Reference data → Localities), then import the NHS files again. Nothing was imported."
        )
    return rows


def _fallback(localities: list[dict[str, Any]], commissioner: str, name: str = "") -> dict[str, Any]:
    """A guess for the team to confirm: within the commissioner's CCG area, the locality whose name shares the most
    place words with *name* ("OADBY & WIGSTON PCN" → Oadby & Wigston), else the area's first by code."""
    area = CCG_AREAS.get(commissioner)
    in_area = [loc for loc in localities if loc["ccg"] == area] or localities
    words = _place_words(name)
    best = max(in_area, key=lambda loc: len(words & _place_words(loc["name"])))
    return best if words & _place_words(best["name"]) else in_area[0]


def _place_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{4,}", text.lower())} - {"health", "healthcare", "medical", "centre", "city"}


def _references(db: sqlite_utils.Database) -> tuple[Counter, Counter, Counter]:
    patients = Counter(
        {
            r["practice_code"]: r["n"]
            for r in db.query("SELECT practice_code, COUNT(*) AS n FROM patients GROUP BY practice_code")
        }
    )
    caseload = Counter(
        {
            r["practice_code"]: r["n"]
            for r in db.query(
                "SELECT practice_code, COUNT(*) AS n FROM patients WHERE status = 'on caseload' GROUP BY practice_code"
            )
        }
    )
    homes = Counter(
        {
            r["aligned_practice_id"]: r["n"]
            for r in db.query(
                "SELECT aligned_practice_id, COUNT(*) AS n FROM care_homes WHERE aligned_practice_id IS NOT NULL "
                "GROUP BY aligned_practice_id"
            )
        }
    )
    return patients, caseload, homes


def plan(
    db: sqlite_utils.Database,
    ods: OdsFiles,
    *,
    commissioners: tuple[str, ...] | None = None,
    all_settings: bool = False,
    pcn_localities: dict[str, str] | None = None,
) -> Plan:
    """Compare *ods* with the workspace. Raises ValidationError when the files hold nothing for the area."""
    stored = get_meta(db, META_KEY)
    covered = tuple(commissioners) if commissioners else covered_commissioners(db)
    result = Plan(commissioners=covered, files=list(ods.files), store_commissioners=stored != ",".join(covered))
    localities = _localities(db)
    by_loc_code = {loc["code"]: loc for loc in localities}
    by_loc_id = {loc["id"]: loc for loc in localities}

    in_area = [p for p in ods.practices.values() if p.commissioner in covered]
    wanted = {}
    for p in in_area:
        if p.status != "A":
            reason = f"{STATUS_WORDS[p.status]} in the file"
        elif not all_settings and p.setting != "4":
            reason = "not a GP practice (prescribing setting other than 4)"
        else:
            wanted[p.code] = p
            continue
        result.skipped[reason] = result.skipped.get(reason, 0) + 1
    if not wanted:
        raise ValidationError(
            f"{', '.join(ods.files)} holds no active GP practice in the area this workspace covers (commissioner "
            f"codes {', '.join(covered)}): {len(in_area)} rows there, {len(ods.practices):,} in the whole file. "
            "Check it is the national epraccur file and the commissioner codes are right. Nothing was imported."
        )
    result.practices_in_area = len(wanted)

    practices = {r["ods_code"]: r for r in db.query("SELECT * FROM practices")}
    pcns = {r["code"]: r for r in db.query("SELECT * FROM pcns")}
    pcn_by_id = {r["id"]: r for r in pcns.values()}

    # PCNs: those the wanted practices belong to.
    members: dict[str, list[str]] = {}
    for code in wanted:
        if code in ods.membership:
            members.setdefault(ods.membership[code], []).append(code)
    result.pcns_in_area = len(members)
    pcn_locality: dict[str, dict[str, Any]] = {}
    chosen = {k.upper(): v.upper() for k, v in (pcn_localities or {}).items()}
    for pcn_code in sorted(members):
        ods_pcn = ods.pcns[pcn_code]
        if pcn_code in pcns:
            row = pcns[pcn_code]
            pcn_locality[pcn_code] = by_loc_id[row["locality_id"]]
            if row["name"] != ods_pcn.name:
                result.renamed_pcns.append(
                    {"id": row["id"], "code": pcn_code, "before": row["name"], "after": ods_pcn.name}
                )
            continue
        if pcn_code in chosen:
            if chosen[pcn_code] not in by_loc_code:
                raise ValidationError(
                    f"No locality has the code {chosen[pcn_code]} (given for PCN {pcn_code}). The codes are: "
                    f"{', '.join(by_loc_code)}. Nothing was imported."
                )
            loc, basis = by_loc_code[chosen[pcn_code]], "chosen"
        else:
            held = Counter(practices[c]["locality_id"] for c in members[pcn_code] if c in practices)
            if held:
                top = max(held.values())
                loc_id = min((i for i, n in held.items() if n == top), key=lambda i: by_loc_id[i]["code"])
                loc, basis = by_loc_id[loc_id], "from its practices"
            else:
                ccg = ods_pcn.ccg or wanted[members[pcn_code][0]].commissioner
                loc, basis = _fallback(localities, ccg, ods_pcn.name), TO_CONFIRM
        pcn_locality[pcn_code] = loc
        result.new_pcns.append(
            {"code": pcn_code, "name": ods_pcn.name, "locality_id": loc["id"], "locality": loc["code"], "basis": basis}
        )

    # Practices in the file's area.
    for code, p in sorted(wanted.items()):
        pcn_code = ods.membership.get(code)
        row = practices.get(code)
        if row is None:
            if pcn_code:
                loc = pcn_locality[pcn_code]
                basis = next((n["basis"] for n in result.new_pcns if n["code"] == pcn_code), "from its PCN")
                basis = TO_CONFIRM if basis == TO_CONFIRM else "from its PCN"
            else:
                loc, basis = _fallback(localities, p.commissioner, p.name), TO_CONFIRM
            result.new_practices.append(
                {
                    "code": code,
                    "name": p.name,
                    "postcode": p.postcode,
                    "pcn": pcn_code,
                    "locality_id": loc["id"],
                    "locality": loc["code"],
                    "basis": basis,
                }
            )
            continue
        if row["name"] != p.name:
            result.renamed.append({"id": row["id"], "code": code, "before": row["name"], "after": p.name})
        if p.postcode and row["postcode"] != p.postcode:
            result.changed.append({"id": row["id"], "code": code, "before": row["postcode"], "after": p.postcode})
        current = pcn_by_id[row["pcn_id"]]["code"] if row["pcn_id"] else None
        if ods.has_pcn_file and pcn_code and current != pcn_code:
            result.moved.append(
                {
                    "id": row["id"],
                    "code": code,
                    "name": p.name,
                    "before": current,
                    "after": pcn_code,
                    # The practice keeps its locality; a PCN of another locality is shown so the team can decide.
                    "other_locality": pcn_locality[pcn_code]["id"] != row["locality_id"],
                }
            )

    patients, caseload, homes = _references(db)
    for code, row in sorted(practices.items()):
        if code in wanted:
            continue
        entry = {
            "id": row["id"],
            "code": code,
            "name": row["name"],
            "patients": patients[code],
            "on_caseload": caseload[code],
            "care_homes": homes[row["id"]],
        }
        found = ods.practices.get(code)
        if found is None:
            result.not_in_file.append(entry)
        else:
            if found.commissioner not in covered:
                entry["why"] = f"now with commissioner {found.commissioner}, outside the area"
            elif found.status != "A":
                entry["why"] = f"{STATUS_WORDS[found.status]} in the file"
            else:
                entry["why"] = "not a GP practice in the file"
            result.closed.append(entry)
    return result
