"""Reference data: the 11 localities from data/localities.csv, which are real and go into every workspace, and
for the demo only, invented practices, PCNs, care homes and staff in the numbers the seeds give (138 practices,
311 homes, ~1.1 million patients)."""

from __future__ import annotations

import csv
import json
import random
import string
from functools import cache
from typing import Any

from ... import paths
from ..reference import CLINICAL_SYSTEMS

DATA_DIR = paths.demo_data_dir()

# Staff per locality by role (a leadership team and the people who case-manage the cohort).
STAFF_MIX = [
    ("GP", "primary care", 6),
    ("community matron", "community health", 3),
    ("district nurse", "community health", 3),
    ("social worker", "social care", 2),
    ("care coordinator", "primary care", 1),
    ("clinical pharmacist", "primary care", 1),
    ("mental health practitioner", "mental health", 1),
    ("occupational therapist", "community health", 1),
    ("federation manager", "federation", 1),
    ("commissioning manager", "commissioner", 1),
]
HOME_TYPES = [
    ("residential", "residential"),
    ("nursing", "nursing"),
    ("both", "both"),
    ("learning_disability", "learning disability"),
]
# Share of homes left without a lead or an alignment, so the register has gaps worth seeing.
NO_LEAD_SHARE = 0.06
NO_ALIGNMENT_SHARE = 0.04
SMALL_PRACTICES = 4
SMALL_HOMES_PER_TYPE = 2


