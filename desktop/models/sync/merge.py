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

Then the sync base (desktop.models.sync.base) takes the teammate's version of every row the bundle carries, whichever
version the workspace kept (so a winning edit here is sent again), except rows refused or waiting for a new number,
and records the bundle's sequence number as seen. A dry run reports all this and changes nothing.

Refused, with nothing changed (ValidationError), besides what reading the bundle refuses
(desktop.models.sync.bundle): another team's bundle, a different schema version, this workspace's own bundle, and
a bundle whose sequence number this workspace has already applied (a replay, or an older bundle a newer one from
the same laptop has superseded); a bundle that would still leave a dangling reference (a chain of deletions where
a middle record is kept) is refused whole, with a message.
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
from .base import columns, connect, forget_sent, open_base, pk_columns, synced_tables, write_state
from .bundle import (
    Conflict,
    SyncSummary,
    count_changes,
    default_actor,
    open_checked,
    open_sealed,
    require_passphrase,
)


def import_bundle(
    db_path: str | Path, bundle: str | Path, passphrase: str, dry_run: bool = False, actor: Actor | None = None
) -> SyncSummary:
    """Apply a teammate's bundle in one transaction (or, *dry_run*, report what it would do and change nothing)."""
    from ..workspace import get_meta, set_meta

    passphrase = require_passphrase(passphrase)
    bundle = Path(bundle)
    actor = actor or default_actor()
    header, changeset = open_sealed(bundle, passphrase)
    db = open_checked(db_path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if header.get("schema_version") != version:
            raise ValidationError(
                f"{bundle.name} was made by a workspace of schema {header.get('schema_version')}; this one is schema "
                f"{version}. Install the same Locality Desk version on both laptops first; nothing was changed."
            )
        team = get_meta(db, "team_id")
        if team and header.get("team_id") != team:
            raise ValidationError(
                f"{bundle.name} comes from another team's workspace, so it was refused; nothing was changed."
            )
        if not team and not dry_run:
            with db.atomic():
                set_meta(db, team_id=str(header["team_id"]))
    finally:
        db.close()
    ws = connect(db_path)
    base, state = open_base(db_path, ws)
    try:
        sender, seq = str(header.get("sender")), int(header.get("seq", 0))
        if sender == state["replica"]:
            raise ValidationError(f"{bundle.name} was made by this workspace; import your teammates' bundles.")
        seen = int(state["seen"].get(sender, 0))
        if seq <= seen:
            raise ValidationError(
                f"{bundle.name} (bundle {seq} from that laptop) was already applied here, or a newer bundle from the "
                f"same laptop (up to {seen}) has replaced it; nothing was changed."
            )
        summary = SyncSummary(
            "import",
            str(bundle),
            str(header.get("bundle_id")),
            sender,
            seq,
            str(header.get("team_id")),
            dry_run=dry_run,
            changes=count_changes(changeset),
        )
        _apply(ws, base, changeset, header, summary, actor, state, dry_run)
    finally:
        base.close()
        ws.close()
    return summary


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
    state: dict[str, Any],
    dry_run: bool,
) -> None:
    merge = _Merge(ws, base, header, summary, changeset)
    ws.execute("PRAGMA foreign_keys = ON")
    ws.execute("BEGIN IMMEDIATE")
    base.execute("BEGIN IMMEDIATE")
    committed = False
    try:
        try:
            apsw.Changeset.apply(
                changeset,
                ws,
                filter_change=merge.see,
                conflict=merge.conflict,
                flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION,
            )
        except apsw.Error as exc:
            raise ValidationError(
                merge.error or f"The bundle could not be applied ({exc}); nothing was changed."
            ) from exc
        if not dry_run:
            merge.renumber_mine(actor)
        if dry_run:
            return
        apsw.Changeset.apply(
            changeset,
            base,
            filter_change=merge.into_base,
            conflict=_into_base,
            flags=apsw.SQLITE_CHANGESETAPPLY_FKNOACTION,
        )
        state["seen"][summary.sender] = summary.seq
        write_state(base, state)
        forget_sent(base)
        _audit_import(ws, actor, summary, header)
        # The workspace commits first: if the laptop stops between the two commits, the base merely lacks the
        # teammate's rows, so this workspace re-sends identical rows (a no-op) and may re-apply the same bundle.
        ws.execute("COMMIT")
        committed = True
        base.execute("COMMIT")
    finally:
        if not committed:
            with contextlib.suppress(apsw.Error):
                ws.execute("ROLLBACK")
        if base.in_transaction:
            with contextlib.suppress(apsw.Error):
                base.execute("ROLLBACK")


# ---------------------------------------------------------------- audit


def _audit_row(
    conn, actor: Actor, action: str, entity: str, entity_id: str | None, summary: str, detail: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit (at, user, role, device_id, action, entity, entity_id, summary, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            actor.now(),
            actor.user,
            actor.role,
            actor.device_id,
            action,
            entity,
            entity_id,
            summary,
            json.dumps(detail, sort_keys=True, default=str),
        ),
    )


def _audit_import(ws: apsw.Connection, actor: Actor, summary: SyncSummary, header: dict[str, Any]) -> None:
    for c in summary.conflicts:
        _audit_row(
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
        _audit_row(
            ws,
            actor,
            "sync-renumber",
            "actions",
            r["id"],
            f"Action {r['from']} renumbered {r['to']}: a teammate's new action had the same number",
            {**r, "bundle_id": summary.bundle_id, "from_user": header.get("user")},
        )
    total = sum(summary.changes.values())
    _audit_row(
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
        },
    )


__all__ = ["import_bundle"]
