"""Applying a teammate's bundle (issue 11, DESIGN §15): ``import_bundle``, its conflict rules, its refusals and
the summary of what changed.

Applying (``apsw.Changeset.apply`` with a conflict handler), in one transaction:

* same id on both sides, different content → the later ``updated_at`` wins (ties: device id, then the row's
  values, so every laptop picks the same winner whatever the order bundles arrive in). When this laptop had
  changed the row itself since the last exchange, it is reported as a conflict and an audit row
  ``sync-conflict`` keeps both versions (the losing one is never lost from the record's history);
* deleted there, edited here (the row no longer matches what the sender deleted) → **the edit wins**: the delete
  is skipped, and this laptop's next bundle restores the row on the sender's laptop;
* deleted there, still pointed at by a record here (a visit logged at a care home the teammate removed) → kept
  here, like an edit, and given back to the teammate by this laptop's next bundle; rows the same bundle deletes
  too do not count as a use;
* deleted there, already gone here → nothing to do; identical content → nothing to do;
* two new actions with the same number (each laptop numbered its own CHA-2026-0043) → the later-made one is
  renumbered, by the laptop that made it (audited ``sync-renumber``), so every laptop ends with the same numbers;
* another clash on a unique column (two laptops each added the same practice code) → refused and shown as a
  conflict; the row stays out of the base too, so it is offered again once one of the two is removed.

The workspace records, in the same transaction, the bundle as applied (its sender's sequence number), the team
and the audit (desktop.models.sync.state): refused, failed or stopped, an import leaves none of them. Then the sync
base (desktop.models.sync.base) takes the teammate's version of every row the bundle carries, whichever version the
workspace kept (so a winning edit here is sent again), except rows refused or waiting for a new number. A dry run
reports all this and changes nothing, not even the base.

Refused, with nothing changed (ValidationError), besides what reading the bundle refuses
(desktop.models.sync.bundle): a different schema version; in a commissioner workspace, any bundle of a locality
team's workspace or carrying any table a commissioner workspace does not hold (patients, residents, risk runs...);
a commissioner's bundle in a locality workspace; another team's bundle; in a workspace that has never synced, a
bundle of a team working for none of its localities (see ``_refuse_another_locality``); this workspace's own
bundle; and a bundle whose sequence number this workspace has already applied (a replay, or an older bundle a
newer one from the same laptop has superseded), wherever the workspace file has since moved. A bundle that would
still leave a dangling reference (a chain of deletions where a middle record is kept) is refused whole, with a
message. A full disk or a workspace locked by another program gives StorageError's message, nothing changed.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import apsw

from ..clock import Actor
from ..errors import ValidationError
from . import tracking
from .base import connect
from .bundle import (
    SyncSummary,
    default_actor,
    open_checked,
    open_sealed,
    require_passphrase,
)
from .conflicts import table_label
from .records import Merger
from .state import (
    COMMISSIONER_TABLES,
    SyncState,
    audit_row,
    locality_names,
    prepare,
    read_state,
    storage_errors,
    team_localities,
    write_state,
)


def import_bundle(
    db_path: str | Path, bundle: str | Path, passphrase: str, dry_run: bool = False, actor: Actor | None = None
) -> SyncSummary:
    """Apply a teammate's bundle in one transaction (or, *dry_run*, report what it would do and change nothing)."""
    passphrase = require_passphrase(passphrase)
    bundle = Path(bundle)
    actor = actor or default_actor()
    header, payload = open_sealed(bundle, passphrase)
    open_checked(db_path).close()  # refuses a missing, too-new or damaged file; brings the schema up to date
    with storage_errors(db_path):
        ws = connect(db_path)
        try:
            # References are mended after every record is in (records.Merger.settle), not refused one by one.
            ws.execute("PRAGMA foreign_keys = OFF")
            # Every check below reads the state inside the write transaction that records the import, so two
            # imports of one bundle at once cannot both pass the replay check.
            ws.execute("BEGIN IMMEDIATE")
            try:
                return _import(ws, Path(db_path), bundle, header, payload, actor, dry_run)
            finally:
                if ws.in_transaction:
                    with contextlib.suppress(apsw.Error):
                        ws.execute("ROLLBACK")
        finally:
            ws.close()


