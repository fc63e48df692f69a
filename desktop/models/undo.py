"""Undo and redo of the edits a slip makes easy (STYLE practice 9): caseload fields, action status and details,
logged and corrected visits, interventions recorded, and a meeting's details, attendees and agenda outcomes.

An undoable op records a named *step* in the same transaction as its writes: for each row it touches, the whole
row before (None when the op creates it) and, as the transaction closes, the row after. Undo puts the
before-images back in one transaction, redo the after-images, each only when every row still equals what the
step left: a row changed since by another edit, a sync or an import is never overwritten, and that step is
dropped. Each undo and redo is audited per record, so a record's history stays whole.

The data columns come back exactly; the stamp columns (updated_at, updated_by, device_id) say who undid it and
when, because sync picks the later `updated_at` (sync.py): an undo stamped with the old time would lose to the
very change it undoes on a teammate's laptop.

The stack lives in memory, one per open workspace (the GUI's Session holds it); the CLI records nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from . import audit
from .changes import Changes
from .clock import Actor
from .errors import ValidationError

CAP = 30  # steps kept; the oldest goes first
STAMP = ("updated_at", "updated_by", "device_id")
_CHUNK = 500  # ids per IN (...) read, well under SQLite's variable limit

Key = tuple[str, str]  # (table, id): every table an undoable op writes has a TEXT `id` primary key
Row = dict[str, Any] | None  # None: the row does not exist


@dataclass
class Step:
    """One named user action as before- and after-images of the rows it changed, in the order first touched."""

    name: str
    before: dict[Key, Row] = field(default_factory=dict)
    after: dict[Key, Row] = field(default_factory=dict)
    live: bool = True  # False: nobody will undo this op (the CLI), so touching reads nothing
    # An op too large for row images, taken back by its own model function (an extract import's roll-back, which
    # keeps what it overwrote in the workspace); such a step cannot be redone.
    take_back: Callable[[sqlite_utils.Database, Actor], Changes] | None = None

    def touch(self, db: sqlite_utils.Database, table: str, ids: Iterable[str | None]) -> None:
        """Remember rows as they are before the op writes them; an id with no row yet is one the op creates."""
        if not self.live:
            return
        wanted = list(dict.fromkeys(i for i in ids if i and (table, i) not in self.before))
        found = _read_many(db, table, wanted)
        for row_id in wanted:
            self.before[(table, row_id)] = found.get(row_id)

    def created(self, table: str, ids: Iterable[str]) -> None:
        """Rows a nested op created before this step could touch them (their ids were not known ahead)."""
        if self.live:
            for row_id in ids:
                self.before.setdefault((table, row_id), None)

    def close(self, db: sqlite_utils.Database) -> None:
        """Read the after-images; rows the op left as they were are no part of the step."""
        now = _read_keys(db, list(self.before))
        for key, row in now.items():
            if row == self.before[key]:
                del self.before[key]
            else:
                self.after[key] = row

    def tables(self) -> Changes:
        return Changes.of(*{table for table, _ in self.before})


_UNRECORDED = Step("", live=False)


@dataclass(frozen=True)
class UndoStatus:
    """What the Edit menu names: the step Undo would take back and the one Redo would put back (None: nothing)."""

    undo: str | None
    redo: str | None


class UndoStack:
    """The steps of one open workspace, newest last, at most *cap*; a new step clears what could be redone."""

    def __init__(self, cap: int = CAP):
        self.cap = cap
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._open: Step | None = None

    @contextmanager
    def recording(self, db: sqlite_utils.Database, name: str = "") -> Iterator[Step]:
        """A transaction that becomes one step when it commits. An op called inside another one's recording
        joins that step (the outer op's name wins, if it gave one), so a form saved in several ops is one undo.

        Open it outside any plain `db.atomic()`: the step is kept when this block commits, and an outer
        transaction could still roll back what it describes (operations.update_patients shows the way)."""
        if self._open is not None:
            self._open.name = self._open.name or name
            with db.atomic():
                yield self._open
            return
        step = self._open = Step(name)
        try:
            with db.atomic():
                yield step
                step.close(db)
        finally:
            self._open = None
        if step.after:
            self._undo.append(step)
            del self._undo[: -self.cap]
            self._redo.clear()

    def push(self, name: str, take_back: Callable[[sqlite_utils.Database, Actor], Changes]) -> None:
        """Offer an op that undoes itself (Step.take_back) as the newest step."""
        self._undo.append(Step(name, take_back=take_back))
        del self._undo[: -self.cap]
        self._redo.clear()

    def undo_status(self) -> UndoStatus:
        return UndoStatus(self._undo[-1].name if self._undo else None, self._redo[-1].name if self._redo else None)

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def undo(self, db: sqlite_utils.Database, actor: Actor) -> tuple[str, Changes]:
        """Take back the newest step; returns its name and what changed. ValidationError when a row it changed
        was changed since (that step is dropped) or there is nothing to undo; either way nothing is written."""
        if not self._undo:
            raise ValidationError("There is nothing to undo.")
        step = self._undo.pop()
        if step.take_back is not None:
            with _kept_unless_refused(self._undo, step):
                return step.name, step.take_back(db, actor)
        with _kept_unless_refused(self._undo, step):
            left = _replay(db, actor, step.name, expect=step.after, target=step.before, verb="undo")
        self._redo.append(Step(step.name, before=left, after=step.after))
        return step.name, step.tables()

    def redo(self, db: sqlite_utils.Database, actor: Actor) -> tuple[str, Changes]:
        """Put back the step undone last; the same safety rule as undo."""
        if not self._redo:
            raise ValidationError("There is nothing to redo.")
        step = self._redo.pop()
        with _kept_unless_refused(self._redo, step):
            left = _replay(db, actor, step.name, expect=step.before, target=step.after, verb="redo")
        self._undo.append(Step(step.name, before=step.before, after=left))
        return step.name, step.tables()


@contextmanager
def _kept_unless_refused(steps: list[Step], step: Step) -> Iterator[None]:
    """A refused step is dropped for good; one that failed for another reason (the disk was busy, say) stays
    on offer, so the user can try again."""
    try:
        yield
    except ValidationError:
        raise
    except Exception:
        steps.append(step)
        raise


@contextmanager
def recording(undo: UndoStack | None, db: sqlite_utils.Database, name: str) -> Iterator[Step]:
    """`with db.atomic()` for an undoable op, recording a step named *name* on *undo*; with no stack (the CLI,
    scripts, the demo generator) only the transaction."""
    if undo is None:
        with db.atomic():
            yield _UNRECORDED
    else:
        with undo.recording(db, name) as step:
            yield step


def _replay(
    db: sqlite_utils.Database, actor: Actor, name: str, expect: dict[Key, Row], target: dict[Key, Row], verb: str
) -> dict[Key, Row]:
    """Check every row still equals *expect*, then write *target* (None: delete), in one transaction; return the
    rows as written. Undo goes newest-touched first and redo oldest first, so a parent row precedes its child."""
    keys = list(target) if verb == "redo" else list(reversed(target))
    try:
        return _checked_write(db, actor, name, expect, target, verb, keys)
    except sqlite3.IntegrityError:  # a record made since holds its place: the same reference, or a link to it gone
        raise ValidationError(
            f"A record added or changed since “{name}” now takes the place of one it would put "
            f"back (the same reference, say), so nothing was {verb}ne; that step is no longer "
            "offered."
        ) from None


def _checked_write(
    db: sqlite_utils.Database,
    actor: Actor,
    name: str,
    expect: dict[Key, Row],
    target: dict[Key, Row],
    verb: str,
    keys: list[Key],
) -> dict[Key, Row]:
    stamp = actor.stamp()
    with db.atomic():
        db.execute("PRAGMA defer_foreign_keys = ON")  # rows of one step may point at each other; checked at commit
        current = _read_keys(db, keys)
        for key in keys:
            if not _same(current[key], expect[key]):
                shown = current[key] or expect[key]
                raise ValidationError(
                    f"{_label(key[0], shown)} was changed since “{name}” (by another edit, a "
                    f"sync or an import), so nothing was {verb}ne; that step is no longer offered."
                )
        user = _used_by(db, [key for key in keys if target[key] is None and current[key] is not None], target)
        if user:
            raise ValidationError(
                f"{user[0]} is now used by {user[1]}, so nothing was {verb}ne; that step is no longer offered."
            )
        for key in keys:
            _write(db, key, current[key], target[key], stamp)
            audit.record(
                db,
                actor,
                verb,
                key[0],
                key[1],
                f"{verb.capitalize()}ne: {name}",
                _what_moved(current[key], target[key]),
            )
        return _read_keys(db, keys)


def _same(row: Row, other: Row) -> bool:
    """Equal in everything but the stamps: an undo restamps the rows it writes, and the step before it on the
    same row still holds the older stamp."""
    if row is None or other is None:
        return row is other
    return {k: v for k, v in row.items() if k not in STAMP} == {k: v for k, v in other.items() if k not in STAMP}


def _write(db: sqlite_utils.Database, key: Key, now: Row, target: Row, stamp: dict[str, str]) -> None:
    table, row_id = key
    if target is None:
        db.execute(f"DELETE FROM [{table}] WHERE id = ?", [row_id])
        return
    row = {**target, **{k: v for k, v in stamp.items() if k in target}}
    if now is None:
        columns = list(row)
        db.execute(
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' * len(columns))})",
            [row[c] for c in columns],
        )
    else:
        columns = [c for c in row if c != "id"]
        db.execute(
            f"UPDATE [{table}] SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE id = ?",
            [*(row[c] for c in columns), row_id],
        )


def _what_moved(now: Row, target: Row) -> dict[str, Any]:
    if target is None:
        return {"removed": True}
    if now is None:
        return {"restored": True}
    return {
        "changes": {k: {"before": now[k], "after": v} for k, v in target.items() if k not in STAMP and now.get(k) != v}
    }


def _used_by(db: sqlite_utils.Database, leaving: list[Key], target: dict[Key, Row]) -> tuple[str, str] | None:
    """A row about to be removed and a record that would still point at it once *target* is written, both named
    for the message: removing it would cascade into (or dangle under) someone's later work."""
    by_table: dict[str, list[str]] = {}
    for table, row_id in leaving:
        by_table.setdefault(table, []).append(row_id)
    if not by_table:
        return None
    for other in db.table_names():
        for fk in db[other].foreign_keys:
            for start in range(0, len(by_table.get(fk.other_table, [])), _CHUNK):
                chunk = by_table[fk.other_table][start : start + _CHUNK]
                for row in db.query(
                    f"SELECT * FROM [{other}] WHERE [{fk.column}] IN ({', '.join('?' * len(chunk))})", chunk
                ):
                    mine = (other, row.get("id"))
                    if mine not in target or (target[mine] or {}).get(fk.column) == row[fk.column]:
                        label = _label(other, row)
                        gone = (fk.other_table, row[fk.column])
                        return _label(gone[0], _read(db, *gone)), label[0].lower() + label[1:]
    return None


def _label(table: str, row: Row) -> str:
    """How a person would name the record in a sentence."""
    row = row or {}
    if table == "actions" and row.get("reference"):
        return f"Action {row['reference']}"
    if table == "patients" and row.get("family_name"):
        return f"The caseload record of {row['given_name']} {str(row['family_name']).upper()}"
    if table == "visits" and row.get("visited_on"):
        return f"The visit of {row['visited_on']}"
    if table == "visit_residents":
        return "A resident's outcome of that visit"
    if table == "meeting_items":
        return "An MDT agenda item"
    if table == "meetings" and row.get("held_on"):
        return f"The MDT meeting of {row['held_on']}"
    if table == "meeting_attendees":
        return "An attendee of that meeting"
    if table == "interventions" and row.get("type"):
        return f"The {row['type']} of {row.get('delivered_on')}"
    if table == "mdt_flags":
        return "A flag for MDT"
    if table == "caseload_history" and row.get("effective_on"):
        return f"The caseload status of {row['effective_on']}"
    return f"A record in {table.replace('_', ' ')}"


def _read(db: sqlite_utils.Database, table: str, row_id: str) -> Row:
    return next(iter(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id])), None)


def _read_keys(db: sqlite_utils.Database, keys: list[Key]) -> dict[Key, Row]:
    by_table: dict[str, list[str]] = {}
    for table, row_id in keys:
        by_table.setdefault(table, []).append(row_id)
    found = {table: _read_many(db, table, ids) for table, ids in by_table.items()}
    return {key: found[key[0]].get(key[1]) for key in keys}


def _read_many(db: sqlite_utils.Database, table: str, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(
            (r["id"], r)
            for r in db.query(f"SELECT * FROM [{table}] WHERE id IN ({', '.join('?' * len(chunk))})", chunk)
        )
    return found
