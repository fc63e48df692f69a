"""Reference data: localities, PCNs, practices, care homes and staff, with their rules.

Each entity is declared once as data (fields, labels, rules); the views build their tables and forms
from these declarations, so no rule lives in a widget.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from . import audit
from .changes import Changes
from .clock import Actor, new_id
from .errors import NotFound, ValidationError
from .identifiers import cqc_id_problem, pcn_code_problem, practice_code_problem

HOME_TYPES = ("residential", "nursing", "both", "learning disability")
CLINICAL_SYSTEMS = ("EMIS Web", "SystmOne", "Vision")
ORGANISATIONS = (
    "primary care",
    "community health",
    "social care",
    "mental health",
    "voluntary sector",
    "care home",
    "federation",
    "commissioner",
)
STAFF_ROLES = (
    "GP",
    "community matron",
    "district nurse",
    "social worker",
    "care coordinator",
    "clinical pharmacist",
    "mental health practitioner",
    "federation manager",
    "commissioning manager",
    "occupational therapist",
)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | int | choice | ref
    required: bool = True
    choices: tuple[str, ...] = ()
    ref: str | None = None  # the entity a "ref" field points at
    help: str = ""
    check: Any = None  # callable(value) -> problem text or None
    minimum: int = 0  # for int fields
    upper: bool = False  # codes are typed in any case and stored in capitals


@dataclass(frozen=True)
class Entity:
    name: str  # table name
    singular: str
    plural: str
    key: str  # the natural key shown to users
    fields: tuple[Field, ...]
    list_sql: str  # SELECT with display columns; must yield id and locality_id
    columns: tuple[tuple[str, str], ...]  # (column in list_sql, heading)
    order_by: str
    referenced_by: tuple[tuple[str, str, str], ...] = field(default=())  # (table, column, what)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


_LOCALITY = Field("locality_id", "Locality", kind="ref", ref="localities")

LOCALITIES = Entity(
    name="localities",
    singular="locality",
    plural="Localities",
    key="code",
    fields=(
        Field(
            "code",
            "Code",
            upper=True,
            help="Three capital letters, used in action references (e.g. CHA-2025-0142).",
            check=lambda v: (
                None
                if v.isalpha() and v.isupper() and len(v) == 3
                else "A locality code is three capital letters, e.g. CHA."
            ),
        ),
        Field("name", "Name"),
        Field(
            "ccg",
            "CCG area",
            kind="choice",
            choices=("East Leicestershire & Rutland", "West Leicestershire", "Leicester City"),
        ),
        Field("federation", "GP federation", required=False),
    ),
    list_sql="""SELECT l.id, l.id AS locality_id, l.code, l.name, l.ccg, l.federation,
                (SELECT COUNT(*) FROM practices p WHERE p.locality_id = l.id) AS practices,
                (SELECT COALESCE(SUM(list_size), 0) FROM practices p WHERE p.locality_id = l.id) AS list_size,
                (SELECT COUNT(*) FROM care_homes h WHERE h.locality_id = l.id) AS care_homes
                FROM localities l""",
    columns=(
        ("code", "Code"),
        ("name", "Name"),
        ("ccg", "CCG area"),
        ("federation", "Federation"),
        ("practices", "Practices"),
        ("list_size", "Registered patients"),
        ("care_homes", "Care homes"),
    ),
    order_by="code",
    referenced_by=(
        ("practices", "locality_id", "practices"),
        ("care_homes", "locality_id", "care homes"),
        ("staff", "locality_id", "staff"),
        ("pcns", "locality_id", "PCNs"),
    ),
)

PCNS = Entity(
    name="pcns",
    singular="PCN",
    plural="PCNs",
    key="code",
    fields=(
        Field("code", "PCN code", check=pcn_code_problem, upper=True, help="U then five digits."),
        Field("name", "Name"),
        _LOCALITY,
    ),
    list_sql="""SELECT n.id, n.locality_id, n.code, n.name, l.name AS locality,
                (SELECT COUNT(*) FROM practices p WHERE p.pcn_id = n.id) AS practices
                FROM pcns n JOIN localities l ON l.id = n.locality_id""",
    columns=(("code", "Code"), ("name", "Name"), ("locality", "Locality"), ("practices", "Practices")),
    order_by="code",
    referenced_by=(("practices", "pcn_id", "practices"),),
)

PRACTICES = Entity(
    name="practices",
    singular="practice",
    plural="Practices",
    key="ods_code",
    fields=(
        Field(
            "ods_code",
            "ODS code",
            check=practice_code_problem,
            upper=True,
            help="The practice's ODS code: one capital letter then five digits, e.g. C82001.",
        ),
        Field("name", "Name"),
        _LOCALITY,
        Field("pcn_id", "PCN", kind="ref", ref="pcns", required=False),
        Field("list_size", "List size", kind="int", help="Registered patients, a whole number."),
        Field("clinical_system", "Clinical system", kind="choice", choices=CLINICAL_SYSTEMS),
        Field("postcode", "Postcode", required=False),
    ),
    list_sql="""SELECT p.id, p.locality_id, p.ods_code, p.name, l.name AS locality, n.name AS pcn,
                p.list_size, p.clinical_system, p.postcode,
                CASE WHEN p.status = 'closed' THEN 'closed ' || COALESCE(p.closed_on, '') ELSE p.status END AS status
                FROM practices p JOIN localities l ON l.id = p.locality_id
                LEFT JOIN pcns n ON n.id = p.pcn_id""",
    columns=(
        ("ods_code", "ODS code"),
        ("name", "Name"),
        ("locality", "Locality"),
        ("pcn", "PCN"),
        ("list_size", "List size"),
        ("clinical_system", "Clinical system"),
        ("postcode", "Postcode"),
        ("status", "Status"),
    ),
    order_by="name",
    referenced_by=(("care_homes", "aligned_practice_id", "care homes aligned to it"),),
)

STAFF = Entity(
    name="staff",
    singular="staff member",
    plural="Staff",
    key="name",
    fields=(
        Field("name", "Name"),
        Field("role", "Role", kind="choice", choices=STAFF_ROLES),
        Field("organisation", "Organisation", kind="choice", choices=ORGANISATIONS),
        _LOCALITY,
        Field(
            "email",
            "E-mail",
            required=False,
            help="An e-mail address, e.g. name@nhs.net.",
            check=lambda v: None if not v or ("@" in v and " " not in v) else "That is not an e-mail address.",
        ),
    ),
    list_sql="""SELECT s.id, s.locality_id, s.name, s.role, s.organisation, l.name AS locality, s.email,
                (SELECT COUNT(*) FROM care_homes h WHERE h.clinical_lead_id = s.id) AS homes_led
                FROM staff s JOIN localities l ON l.id = s.locality_id""",
    columns=(
        ("name", "Name"),
        ("role", "Role"),
        ("organisation", "Organisation"),
        ("locality", "Locality"),
        ("email", "E-mail"),
        ("homes_led", "Homes led"),
    ),
    order_by="name",
    referenced_by=(("care_homes", "clinical_lead_id", "care homes with them as clinical lead"),),
)

CARE_HOMES = Entity(
    name="care_homes",
    singular="care home",
    plural="Care homes",
    key="cqc_id",
    fields=(
        Field(
            "cqc_id",
            "CQC location id",
            check=cqc_id_problem,
            help="The CQC location id: '1-' then 9 to 11 digits, e.g. 1-187729429.",
        ),
        Field("name", "Name"),
        _LOCALITY,
        Field("home_type", "Type", kind="choice", choices=HOME_TYPES),
        Field("beds", "Registered beds", kind="int", minimum=1, help="Registered beds, at least 1."),
        Field(
            "aligned_practice_id",
            "Aligned practice",
            kind="ref",
            ref="practices",
            required=False,
            help="EHCH: every home is aligned to one practice or PCN.",
        ),
        Field(
            "clinical_lead_id",
            "Named clinical lead",
            kind="ref",
            ref="staff",
            required=False,
            help="EHCH: every home has a named clinical lead.",
        ),
        Field("postcode", "Postcode", required=False),
    ),
    list_sql="""SELECT h.id, h.locality_id, h.cqc_id, h.name, l.name AS locality, h.home_type, h.beds,
                p.name AS aligned_practice, s.name AS clinical_lead, h.postcode,
                CASE WHEN h.status = 'deregistered' THEN 'deregistered ' || COALESCE(h.deregistered_on, '')
                     ELSE h.status END AS status
                FROM care_homes h JOIN localities l ON l.id = h.locality_id
                LEFT JOIN practices p ON p.id = h.aligned_practice_id
                LEFT JOIN staff s ON s.id = h.clinical_lead_id""",
    columns=(
        ("cqc_id", "CQC id"),
        ("name", "Name"),
        ("locality", "Locality"),
        ("home_type", "Type"),
        ("beds", "Beds"),
        ("aligned_practice", "Aligned practice"),
        ("clinical_lead", "Clinical lead"),
        ("postcode", "Postcode"),
        ("status", "Status"),
    ),
    order_by="name",
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (LOCALITIES, PCNS, PRACTICES, STAFF, CARE_HOMES)}
_REF_LABEL = {"localities": "name", "pcns": "name", "practices": "name", "staff": "name"}


def list_rows(db: sqlite_utils.Database, entity: str, locality_id: str | None = None) -> list[dict[str, Any]]:
    """Display rows for a reference table, optionally for one locality, in the entity's natural order."""
    spec = ENTITIES[entity]
    sql = f"SELECT * FROM ({spec.list_sql})"
    params: list[Any] = []
    if locality_id:
        sql += " WHERE locality_id = ?"
        params.append(locality_id)
    sql += f" ORDER BY {spec.order_by} COLLATE NOCASE"
    return list(db.query(sql, params))


