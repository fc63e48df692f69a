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
import datetime as dt
import json
from pathlib import Path
from typing import Any

import apsw

from ..clock import Actor
from ..errors import ValidationError
from .base import columns, connect, forget_sent, open_base, pk_columns, synced_tables
from .bundle import (
    Conflict,
    SyncSummary,
    count_changes,
    default_actor,
    open_checked,
    open_sealed,
    require_passphrase,
)
from .conflicts import table_label
from .state import (
    COMMISSIONER_TABLES,
    SyncState,
    audit_row,
    locality_names,
    read_state,
    storage_error,
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
    header, changeset = open_sealed(bundle, passphrase)
    open_checked(db_path).close()  # refuses a missing, too-new or damaged file; brings the schema up to date
    with storage_errors(db_path):
        ws = connect(db_path)
        try:
            ws.execute("PRAGMA foreign_keys = ON")
            # Every check below reads the state inside the write transaction that records the import, so two
            # imports of one bundle at once cannot both pass the replay check.
            ws.execute("BEGIN IMMEDIATE")
            try:
                return _import(ws, Path(db_path), bundle, header, changeset, actor, dry_run)
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
    changeset: bytes,
    actor: Actor,
    dry_run: bool,
) -> SyncSummary:
    state = read_state(ws, db_path)
    changes = count_changes(changeset)
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
    base = open_base(db_path, ws, state.workspace_id, create=not dry_run)
    try:
        merge = _apply(ws, base, changeset, header, summary, actor, dry_run)
        if dry_run:
            return summary
        # What the bundle changed, the team, the bundle counted as applied and the audit: one transaction.
        state.team_id = state.team_id or header.get("team_id")
        state.seen[sender] = seq
        write_state(ws, state)
        _audit_import(ws, actor, summary, header)
        ws.execute("COMMIT")
        _advance_base(base, changeset, merge)
        return summary
    finally:
        base.close()


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
    seen = state.seen_from(sender)
    if seq <= seen:
        raise ValidationError(
            f"{name} (bundle {seq} from that laptop) was already applied here, or a newer bundle from the "
            f"same laptop (up to {seen}) has replaced it; nothing was changed."
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


class _Merge:
    """The conflict handler of one import: later updated_at wins; an edit wins over a delete."""

    def __init__(
        self, ws: apsw.Connection, base: apsw.Connection, header: dict[str, Any], summary: SyncSummary, changeset: bytes
    ):
        self.ws, self.base, self.header, self.summary = ws, base, header, summary
        self.columns = {t: columns(ws, t) for t in synced_tables(ws)}
        self.pks = {t: pk_columns(ws, t) for t in self.columns}
        self.error: str | None = None
        self.skipped: set[tuple[str, str]] = set()  # (table, pk) kept out of the base too: they come again
        self.renumber: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (local action, incoming action)
        # Who points at whom, and what the bundle itself deletes: a row is "in use" only by rows that stay.
        self.referrers: dict[str, list[tuple[str, str, str]]] = {}
        for child in self.columns:
            for fk in ws.execute(f'PRAGMA foreign_key_list("{child}")'):
                self.referrers.setdefault(fk[2], []).append((child, fk[3], fk[4]))
        self.deleting: dict[str, set[tuple[Any, ...]]] = {}
        for change in apsw.Changeset.iter(changeset):
            if change.op == "DELETE":
                row = self._row(change.name, change.old)
                self.deleting.setdefault(change.name, set()).add(tuple(row[c] for c in self.pks[change.name]))

    def count(self, what: str, table: str) -> None:
        self.summary.applied[what] = self.summary.applied.get(what, 0) + 1
        per = self.summary.by_table.setdefault(table, {})
        per[what] = per.get(what, 0) + 1

    def see(self, change: apsw.TableChange) -> bool:
        if change.op == "DELETE":
            row = self._row(change.name, change.old)
            if self._in_use(change.name, row):
                # Like an edit, a use here outweighs the deletion there: kept, and this laptop's next bundle
                # gives the record back to the teammate (their base no longer has it), so the team converges.
                self.count("kept mine", change.name)
                self._record(change.name, row, "deleted there, still in use here", row, None, "mine")
                return False
        self.count({"INSERT": "added", "DELETE": "deleted", "UPDATE": "updated"}[change.op], change.name)
        return True

    def _number_clash(self, theirs: dict[str, Any]) -> bool:
        """Two laptops numbered a new action alike (CHA-2026-0043 twice): the later-made one is renumbered by the
        laptop that made it, so every laptop ends with the same two numbers. True when that is what happened."""
        found = self.ws.execute(
            "SELECT * FROM actions WHERE id <> ? AND (reference = ? OR (locality_id = ? AND year = ? AND seq = ?))",
            (theirs["id"], theirs["reference"], theirs["locality_id"], theirs["year"], theirs["seq"]),
        ).fetchone()
        if found is None:
            return False
        mine = self._row("actions", found)
        made_here = self.base.execute("SELECT 1 FROM actions WHERE id = ?", (mine["id"],)).fetchone() is None
        if made_here and _made_order(mine) > _made_order(theirs):
            self.renumber.append((mine, theirs))
            self.count("added", "actions")
        else:  # theirs is renumbered on the laptop that made it and arrives again, renumbered, in a later bundle
            self.count("waiting", "actions")
        return True

    def renumber_mine(self, actor: Actor) -> None:
        """After the changeset: give each clashing action made here the next free number, then add theirs."""
        from ..mdt.actions import next_reference

        for mine, theirs in self.renumber:
            reference, seq = next_reference(self.ws, mine["locality_id"], mine["year"])
            stamp = actor.stamp()
            # The renumbering must win wherever the old number went, even against a laptop clock that runs fast.
            stamp["updated_at"] = max(stamp["updated_at"], _just_after(mine.get("updated_at")))
            self.ws.execute(
                "UPDATE actions SET reference = ?, seq = ?, updated_at = ?, updated_by = ?, device_id = ? WHERE id = ?",
                (reference, seq, stamp["updated_at"], stamp["updated_by"], stamp["device_id"], mine["id"]),
            )
            columns = list(theirs)
            self.ws.execute(
                f"INSERT INTO actions ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                [theirs[c] for c in columns],
            )
            self.skipped.discard(("actions", self._pk("actions", theirs)))
            self.summary.renumbered.append(
                {"id": mine["id"], "from": mine["reference"], "to": reference, "clashed_with": theirs["id"]}
            )

    def into_base(self, change: apsw.TableChange) -> bool:
        """The base takes every change the workspace took; one it refused or deferred would read as deleted here."""
        values = change.new if change.op == "INSERT" else change.old
        return (change.name, self._pk(change.name, self._row(change.name, values) or {})) not in self.skipped

    def _in_use(self, table: str, row: dict[str, Any]) -> bool:
        for child, column, parent_column in self.referrers.get(table, []):
            pk = self.pks[child]
            cols = ", ".join(f'"{c}"' for c in pk)
            going = self.deleting.get(child, set())
            for found in self.ws.execute(f'SELECT {cols} FROM "{child}" WHERE "{column}" = ?', (row[parent_column],)):
                if tuple(found) not in going:
                    return True
        return False

    def _row(self, table: str, values) -> dict[str, Any] | None:
        return None if values is None else dict(zip(self.columns[table], values, strict=False))

    def _pk(self, table: str, row: dict[str, Any]) -> str:
        return "/".join(str(row[c]) for c in self.pks[table])

    def _changed_here(self, table: str, mine: dict[str, Any]) -> bool:
        pk = self.pks[table]
        where = " AND ".join(f'"{c}" IS ?' for c in pk)
        row = self.base.execute(f'SELECT * FROM "{table}" WHERE {where}', [mine[c] for c in pk]).fetchone()
        return row is None or self._row(table, row) != mine

    def conflict(self, reason: int, change: apsw.TableChange) -> int:
        table = change.name
        if reason == apsw.SQLITE_CHANGESET_FOREIGN_KEY:
            self.error = (
                f"The bundle would leave {change.fk_conflicts} record(s) here pointing at records it "
                "deletes (a teammate deleted something still in use on this laptop). Nothing was "
                "changed; remove or move those links, or ask the teammate to restore it."
            )
            return apsw.SQLITE_CHANGESET_ABORT
        if reason == apsw.SQLITE_CHANGESET_NOTFOUND:  # deleted there, already gone here
            self._uncount(change)
            self.count("unchanged", table)
            return apsw.SQLITE_CHANGESET_OMIT
        mine = self._row(table, change.conflict)
        if reason == apsw.SQLITE_CHANGESET_CONSTRAINT:
            self._uncount(change)
            theirs = self._row(table, change.new)
            self.skipped.add((table, self._pk(table, theirs or {})))
            if table == "actions" and change.op == "INSERT" and self._number_clash(theirs):
                return apsw.SQLITE_CHANGESET_OMIT
            self.count("refused", table)
            self._record(table, theirs or {}, "refused by a constraint", None, theirs, "mine")
            return apsw.SQLITE_CHANGESET_OMIT
        if change.op == "DELETE":  # DATA: the row here is not the one they deleted → the edit wins
            self._uncount(change)
            self.count("kept mine", table)
            self._record(table, mine, "deleted there, edited here", mine, None, "mine")
            return apsw.SQLITE_CHANGESET_OMIT
        theirs = self._row(table, change.new)
        if theirs == mine:
            self._uncount(change)
            self.count("unchanged", table)
            return apsw.SQLITE_CHANGESET_OMIT
        winner = "theirs" if _rank(theirs) > _rank(mine) else "mine"
        self._uncount(change)
        self.count("updated" if winner == "theirs" else "kept mine", table)
        if self._changed_here(table, mine):
            self._record(table, mine, "edited on both", mine, theirs, winner)
        return apsw.SQLITE_CHANGESET_REPLACE if winner == "theirs" else apsw.SQLITE_CHANGESET_OMIT

    def _uncount(self, change: apsw.TableChange) -> None:
        key = {"INSERT": "added", "DELETE": "deleted", "UPDATE": "updated"}[change.op]
        self.summary.applied[key] -= 1
        if not self.summary.applied[key]:
            del self.summary.applied[key]
        per = self.summary.by_table[change.name]
        per[key] -= 1
        if not per[key]:
            del per[key]

    def _record(
        self,
        table: str,
        key_row: dict[str, Any],
        kind: str,
        mine: dict[str, Any] | None,
        theirs: dict[str, Any] | None,
        winner: str,
    ) -> None:
        self.summary.conflicts.append(
            Conflict(
                table,
                self._pk(table, key_row),
                kind,
                mine,
                theirs,
                winner,
                my_by=(mine or {}).get("updated_by"),
                my_at=(mine or {}).get("updated_at"),
                their_by=(theirs or {}).get("updated_by") or self.header.get("user"),
                their_at=(theirs or {}).get("updated_at") or self.header.get("created_at"),
            )
        )


def _rank(row: dict[str, Any]) -> tuple[str, str, str]:
    """The order that picks the winner: updated_at, then device, then the values — the same on every laptop."""
    values = json.dumps([row[k] for k in sorted(row)], default=repr)
    return str(row.get("updated_at") or ""), str(row.get("device_id") or ""), values


def _just_after(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    except ValueError:
        return stamp


def _made_order(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("created_at") or ""), str(row.get("id"))


def _into_base(reason: int, change: apsw.TableChange) -> int:
    """The base takes the teammate's version whatever the workspace kept, so a winning local edit is sent again."""
    if reason in (apsw.SQLITE_CHANGESET_DATA, apsw.SQLITE_CHANGESET_CONFLICT):
        return apsw.SQLITE_CHANGESET_REPLACE
    return apsw.SQLITE_CHANGESET_OMIT


def _apply(
    ws: apsw.Connection,
    base: apsw.Connection,
    changeset: bytes,
    header: dict[str, Any],
    summary: SyncSummary,
    actor: Actor,
    dry_run: bool,
) -> _Merge:
    """Apply the changeset to the workspace inside the caller's transaction (which commits or rolls it back)."""
    merge = _Merge(ws, base, header, summary, changeset)
    try:
        apsw.Changeset.apply(
            changeset,
            ws,
            filter_change=merge.see,
            conflict=merge.conflict,
            flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION,
        )
    except apsw.Error as exc:
        if storage_error(exc) is not None:
            raise  # a full disk or a lock: storage_errors gives the user SQLite's reason, not the bundle's fault
        raise ValidationError(merge.error or f"The bundle could not be applied ({exc}); nothing was changed.") from exc
    if not dry_run:
        merge.renumber_mine(actor)
    return merge


def _advance_base(base: apsw.Connection, changeset: bytes, merge: _Merge) -> None:
    """After the workspace has committed: the base takes the teammate's rows and forgets rows now sent back.

    Should this fail (a full disk, say), the import stands: a base one import behind only makes the next bundle
    send some rows again, which teammates find unchanged (desktop.models.sync.base).
    """
    try:
        base.execute("BEGIN IMMEDIATE")
        apsw.Changeset.apply(
            changeset,
            base,
            filter_change=merge.into_base,
            conflict=_into_base,
            flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION,
        )
        forget_sent(base)
        base.execute("COMMIT")
    except apsw.Error:
        if base.in_transaction:
            with contextlib.suppress(apsw.Error):
                base.execute("ROLLBACK")


# ---------------------------------------------------------------- audit


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


__all__ = ["import_bundle"]
