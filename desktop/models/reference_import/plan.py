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

from .. import clock
from ..errors import ValidationError
from ..workspace import get_meta
from .cqc import CQC_META_KEY, LLR_LOCAL_AUTHORITIES
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


def covered_authorities(db: sqlite_utils.Database) -> tuple[str, ...]:
    stored = get_meta(db, CQC_META_KEY)
    if stored:
        return tuple(a.strip() for a in stored.split(",") if a.strip())
    return LLR_LOCAL_AUTHORITIES


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
    closed: list[dict[str, Any]] = field(default_factory=list)  # kept; those closed in the file marked closed
    to_close: list[dict[str, Any]] = field(default_factory=list)  # closed in the file, active in the workspace
    not_in_file: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # covered-area rows left out, by reason
    store_commissioners: bool = False  # the workspace has no list of its own yet
    # The CQC care directory, when given.
    local_authorities: tuple[str, ...] = ()
    homes_in_area: int = 0
    new_homes: list[dict[str, Any]] = field(default_factory=list)
    changed_homes: list[dict[str, Any]] = field(default_factory=list)  # {"changes": {column: [before, after]}}
    deregistered_homes: list[dict[str, Any]] = field(default_factory=list)  # kept, marked deregistered
    store_authorities: bool = False

    @property
    def writes(self) -> bool:
        return bool(
            self.new_pcns
            or self.renamed_pcns
            or self.new_practices
            or self.renamed
            or self.moved
            or self.changed
            or self.to_close
            or self.new_homes
            or self.changed_homes
            or self.deregistered_homes
        )

    @property
    def referenced(self) -> list[dict[str, Any]]:
        """Kept records the team's work refers to: a closed practice with patients, one a home is aligned to."""
        return [r for r in self.closed + self.not_in_file if r["patients"] or r["care_homes"]]

    @property
    def renamed_homes(self) -> list[dict[str, Any]]:
        return [h for h in self.changed_homes if "name" in h["changes"]]

    @property
    def homes_with_residents(self) -> list[dict[str, Any]]:
        """Deregistered homes the team still has residents in: kept, and shown so the team can follow them up."""
        return [h for h in self.deregistered_homes if h["residents"]]

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
            "marked closed": len(self.to_close),
            "new care homes": len(self.new_homes),
            "renamed care homes": len(self.renamed_homes),
            "care homes changed": len(self.changed_homes),
            "deregistered care homes (kept)": len(self.deregistered_homes),
            "deregistered care homes with residents": len(self.homes_with_residents),
        }

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["counts"] = self.counts()
        out["referenced"] = self.referenced
        out["renamed_homes"] = self.renamed_homes
        out["homes_with_residents"] = self.homes_with_residents
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
    local_authorities: tuple[str, ...] | None = None,
) -> Plan:
    """Compare *ods* with the workspace. Raises ValidationError when the files hold nothing for the area."""
    authorities = tuple(local_authorities) if local_authorities else covered_authorities(db)
    stored = get_meta(db, META_KEY)
    covered = tuple(commissioners) if commissioners else covered_commissioners(db)
    result = Plan(
        commissioners=covered,
        files=list(ods.files),
        store_commissioners=bool(ods.practices) and stored != ",".join(covered),
    )
    localities = _localities(db)
    if ods.practices:
        _plan_practices(db, ods, result, localities, all_settings=all_settings, pcn_localities=pcn_localities)
    if ods.has_cqc_file:
        _plan_homes(db, ods, result, localities, authorities)
    return result


def _plan_practices(
    db: sqlite_utils.Database,
    ods: OdsFiles,
    result: Plan,
    localities: list[dict[str, Any]],
    *,
    all_settings: bool,
    pcn_localities: dict[str, str] | None,
) -> None:
    covered = result.commissioners
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
            if found.status == "C" and row["status"] != "closed":
                result.to_close.append({**entry, "closed_on": _iso(found.close_date) or clock.today().isoformat()})
            result.closed.append(entry)


def _iso(yyyymmdd: str) -> str:
    d = yyyymmdd.strip()
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else ""


# Where a new home goes when no practice shares its postcode district: its local authority's CCG area.
_AUTHORITY_AREAS = {
    "leicester": ("Leicester City",),
    "rutland": ("East Leicestershire & Rutland",),
    "leicestershire": ("East Leicestershire & Rutland", "West Leicestershire"),
}
# The columns a care home takes from the CQC directory; the team's own (locality, type, aligned practice,
# clinical lead) are never overwritten.
_HOME_COLUMNS = (
    ("name", "name"),
    ("address", "address"),
    ("postcode", "postcode"),
    ("beds", "beds"),
    ("local_authority", "local_authority"),
    ("provider", "provider"),
    ("cqc_rating", "rating"),
    ("older_people", "older_people"),
    ("dementia", "dementia"),
)


