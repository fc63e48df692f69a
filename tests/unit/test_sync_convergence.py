"""Issue 23, point 4: sync convergence. Three laptops edit one team's workspace, swap bundles in any order (some
twice, some never) and must still end with the same records; and the issue's "done when" scenarios, one by one.

The laptops' edits go through the model functions the screens call (caseload.update_patients, actions.create /
update / set_status, visits.log_visit, UndoStack.undo, risk_import.import_extract), so every stamp and audit row
is the app's own. The models have no "delete" for a visit or an action: a visit, its residents' outcomes and its
follow-up action are deleted by taking back the step that logged them (visits.log_visit's undo), which is what
the harness does; an action is otherwise cancelled (set_status).

Convergence is judged on `content_hash`: every table's rows except each laptop's own trail and settings (`audit`,
`meta`), SQLite's and the migrations' bookkeeping and the sync engine's own (`_sync...`) tables. Beyond agreeing,
the laptops must keep the team's work: the machine notes every change an edit makes to a patient's caseload fields
(`CASELOAD`), and the latest change of each field, by the editor's time, is what all three must end with (fields
merge one by one; of two edits of one field, the later wins), unless that patient's record was deleted somewhere.

Every refusal is checked to have changed nothing: an edit the app refuses (ValidationError, NotFound) and a
bundle the sync refuses (ValidationError: the laptop's own, one applied already, one older than one applied).

The state machine runs without shrinking, so a failure costs one run, not minutes: the failing example's steps
are printed as they are. Set SYNC_CONVERGENCE_SHRINK=1 to have Hypothesis shrink it to the fewest steps.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import random
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pinned
import pytest
from extract_helpers import patient, synthetic_nhs, write_csv
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from sync_helpers import actor
from worlds import copy_world

from desktop.models.care_homes import visits
from desktop.models.clock import Actor
from desktop.models.cohort import caseload
from desktop.models.cohort.risk_import import import_extract
from desktop.models.db import open_workspace
from desktop.models.errors import NotFound, ValidationError
from desktop.models.identifiers import patient_id
from desktop.models.mdt import actions
from desktop.models.sync import bundle as sync_bundle
from desktop.models.sync import merge as sync_merge
from desktop.models.undo import UndoStack

PASS = "correct horse battery staple"

pytestmark = pytest.mark.usefixtures("quick_kdf")  # tests/conftest.py

EXCLUDED_FROM_HASH = {"audit", "meta", "sqlite_sequence", "_sqlite_migrations"}
STAMP = ("created_at", "updated_at", "updated_by", "device_id")
# The team's own work on a patient, and what a record made for a patient nobody has worked on yet holds: the
# machine remembers every change to these fields and checks the latest of each is what every laptop ends with.
CASELOAD = {
    "status": "identified",
    "discharge_reason": "",
    "stream": "",
    "named_gp_id": None,
    "case_manager_id": None,
    "care_plan_date": None,
    "review_interval_months": None,
    "next_review_due": None,
    "notes": "",
}

LOCALITY = "CHA"
TODAY = pinned.TODAY
FIRST_EXTRACT = dt.date(2026, 10, 1)
COHORT = 30  # patients 1..30 of extract_helpers' numbering are in every template's cohort
WORKED = 8  # patients 1..8 have a record of their own (the team has worked on them)
NUMBERS = 40  # an extract on the lead laptop draws its patients from 1..40
START = dt.datetime(2026, 11, 19, 8, 0, tzinfo=dt.UTC)  # the laptops' first edit; each later one a minute on
TEMPLATE_ACTOR = actor("lead", "2026-10-01T12:00:00+00:00")
NAMES = ("ann", "bob", "cat")  # laptop i is NAMES[i]'s; ann's is the lead's, the only one importing extracts
MAX_EXTRACTS = 3  # per example, on the lead laptop
MAX_ROUNDS = 5  # all-to-all exchanges allowed to settle at the end
# The state machine's size: about 1.2 s an example of 30 steps (most of it in export_bundle and import_bundle), so
# the whole file stays within about 12 s of one core in CI. 60 examples of 35 steps, unseeded, passed
# when the engine was last changed (issue 23).
EXAMPLES, STEPS_PER_EXAMPLE = 6, 30


# ---------------------------------------------------------------- hashing


def _tables(conn: sqlite3.Connection) -> list[str]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [n for n in names if n not in EXCLUDED_FROM_HASH and not n.startswith("_sync")]


def table_hashes(target: Path | sqlite3.Connection) -> dict[str, str]:
    """sha256 of each domain table's rows, in a fixed order (every column, first to last), read from a workspace
    file or through a connection already open on one (the schema is then read once, not again)."""
    conn = sqlite3.connect(target) if isinstance(target, Path) else target
    try:
        out = {}
        for table in _tables(conn):
            width = len(conn.execute(f'PRAGMA table_info("{table}")').fetchall())
            order = ", ".join(str(n) for n in range(1, width + 1))
            digest = hashlib.sha256(table.encode())
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
                digest.update(json.dumps(row, default=repr).encode())
            out[table] = digest.hexdigest()
        return out
    finally:
        if conn is not target:
            conn.close()


def content_hash(target: Path | sqlite3.Connection) -> str:
    return hashlib.sha256(json.dumps(table_hashes(target), sort_keys=True).encode()).hexdigest()


def differing_tables(paths: list[Path]) -> list[str]:
    each = [table_hashes(p) for p in paths]
    return sorted(t for t in set().union(*each) if len({h.get(t) for h in each}) > 1)


def _rows_by_key(path: Path, table: str) -> tuple[list[str], dict[str, dict]]:
    conn = sqlite3.connect(path)
    try:
        info = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        names = [r[1] for r in info]
        key = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or names
        rows = [dict(zip(names, r, strict=True)) for r in conn.execute(f'SELECT * FROM "{table}"')]
        return names, {"/".join(str(r[k]) for k in key): r for r in rows}
    finally:
        conn.close()


def differences(paths: list[Path], names: list[str], most: int = 5) -> str:
    """What the laptops disagree on, for a failure message: per differing table, the first few records (by
    primary key) that some laptop lacks or holds otherwise, and the columns they differ in."""
    lines = []
    for table in differing_tables(paths):
        held = [_rows_by_key(p, table) for p in paths]
        columns = held[0][0]
        lines.append(f"{table}: " + ", ".join(f"{len(h[1])} rows on {n}" for h, n in zip(held, names, strict=True)))
        keys = sorted(set().union(*(h[1] for h in held)))
        odd = [k for k in keys if len({json.dumps(h[1].get(k), default=repr) for h in held}) > 1]
        for key in odd[:most]:
            versions = [h[1].get(key) for h in held]
            missing = [n for n, v in zip(names, versions, strict=True) if v is None]
            present = [v for v in versions if v is not None]
            differ = [c for c in columns if len({json.dumps(v.get(c), default=repr) for v in present}) > 1]
            detail = "; ".join(
                f"{c}: " + ", ".join(f"{n}={str(v[c])[:40]!r}" for n, v in zip(names, versions, strict=True) if v)
                for c in differ
            )
            lines.append(
                f"  {key}: "
                + (f"missing on {', '.join(missing)}" if missing else "")
                + (("; " if missing and detail else "") + detail)
            )
        if len(odd) > most:
            lines.append(f"  ... and {len(odd) - most} more")
    return "\n".join(lines)


# ---------------------------------------------------------------- the workspace the laptops start from


def _keep_one_locality(path: Path, code: str) -> None:
    """Drop every other locality's reference data (the small world has eleven): a team of one locality."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            keep = conn.execute("SELECT id FROM localities WHERE code = ?", [code]).fetchone()[0]
            for table in ("care_homes", "staff", "practices", "pcns"):
                conn.execute(f"DELETE FROM {table} WHERE locality_id != ?", [keep])
            conn.execute("DELETE FROM localities WHERE id != ?", [keep])
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def extract_rows(practices: list[str], members: list[int], raised: set[int] = frozenset()) -> list[dict[str, str]]:
    """Patients *members* (extract_helpers numbering), all frail; those in *raised* more so than before."""
    return [
        patient(n, practices[n % len(practices)], **({"efi_score": "0.4167"} if n in raised else {}))
        for n in sorted(members)
    ]


