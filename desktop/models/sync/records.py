"""Merging a teammate's records into this workspace, field by field (issue 23).

Each record travels with a clock per column and its deletion's clock, if any (desktop.models.sync.tracking). For
each column the later clock wins; a record is alive while some column's clock is later than its deletion's. That
rule gives the same result whatever order bundles arrive in, however often one arrives, so laptops that have all
seen the same bundles hold the same records. Two edits of different fields of one record both stand.

A **conflict** is a field both sides changed without either knowing the other's edit (the incoming clock's
"previous" is not this laptop's clock, nor the reverse): the later value is kept and both are reported
(``Conflict``; the audit keeps them). Stamps (``updated_at``, ``updated_by``, ``device_id``, ``created_at``) are
merged like any field but never reported.

What a single record's merge cannot settle, the merger settles after all records are in:

* **Two new actions numbered alike** (each laptop made its own CHA-2026-0043): the later-made is renumbered by the
  laptop that made it (a new edit there, which then travels); elsewhere it waits, parked, for the new number.
* **Another clash on a unique column** (the same practice code added on two laptops): the teammate's record is
  parked, out of its table, and shown as a conflict; it comes in once one of the two is changed.
* **A record deleted there that a record here still points at** (a visit logged at a care home the teammate
  removed): the record is put back as it was, a new edit that reaches the teammate too.
* **A record whose parent is parked or missing** waits, parked, for it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from . import tracking
from .bundle import Conflict
from .tracking import LEDGER, decode, dump, encode, entry, load

STAMP = frozenset({"updated_at", "updated_by", "device_id", "created_at"})
BULK = 2000  # above this many records of one table, its ledger is read whole rather than record by record
MAX_PASSES = 20
WAITING = "waiting for a new number"


class Merger:
    """One import's merge: ``take`` every incoming record, then ``settle`` what needs the whole picture."""

    def __init__(self, conn, device: str, version: int, header: dict[str, Any] | None = None):
        self.conn, self.device, self.version, self.header = conn, device, version, header or {}
        self.sender = self.header.get("sender")
        self.counts: dict[str, dict[str, int]] = {}
        self.found: list[Conflict] = []
        self.renumbered: list[dict[str, str]] = []
        self.shapes: dict[str, tuple[list[str], list[str]]] = {}
        # Records put in their tables (their references are checked) and taken out (references to them are).
        self.placed: list[tuple[str, dict[str, Any]]] = []
        self.taken: list[tuple[str, dict[str, Any]]] = []
        self.links: dict[str, list[tuple[str, list[str], list[str]]]] | None = None

    # ------------------------------------------------------------ shapes

    def shape(self, table: str) -> tuple[list[str], list[str]]:
        if table not in self.shapes:
            self.shapes[table] = (tracking.columns(self.conn, table), tracking.pk_columns(self.conn, table))
        return self.shapes[table]

    def count(self, table: str, what: str) -> None:
        per = self.counts.setdefault(table, {})
        per[what] = per.get(what, 0) + 1

    # ------------------------------------------------------------ taking records

    def take(self, table: str, their_columns: list[str], rows: list[list[Any]]) -> None:
        cols, pk = self.shape(table)
        local = self._ledger(table, [r[0] for r in rows])
        for key, clocks_text, dead_text, values in rows:
            theirs = dict(zip(their_columns, decode(values), strict=False))
            mine = local.get(key)
            if mine and mine[0] == clocks_text and mine[1] == dead_text:
                self.count(table, "unchanged")
                continue
            self._take_one(table, cols, pk, key, theirs, load(clocks_text), _dead(dead_text), mine)

    def _ledger(self, table: str, keys: list[str]) -> dict[str, tuple]:
        sql = f"SELECT pk, clocks, dead, vals, parked FROM {LEDGER} WHERE tbl = ?"
        if len(keys) > BULK:
            return {r[0]: tuple(r[1:]) for r in self.conn.execute(sql, (table,))}
        out = {}
        for key in keys:
            row = self.conn.execute(sql + " AND pk = ?", (table, key)).fetchone()
            if row is not None:
                out[key] = tuple(row[1:])
        return out

    def _take_one(self, table, cols, pk, key, theirs, their_clocks, their_dead, mine) -> None:
        present = self._row(table, cols, pk, key)
        if mine is None or mine[0] is None:  # new to this laptop
            merged, clocks, dead = {c: theirs.get(c) for c in cols}, tracking.compact(their_clocks, cols), their_dead
            if not self._place(table, cols, pk, key, present, merged, clocks, dead, None, self.sender):
                self.count(table, "added" if tracking.alive(clocks, dead) else "unchanged")
            return
        my_clocks, my_dead, my_vals, parked = load(mine[0]), _dead(mine[1]), mine[2], mine[3]
        before = present if present is not None else dict(zip(cols, decode(json.loads(my_vals)), strict=False))
        merged, clocks, clashes = dict(before), {}, []
        for c in cols:
            le, re = entry(my_clocks, c), entry(their_clocks, c)
            if re[0] > le[0]:
                merged[c], clocks[c] = theirs.get(c), re
            else:
                clocks[c] = le
            if (
                c not in STAMP
                and before.get(c) != theirs.get(c)
                and le[0] != re[0]
                and tracking.site_of(le[0]) == self.device
                and tracking.site_of(re[0]) != self.device
                and re[1] != le[0]
                and le[1] != re[0]
            ):
                clashes.append(c)
        dead = max(my_dead or ["", ""], their_dead or ["", ""])
        dead = dead if dead[0] else None
        was_alive, now_alive = present is not None or parked is not None, tracking.alive(clocks, dead)
        self._report(table, key, before, theirs, merged, clashes, my_clocks, my_dead, their_clocks, their_dead)
        clocks = tracking.compact(clocks, cols)
        if dump(clocks) == tracking.canonical(mine[0], cols) and dead == my_dead and merged == before:
            self.count(table, "kept mine" if clashes else "unchanged")
            return
        whole = clocks == tracking.compact(their_clocks, cols) and dead == their_dead  # their state, all of it
        if self._place(table, cols, pk, key, present, merged, clocks, dead, parked, self.sender if whole else None):
            return
        if was_alive and not now_alive:
            self.count(table, "deleted")
        elif now_alive and not was_alive:
            self.count(table, "added")
        elif now_alive and merged != before:
            self.count(table, "updated")
        elif clashes:
            self.count(table, "kept mine")
        else:
            self.count(table, "unchanged")

    def _report(self, table, key, before, theirs, merged, clashes, my_clocks, my_dead, their_clocks, their_dead):
        their_view = {**before, **{c: theirs.get(c) for c in (*clashes, *STAMP) if c in theirs}}
        if clashes:
            winner = "theirs" if all(merged.get(c) == theirs.get(c) for c in clashes) else "mine"
            self._found(table, key, "edited on both", before, their_view, winner, clashes)
        mine_edited = max((e[0] for e in my_clocks.values() if tracking.site_of(e[0]) == self.device), default="")
        if their_dead and (not my_dead or their_dead[0] > my_dead[0]) and mine_edited > their_dead[1]:
            alive = tracking.alive({**my_clocks, **their_clocks}, their_dead) or mine_edited > their_dead[0]
            self._found(table, key, "deleted there, edited here", before, None, "mine" if alive else "theirs")

    def _found(self, table, key, kind, mine, theirs, winner, fields=()) -> None:
        """A conflict, named as the conflicts list shows it, with who made each side and when."""
        mine_, theirs_ = mine or {}, theirs or {}
        self.found.append(
            Conflict(
                table,
                "/".join(str(v) for v in json.loads(key)),
                kind,
                mine,
                theirs,
                winner,
                my_by=mine_.get("updated_by"),
                my_at=mine_.get("updated_at"),
                their_by=theirs_.get("updated_by") or self.header.get("user"),
                their_at=theirs_.get("updated_at") or self.header.get("created_at"),
                fields=list(fields),
            )
        )

    # ------------------------------------------------------------ writing

    def _row(self, table, cols, pk, key) -> dict[str, Any] | None:
        row = self.conn.execute(
            f'SELECT * FROM "{table}" t WHERE {tracking.match_sql(pk, "t", "?")}', [key] * len(pk)
        ).fetchone()
        return None if row is None else dict(zip(cols, row, strict=False))

    def _place(self, table, cols, pk, key, present, merged, clocks, dead, parked, src=None) -> str | None:
        """Write the merged record into its table (or take it out), then its ledger row; why it waits outside its
        table, if it does (counted here)."""
        alive = tracking.alive(clocks, dead)
        out_of_table = None
        if alive and present is None:
            out_of_table = self._insert(table, cols, merged)
            if out_of_table == WAITING:
                self.count(table, "waiting")
            elif out_of_table and parked is None:
                self._found(table, key, "refused by a constraint", None, merged, "mine")
                self.count(table, "refused")
        elif alive and present != merged:
            changed = [c for c in cols if present.get(c) != merged.get(c)]
            sets = ", ".join(f'"{c}" = ?' for c in changed)
            try:
                self.conn.execute(
                    f'UPDATE "{table}" SET {sets} WHERE {_where(pk)}', [merged[c] for c in changed] + _key(pk, key)
                )
                self.placed.append((table, merged))
            except _constraint_errors() as exc:
                self._delete(table, pk, key, present)
                numbered = table == "actions" and self._same_number(merged) is not None
                out_of_table = WAITING if numbered else f"clash: {exc}"
                self.count(table, "waiting")
        elif not alive and present is not None:
            self._delete(table, pk, key, present)
        vals = None if alive and out_of_table is None else json.dumps(encode(merged[c] for c in cols))
        self.conn.execute(
            f"INSERT INTO {LEDGER} (tbl, pk, dirty, gone, version, clocks, dead, vals, parked, src) "
            "VALUES (?, ?, 0, 0, ?, ?, ?, ?, ?, ?) ON CONFLICT (tbl, pk) DO UPDATE SET dirty = 0, gone = 0, "
            "version = excluded.version, clocks = excluded.clocks, dead = excluded.dead, vals = excluded.vals, "
            "parked = excluded.parked, src = excluded.src",
            (table, key, self.version, dump(clocks), json.dumps(dead) if dead else None, vals, out_of_table, src),
        )
        return out_of_table

    def _insert(self, table: str, cols: list[str], record: dict[str, Any]) -> str | None:
        """Insert *record*; None when it went in, else why it waits outside (a clash with a record here)."""
        names = ", ".join(f'"{c}"' for c in cols)
        try:
            self.conn.execute(
                f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" for _ in cols)})', [record[c] for c in cols]
            )
        except _constraint_errors() as exc:
            if table == "actions" and self._same_number(record) is not None:
                return WAITING  # settled with the others numbered alike (_renumber)
            return f"clash: {exc}"
        self.placed.append((table, record))
        return None

    def _delete(self, table: str, pk: list[str], key: str, record: dict[str, Any]) -> None:
        self.conn.execute(f'DELETE FROM "{table}" WHERE {_where(pk)}', _key(pk, key))
        self.taken.append((table, record))

    # ------------------------------------------------------------ two actions numbered alike

    def _same_number(self, theirs: dict[str, Any]) -> dict[str, Any] | None:
        """The action here numbered like *theirs* (each laptop numbered its own CHA-2026-0043), or None."""
        found = self.conn.execute(
            "SELECT * FROM actions WHERE id <> ? AND (reference = ? OR (locality_id = ? AND year = ? AND seq = ?))",
            (theirs["id"], theirs["reference"], theirs["locality_id"], theirs["year"], theirs["seq"]),
        ).fetchone()
        return None if found is None else dict(zip(self.shape("actions")[0], found, strict=False))

    def _renumber(self) -> bool:
        """Actions numbered alike: in each group of one number the earliest-made keeps it, and every later one
        made on this laptop takes a new number, a new edit that travels. The new numbers follow the highest known,
        in the order the actions were made across the whole team, so laptops that know the same actions give the
        same numbers and two laptops renumbering at once do not clash again."""
        waiting = self.conn.execute(
            f"SELECT vals FROM {LEDGER} WHERE tbl = 'actions' AND parked = ?", (WAITING,)
        ).fetchall()
        if not waiting:
            return False
        cols = self.shape("actions")[0]
        known = [dict(zip(cols, decode(json.loads(v)), strict=False)) for (v,) in waiting]
        groups = {(a["locality_id"], a["year"]) for a in known}
        for locality_id, year in groups:
            known += [
                dict(zip(cols, r, strict=False))
                for r in self.conn.execute(
                    "SELECT * FROM actions WHERE locality_id = ? AND year = ?", (locality_id, year)
                )
            ]
        moved = False
        for locality_id, year in sorted(groups):
            group = [a for a in known if (a["locality_id"], a["year"]) == (locality_id, year)]
            top = max(int(a["seq"] or 0) for a in group)
            by_number: dict[int, list[dict[str, Any]]] = {}
            for a in group:
                by_number.setdefault(int(a["seq"] or 0), []).append(a)
            later = sorted(
                (a for alike in by_number.values() if len(alike) > 1 for a in sorted(alike, key=_made_order)[1:]),
                key=_made_order,
            )
            for rank, action in enumerate(later, start=1):
                if self._made_here(action) and self._present_row("actions", action):
                    self._give_number(action, top + rank, by_number[int(action["seq"] or 0)][0])
                    moved = True
        return moved

    def _made_here(self, action: dict[str, Any]) -> bool:
        # The id never changes, so its clock is the one the action was made with, on the maker's device.
        made = self.conn.execute(
            f"SELECT clocks FROM {LEDGER} WHERE tbl = 'actions' AND pk = ?", (tracking.key_of([action["id"]]),)
        ).fetchone()
        return made is not None and tracking.site_of(entry(load(made[0]), "id")[0]) == self.device

    def _give_number(self, action: dict[str, Any], seq: int, kept_by: dict[str, Any]) -> None:
        code = self.conn.execute("SELECT code FROM localities WHERE id = ?", (action["locality_id"],)).fetchone()[0]
        reference = f"{code}-{action['year']}-{seq:04d}"
        # The renumbering must win wherever the old number went, even against a laptop clock that runs fast.
        stamp = max(self.now, _just_after(action.get("updated_at")))
        self.conn.execute(
            "UPDATE actions SET reference = ?, seq = ?, updated_at = ?, updated_by = ?, device_id = ? WHERE id = ?",
            (reference, seq, stamp, self.user, self.device, action["id"]),
        )
        self.placed.append(("actions", {**action, "reference": reference, "seq": seq}))
        self.renumbered.append(
            {"id": action["id"], "from": action["reference"], "to": reference, "clashed_with": kept_by["id"]}
        )

    user = ""
    now = ""

    # ------------------------------------------------------------ settling

    def settle(self) -> None:
        """After every record is in: parked records that now fit go in, references are made whole (a parent put
        back, or a child parked), until nothing moves."""
        for _ in range(MAX_PASSES):
            moved = self._renumber()
            moved |= self._unpark()
            moved |= self._references()
            if not moved:
                return

    def _unpark(self) -> bool:
        moved = False
        for table, key, vals in self.conn.execute(
            f"SELECT tbl, pk, vals FROM {LEDGER} WHERE parked IS NOT NULL ORDER BY tbl, pk"
        ).fetchall():
            cols, _ = self.shape(table)
            record = dict(zip(cols, decode(json.loads(vals)), strict=False))
            if self._insert(table, cols, record) is None:
                self.conn.execute(
                    f"UPDATE {LEDGER} SET parked = NULL, vals = NULL, dirty = 0, gone = 0 WHERE tbl = ? AND pk = ?",
                    (table, key),
                )
                moved = True
        return moved

    def _references(self) -> bool:
        """Every reference broken by the merge mended: a deleted parent put back (as a new edit) when its values are
        known, else the child parked until its parent arrives."""
        moved = False
        for child, record, parent, to_cols, values in self._broken():
            if to_cols == self.shape(parent)[1] and self._put_back(parent, tracking.key_of(values)):
                moved = True
            elif self._present_row(child, record):
                self._park(child, record, f"waiting for its {parent} record")
                moved = True
        return moved

    def _links(self) -> dict[str, list[tuple[str, list[str], list[str]]]]:
        """Per table, the references it holds: (parent, its columns, the parent's columns)."""
        if self.links is None:
            self.links = {}
            for table in tracking.synced_tables(self.conn):
                specs: dict[int, tuple[str, list[str], list[str]]] = {}
                for r in self.conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                    parent, frm, to = specs.setdefault(r[0], (r[2], [], []))
                    frm.append(r[3])
                    to.append(r[4])
                for parent, frm, to in specs.values():
                    to = to if all(to) else self.shape(parent)[1]
                    self.links.setdefault(table, []).append((parent, frm, to))
        return self.links

    def _broken(self) -> list[tuple[str, dict[str, Any], str, list[str], list[Any]]]:
        """References the records placed and taken since the last look have broken, one lookup each by key, so a
        day's bundle costs what it carries however large the tables: (child table, child record, parent table,
        parent columns, the values the child points at)."""
        links = self._links()
        placed, taken, self.placed, self.taken = self.placed, self.taken, [], []
        out = []
        for table, record in placed:
            for parent, frm, to in links.get(table, []):
                values = [record.get(c) for c in frm]
                if None not in values and not self._exists(parent, to, values):
                    out.append((table, record, parent, to, values))
        for table, record in taken:
            for child, specs in links.items():
                for parent, frm, to in specs:
                    if parent != table:
                        continue
                    values = [record.get(c) for c in to]
                    if None in values or self._exists(parent, to, values):
                        continue
                    where = " AND ".join(f'"{c}" = ?' for c in frm)
                    cols = self.shape(child)[0]
                    for row in self.conn.execute(f'SELECT * FROM "{child}" WHERE {where}', values).fetchall():
                        out.append((child, dict(zip(cols, row, strict=False)), parent, to, values))
        return out

    def _exists(self, table: str, cols: list[str], values: list[Any]) -> bool:
        where = " AND ".join(f'"{c}" = ?' for c in cols)
        return self.conn.execute(f'SELECT 1 FROM "{table}" WHERE {where} LIMIT 1', values).fetchone() is not None

    def _present_row(self, table: str, record: dict[str, Any]) -> bool:
        pk = self.shape(table)[1]
        return self._exists(table, pk, [record[c] for c in pk])

    def _put_back(self, table: str, key: str) -> bool:
        row = self.conn.execute(
            f"SELECT vals, parked FROM {LEDGER} WHERE tbl = ? AND pk = ? AND vals IS NOT NULL", (table, key)
        ).fetchone()
        if row is None or row[1] is not None:
            return False
        cols, _ = self.shape(table)
        record = dict(zip(cols, decode(json.loads(row[0])), strict=False))
        if self._insert(table, cols, record) is not None:
            return False
        # The insert's trigger marked it new here: the capture after the merge gives it a clock later than its
        # deletion, so it is back on every laptop at the next exchange.
        self.count(table, "kept mine")
        self._found(table, key, "deleted there, still in use here", record, None, "mine")
        return True

    def _park(self, table: str, record: dict[str, Any], reason: str) -> None:
        cols, pk = self.shape(table)
        key = tracking.key_of(record[c] for c in pk)
        self._delete(table, pk, key, record)
        self.conn.execute(
            f"UPDATE {LEDGER} SET parked = ?, vals = ?, dirty = 0, gone = 0 WHERE tbl = ? AND pk = ?",
            (reason, json.dumps(encode(record[c] for c in cols)), table, key),
        )
        self.count(table, "waiting")


def _dead(text: str | None) -> list[str] | None:
    return json.loads(text) if text else None


def _where(pk: list[str]) -> str:
    return " AND ".join(f'"{c}" = ?' for c in pk)


def _key(pk: list[str], key: str) -> list[Any]:
    values = json.loads(key)
    return list(values[: len(pk)])


def _constraint_errors() -> tuple[type[Exception], ...]:
    import sqlite3

    import apsw

    return (apsw.ConstraintError, sqlite3.IntegrityError)


def _made_order(row: dict[str, Any]) -> tuple[str, str]:
    return str(row.get("created_at") or ""), str(row.get("id"))


def _just_after(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return (dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=1)).isoformat(timespec="seconds")
    except ValueError:
        return stamp


__all__ = ["Merger"]