def _import(
    ws: apsw.Connection,
    db_path: Path,
    bundle: Path,
    header: dict[str, Any],
    payload: bytes,
    actor: Actor,
    dry_run: bool,
) -> SyncSummary:
    # This laptop's own edits get their clocks before the teammate's meet them.
    state = prepare(ws, db_path, actor.device_id)
    tables = _tables(bundle.name, payload)
    changes = {t: len(body["rows"]) for t, body in sorted(tables.items())}
    _refuse_if_not_ours(ws, bundle.name, header, changes, state)
    sender, seq = str(header.get("sender")), int(header.get("seq", 0))
    summary = SyncSummary(
        "import",
        str(bundle),
        str(header.get("bundle_id")),
        sender,
        seq,
        str(header.get("team_id")),
        dry_run=dry_run,
        changes=changes,
        joined_team=state.team_id is None,
    )
    merger = Merger(ws, actor.device_id, tracking.next_version(ws), header)
    merger.user, merger.now = actor.user, actor.now()
    known = set(tracking.synced_tables(ws))
    for table, body in tables.items():
        if table not in known:
            raise ValidationError(f"{bundle.name} carries records of {table}, which this workspace does not have.")
        merger.take(table, list(body["columns"]), body["rows"])
    merger.settle()
    tracking.capture(ws, actor.device_id, merger.version)  # renumbered actions and records put back travel on
    _summarise(summary, merger)
    if dry_run:
        return summary
    # What the bundle changed, the team, the bundle counted as applied and the audit: one transaction.
    state.team_id = state.team_id or header.get("team_id")
    held = state.holds_of(sender, header)
    if int(header.get("since", -1)) <= held:  # no gap: everything of theirs up to the bundle's version is here now
        state.seen[sender] = max(held, int(header.get("upto", -1)))
    state.heard(sender, header)
    state.applied[sender] = seq
    write_state(ws, state)
    _audit_import(ws, actor, summary, header)
    ws.execute("COMMIT")
    return summary


def _tables(name: str, payload: bytes) -> dict[str, Any]:
    try:
        tables = json.loads(payload)["tables"]
        for body in tables.values():
            if not isinstance(body["columns"], list) or not isinstance(body["rows"], list):
                raise TypeError
        return tables
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValidationError(f"{name} is damaged or was altered after it was made; nothing was changed.") from exc


def _summarise(summary: SyncSummary, merger: Merger) -> None:
    for table, counts in sorted(merger.counts.items()):
        summary.by_table[table] = dict(counts)
        for what, n in counts.items():
            summary.applied[what] = summary.applied.get(what, 0) + n
    summary.conflicts = list(merger.found)
    summary.renumbered = list(merger.renumbered)


def _refuse_if_not_ours(
    ws: apsw.Connection, name: str, header: dict[str, Any], changes: dict[str, int], state: SyncState
) -> None:
    """Refuse, before anything is applied, a bundle this workspace must not take (ValidationError)."""
    version = ws.execute("PRAGMA user_version").fetchone()[0]
    if header.get("schema_version") != version:
        raise ValidationError(
            f"{name} was made by a workspace of schema {header.get('schema_version')}; this one is schema "
            f"{version}. Install the same Locality Desk version on both laptops first; nothing was changed."
        )
    their_kind = header.get("kind")
    if state.kind == "commissioner":
        patient = {t: n for t, n in changes.items() if t not in COMMISSIONER_TABLES}
        if patient or their_kind not in (None, "commissioner"):
            carries = ", ".join(f"{table_label(t).lower()} {n:,}" for t, n in patient.items())
            origin = "a commissioner workspace" if their_kind == "commissioner" else "a locality team's workspace"
            raise ValidationError(
                f"{name} was made by {origin}"
                + (f" and carries patient-level records ({carries})" if carries else "")
                + ". This is a commissioner workspace, which never holds patient-identifiable data, so the bundle "
                "was refused; nothing was changed. Apply it in the team's locality workspace; a commissioner "
                "receives the team's figures as its quarterly return."
            )
    elif their_kind == "commissioner":
        raise ValidationError(
            f"{name} was made by a commissioner workspace, and this is a locality workspace; bundles travel only "
            "between the workspaces of one team, so it was refused. Nothing was changed."
        )
    if not state.team_id:
        _refuse_another_locality(ws, name, header)
    elif header.get("team_id") != state.team_id:
        raise ValidationError(f"{name} comes from another team's workspace, so it was refused; nothing was changed.")
    sender, seq = str(header.get("sender")), int(header.get("seq", 0))
    if sender == state.workspace_id:
        raise ValidationError(f"{name} was made by this workspace; import your teammates' bundles.")
    if seq <= state.applied.get(sender, 0):
        raise ValidationError(
            f"{name} (bundle {seq} from that laptop) was already applied here, or a newer bundle from the same "
            "laptop has been, which carries everything it did; nothing was changed."
        )