def pid(n: int) -> str:
    return patient_id(int(synthetic_nhs(n)))


def build_template(small_world_template: Path, dest: Path, one_locality: bool) -> Path:
    """The small world (optionally one locality only) with a 30-patient cohort in Charnwood, 8 of them worked
    on, and the team id set, so its copies are one team's laptops."""
    path = copy_world(small_world_template, dest)
    if one_locality:
        _keep_one_locality(path, LOCALITY)
    db = open_workspace(path)
    try:
        practices = _practices(db)
        csv = write_csv(dest.with_suffix(".csv"), extract_rows(practices, list(range(1, COHORT + 1))))
        import_extract(db, TEMPLATE_ACTOR, LOCALITY, csv, FIRST_EXTRACT, accept=True)
        caseload.update_patients(
            db, TEMPLATE_ACTOR, [pid(n) for n in range(1, WORKED + 1)], {"status": "contacted"}, today=TODAY
        )
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    sync_bundle.ensure_team_id(path)
    return path


def _locality_id(db) -> str:
    return db.execute("SELECT id FROM localities WHERE code = ?", [LOCALITY]).fetchone()[0]


def _practices(db) -> list[str]:
    return [
        r[0]
        for r in db.execute(
            "SELECT ods_code FROM practices WHERE locality_id = ? ORDER BY ods_code", [_locality_id(db)]
        )
    ]


@pytest.fixture(scope="module")
def tiny_template(small_world_template, tmp_path_factory) -> Path:
    """One locality, its staff and homes, 30 patients: what the state machine's laptops copy."""
    return build_template(small_world_template, tmp_path_factory.mktemp("tiny") / "team.sqlite", one_locality=True)


