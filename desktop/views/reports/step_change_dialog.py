"""Record a step change on a KPI (issue 24, point 3), from the Reports screen's SPC panel: the KPI (the one shown,
preselected), the date the process changed (the first of the month by default) and the reason, printed under the
chart in the locality report. The dialog never decides what is valid: models/kpi/rebases.record does, and its
ValidationError is shown beside the field it names (a role that may not record one, above the form).

Also the two ops of the panel (STYLE practice 2): recording one, and removing one, which Edit → Undo puts back
by recording it again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import QLineEdit, QWidget

from ...models import dates, roles
from ...models.changes import Changes
from ...models.clock import Actor
from ...models.kpi import rebases
from ..kit.date_field import DateField
from ..kit.form_dialog import FormDialog, Save, combo
from ..kit.session import Session

WHY_NOT = (
    f"Only {roles.WHO_SIGNS_OFF} may record or remove a step change: it changes the limits the board reads. "
    "Choose your role in File → Who is using this… if that is what you do."
)
CHANGES = Changes.of("kpi_rebases")


def permission(actor: Actor) -> tuple[bool, str]:
    """Whether *actor* may record and remove step changes, and why not."""
    allowed = roles.may_sign_off(actor.role)
    return allowed, "" if allowed else WHY_NOT


def record(session: Session, locality_id: str, kpi_code: str, on: Any, reason: str) -> dict[str, Any]:
    """Record a step change from *on* (a date, ISO or dd/mm/yyyy text); Edit → Undo takes it away again.
    ValidationError names the field at fault."""
    day = dates.parse_date(on, "The date of the change", "effective_on", required=True)
    row = rebases.record(session.db, session.actor, locality_id, kpi_code, dt.date.fromisoformat(day), reason)
    session.undo.push(
        f"Step change on {kpi_code} from {dt.date.fromisoformat(day):%d/%m/%Y}",
        lambda db, actor: rebases.remove(db, actor, row["id"]),
    )
    session.publish(CHANGES)
    return row


def remove(session: Session, step: Mapping[str, Any]) -> Changes:
    """Take a recorded step change away; Edit → Undo records it again (same KPI, date and reason)."""
    changes = rebases.remove(session.db, session.actor, step["id"])
    kept = dict(step)
    on = dt.date.fromisoformat(kept["effective_on"])

    def put_back(db, actor: Actor) -> Changes:
        rebases.record(db, actor, kept["locality_id"], kept["kpi"], on, kept["reason"])
        return CHANGES

    session.undo.push(f"Remove the step change on {kept['kpi']} from {on:%d/%m/%Y}", put_back)
    session.publish(changes)
    return changes


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


class StepChangeDialog(FormDialog):
    """The KPI, the date and the reason; Save hands them to *save* (record above, with the locality bound)."""

    def __init__(
        self,
        kpis: Sequence[tuple[str, str]],
        kpi_code: str | None,
        on: dt.date,
        save: Save,
        parent: QWidget | None = None,
    ):
        super().__init__(
            "Record a step change",
            "Record a step change",
            "From the date the process changed (a new rota, a new matron, the team's start-up), the SPC limits are "
            "recalculated from the later points only, so the icons describe the process as it is now. The reason "
            "is printed under the chart in the locality report: describe the change to the service, not a patient.",
            "Record step change",
            save,
            parent,
            560,
        )
        self.kpi = combo("kpi", [(f"{code} {name}", code) for code, name in kpis])
        self.kpi.setAccessibleName("KPI")
        at = self.kpi.findData(kpi_code) if kpi_code else -1
        self.kpi.setCurrentIndex(max(at, 0))
        self.add_field("kpi", "KPI", self.kpi)
        self.on = DateField("effective_on", on)
        self.on.line.setAccessibleName("Date the process changed")
        self.add_field(
            "effective_on",
            "From",
            self.on,
            "The new limits start at the first period that begins on or after this date: a change in mid-month "
            "leaves that month in neither, so the first of a month is usual.",
        )
        self.reason = QLineEdit()
        self.reason.setObjectName("field_reason")
        self.reason.setAccessibleName("Reason for the step change")
        self.reason.setMaxLength(rebases.REASON_MAX)
        self.reason.setPlaceholderText("e.g. New home-round rota from 1 June")
        self.add_field("reason", "Reason", self.reason, f"Up to {rebases.REASON_MAX} characters.")
        self.reason.setFocus()

    def values(self) -> dict[str, Any]:
        return {"kpi": self.kpi.currentData(), "effective_on": self.on.value(), "reason": self.reason.text().strip()}


def ask(
    parent: QWidget,
    session: Session,
    locality_id: str,
    kpis: Sequence[tuple[str, str]],
    kpi_code: str | None,
    today: dt.date,
) -> StepChangeDialog:
    """Open the dialog (window-modal, not blocking) with *kpi_code* chosen; Save records the step change."""

    def save(values: dict[str, Any]) -> None:
        record(session, locality_id, values["kpi"], values["effective_on"], values["reason"])

    dialog = StepChangeDialog(kpis, kpi_code, first_of_month(today), save, parent)
    dialog.open()
    return dialog
