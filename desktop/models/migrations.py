"""Numbered schema migrations (sqlite-utils Migrations), each atomic; PRAGMA user_version follows them.

Never edit a released migration: add the next one. tests/data/ keeps a workspace of each released schema.
"""

from __future__ import annotations

import sqlite_utils

from . import audit

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


@MIGRATIONS()
def m002_cohort(db: sqlite_utils.Database) -> None:
    _run(
        db,
        2,
        f"""
        CREATE TABLE risk_runs (
            id TEXT PRIMARY KEY,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            file_name TEXT NOT NULL,
            extract_date TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            imported_by TEXT NOT NULL,
            rows INTEGER NOT NULL,
            imported INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            cohort_total INTEGER NOT NULL,
            frailty INTEGER NOT NULL,
            multimorbidity INTEGER NOT NULL,
            high_cost INTEGER NOT NULL,
            new INTEGER NOT NULL,
            left INTEGER NOT NULL,
            changed INTEGER NOT NULL,
            rules TEXT NOT NULL,
            summary TEXT NOT NULL,
            {STAMP}
        );
        CREATE INDEX risk_runs_locality ON risk_runs(locality_id, extract_date);

        -- The cohort of each run, stratified and frozen, as one compressed Arrow table (risk_store.py):
        -- 60,000 rows a run cost one write instead of 60,000 (DESIGN §13).
        CREATE TABLE risk_run_cohorts (
            run_id TEXT PRIMARY KEY REFERENCES risk_runs(id) ON DELETE CASCADE,
            data BLOB NOT NULL
        );

        -- One row per patient the team has worked on: identity, membership, and the team's own work.
        -- Everyone else in a cohort lives only in the runs' cohort tables.
        CREATE TABLE patients (
            id TEXT PRIMARY KEY,
            nhs_number TEXT NOT NULL UNIQUE,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            given_name TEXT NOT NULL DEFAULT '',
            family_name TEXT NOT NULL DEFAULT '',
            date_of_birth TEXT NOT NULL,
            sex TEXT NOT NULL DEFAULT '',
            postcode TEXT NOT NULL DEFAULT '',
            practice_code TEXT NOT NULL,
            care_home_id TEXT NOT NULL DEFAULT '',
            in_cohort INTEGER NOT NULL DEFAULT 1,
            joined_run_id TEXT REFERENCES risk_runs(id),
            left_run_id TEXT REFERENCES risk_runs(id),
            left_reason TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'identified'
                CHECK (status IN ('identified', 'contacted', 'on caseload', 'discharged')),
            discharge_reason TEXT NOT NULL DEFAULT ''
                CHECK (discharge_reason IN ('', 'stable', 'declined', 'moved', 'died')),
            stream TEXT NOT NULL DEFAULT ''
                CHECK (stream IN ('', 'complex', 'intermediate', 'less complex')),
            named_gp_id TEXT REFERENCES staff(id),
            case_manager_id TEXT REFERENCES staff(id),
            care_plan_date TEXT,
            review_interval_months INTEGER,
            next_review_due TEXT,
            notes TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX patients_locality ON patients(locality_id, in_cohort);

        -- Who left the cohort and whose risk changed, per run. patient_id names the run's cohort table row;
        -- a patients row exists only once the team works on someone, hence no foreign key here.
        CREATE TABLE cohort_changes (
            run_id TEXT NOT NULL REFERENCES risk_runs(id) ON DELETE CASCADE,
            patient_id TEXT NOT NULL,
            change TEXT NOT NULL CHECK (change IN ('new', 'left', 'changed')),
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, patient_id)
        ) WITHOUT ROWID;

        CREATE TABLE interventions (
            id TEXT PRIMARY KEY,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            type TEXT NOT NULL,
            delivered_on TEXT NOT NULL,
            delivered_by_id TEXT REFERENCES staff(id),
            note TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX interventions_patient ON interventions(patient_id, delivered_on)
        """,
    )