@pytest.fixture(scope="module")
def world_template(small_world_template, tmp_path_factory) -> Path:
    """The whole small world (eleven localities' reference data) with the same cohort: for the delta test."""
    return build_template(small_world_template, tmp_path_factory.mktemp("world") / "team.sqlite", one_locality=False)


# ---------------------------------------------------------------- what the laptops do


def export(path: Path, out: Path, who: Actor) -> Path:
    sync_bundle.export_bundle(path, out, PASS, actor=who)
    return out


def apply(path: Path, bundle: Path, who: Actor) -> sync_bundle.SyncSummary:
    return sync_merge.import_bundle(path, bundle, PASS, actor=who)


def known_patients(db) -> list[str]:
    """Patients this laptop can edit: those with a record, and the latest cohort's (sorted, for a stable pick)."""
    from desktop.models.cohort import frame, store

    ids = {r[0] for r in db.execute("SELECT id FROM patients")}
    latest = frame.latest_run(db, _locality_id(db))
    if latest is not None:
        ids.update(str(x) for x in store.run_patient_ids(db, latest["id"]).to_pylist())
    return sorted(ids)


KINDS = (
    "undo the last edit",  # first: Hypothesis's first examples repeat it, cheaply (there is nothing to undo)
    "edit a patient",
    "create an action",
    "edit an action",
    "set an action's status",
    "log a visit",
    "delete a visit",
    "import an extract",
)
# What a step does, each as likely as its share here: about half edits, a fifth exports, a quarter deliveries.
STEPS = (*KINDS, "export", "export", "export", "deliver", "deliver", "deliver", "deliver")
PATIENT_FIELDS = ("status", "stream", "named_gp_id", "case_manager_id", "care_plan_date", "review_interval", "notes")