def get(db: sqlite_utils.Database, entity: str, row_id: str) -> dict[str, Any]:
    rows = list(db.query(f"SELECT * FROM {ENTITIES[entity].name} WHERE id = ?", [row_id]))
    if not rows:
        raise NotFound(f"That {ENTITIES[entity].singular} no longer exists; it may have been deleted.")
    return rows[0]


def choices_for(db: sqlite_utils.Database, entity: str, locality_id: str | None = None) -> list[tuple[str, str]]:
    """(id, label) pairs for a reference picker, e.g. the practices of one locality."""
    label = _REF_LABEL[entity]
    sql = f"SELECT id, {label} AS label FROM {entity}"
    params: list[Any] = []
    if locality_id and entity != "localities":
        sql += " WHERE locality_id = ?"
        params.append(locality_id)
    sql += " ORDER BY label COLLATE NOCASE"
    return [(r["id"], r["label"]) for r in db.query(sql, params)]


def rule_text(entity: str, name: str) -> str:
    """What validate() asks of one field, in words for the form's tooltip and What's This."""
    spec = ENTITIES[entity]
    f = spec.field(name)
    words = ["Required." if f.required else "Optional."]
    if f.kind == "int":
        words.append("A whole number" + (" (zero or more)." if f.minimum == 0 else f", at least {f.minimum}."))
    elif f.kind == "choice":
        words.append(f"One of: {', '.join(f.choices)}.")
    elif f.kind == "ref" and f.ref != "localities":
        words.append(
            f"Only those of the chosen locality are offered: the {f.label.lower()} belongs to the same locality team."
        )
    if f.help:
        words.append(f.help)
    if name == spec.key and spec.key != "name":
        words.append(f"No two {spec.plural.lower()} share the same {f.label}.")
    if f.upper:
        words.append("Typed in any case; kept in capitals.")
    return " ".join(words)