@MIGRATIONS()
def m003_mdt(db: sqlite_utils.Database) -> None:
    _run(
        db,
        3,
        f"""
        ALTER TABLE patients ADD COLUMN flagged_for_mdt INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE patients ADD COLUMN flag_note TEXT NOT NULL DEFAULT '';

        CREATE TABLE meetings (
            id TEXT PRIMARY KEY,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            held_on TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('locality MDT', 'care-home MDT', 'ad hoc')),
            chair_id TEXT REFERENCES staff(id),
            location TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'held')),
            notes TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX meetings_locality ON meetings(locality_id, held_on);

        CREATE TABLE meeting_attendees (
            id TEXT PRIMARY KEY,
            meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            role TEXT NOT NULL DEFAULT '',
            organisation TEXT NOT NULL,
            staff_id TEXT REFERENCES staff(id),
            present INTEGER NOT NULL DEFAULT 1,
            {STAMP}
        );
        CREATE INDEX meeting_attendees_meeting ON meeting_attendees(meeting_id);

        CREATE TABLE actions (
            id TEXT PRIMARY KEY,
            reference TEXT NOT NULL UNIQUE,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            year INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            meeting_id TEXT REFERENCES meetings(id) ON DELETE SET NULL,
            patient_id TEXT REFERENCES patients(id),
            description TEXT NOT NULL,
            owner_name TEXT NOT NULL,
            owner_staff_id TEXT REFERENCES staff(id),
            owner_organisation TEXT NOT NULL,
            due_date TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in progress', 'done', 'cancelled')),
            completed_on TEXT,
            outcome_note TEXT NOT NULL DEFAULT '',
            escalated_to TEXT NOT NULL DEFAULT '',
            escalated_on TEXT,
            escalation_reason TEXT NOT NULL DEFAULT '',
            {STAMP},
            UNIQUE (locality_id, year, seq)
        );
        CREATE INDEX actions_locality ON actions(locality_id, status, due_date);
        CREATE INDEX actions_meeting ON actions(meeting_id);
        CREATE INDEX actions_patient ON actions(patient_id);

        -- The agenda: patients to discuss (with their outcome) and open actions carried forward for review.
        CREATE TABLE meeting_items (
            id TEXT PRIMARY KEY,
            meeting_id TEXT NOT NULL REFERENCES meetings(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('patient', 'action')),
            patient_id TEXT REFERENCES patients(id),
            action_id TEXT REFERENCES actions(id) ON DELETE CASCADE,
            source TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL DEFAULT '',
            discussed INTEGER NOT NULL DEFAULT 0,
            {STAMP},
            CHECK ((kind = 'patient' AND patient_id IS NOT NULL) OR (kind = 'action' AND action_id IS NOT NULL))
        );
        CREATE INDEX meeting_items_meeting ON meeting_items(meeting_id, position);
        CREATE INDEX meeting_items_patient ON meeting_items(patient_id)
        """,
    )


@MIGRATIONS()
def m004_care_homes(db: sqlite_utils.Database) -> None:
    _run(
        db,
        4,
        f"""
        CREATE TABLE residents (
            id TEXT PRIMARY KEY,
            care_home_id TEXT NOT NULL REFERENCES care_homes(id),
            patient_id TEXT REFERENCES patients(id),
            nhs_number TEXT NOT NULL,
            given_name TEXT NOT NULL DEFAULT '',
            family_name TEXT NOT NULL DEFAULT '',
            date_of_birth TEXT,
            admitted_on TEXT NOT NULL,
            readmitted_on TEXT,
            left_on TEXT,
            holistic_assessment_on TEXT,
            pcsp_on TEXT,
            medication_review_on TEXT,
            end_of_life INTEGER NOT NULL DEFAULT 0,
            eol_plan_on TEXT,
            notes TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX residents_home ON residents(care_home_id, left_on);
        CREATE INDEX residents_nhs ON residents(nhs_number);

        CREATE TABLE visits (
            id TEXT PRIMARY KEY,
            care_home_id TEXT NOT NULL REFERENCES care_homes(id),
            visited_on TEXT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('weekly home round', 'reactive visit', 'new-resident assessment',
                                               'medication review', 'MDT in the home')),
            clinician_id TEXT REFERENCES staff(id),
            clinician_name TEXT NOT NULL DEFAULT '',
            notes TEXT NOT NULL DEFAULT '',
            {STAMP}
        );
        CREATE INDEX visits_home ON visits(care_home_id, visited_on);

        CREATE TABLE visit_residents (
            id TEXT PRIMARY KEY,
            visit_id TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            resident_id TEXT NOT NULL REFERENCES residents(id),
            outcome TEXT NOT NULL CHECK (outcome IN ('managed in the home', 'referred on', 'transferred to hospital')),
            note TEXT NOT NULL DEFAULT '',
            {STAMP},
            UNIQUE (visit_id, resident_id)
        );
        CREATE INDEX visit_residents_resident ON visit_residents(resident_id);

        ALTER TABLE actions ADD COLUMN visit_id TEXT REFERENCES visits(id) ON DELETE SET NULL
        """,
    )