def _refuse_another_locality(ws: apsw.Connection, name: str, header: dict[str, Any]) -> None:
    """A workspace that has never synced takes the team of the first bundle it applies, but only a bundle of a team
    working for one of its own localities.

    A team's laptops start as copies of one workspace, some perhaps made before anyone synced, so they hold the
    same localities' records, or one of them none yet; a workspace that holds records of other localities only is
    another team's, whatever passphrase the two share, and the bundle would mix its patients into this one.
    """
    mine = team_localities(ws)
    theirs = header.get("localities")
    if not mine or (isinstance(theirs, list) and (not theirs or set(theirs) & set(mine))):
        return
    if not isinstance(theirs, list):
        raise ValidationError(
            f"{name} does not say which localities its team works for (it was made by an older Locality Desk), "
            "and this workspace has never synced, so it cannot tell the bundle is its own team's. It was refused; "
            "nothing was changed. Ask the sender to send their changes again with this version."
        )
    raise ValidationError(
        f"{name} comes from the team of {locality_names(ws, sorted(theirs))}, and this workspace, which has never "
        f"synced, holds the records of {locality_names(ws, mine)}. A workspace joins only a team working for its "
        "own localities, so the bundle was refused; nothing was changed. Check it is the file you meant; to work "
        "with that team, start from a copy of its workspace."
    )


def _audit_import(ws: apsw.Connection, actor: Actor, summary: SyncSummary, header: dict[str, Any]) -> None:
    for c in summary.conflicts:
        audit_row(
            ws,
            actor,
            "sync-conflict",
            c.table,
            c.id,
            f"Sync conflict on {c.table} {c.id} ({c.kind}): {c.winner} kept",
            {
                "kind": c.kind,
                "winner": c.winner,
                "mine": c.mine,
                "theirs": c.theirs,
                "bundle_id": summary.bundle_id,
                "from_user": header.get("user"),
            },
        )
    for r in summary.renumbered:
        audit_row(
            ws,
            actor,
            "sync-renumber",
            "actions",
            r["id"],
            f"Action {r['from']} renumbered {r['to']}: a teammate's new action had the same number",
            {**r, "bundle_id": summary.bundle_id, "from_user": header.get("user")},
        )
    total = sum(summary.changes.values())
    audit_row(
        ws,
        actor,
        "sync-import",
        "sync",
        summary.bundle_id,
        f"Imported sync bundle {summary.seq} from {header.get('user')} ({total:,} changes, "
        f"{len(summary.conflicts)} conflicts)",
        {
            "file": summary.file,
            "sender": summary.sender,
            "seq": summary.seq,
            "applied": summary.applied,
            "changes": summary.changes,
            "made_at": header.get("created_at"),
            **({"joined_team": summary.team_id} if summary.joined_team else {}),
        },
    )


__all__ = ["current_state", "import_bundle", "wants"]


def current_state(db_path: str | Path) -> SyncState:
    """The workspace's sync state as an import would read it, in one open of the file."""
    from ..db import open_workspace

    db = open_workspace(db_path, create=False)
    try:
        return read_state(db.conn, db_path)
    finally:
        db.close()


def wants(state: SyncState, header: dict[str, Any]) -> bool:
    """True when *header* (read_header's) is a teammate's bundle of *state*'s team that the workspace has not
    applied yet: not its own, not another team's, and newer than anything applied from that sender.

    A workspace that has not joined a team yet wants any bundle (applying it may still refuse it)."""
    sender = str(header.get("sender"))
    if sender == state.workspace_id:
        return False
    if state.team_id and header.get("team_id") != state.team_id:
        return False
    return int(header.get("seq", 0) or 0) > state.applied.get(sender, 0)
