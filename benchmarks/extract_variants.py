"""Risk extracts that vary as real ones do, for the import benchmark (DESIGN §13, issue 22 point 5).

Each variant is a deterministic extract of CHA's registered population (the benchmark's world: build_demo's
reference data) plus its "next quarter": the same patients three months on with about 10 % of them changed
(risk values moved, some left the list, some arrived). The variants differ in the ways extracts from the field
do: the share of patients in the cohort (3 %, ~5 %, ~13 %, 20 %), dates of birth mixing ISO (yyyy-mm-dd) and UK
(dd/mm/yyyy) forms in one column as Excel leaves them, Windows-1252 with accented names, semicolons, every
field quoted, and Excel-ish numbers (thousands separators in costs).

Rows are built with numpy and written by pyarrow, so a 1.1 M-row file takes a few seconds; NHS numbers are in
the 9xxxxxxxxx test range with a valid modulus-11 check digit. `python benchmarks/extract_variants.py` writes
them all under benchmarks/out/variants/ (git-ignored); files already there are kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
VARIANTS_DIR = HERE / "out" / "variants"
# The benchmark world's CHA practices (build_demo's reference data: Charnwood's 18 practices).
PRACTICES = [f"Z820{i:02d}" for i in range(1, 19)]
Q2, Q3 = dt.date(2026, 8, 15), dt.date(2026, 11, 15)
LARGE, SMALL = 1_100_000, 100_000


@dataclass(frozen=True)
class Variant:
    name: str
    rows: int
    cohort_share: float  # the share of patients meeting at least one criterion
    iso_share: float = 0.0  # dates of birth written yyyy-mm-dd; the rest dd/mm/yyyy
    encoding: str = "utf-8"  # or "cp1252"
    delimiter: str = ","
    quote_all: bool = False
    thousands: bool = False  # costs as Excel shows them: 12,345.67
    accents: float = 0.0  # the share of names with accented letters
    seed: int = 22

    @property
    def profile(self) -> str:
        parts = [f"{self.rows:,} rows", f"cohort {self.cohort_share:.0%}"]
        parts.append(f"dates {self.iso_share:.0%} ISO / {1 - self.iso_share:.0%} UK" if self.iso_share else "UK dates")
        parts.append(self.encoding if self.encoding == "utf-8" else "Windows-1252")
        parts.append("semicolons" if self.delimiter == ";" else "commas")
        if self.quote_all:
            parts.append("every field quoted")
        if self.thousands:
            parts.append("thousands separators")
        if self.accents:
            parts.append(f"{self.accents:.0%} accented names")
        return ", ".join(parts)

    def path(self, day: dt.date) -> Path:
        return VARIANTS_DIR / f"{self.name}-{day.isoformat()}.csv"


VARIANTS = [
    Variant("plain-5", LARGE, 0.05),
    Variant("mixed-3", LARGE, 0.03, iso_share=0.4, thousands=True),
    Variant("excel-13", LARGE, 0.127, iso_share=0.3, thousands=True, accents=0.05),
    Variant(
        "cp1252-20",
        LARGE,
        0.20,
        iso_share=0.5,
        encoding="cp1252",
        delimiter=";",
        quote_all=True,
        thousands=True,
        accents=0.1,
    ),
    Variant("locality-5", SMALL, 0.05, iso_share=0.3, thousands=True, accents=0.05),
]
BY_NAME = {v.name: v for v in VARIANTS}

GIVEN = ["Thomas", "Amelia", "Oliver", "Isla", "Harry", "Ava", "Jack", "Mia", "George", "Grace", "Noah", "Ivy"]
GIVEN += ["Margaret", "Arthur", "Doris", "Albert", "Joan", "Ernest", "Priya", "Mohammed", "Aisha", "Dylan"]
GIVEN_ACCENTED = ["Zoë", "Chloé", "José", "Renée", "Séan", "Agnès", "Mårten", "Noël", "Anaïs", "Björn"]
FAMILY = ["Smith", "Jones", "Patel", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Pickering"]
FAMILY += ["Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Kaur"]
FAMILY_ACCENTED = ["Müller", "Núñez", "Brontë", "Ó Briain", "Françoise", "Gonçalves", "Håkansson", "Dvorak"]
POSTCODE_AREAS = ["LE11", "LE12", "LE7", "LE4", "LE67"]


def nhs_numbers(count: int, rng: np.random.Generator) -> np.ndarray:
    """*count* distinct valid NHS numbers in the 9xxxxxxxxx test range, in no particular order."""
    stems = 900_000_000 + rng.choice(99_999_999, size=int(count * 1.15) + 1000, replace=False)
    digits = np.stack([(stems // 10**k) % 10 for k in range(8, -1, -1)], axis=1)
    check = 11 - (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
    check[check == 11] = 0
    ok = check != 10
    numbers = stems[ok] * 10 + check[ok]
    return numbers[:count]


def _population(v: Variant, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Patients of the locality, a *cohort_share* of them meeting at least one criterion."""
    in_cohort = rng.random(n) < v.cohort_share
    which = rng.integers(0, 3, n)  # the criterion a cohort patient surely meets
    deficits = np.where(in_cohort & (which == 0), rng.integers(9, 25, n), rng.integers(0, 9, n))
    ltc = np.where(in_cohort & (which == 1), rng.integers(5, 12, n), rng.integers(0, 5, n))
    expected = np.round(rng.uniform(300, 6000, n), 2)
    ratio = np.where(in_cohort & (which == 2), rng.uniform(3.05, 8, n), rng.uniform(0.2, 2.9, n))
    return {
        "in_cohort": in_cohort,
        "efi_deficits": deficits,
        "ltc_count": ltc,
        "expected_cost": expected,
        "predicted_cost": np.round(expected * ratio, 2),
        "prob": np.round(rng.uniform(0.001, 0.95, n), 4),
        "dob": (
            np.datetime64("1920-01-01")
            + rng.integers(0, (np.datetime64("2026-06-01") - np.datetime64("1920-01-01")).astype(int), n)
        ).astype("datetime64[D]"),
        "given": rng.integers(0, len(GIVEN), n),
        "family": rng.integers(0, len(FAMILY), n),
        "accented": rng.random(n) < v.accents,
        "sex": rng.integers(0, 2, n),
        "postcode": rng.integers(0, 10_000, n),
        "practice": rng.integers(0, len(PRACTICES), n),
        "care_home": np.where(rng.random(n) < 0.01, rng.integers(100_000_000, 999_999_999, n), 0),
        "eol": rng.random(n) < 0.01,
        "housebound": rng.random(n) < 0.03,
        "iso": rng.random(n) < v.iso_share,
    }