@MIGRATIONS()
def m005_returns(db: sqlite_utils.Database) -> None:
    _run(
        db,
        5,
        f"""
        CREATE TABLE returns (
            id TEXT PRIMARY KEY,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            period TEXT NOT NULL,
            revision INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed_off', 'exported')),
            signed_off_by TEXT,
            signed_off_at TEXT,
            exported_at TEXT,
            reopened_reason TEXT NOT NULL DEFAULT '',
            {STAMP},
            UNIQUE (locality_id, period, revision)
        );

        CREATE TABLE return_values (
            id TEXT PRIMARY KEY,
            return_id TEXT NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
            kpi TEXT NOT NULL,
            numerator REAL,
            denominator REAL,
            value REAL,
            rag TEXT CHECK (rag IN ('G', 'A', 'R') OR rag IS NULL),
            comment TEXT NOT NULL DEFAULT '',
            {STAMP},
            UNIQUE (return_id, kpi)
        )
        """,
    )


@MIGRATIONS()
def m006_kpi_reads(db: sqlite_utils.Database) -> None:
    # The interventions a team delivered stay the team's even if the patient later moves locality; keeping the
    # locality on the row also spares the KPIs a join to patients by UUID for every intervention (DESIGN §13).
    _run(
        db,
        6,
        """
        ALTER TABLE interventions ADD COLUMN locality_id TEXT REFERENCES localities(id);
        UPDATE interventions
            SET locality_id = (SELECT p.locality_id FROM patients p WHERE p.id = interventions.patient_id);
        CREATE INDEX interventions_locality ON interventions(locality_id, delivered_on, type, patient_id);
        CREATE INDEX visits_day ON visits(visited_on, care_home_id, type);
        CREATE INDEX visit_residents_outcome ON visit_residents(visit_id, outcome)
        """,
    )


@MIGRATIONS()
def m007_received_returns(db: sqlite_utils.Database) -> None:
    # A commissioner workspace holds the teams' returns as received: the file's digest and when it was made,
    # so a re-sent identical file is recognised and timeliness can be judged.
    _run(
        db,
        7,
        """
        ALTER TABLE returns ADD COLUMN received_at TEXT;
        ALTER TABLE returns ADD COLUMN source_file TEXT NOT NULL DEFAULT '';
        ALTER TABLE returns ADD COLUMN sha256 TEXT;
        ALTER TABLE returns ADD COLUMN generated_at TEXT;
        CREATE INDEX returns_period ON returns(period, locality_id, revision)
        """,
    )


@MIGRATIONS()
def m008_actions_against_kpis(db: sqlite_utils.Database) -> None:
    # An action can be raised against a KPI (a red explained in the return), so the locality report can show,
    # for each exception, what is being done about it.
    _run(
        db,
        8,
        """
        ALTER TABLE actions ADD COLUMN kpi TEXT;
        CREATE INDEX actions_kpi ON actions(locality_id, kpi) WHERE kpi IS NOT NULL
        """,
    )


@MIGRATIONS()
def m009_audit_role(db: sqlite_utils.Database) -> None:
    # Who made a change is a name and a role (GP, community matron…), chosen when the app opens (issue 10).
    # The audit-log screen filters by action and user, newest first.
    _run(
        db,
        9,
        """
        ALTER TABLE audit ADD COLUMN role TEXT;
        CREATE INDEX audit_action ON audit(action, seq);
        CREATE INDEX audit_user ON audit(user, seq)
        """,
    )


@MIGRATIONS()
def m010_audit_chain(db: sqlite_utils.Database) -> None:
    # The audit log becomes tamper-evident (issue 20): the operating-system account beside the typed name, each
    # entry chained to the one before by its hash (desktop.models.audit), and triggers that refuse to change or
    # delete an entry. The entries already there are chained first, oldest first, as they stand.
    _run(
        db,
        10,
        """
        ALTER TABLE audit ADD COLUMN os_account TEXT;
        ALTER TABLE audit ADD COLUMN prev_hash TEXT;
        ALTER TABLE audit ADD COLUMN hash TEXT
        """,
    )
    prev, links = audit.GENESIS, []
    for seq, *values in db.execute(f"SELECT seq, {', '.join(audit.FIELDS)} FROM audit ORDER BY seq"):
        digest = audit.entry_hash(seq, values, prev)
        links.append((prev, digest, seq))
        prev = digest
    db.conn.executemany("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", links)
    for sql in audit.TRIGGERS.values():  # not through _run: a trigger's body holds semicolons
        db.execute(sql)


