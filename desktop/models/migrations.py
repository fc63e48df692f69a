"""Numbered schema migrations (sqlite-utils Migrations), each atomic; PRAGMA user_version follows them.

Never edit a released migration: add the next one. tests/data/ keeps a workspace of each released schema.
"""

from __future__ import annotations

import sqlite_utils

MIGRATIONS = sqlite_utils.Migrations("locality-desk")

# Columns every user-editable row carries, so workspaces on several laptops can merge (DESIGN §15).
STAMP = """
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    device_id TEXT NOT NULL"""


def _run(db: sqlite_utils.Database, version: int, sql: str) -> None:
    # executescript() would commit mid-migration; run statement by statement inside the migration's transaction.
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")


@MIGRATIONS()
def m001_core(db: sqlite_utils.Database) -> None:
    _run(
        db,
        1,
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

        CREATE TABLE localities (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            ccg TEXT NOT NULL,
            federation TEXT NOT NULL DEFAULT '',
            {STAMP}
        );

        CREATE TABLE pcns (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            {STAMP}
        );

        CREATE TABLE practices (
            id TEXT PRIMARY KEY,
            ods_code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            pcn_id TEXT REFERENCES pcns(id),
            list_size INTEGER NOT NULL CHECK (list_size >= 0),
            clinical_system TEXT NOT NULL,
            postcode TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX practices_locality ON practices(locality_id);

        CREATE TABLE staff (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            organisation TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            email TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX staff_locality ON staff(locality_id);

        CREATE TABLE care_homes (
            id TEXT PRIMARY KEY,
            cqc_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            home_type TEXT NOT NULL
                CHECK (home_type IN ('residential', 'nursing', 'both', 'learning disability')),
            beds INTEGER NOT NULL CHECK (beds > 0),
            aligned_practice_id TEXT REFERENCES practices(id),
            clinical_lead_id TEXT REFERENCES staff(id),
            postcode TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX care_homes_locality ON care_homes(locality_id);

        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            device_id TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT,
            summary TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{{}}'
        );
        CREATE INDEX audit_entity ON audit(entity, entity_id)
        """,
    )


# The user_version the newest migration sets; tests check the two agree.
SCHEMA_VERSION = 1