def patient_change(db, what: str, pick: int) -> dict:
    """One caseload edit the patient form can make, chosen by *pick*."""
    if what == "status":
        status = caseload.STATUSES[pick % len(caseload.STATUSES)]
        reason = caseload.DISCHARGE_REASONS[pick // 4 % len(caseload.DISCHARGE_REASONS)]
        return {"status": status, **({"discharge_reason": reason} if status == "discharged" else {})}
    if what == "stream":
        return {"stream": ("", *caseload.STREAMS)[pick % 4]}
    if what in ("named_gp_id", "case_manager_id"):
        role = "AND role = 'GP' " if what == "named_gp_id" else ""
        staff = [
            r[0]
            for r in db.execute(f"SELECT id FROM staff WHERE locality_id = ? {role}ORDER BY id", [_locality_id(db)])
        ]
        choices = [None, *staff]
        return {what: choices[pick % len(choices)]}
    if what == "care_plan_date":
        return {"care_plan_date": (TODAY - dt.timedelta(days=pick % 200)).isoformat()}
    if what == "review_interval":
        return {"review_interval_months": 1 + pick % 24}
    return {"notes": f"note {pick % 50}"}


def caseload_fields(conn: sqlite3.Connection) -> dict[str, dict]:
    """Each patient record's caseload fields (the team's work), by patient id."""
    names = list(CASELOAD)
    rows = conn.execute(f"SELECT id, {', '.join(names)} FROM patients").fetchall()
    return {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}


def new_action_values(db, pick: int, about_patient: bool, when: str) -> dict:
    values = {
        "description": f"Follow up, made {when}",
        "owner_name": "Duty matron",
        "owner_organisation": "community health",
        "due_date": (TODAY + dt.timedelta(days=pick % 60)).isoformat(),
    }
    if about_patient:
        patients = known_patients(db)
        values["patient_id"] = patients[pick % len(patients)]
    return values


@dataclass
class Laptop:
    name: str
    path: Path
    undo: UndoStack = field(default_factory=UndoStack)  # the open workspace's Edit ▸ Undo
    logged: dict[str, UndoStack] = field(default_factory=dict)  # visit id → the step that logged it, to delete it


def _step(method):
    """Marks the machine broken when a step fails, so teardown does not pile a convergence failure on it."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.broken = True
            raise

    return run


LAPTOPS = st.integers(0, len(NAMES) - 1)
PICKS = st.integers(0, 10_000)  # which patient / action / visit / value, modulo what the laptop holds


class TeamOfThree(RuleBasedStateMachine):
    """Three laptops copied from *template*, editing and swapping bundles; at the end (teardown) they exchange
    until nothing changes and must agree. *converge* False skips that (the harness's own tests)."""

    def __init__(self, template: Path, root: Path, converge: bool = True):
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(dir=root))
        self.converge_at_end = converge
        self.laptops = [Laptop(n, copy_world(template, self.dir / f"{n}.sqlite")) for n in NAMES]
        self.minute = 0
        self.extracts = 0  # extracts the lead laptop imported
        self.pool: list[tuple[int, Path]] = []  # (sender, bundle), in the order made
        self.delivered: set[tuple[int, int]] = set()  # (bundle index, laptop) applied
        self.done: dict[str, int] = {}  # rule → times it changed something (for the harness's own test)
        self.refused: dict[str, int] = {}  # rule → times the app refused it (nothing written)
        self.known: list[str | None] = [None] * len(NAMES)  # each laptop's content_hash, while known
        self.written: dict[tuple[str, str], tuple[int, str, object]] = {}  # (patient, field) → latest change
        self.removed: set[str] = set()  # patients whose record some laptop deleted (an undo of its making)
        self.broken = False

    # -- time, actors, one edit

    def at(self) -> str:
        self.minute += 1
        return (START + dt.timedelta(minutes=self.minute)).isoformat()

    def actor(self, i: int) -> Actor:
        return actor(NAMES[i], self.at())

    def edit(self, kind: str, i: int, op) -> object:
        """Run *op(db, actor)* on laptop i; a refusal (ValidationError / NotFound) must leave its records alone."""
        db = open_workspace(self.laptops[i].path)
        try:
            before = self.known[i] or content_hash(db.conn)
            self.known[i] = None
            work = caseload_fields(db.conn)
            try:
                result = op(db, self.actor(i))
            except (ValidationError, NotFound):
                assert content_hash(db.conn) == before, f"{kind} was refused on {NAMES[i]}'s laptop but wrote records"
                self.known[i] = before
                self.refused[kind] = self.refused.get(kind, 0) + 1
                return None
            self.remember(i, work, caseload_fields(db.conn))
        finally:
            db.close()
        self.done[kind] = self.done.get(kind, 0) + 1
        return result

    def remember(self, i: int, before: dict[str, dict], after: dict[str, dict]) -> None:
        """Note each caseload field the edit just made on laptop i changed (a new record: each it set)."""
        self.removed.update(set(before) - set(after))
        for record, row in after.items():
            was = before.get(record, CASELOAD)
            for name, value in row.items():
                if value != was[name]:
                    self.written[(record, name)] = (self.minute, NAMES[i], value)

    def records(self, i: int) -> str:
        """content_hash of laptop i, read again only when something may have changed it."""
        if self.known[i] is None:
            self.known[i] = content_hash(self.laptops[i].path)
        return self.known[i]

    # -- edits (plain methods: `work` picks one; the harness's own test calls them by hand)

    def edit_patient(self, i: int, pick: int, what: str, value: int) -> None:
        def op(db, who):
            patients = known_patients(db)
            change = patient_change(db, what, value)
            target = patients[pick % len(patients)]
            return caseload.update_patients(db, who, [target], change, today=TODAY, undo=self.laptops[i].undo)

        self.edit("edit a patient", i, op)

    def create_action(self, i: int, pick: int, about_patient: bool) -> None:
        def op(db, who):
            values = new_action_values(db, pick, about_patient, who.now())
            return actions.create(db, who, _locality_id(db), values, today=TODAY)

        self.edit("create an action", i, op)

    def edit_action(self, i: int, pick: int, what: str) -> None:
        def op(db, who):
            ids = [r[0] for r in db.execute("SELECT id FROM actions ORDER BY id")]
            if not ids:
                raise NotFound("no action yet")
            value = {
                "description": f"Reworded at {who.now()}",
                "due_date": (TODAY + dt.timedelta(days=pick % 45)).isoformat(),
                "owner_name": ("Duty matron", "Practice nurse", "Care coordinator")[pick % 3],
            }[what]
            return actions.update(db, who, ids[pick % len(ids)], {what: value}, undo=self.laptops[i].undo)

        self.edit("edit an action", i, op)

    def set_action_status(self, i: int, pick: int, status: str) -> None:
        """Cancelled is how an action is taken off the log (there is no delete)."""

        def op(db, who):
            ids = [r[0] for r in db.execute("SELECT id FROM actions ORDER BY id")]
            if not ids:
                raise NotFound("no action yet")
            return actions.set_status(db, who, [ids[pick % len(ids)]], status, today=TODAY, undo=self.laptops[i].undo)

        self.edit("set an action's status", i, op)

    def log_visit(self, i: int, pick: int, kind: str, follow_up: bool) -> None:
        step = UndoStack()  # its own, so that this visit can be deleted later whatever was done since

        def op(db, who):
            homes = [
                r[0]
                for r in db.execute("SELECT id FROM care_homes WHERE locality_id = ? ORDER BY id", [_locality_id(db)])
            ]
            follow_ups = [new_action_values(db, pick, False, who.now())] if follow_up else None
            visit_id, _ = visits.log_visit(
                db,
                who,
                homes[pick % len(homes)],
                (TODAY - dt.timedelta(days=pick % 30)).isoformat(),
                kind,
                follow_ups=follow_ups,
                today=TODAY,
                undo=step,
            )
            return visit_id

        visit_id = self.edit("log a visit", i, op)
        if visit_id:
            self.laptops[i].logged[visit_id] = step

    def delete_visit(self, i: int, pick: int) -> None:
        """Laptop i (or the next one that logged a visit) deletes one it logged, by taking back that step."""
        holders = [k % len(NAMES) for k in range(i, i + len(NAMES)) if self.laptops[k % len(NAMES)].logged]
        if not holders:
            return
        laptop = self.laptops[holders[0]]
        visit_id = sorted(laptop.logged)[pick % len(laptop.logged)]
        step = laptop.logged.pop(visit_id)  # refused (changed since) or not, that step is spent
        self.edit("delete a visit", holders[0], lambda db, who: step.undo(db, who))

    def undo_last_edit(self, i: int) -> None:
        self.edit("undo the last edit", i, lambda db, who: self.laptops[i].undo.undo(db, who))

    def import_extract(self, members: set[int], raised: set[int]) -> None:
        """The lead laptop imports the next extract (a day later than the last): joiners, leavers, risers."""
        if self.extracts >= MAX_EXTRACTS:
            return
        self.extracts += 1
        day = FIRST_EXTRACT + dt.timedelta(days=self.extracts)
        csv = self.dir / f"extract-{self.extracts}.csv"

        def op(db, who):
            rows = extract_rows(_practices(db), members, raised)
            return import_extract(db, who, LOCALITY, write_csv(csv, rows), day, accept=True)

        self.edit("import an extract", 0, op)

    # -- bundles

    def send(self, i: int) -> None:
        """Laptop i exports a bundle into the pool (where it may be delivered, more than once, or never)."""
        path = self.laptops[i].path
        before = self.records(i)
        out = self.dir / f"{NAMES[i]}-{len(self.pool)}.ldsync"
        self.known[i] = None
        export(path, out, self.actor(i))
        assert self.records(i) == before, "exporting a bundle changed the exporting laptop's records"
        self.pool.append((i, out))

    def deliver(self, pick: int, j: int) -> None:
        """A pooled bundle reaches laptop j: maybe again, maybe its own, maybe older than one already applied.
        A refusal (ValidationError) must leave its records as they were."""
        if not self.pool:
            return
        index = pick % len(self.pool)
        sender, bundle = self.pool[index]
        path = self.laptops[j].path
        before = self.records(j)
        repeat = (index, j) in self.delivered
        self.delivered.add((index, j))
        self.known[j] = None
        try:
            apply(path, bundle, self.actor(j))
        except ValidationError as exc:
            assert self.records(j) == before, f"a refused bundle changed {NAMES[j]}'s records ({exc})"
            self.refused["deliver"] = self.refused.get("deliver", 0) + 1
            return
        assert sender != j, f"{NAMES[j]}'s laptop applied its own bundle"
        assert not repeat, f"{NAMES[j]}'s laptop applied bundle {bundle.name} twice"
        self.done["deliver"] = self.done.get("deliver", 0) + 1

    # -- the one rule: a step is an edit, an export or a delivery

    @rule(i=LAPTOPS, kind=st.sampled_from(STEPS), pick=PICKS, value=PICKS)
    @_step
    def step(self, i, kind, pick, value):
        """Laptop i does *kind*; *pick* chooses the record (or bundle), *value* what it becomes (or who gets it).

        One rule rather than one per kind: Hypothesis's swarm testing switches whole rules off for an example,
        which left many examples only exporting, or delivering nothing; here every example mixes them all."""
        if kind == "edit a patient":
            self.edit_patient(i, pick, PATIENT_FIELDS[value % len(PATIENT_FIELDS)], value // len(PATIENT_FIELDS))
        elif kind == "create an action":
            self.create_action(i, pick, about_patient=value % 2 == 1)
        elif kind == "edit an action":
            self.edit_action(i, pick, ("description", "due_date", "owner_name")[value % 3])
        elif kind == "set an action's status":
            self.set_action_status(i, pick, actions.STATUSES[value % len(actions.STATUSES)])
        elif kind == "log a visit":
            self.log_visit(i, pick, visits.TYPES[value % len(visits.TYPES)], follow_up=value // 8 % 2 == 1)
        elif kind == "delete a visit":
            self.delete_visit(i, pick)
        elif kind == "undo the last edit":
            self.undo_last_edit(i)
        elif kind == "import an extract":  # on the lead laptop, whatever i: 10 to 40 of patients 1..40
            chosen = random.Random(pick)
            members = set(chosen.sample(range(1, NUMBERS + 1), 10 + pick % (NUMBERS - 9)))
            self.import_extract(members, set(chosen.sample(sorted(members), value % 5)))
        elif kind == "export":
            self.send(i)
        else:
            self.deliver(pick, value % len(NAMES))

    # -- the end

    def converge(self) -> None:
        """Everyone exports and applies everyone else's latest bundle, round after round, until a round changes
        nothing; then all three must hold the same records."""
        paths = [lap.path for lap in self.laptops]
        hashes = [table_hashes(p) for p in paths]
        for n in range(MAX_ROUNDS):
            latest = [export(p, self.dir / f"{NAMES[i]}-final-{n}.ldsync", self.actor(i)) for i, p in enumerate(paths)]
            for j, p in enumerate(paths):
                for i, b in enumerate(latest):
                    if i != j:
                        apply(p, b, self.actor(j))
            now = [table_hashes(p) for p in paths]
            if now == hashes:
                break
            changed = [sorted(t for t in h if h[t] != before.get(t)) for h, before in zip(now, hashes, strict=True)]
            hashes = now
        else:
            moving = "; ".join(f"{name}: {', '.join(c) or '-'}" for name, c in zip(NAMES, changed, strict=True))
            raise AssertionError(
                f"the laptops were still changing after {MAX_ROUNDS} all-to-all exchanges (last round changed "
                f"{moving}); they differ:\n" + differences(paths, NAMES)
            )
        agree = len({json.dumps(h, sort_keys=True) for h in hashes}) == 1
        assert agree, f"after {n + 1} final rounds the laptops differ:\n" + differences(paths, NAMES)
        conn = sqlite3.connect(paths[0])
        try:
            final = caseload_fields(conn)
        finally:
            conn.close()
        lost = [
            f"{record} {name}: {who} set {value!r} (minute {minute}), all have "
            + (repr(final[record][name]) if record in final else "no record")
            for (record, name), (minute, who, value) in sorted(self.written.items())
            if record not in self.removed and (record not in final or final[record][name] != value)
        ]
        assert not lost, f"{len(lost)} latest caseload edits did not survive the sync:\n" + "\n".join(lost[:8])

    def teardown(self):
        try:
            if self.converge_at_end and not self.broken and self.done:  # (nothing done, nothing to converge)
                self.converge()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _machine_settings(examples: int, steps: int) -> settings:
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("SYNC_CONVERGENCE_SHRINK"):
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def test_three_laptops_converge_whatever_arrives_when(tiny_template, tmp_path):
    run_state_machine_as_test(
        lambda: TeamOfThree(tiny_template, tmp_path), settings=_machine_settings(EXAMPLES, STEPS_PER_EXAMPLE)
    )


def _has_record(path: Path, patient: str) -> bool:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM patients WHERE id = ?", [patient]).fetchone()[0] == 1
    finally:
        conn.close()


def test_the_harness_edits_work_without_sync(tiny_template, tmp_path):
    """Each of the machine's steps, by hand and with no bundle applied: they write what they should, refusals
    write nothing, and two laptops' new actions do clash (the sync has something to renumber)."""
    team = TeamOfThree(tiny_template, tmp_path, converge=False)
    paths = [lap.path for lap in team.laptops]
    db = open_workspace(paths[0])
    patients = known_patients(db)
    db.close()
    worked = [n for n, p in enumerate(patients) if _has_record(paths[0], p)]
    fresh = next(n for n in range(len(patients)) if n not in worked)
    try:
        team.edit_patient(i=0, pick=worked[0], what="stream", value=1)
        assert patient_row(paths[0], patients[worked[0]])["stream"] == "complex"
        team.edit_patient(i=1, pick=fresh, what="status", value=3)  # not worked on yet: gets a record of its own
        assert _has_record(paths[1], patients[fresh])
        assert team.written[(patients[fresh], "status")][1:] == ("bob", "discharged")
        changed = {name for record, name in team.written if record == patients[fresh]}
        assert changed == {"status", "discharge_reason"}  # what the edit set, not the new record's defaults
        team.create_action(i=1, pick=3, about_patient=True)
        team.create_action(i=2, pick=4, about_patient=False)
        refs = [sqlite3.connect(p).execute("SELECT reference FROM actions").fetchall() for p in paths]
        assert refs[1] == refs[2] == [("CHA-2026-0001",)] and refs[0] == []
        team.edit_action(i=1, pick=7, what="owner_name")
        team.set_action_status(i=2, pick=0, status="cancelled")
        before_visit = content_hash(paths[0])
        team.log_visit(i=0, pick=5, kind=visits.TYPES[1], follow_up=True)
        assert content_hash(paths[0]) != before_visit
        team.delete_visit(i=0, pick=0)  # the visit and its follow-up action go: as if never logged
        assert content_hash(paths[0]) == before_visit
        edited = content_hash(paths[1])
        team.undo_last_edit(i=1)  # the owner's new name
        assert content_hash(paths[1]) != edited
        team.undo_last_edit(i=0)  # the stream
        assert patient_row(paths[0], patients[worked[0]])["stream"] == ""
        assert team.written[(patients[worked[0]], "stream")][1:] == ("ann", "")
        team.import_extract(members={1, 2, 3, 31, 32}, raised={2})
        team.edit_patient(i=0, pick=0, what="notes", value=1)
        kinds = {
            "edit a patient": 3,
            "create an action": 2,
            "edit an action": 1,
            "set an action's status": 1,
            "log a visit": 1,
            "delete a visit": 1,
            "undo the last edit": 2,
            "import an extract": 1,
        }
        assert (team.done, team.refused) == (kinds, {})
        for i in range(3):
            while team.laptops[i].undo.undo_status().undo:
                team.undo_last_edit(i=i)
            refused = team.refused.get("undo the last edit", 0)
            team.undo_last_edit(i=i)  # nothing more to undo: refused, nothing written
            assert team.refused["undo the last edit"] == refused + 1
        team.edit_action(i=0, pick=0, what="description")  # laptop 0 has no action: refused
        assert team.refused["edit an action"] == 1
        for n, kind in enumerate(KINDS):  # the rule itself, once for every kind of edit
            team.step(i=n % 3, kind=kind, pick=11 * n, value=13 * n)
        assert sum(team.done.values()) > sum(kinds.values()) and not team.broken
    finally:
        team.teardown()


# ---------------------------------------------------------------- the hash itself


def test_content_hash_is_stable_and_ignores_the_trail_settings_and_sync_bookkeeping(tiny_template, tmp_path):
    path = copy_world(tiny_template, tmp_path / "a.sqlite")
    first = content_hash(path)
    assert content_hash(path) == first
    assert content_hash(copy_world(path, tmp_path / "copy.sqlite")) == first
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO audit (at, user, device_id, action, entity, entity_id, summary, detail) "
            "SELECT at, user, device_id, action, entity, entity_id, summary, detail FROM audit LIMIT 1"
        )
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('harness', 'x')")
        conn.execute("CREATE TABLE _sync_harness (x)")
        conn.execute("INSERT INTO _sync_harness VALUES (1)")
    conn.close()
    assert content_hash(path) == first
    db = open_workspace(path)
    caseload.update_patients(db, actor("ann", "2026-11-19T09:00:00+00:00"), [pid(1)], {"notes": "x"}, today=TODAY)
    db.close()
    assert content_hash(path) != first
    assert differing_tables([path, tiny_template]) == ["patients"]


# ---------------------------------------------------------------- the "done when", one by one


def pair(template: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Laptops A and B: copies of one workspace whose team id was set before copying."""
    return copy_world(template, tmp_path / "a.sqlite"), copy_world(template, tmp_path / "b.sqlite")


class Clock:
    """Actors whose stamps move forward a minute per write."""

    def __init__(self):
        self.minute = 0

    def __call__(self, who: str) -> Actor:
        self.minute += 1
        return actor(who, (START + dt.timedelta(minutes=self.minute)).isoformat())


def swap(a: Path, b: Path, clock: Clock, tag: str) -> tuple[sync_bundle.SyncSummary, sync_bundle.SyncSummary]:
    """A's bundle to B, then B's to A; returns (what B's import reported, what A's did)."""
    on_b = apply(b, export(a, a.parent / f"a-{tag}.ldsync", clock("a")), clock("b"))
    on_a = apply(a, export(b, b.parent / f"b-{tag}.ldsync", clock("b")), clock("a"))
    return on_b, on_a


def edit_patients(path: Path, who: Actor, ids: list[str], changes: dict) -> None:
    db = open_workspace(path)
    try:
        for one in ids:
            caseload.update_patients(db, who, [one], changes, today=TODAY)
    finally:
        db.close()


def patient_row(path: Path, patient: str) -> dict:
    db = open_workspace(path)
    try:
        return caseload.get_patient(db, patient)
    finally:
        db.close()


def row_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return sum(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in _tables(conn))
    finally:
        conn.close()


IMPORT_TABLES = {"patients", "risk_runs", "risk_run_cohorts", "cohort_changes", "risk_run_undo"}


def test_after_a_first_exchange_a_bundle_carries_only_what_an_import_wrote(world_template, tmp_path):
    a, b = pair(world_template, tmp_path)
    clock = Clock()
    swap(a, b, clock, "first")
    assert content_hash(a) == content_hash(b)
    db = open_workspace(a)
    try:
        rows = extract_rows(_practices(db), list(range(5, COHORT + 6)), raised={6, 7})  # 5 joiners, 4 leavers
        import_extract(db, clock("a"), LOCALITY, write_csv(tmp_path / "q.csv", rows), dt.date(2026, 11, 1))
    finally:
        db.close()
    bundle = export(a, tmp_path / "a-after-import.ldsync", clock("a"))
    changes = sync_bundle.read_header(bundle)["changes"]
    assert set(changes) <= IMPORT_TABLES, f"the bundle carries tables the import never wrote: {changes}"
    assert 0 < sum(changes.values()) <= 3 * len(rows), changes
    assert sum(changes.values()) * 5 < row_count(a), changes
    apply(b, bundle, clock("b"))
    assert content_hash(a) == content_hash(b), differing_tables([a, b])


def test_a_days_bundle_carries_that_day_only_and_nothing_comes_back(tiny_template, tmp_path):
    """Copies that never heard of each other: after one exchange each way, each day's bundle holds that day's work,
    not every day's since, and the teammate's reply sends none of it back."""
    a, b = pair(tiny_template, tmp_path)
    clock = Clock()
    on_b, on_a = swap(a, b, clock, "first")
    assert sync_bundle.read_header(b.parent / "b-first.ldsync")["changes"] == {}  # the copy held all of A's
    for day in range(3):
        edit_patients(b, clock("b"), [pid(day * 3 + n) for n in (1, 2, 3)], {"notes": f"day {day}"})
        daily = export(b, b.parent / f"b-day{day}.ldsync", clock("b"))
        assert sync_bundle.read_header(daily)["changes"] == {"patients": 3}, day
        apply(a, daily, clock("a"))
        reply = export(a, a.parent / f"a-day{day}.ldsync", clock("a"))
        assert sync_bundle.read_header(reply)["changes"] == {}, day
        apply(b, reply, clock("b"))
    assert content_hash(a) == content_hash(b), differing_tables([a, b])


def test_edits_on_one_side_only_are_no_conflicts(tiny_template, tmp_path):
    a, b = pair(tiny_template, tmp_path)
    clock = Clock()
    edit_patients(a, clock("a"), [pid(n) for n in range(1, 21)], {"notes": "seen by A"})  # worked and new alike
    on_b, on_a = swap(a, b, clock, "1")
    assert (on_b.conflicts, on_a.conflicts) == ([], [])
    assert content_hash(a) == content_hash(b), differing_tables([a, b])
    edit_patients(b, clock("b"), [pid(n) for n in (21, 22, 23)], {"stream": "complex"})
    on_b, on_a = swap(a, b, clock, "2")
    assert (on_b.conflicts, on_a.conflicts) == ([], [])
    assert content_hash(a) == content_hash(b), differing_tables([a, b])
    assert patient_row(a, pid(22))["stream"] == "complex" and patient_row(b, pid(3))["notes"] == "seen by A"


def _staff(path: Path, n: int) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id FROM staff ORDER BY id LIMIT 1 OFFSET ?", [n]).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("number", [2, 20], ids=["worked-on", "new-to-the-team"])
def test_different_fields_of_one_record_both_survive(tiny_template, tmp_path, number):
    """Patient 2 has a record on both laptops; patient 20 has none yet, so each laptop's edit makes one."""
    a, b = pair(tiny_template, tmp_path)
    clock = Clock()
    swap(a, b, clock, "0")
    patient, manager = pid(number), _staff(a, 3)
    edit_patients(a, clock("a"), [patient], {"case_manager_id": manager})
    edit_patients(b, clock("b"), [patient], {"care_plan_date": "2026-11-02", "review_interval_months": 3})
    on_b, on_a = swap(a, b, clock, "1")
    for path in (a, b):
        row = patient_row(path, patient)
        assert (row["case_manager_id"], row["care_plan_date"], row["next_review_due"]) == (
            manager,
            "2026-11-02",
            "2027-02-02",
        ), path.stem
    assert (on_b.conflicts, on_a.conflicts) == ([], [])
    assert content_hash(a) == content_hash(b), differing_tables([a, b])


def test_one_field_set_on_both_sides_keeps_the_later_and_reports_one_conflict(tiny_template, tmp_path):
    a, b = pair(tiny_template, tmp_path)
    clock = Clock()
    swap(a, b, clock, "0")
    patient, early, late = pid(4), _staff(a, 1), _staff(a, 2)
    edit_patients(a, clock("a"), [patient], {"case_manager_id": early})
    edit_patients(b, clock("b"), [patient], {"case_manager_id": late})  # a minute later: B's wins
    on_b, on_a = swap(a, b, clock, "1")
    assert patient_row(a, patient)["case_manager_id"] == patient_row(b, patient)["case_manager_id"] == late
    assert content_hash(a) == content_hash(b), differing_tables([a, b])
    for summary, winner in ((on_a, "theirs"), (on_b, "mine")):
        assert len(summary.conflicts) == 1, summary.conflicts
        c = summary.conflicts[0]
        assert (c.table, c.id, c.winner) == ("patients", patient, winner)
        differ = {k for k in c.mine if k not in STAMP and c.mine[k] != c.theirs.get(k)}
        assert differ == {"case_manager_id"}, differ


def test_my_own_bundle_or_one_already_applied_changes_nothing(tiny_template, tmp_path):
    a, b = pair(tiny_template, tmp_path)
    clock = Clock()
    edit_patients(a, clock("a"), [pid(5)], {"notes": "once"})
    bundle = export(a, tmp_path / "a-1.ldsync", clock("a"))
    before = content_hash(a)
    with pytest.raises(ValidationError):
        apply(a, bundle, clock("a"))
    assert content_hash(a) == before
    apply(b, bundle, clock("b"))
    before = content_hash(b)
    with pytest.raises(ValidationError):
        apply(b, bundle, clock("b"))
    assert content_hash(b) == before
    assert patient_row(b, pid(5))["notes"] == "once"