@MIGRATIONS()
def m011_reference_status(db: sqlite_utils.Database) -> None:
    # Reference data from the NHS's own files (issue 21). A practice that closes or a care home that leaves the
    # CQC register is marked, never deleted: the team's patients, residents and visits still point at it. A care
    # home also keeps what the CQC directory says of it, so the team can see provider, rating and specialisms.
    _run(
        db,
        11,
        """
        ALTER TABLE practices ADD COLUMN status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed'));
        ALTER TABLE practices ADD COLUMN closed_on TEXT;
        ALTER TABLE care_homes ADD COLUMN status TEXT NOT NULL DEFAULT 'registered'
            CHECK (status IN ('registered', 'deregistered'));
        ALTER TABLE care_homes ADD COLUMN deregistered_on TEXT;
        ALTER TABLE care_homes ADD COLUMN address TEXT NOT NULL DEFAULT '';
        ALTER TABLE care_homes ADD COLUMN local_authority TEXT NOT NULL DEFAULT '';
        ALTER TABLE care_homes ADD COLUMN provider TEXT NOT NULL DEFAULT '';
        ALTER TABLE care_homes ADD COLUMN cqc_rating TEXT NOT NULL DEFAULT '';
        ALTER TABLE care_homes ADD COLUMN older_people INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE care_homes ADD COLUMN dementia INTEGER NOT NULL DEFAULT 0
        """,
    )


@MIGRATIONS()
def m012_import_roll_back(db: sqlite_utils.Database) -> None:
    # An import can be rolled back (issue 22): what it overwrote is kept beside the run, so the run and
    # everything it wrote can go and the locality be as it was. Only the columns an import writes are kept, for
    # the patients it touched (a few hundred at most), and the workspace settings it changed.
    _run(
        db,
        12,
        """
        CREATE TABLE risk_run_undo (
            run_id TEXT PRIMARY KEY REFERENCES risk_runs(id) ON DELETE CASCADE,
            patients TEXT NOT NULL,
            meta TEXT NOT NULL
        )
        """,
    )


@MIGRATIONS()
def m013_sync_ledger(db: sqlite_utils.Database) -> None:
    # Sync carries only what changed (issue 23): a ledger of every synced record, fed by triggers
    # (desktop.models.sync.tracking, which open_workspace keeps installed). The records already here are entered
    # as the history every copy of this workspace shares, with clocks made from the records themselves.
    import uuid

    from .sync import tracking

    _run(db, 13, tracking.LEDGER_SQL)
    tracking.adopt(db.conn)
    # What every copy of this workspace shares: bundles of two copies that have not heard of each other yet carry
    # only what changed since the older of their starting points (desktop.models.sync.state).
    db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sync_origin', ?)", [str(uuid.uuid4())])


@MIGRATIONS()
def m014_kpi_rebases(db: sqlite_utils.Database) -> None:
    # A step change a federation manager records on a KPI (issue 24): SPC limits are recalculated from its date,
    # as NHSRplotthedots' rebase dates, and the reason is printed under the chart. Team data, so it syncs.
    _run(
        db,
        14,
        f"""
        CREATE TABLE kpi_rebases (
            id TEXT PRIMARY KEY,
            locality_id TEXT NOT NULL REFERENCES localities(id),
            kpi TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            reason TEXT NOT NULL,
            recorded_by TEXT NOT NULL,
            {STAMP}
        );
        CREATE UNIQUE INDEX kpi_rebases_once ON kpi_rebases (locality_id, kpi, effective_on);
        """,
    )


