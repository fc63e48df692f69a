"""The 11 teams grouped as the Health and Wellbeing Board reads LLR (issue 24): by place (Leicester City, the
county of Leicestershire, Rutland) and by former CCG area (the `localities.ccg` column), with subtotals pooled
from the teams' returns (consolidated.pooled).

Rutland has no integrated team of its own. It is served by Melton, Syston & Rutland (MSR), which also covers
Melton and Syston in the county. The rule here, stated wherever the grouping is printed (RUTLAND_RULE): the
team whose name mentions Rutland is shown as the Rutland place, and the county subtotal leaves it out, so the
three places add up to LLR without counting a team twice. The Rutland figures therefore include Melton and
Syston patients; no return splits them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CITY, COUNTY, RUTLAND = "Leicester City", "Leicestershire", "Rutland"
PLACES = (CITY, COUNTY, RUTLAND)  # the order a board pack reads them in
CITY_CCG = "Leicester City"
CCGS = ("Leicester City", "West Leicestershire", "East Leicestershire & Rutland")
RUTLAND_RULE = (
    "Rutland has no team of its own: Melton, Syston & Rutland (MSR) serves it together with Melton and Syston "
    "in the county. MSR is shown as the Rutland place, so its figures include Melton and Syston patients, and "
    "the Leicestershire (county) subtotal leaves MSR out; the three places add up to LLR with no team counted "
    "twice."
)


@dataclass(frozen=True)
class Group:
    name: str  # "Leicester City", "West Leicestershire"…
    kind: str  # "place" or "ccg"
    codes: tuple[str, ...]  # the teams' locality codes, in code order
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({len(self.codes)} team{'s' if len(self.codes) != 1 else ''})"


def serves_rutland(locality: Mapping[str, Any]) -> bool:
    return "rutland" in str(locality.get("name") or "").casefold()


def place_of(locality: Mapping[str, Any]) -> str:
    """The place a team is reported under: the city by its CCG area, Rutland for the team named after it, the
    county for the rest."""
    if str(locality.get("ccg") or "") == CITY_CCG:
        return CITY
    return RUTLAND if serves_rutland(locality) else COUNTY


def by_place(localities: Iterable[Mapping[str, Any]]) -> list[Group]:
    """The places in PLACES order, each with its teams; a place with no team (a workspace holding fewer teams)
    is left out."""
    teams = sorted(localities, key=lambda t: t["code"])
    out = []
    for place in PLACES:
        codes = tuple(t["code"] for t in teams if place_of(t) == place)
        if codes:
            note = "also serves Melton and Syston (county)" if place == RUTLAND else ""
            out.append(Group(place, "place", codes, note))
    return out


def by_ccg(localities: Iterable[Mapping[str, Any]]) -> list[Group]:
    """The former CCG areas, the three LLR ones first in CCGS order, then any other name the workspace holds."""
    teams = sorted(localities, key=lambda t: t["code"])
    names = [c for c in CCGS if any(t.get("ccg") == c for t in teams)]
    names += sorted({str(t.get("ccg") or "") for t in teams} - set(names))
    return [Group(name or "no CCG area", "ccg", tuple(t["code"] for t in teams if (t.get("ccg") or "") == name))
            for name in names]  # fmt: skip


def order(groups: list[Group]) -> list[str]:
    """The team codes in the groups' order: the column order of a table grouped by place."""
    return [code for g in groups for code in g.codes]