@cache
def locality_table() -> tuple[dict[str, Any], ...]:
    with open(DATA_DIR / "localities.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        for k in ("population", "practices", "residential", "nursing", "both", "learning_disability"):
            r[k] = int(r[k])
        r["pct_65_plus"] = float(r["pct_65_plus"])
        r["postcode_districts"] = r["postcode_districts"].split(";")
    return tuple(rows)


@cache
def names() -> dict[str, list[str]]:
    with open(DATA_DIR / "names.json", encoding="utf-8") as fh:
        return json.load(fh)


def postcode(rng: random.Random, districts: list[str]) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"  # the inward code never uses C I K M O V
    return f"{rng.choice(districts)} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def person_name(rng: random.Random) -> str:
    n = names()
    given = rng.choice(n["given_female"] if rng.random() < 0.5 else n["given_male"])
    return f"{given} {rng.choice(n['family'])}"


def list_sizes(rng: random.Random, total: int, count: int) -> list[int]:
    """Practice list sizes summing to *total*, spread like LLR's (single-handers to 38,000)."""
    weights = [rng.lognormvariate(0, 0.55) for _ in range(count)]
    scale = total / sum(weights)
    sizes = [max(1800, min(38000, round(w * scale))) for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def build_reference(ctx) -> None:
    """The demo's reference data: the 11 localities and the invented practices, PCNs, care homes and staff."""
    tables = _reference_tables(ctx)
    for table in ("localities", "pcns", "practices", "staff", "care_homes"):
        ctx.db[table].insert_all(tables[table])


def build_localities(ctx) -> None:
    """Only the 11 localities, for a workspace a team fills from the NHS's own files.

    Their ids are the demo's, drawn from the same random stream, so a locality has one id in every workspace and
    a team's workspace syncs with the commissioner's whichever way each was made. The federation names are
    invented, so a real workspace leaves them blank for the team to fill in.
    """
    localities = _reference_tables(ctx)["localities"]
    ctx.db["localities"].insert_all({**loc, "federation": ""} for loc in localities)


def _reference_tables(ctx) -> dict[str, list[dict[str, Any]]]:
    rng = ctx.rng("reference")
    stamp = {
        "created_at": ctx.actor.now(),
        "updated_at": ctx.actor.now(),
        "updated_by": ctx.actor.user,
        "device_id": ctx.actor.device_id,
    }
    n = names()
    used_places: set[str] = set()
    practice_seq = 0
    cqc_seen: set[str] = set()
    tables: dict[str, list[dict[str, Any]]] = {
        "localities": [],
        "pcns": [],
        "practices": [],
        "staff": [],
        "care_homes": [],
    }

    def place() -> str:
        for _ in range(1000):
            name = rng.choice(n["place_words"])
            if name not in used_places or len(used_places) >= len(n["place_words"]):
                used_places.add(name)
                return name
        return rng.choice(n["place_words"])

    for li, loc in enumerate(locality_table()):
        loc_id = ctx.uuid(rng)
        tables["localities"].append(
            {
                "id": loc_id,
                "code": loc["code"],
                "name": loc["name"],
                "ccg": loc["ccg"],
                "federation": f"{loc['name']} GP Federation (demo)",
                **stamp,
            }
        )
        n_practices = loc["practices"]
        population = loc["population"]
        pcn_count = max(1, round(n_practices / 5))
        pcn_ids = []
        for p in range(pcn_count):
            pcn_id = ctx.uuid(rng)
            pcn_ids.append(pcn_id)
            tables["pcns"].append(
                {
                    "id": pcn_id,
                    "code": f"U9{li:02d}{p:02d}",
                    "locality_id": loc_id,
                    "name": f"{place()} {rng.choice(n['pcn_suffixes'])}",
                    **stamp,
                }
            )
        practice_ids = []
        for size in list_sizes(rng, population, n_practices):
            practice_seq += 1
            pid = ctx.uuid(rng)
            practice_ids.append(pid)
            tables["practices"].append(
                {
                    "id": pid,
                    "ods_code": f"Z{82000 + practice_seq:05d}",
                    "locality_id": loc_id,
                    "name": f"{place()} {rng.choice(n['practice_suffixes'])}",
                    "pcn_id": pcn_ids[len(practice_ids) % len(pcn_ids)],
                    "list_size": size,
                    "clinical_system": rng.choices(CLINICAL_SYSTEMS, weights=[45, 52, 3])[0],
                    "postcode": postcode(rng, loc["postcode_districts"]),
                    **stamp,
                }
            )
        gp_ids = []
        for role, organisation, count in STAFF_MIX:
            for _ in range(count):
                sid = ctx.uuid(rng)
                staff_name = person_name(rng)
                if role == "GP":
                    gp_ids.append(sid)
                    staff_name = f"Dr {staff_name}"
                email = staff_name.lower().replace("dr ", "").replace(" ", ".").replace("'", "")
                tables["staff"].append(
                    {
                        "id": sid,
                        "name": staff_name,
                        "role": role,
                        "organisation": organisation,
                        "locality_id": loc_id,
                        "email": f"{email}@example.nhs.uk",
                        **stamp,
                    }
                )
        for column, home_type in HOME_TYPES:
            for _ in range(loc[column]):
                cqc = _unique_cqc(rng, cqc_seen)
                beds = _beds(rng, home_type)
                tables["care_homes"].append(
                    {
                        "id": ctx.uuid(rng),
                        "cqc_id": cqc,
                        "locality_id": loc_id,
                        "home_type": home_type,
                        "name": f"{place()} {rng.choice(n['home_suffixes'])}",
                        "beds": beds,
                        "aligned_practice_id": None if rng.random() < NO_ALIGNMENT_SHARE else rng.choice(practice_ids),
                        "clinical_lead_id": None if rng.random() < NO_LEAD_SHARE else rng.choice(gp_ids),
                        "postcode": postcode(rng, loc["postcode_districts"]),
                        **stamp,
                    }
                )
    _case_managers(ctx, tables)
    if ctx.small:
        _shrink(tables)
    return tables


# One case manager (matron, district nurse or care coordinator) per this many registered patients, so that each
# carries 50–120 caseload patients, as community matrons and district nurses do.
LIST_PER_CASE_MANAGER = 3000
LIST_PER_MATRON = 30_000
LIST_PER_COORDINATOR = 20_000


def _case_managers(ctx, tables: dict[str, list[dict[str, Any]]]) -> None:
    """The case-holding staff a locality's list needs beyond STAFF_MIX's leadership team. Drawn from a stream of
    their own, after everything else, so the localities' ids (shared by every workspace) stay as they were."""
    for loc, info in zip(tables["localities"], locality_table(), strict=True):
        rng = ctx.rng(f"case managers:{loc['code']}")
        have = {
            role: sum(1 for s in tables["staff"] if s["locality_id"] == loc["id"] and s["role"] == role)
            for role in ("community matron", "district nurse", "care coordinator")
        }
        total = round(info["population"] / LIST_PER_CASE_MANAGER)
        matrons = max(0, round(info["population"] / LIST_PER_MATRON) - have["community matron"])
        coordinators = max(0, round(info["population"] / LIST_PER_COORDINATOR) - have["care coordinator"])
        nurses = max(0, total - sum(have.values()) - matrons - coordinators)
        for role, organisation, count in (
            ("community matron", "community health", matrons),
            ("district nurse", "community health", nurses),
            ("care coordinator", "primary care", coordinators),
        ):
            for _ in range(count):
                name = person_name(rng)
                tables["staff"].append(
                    {
                        "id": ctx.uuid(rng),
                        "name": name,
                        "role": role,
                        "organisation": organisation,
                        "locality_id": loc["id"],
                        "email": f"{name.lower().replace(' ', '.').replace(chr(39), '')}@example.nhs.uk",
                        **{k: loc[k] for k in ("created_at", "updated_at", "updated_by", "device_id")},
                    }
                )


def _shrink(tables: dict[str, list[dict[str, Any]]]) -> None:
    """The small world keeps the full world's first practices and homes of each locality, codes unchanged,
    so a demo extract matches either world."""
    kept_practices: dict[str, list[str]] = {}
    practices = []
    for p in tables["practices"]:
        mine = kept_practices.setdefault(p["locality_id"], [])
        if len(mine) < SMALL_PRACTICES:
            mine.append(p["id"])
            practices.append(p)
    tables["practices"] = practices
    used_pcns = {p["pcn_id"] for p in practices}
    tables["pcns"] = [n for n in tables["pcns"] if n["id"] in used_pcns]
    per_type: dict[tuple[str, str], int] = {}
    homes = []
    for h in tables["care_homes"]:
        key = (h["locality_id"], h["home_type"])
        per_type[key] = per_type.get(key, 0) + 1
        if per_type[key] <= SMALL_HOMES_PER_TYPE:
            if h["aligned_practice_id"] and h["aligned_practice_id"] not in kept_practices[h["locality_id"]]:
                h["aligned_practice_id"] = kept_practices[h["locality_id"]][len(homes) % SMALL_PRACTICES]
            homes.append(h)
    tables["care_homes"] = homes


def _unique_cqc(rng: random.Random, seen: set[str]) -> str:
    while True:
        code = "1-" + str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(9))
        if code not in seen:
            seen.add(code)
            return code


def _beds(rng: random.Random, home_type: str) -> int:
    if home_type == "learning disability":
        return rng.randint(4, 12)
    if home_type == "residential":
        return rng.randint(12, 48)
    return rng.randint(30, 90)