@MIGRATIONS()
def m015_history_and_flags(db: sqlite_utils.Database) -> None:
    # Issue 25. Caseload status changes are kept with their dates, so a past month's KPIs use the status as it was
    # then; the audit log gives the history of workspaces made before (desktop.models.cohort.caseload_history).
    # A flag for MDT is kept as its own row with who flagged, when and why, several per patient; putting the
    # patient on an agenda attaches the flag to that agenda item instead of erasing it.
    _run(
        db,
        15,
        f"""
        CREATE TABLE caseload_history (
            id TEXT PRIMARY KEY,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            locality_id TEXT NOT NULL REFERENCES localities(id),
            status TEXT NOT NULL,
            effective_on TEXT NOT NULL,
            source TEXT NOT NULL,
            {STAMP}
        );
        CREATE INDEX caseload_history_patient ON caseload_history (locality_id, patient_id, effective_on);
        CREATE INDEX caseload_history_status ON caseload_history (locality_id, status, patient_id, effective_on);
        CREATE TABLE mdt_flags (
            id TEXT PRIMARY KEY,
            patient_id TEXT NOT NULL REFERENCES patients(id),
            locality_id TEXT NOT NULL REFERENCES localities(id),
            reason TEXT NOT NULL DEFAULT '',
            flagged_by TEXT NOT NULL,
            flagged_at TEXT NOT NULL,
            meeting_item_id TEXT REFERENCES meeting_items(id) ON DELETE SET NULL,
            cleared_at TEXT,
            {STAMP}
        );
        CREATE INDEX mdt_flags_patient ON mdt_flags (patient_id);
        CREATE INDEX mdt_flags_item ON mdt_flags (meeting_item_id);
        """,
    )
    from .clock import new_id
    from .cohort import caseload_history

    db.conn.executemany(
        "INSERT INTO mdt_flags (id, patient_id, locality_id, reason, flagged_by, flagged_at, created_at, updated_at, "
        "updated_by, device_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (new_id(), *row)
            for row in db.execute(
                "SELECT id, locality_id, flag_note, updated_by, updated_at, updated_at, updated_at, updated_by, "
                "device_id FROM patients WHERE flagged_for_mdt = 1"
            ).fetchall()
        ],
    )
    caseload_history.backfill(db)


@MIGRATIONS()
def m016_kpi_indexes(db: sqlite_utils.Database) -> None:
    # Issue 26: the KPIs of 11 localities x 8 quarters in 0.3 s (DESIGN section 13). Each index lets one of their
    # reads take only the rows it counts, from the index alone: a status's patients (counted, to know whether any
    # has no caseload history), the care-plan reviews and each type's interventions of a period, the transfers to
    # hospital, the admissions of a period and the residents at the end of life.
    _run(
        db,
        16,
        """
        CREATE INDEX patients_status ON patients(locality_id, status, id);
        CREATE INDEX interventions_type ON interventions(locality_id, type, delivered_on, patient_id);
        CREATE INDEX visit_residents_transfers ON visit_residents(visit_id, outcome)
            WHERE outcome = 'transferred to hospital';
        CREATE INDEX residents_admission
            ON residents(COALESCE(readmitted_on, admitted_on), care_home_id, admitted_on, readmitted_on, pcsp_on);
        CREATE INDEX residents_end_of_life ON residents(care_home_id, admitted_on, left_on, eol_plan_on)
            WHERE end_of_life = 1
        """,
    )


@MIGRATIONS()
def m017_kpi_covering_indexes(db: sqlite_utils.Database) -> None:
    # Issue 26: the KPIs of 11 localities x 8 quarters in 0.3 s. The caseload spells take each spell's caseload
    # fields from its patient's record, and the actions' counts take five fields of every action: from these
    # indexes alone, not from the records' pages (a patient's is ~400 bytes), which a batch otherwise reads
    # from all over the file: ~20 ms of the ~0.3 s on the full demo world.
    _run(
        db,
        17,
        """
        CREATE INDEX patients_caseload ON patients(
            locality_id, id, status, case_manager_id, named_gp_id, care_plan_date, review_interval_months
        );
        CREATE INDEX actions_state ON actions(locality_id, status, due_date, completed_on, created_at)
        """,
    )


@MIGRATIONS()
def m018_return_outcomes(db: sqlite_utils.Database) -> None:
    # Issue 27: a return carries the matched outcome estimate of the joiners whose follow-up ends with its quarter,
    # aggregates only, frozen at sign-off like its figures; the commissioner's import keeps what each file carried,
    # for the forest plot. A subgroup (intervention type) is only ever shown with its outcome, so its figures stay
    # with the row as the JSON the file carries rather than in a table of their own.
    _run(
        db,
        18,
        f"""
        CREATE TABLE return_outcomes (
            id TEXT PRIMARY KEY,
            return_id TEXT NOT NULL REFERENCES returns(id) ON DELETE CASCADE,
            outcome TEXT NOT NULL,
            joining_quarter TEXT NOT NULL,
            follow_up_quarters INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('estimated', 'too few', 'not measured')),
            estimate REAL,
            ci_low REAL,
            ci_high REAL,
            naive_estimate REAL,
            matched INTEGER NOT NULL,
            unmatched INTEGER NOT NULL,
            by_intervention TEXT NOT NULL DEFAULT '[]',
            {STAMP},
            UNIQUE (return_id, outcome)
        )
        """,
    )


# The user_version the newest migration sets; tests check the two agree.
SCHEMA_VERSION = 18