def validate(
    db: sqlite_utils.Database, entity: str, values: dict[str, Any], row_id: str | None = None
) -> dict[str, Any]:
    """Clean *values* for saving or raise ValidationError naming the first field at fault."""
    spec = ENTITIES[entity]
    clean: dict[str, Any] = {}
    for f in spec.fields:
        raw = values.get(f.name)
        value = raw.strip() if isinstance(raw, str) else raw
        if value in (None, ""):
            if f.required:
                raise ValidationError(f"{f.label} is required.", f.name)
            clean[f.name] = "" if f.kind in ("text",) else None
            continue
        if f.kind == "int":
            try:
                value = int(str(value).replace(",", ""))
            except ValueError:
                raise ValidationError(f"{f.label} must be a whole number, not '{value}'.", f.name) from None
            if value < f.minimum:
                bound = "zero or more" if f.minimum == 0 else f"at least {f.minimum}"
                raise ValidationError(f"{f.label} must be {bound}.", f.name)
        elif f.kind == "choice" and value not in f.choices:
            raise ValidationError(f"{f.label} must be one of: {', '.join(f.choices)}.", f.name)
        elif f.kind == "ref" and not list(db.query(f"SELECT 1 FROM {f.ref} WHERE id = ?", [value])):
            raise ValidationError(f"The chosen {f.label.lower()} no longer exists.", f.name)
        if f.upper:
            value = value.upper()
        if f.check and (problem := f.check(value)):
            raise ValidationError(problem, f.name)
        clean[f.name] = value
    _check_unique(db, spec, clean, row_id)
    _check_same_locality(db, spec, clean)
    return clean