def _next_quarter(v: Variant, pop: dict[str, np.ndarray], nhs: np.ndarray, rng: np.random.Generator) -> tuple:
    """About 10 % of patients change: 6 % have their risk values moved, 2 % leave, 2 % arrive."""
    n = len(nhs)
    leave = rng.random(n) < 0.02
    keep = ~leave
    moved = keep & (rng.random(n) < 0.06)
    nxt = {k: a[keep].copy() for k, a in pop.items()}
    m = moved[keep]
    fresh = _population(v, rng, int(m.sum()))
    for k in ("in_cohort", "efi_deficits", "ltc_count", "expected_cost", "predicted_cost", "prob"):
        nxt[k][m] = fresh[k]
    arrive = int(0.02 * n)
    extra = _population(v, rng, arrive)
    nxt = {k: np.concatenate([nxt[k], extra[k]]) for k in nxt}
    used = set(nhs.tolist())
    candidates = nhs_numbers(arrive * 3, np.random.default_rng([v.seed, 99]))
    new_nhs = np.array([x for x in candidates.tolist() if x not in used][:arrive], dtype=np.int64)
    return nxt, np.concatenate([nhs[keep], new_nhs])


def _money(values: np.ndarray, thousands: bool) -> pa.Array:
    """Pounds and pence as text; with *thousands*, as Excel shows them (12,345.67)."""
    pence = np.round(values * 100).astype(np.int64)
    pounds = pence // 100
    cents = pc.utf8_lpad(pa.array(pence % 100).cast(pa.string()), 2, "0")
    whole = pa.array(pounds).cast(pa.string())
    if thousands:
        grouped = pc.binary_join_element_wise(
            pa.array(pounds // 1000).cast(pa.string()),
            pc.utf8_lpad(pa.array(pounds % 1000).cast(pa.string()), 3, "0"),
            ",",
        )
        whole = pc.if_else(pa.array(pounds >= 1000), grouped, whole)
    return pc.binary_join_element_wise(whole, cents, ".")


def _table(v: Variant, pop: dict[str, np.ndarray], nhs: np.ndarray) -> pa.Table:
    n = len(nhs)
    given = pa.array(np.array(GIVEN, dtype=object)[pop["given"]])
    given = pc.if_else(
        pa.array(pop["accented"]), pa.array(np.array(GIVEN_ACCENTED, dtype=object)[pop["given"] % 10]), given
    )
    family = pa.array(np.array(FAMILY, dtype=object)[pop["family"]])
    family = pc.if_else(
        pa.array(pop["accented"] & (pop["family"] % 2 == 0)),
        pa.array(np.array(FAMILY_ACCENTED, dtype=object)[pop["family"] % len(FAMILY_ACCENTED)]),
        family,
    )
    stamp = pa.array(pop["dob"]).cast(pa.timestamp("s"))
    dob = pc.if_else(pa.array(pop["iso"]), pc.strftime(stamp, "%Y-%m-%d"), pc.strftime(stamp, "%d/%m/%Y"))
    code = pop["postcode"]
    letters = np.array(list("ABDEFGHJLNPQRSTUWXYZ"), dtype=object)
    postcode = pa.array(
        np.array(POSTCODE_AREAS, dtype=object)[code % len(POSTCODE_AREAS)]
        + " "
        + (code % 9 + 1).astype(str).astype(object)
        + letters[code % 20]
        + letters[(code // 20) % 20]
    )
    efi_score = np.round(pop["efi_deficits"] / 36, 4)
    home = np.where(pop["care_home"] > 0, "1-" + pop["care_home"].astype(str), "")
    return pa.table(
        {
            "nhs_number": pa.array(nhs).cast(pa.string()),
            "given_name": given,
            "family_name": family,
            "date_of_birth": dob,
            "sex": pa.array(np.array(["M", "F"], dtype=object)[pop["sex"]]),
            "postcode": postcode,
            "practice_code": pa.array(np.array(PRACTICES, dtype=object)[pop["practice"]]),
            "ltc_count": pa.array(pop["ltc_count"]).cast(pa.string()),
            "efi_score": pa.array(efi_score).cast(pa.string()),
            "prob_unplanned_admission": pa.array(pop["prob"]).cast(pa.string()),
            "predicted_cost": _money(pop["predicted_cost"], v.thousands),
            "expected_cost": _money(pop["expected_cost"], v.thousands),
            "care_home_id": pa.array(home.astype(object)),
            "eol_register": pa.array(np.where(pop["eol"], "Y", "N").astype(object)),
            "housebound": pa.array(np.where(pop["housebound"], "Y", "N").astype(object)),
        }
    ).slice(0, n)


def _write(v: Variant, table: pa.Table, path: Path) -> None:
    options = pacsv.WriteOptions(
        delimiter=v.delimiter, quoting_style="all_valid" if v.quote_all else "needed", batch_size=65536
    )
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, options)
    data = sink.getvalue().to_pybytes()
    if not v.quote_all:  # pyarrow quotes every text value; Excel quotes only those holding the separator
        sep = re.escape(v.delimiter.encode())
        data = re.sub(rb'"([^"' + sep + rb'\r\n]*)"', rb"\1", data)
    if v.encoding != "utf-8":
        data = data.decode("utf-8").encode(v.encoding)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def write_variant(v: Variant, force: bool = False) -> tuple[Path, Path]:
    """(this quarter's file, the previous quarter's), written unless already there."""
    first, nxt = v.path(Q2), v.path(Q3)
    if force or not (first.exists() and nxt.exists()):
        rng = np.random.default_rng([v.seed, v.rows, int(v.cohort_share * 1000)])
        nhs = nhs_numbers(v.rows, rng)
        pop = _population(v, rng, v.rows)
        _write(v, _table(v, pop, nhs), first)
        pop2, nhs2 = _next_quarter(v, pop, nhs, rng)
        _write(v, _table(v, pop2, nhs2), nxt)
    return nxt, first


def main() -> None:
    for v in VARIANTS:
        this, previous = write_variant(v)
        print(f"{v.name}: {previous.name}, {this.name} ({v.profile})")


if __name__ == "__main__":
    main()