def _district(postcode: str) -> str:
    return postcode.split()[0].upper() if postcode.split() else ""


def _home_locality(
    localities: list[dict[str, Any]], districts: dict[str, Counter], by_id: dict[str, Any], home
) -> tuple[dict[str, Any], str]:
    """The locality most of the practices in the home's postcode district belong to, else a guess to confirm."""
    near = districts.get(_district(home.postcode))
    if near:
        top = max(near.values())
        return by_id[min((i for i, n in near.items() if n == top), key=lambda i: by_id[i]["code"])], "from nearby"
    areas = _AUTHORITY_AREAS.get(home.local_authority.casefold(), ())
    in_area = [loc for loc in localities if loc["ccg"] in areas] or localities
    return in_area[0], TO_CONFIRM


def _plan_homes(
    db: sqlite_utils.Database,
    ods: OdsFiles,
    result: Plan,
    localities: list[dict[str, Any]],
    authorities: tuple[str, ...],
) -> None:
    covered = {a.casefold() for a in authorities}
    result.local_authorities = authorities
    result.store_authorities = get_meta(db, CQC_META_KEY) != ",".join(authorities)
    wanted = {k: h for k, h in ods.care_homes.items() if h.local_authority.casefold() in covered}
    if not wanted:
        raise ValidationError(
            f"The CQC care directory ({', '.join(ods.files)}) holds no care home in the local authorities this "
            f"workspace covers ({', '.join(authorities)}): {len(ods.care_homes):,} care homes in the whole file. "
            "Check it is CQC's full 'care directory with filters' file. Nothing was imported."
        )
    no_beds = [h for h in wanted.values() if h.beds < 1]
    if no_beds:
        result.skipped["care homes with no registered beds in the file"] = len(no_beds)
        wanted = {k: h for k, h in wanted.items() if h.beds >= 1}
    result.homes_in_area = len(wanted)
    # A home that is absent from the directory has left the register, but only if the file covers its local
    # authority: a file someone filtered to one authority says nothing about homes in another.
    in_file = {h.local_authority.casefold() for h in ods.care_homes.values()}
    all_covered = covered <= in_file
    by_id = {loc["id"]: loc for loc in localities}
    districts: dict[str, Counter] = {}
    for r in db.query("SELECT postcode, locality_id FROM practices"):
        districts.setdefault(_district(r["postcode"]), Counter())[r["locality_id"]] += 1
    residents = Counter(
        {
            r["care_home_id"]: r["n"]
            for r in db.query(
                "SELECT care_home_id, COUNT(*) AS n FROM residents WHERE left_on IS NULL GROUP BY care_home_id"
            )
        }
    )
    homes = {r["cqc_id"]: r for r in db.query("SELECT * FROM care_homes")}
    for cqc_id, home in sorted(wanted.items()):
        row = homes.get(cqc_id)
        if row is None:
            loc, basis = _home_locality(localities, districts, by_id, home)
            result.new_homes.append(
                {
                    "cqc_id": cqc_id,
                    "name": home.name,
                    "address": home.address,
                    "postcode": home.postcode,
                    "beds": home.beds,
                    "home_type": home.home_type,
                    "local_authority": home.local_authority,
                    "provider": home.provider,
                    "cqc_rating": home.rating,
                    "older_people": int(home.older_people),
                    "dementia": int(home.dementia),
                    "locality_id": loc["id"],
                    "locality": loc["code"],
                    "basis": basis,
                }
            )
            continue
        changes = {}
        for column, attr in _HOME_COLUMNS:
            after = getattr(home, attr)
            after = int(after) if isinstance(after, bool) else after
            if row[column] != after:
                changes[column] = [row[column], after]
        if row["status"] != "registered":
            changes["status"] = [row["status"], "registered"]
            changes["deregistered_on"] = [row["deregistered_on"], None]
        if changes:
            result.changed_homes.append({"id": row["id"], "cqc_id": cqc_id, "name": home.name, "changes": changes})
    for cqc_id, row in sorted(homes.items()):
        if cqc_id in ods.care_homes or row["status"] == "deregistered":
            continue
        authority = row["local_authority"].casefold()
        if not (authority in in_file if authority else all_covered):
            continue
        result.deregistered_homes.append(
            {
                "id": row["id"],
                "cqc_id": cqc_id,
                "name": row["name"],
                "residents": residents[row["id"]],
                "deregistered_on": clock.today().isoformat(),
            }
        )