def _check_unique(db: sqlite_utils.Database, spec: Entity, clean: dict[str, Any], row_id: str | None) -> None:
    if spec.key == "name":
        return
    clash = list(
        db.query(f"SELECT name FROM {spec.name} WHERE {spec.key} = ? AND id IS NOT ?", [clean[spec.key], row_id])
    )
    if clash:
        label = spec.field(spec.key).label
        raise ValidationError(f"{label} {clean[spec.key]} is already used by {clash[0]['name']}.", spec.key)


def _check_same_locality(db: sqlite_utils.Database, spec: Entity, clean: dict[str, Any]) -> None:
    # A practice's PCN, and a home's aligned practice and lead, belong to the same locality team.
    for f in spec.fields:
        if f.kind == "ref" and f.ref != "localities" and clean.get(f.name) and "locality_id" in clean:
            other = next(iter(db.query(f"SELECT locality_id FROM {f.ref} WHERE id = ?", [clean[f.name]])))
            if other["locality_id"] != clean["locality_id"]:
                raise ValidationError(f"The {f.label.lower()} belongs to another locality.", f.name)


def save(
    db: sqlite_utils.Database, actor: Actor, entity: str, values: dict[str, Any], row_id: str | None = None
) -> tuple[str, Changes]:
    """Insert (row_id None) or update one reference row, validated, in one audited transaction."""
    spec = ENTITIES[entity]
    clean = validate(db, entity, values, row_id)
    now = actor.now()
    stamp = {"updated_at": now, "updated_by": actor.user, "device_id": actor.device_id}
    with db.atomic():
        if row_id is None:
            row_id = new_id()
            db[spec.name].insert({"id": row_id, **clean, "created_at": now, **stamp})
            audit.record(
                db, actor, "create", spec.name, row_id, f"Added {spec.singular} {clean[spec.key]}", {"after": clean}
            )
        else:
            before = get(db, entity, row_id)
            changed = {k: {"before": before[k], "after": v} for k, v in clean.items() if before[k] != v}
            if not changed:
                return row_id, Changes()
            db[spec.name].update(row_id, {**clean, **stamp})
            audit.record(
                db,
                actor,
                "update",
                spec.name,
                row_id,
                f"Changed {spec.singular} {clean[spec.key]}: {', '.join(changed)}",
                {"changes": changed},
            )
    return row_id, Changes.of(spec.name)


def delete(db: sqlite_utils.Database, actor: Actor, entity: str, row_id: str) -> Changes:
    """Delete one reference row unless other records still point at it (the message says which)."""
    spec = ENTITIES[entity]
    before = get(db, entity, row_id)
    for table, column, what in spec.referenced_by:
        count = db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", [row_id]).fetchone()[0]
        if count:
            raise ValidationError(
                f"{before['name']} still has {count} {what}. Move or remove them first, then delete it."
            )
    try:
        with db.atomic():
            db.execute(f"DELETE FROM {spec.name} WHERE id = ?", [row_id])
            audit.record(
                db,
                actor,
                "delete",
                spec.name,
                row_id,
                f"Deleted {spec.singular} {before[spec.key]}",
                {"before": before},
            )
    except sqlite3.IntegrityError as exc:
        raise ValidationError(f"{before['name']} is still used elsewhere in the workspace, so it was kept.") from exc
    return Changes.of(spec.name)
