"""What the Meetings tab's buttons do: ask what is needed (a form, a confirmation, a file name), then call one
operation from desktop.views.mdt.operations. Kept apart from the tab so the tab holds only its widgets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ...models.cohort import caseload
from ...models.cohort import frame as cohort
from ...models.mdt import actions, meetings
from ..kit import formats, messages, pdf_export
from . import operations as mdt_operations
from .action_dialog import ActionDialog
from .agenda_picker import AgendaPicker
from .meeting_dialogs import PlanMeetingDialog

if TYPE_CHECKING:
    from .meetings_tab import MeetingsTab

OPEN_PACK, CLOSE = "Open the pack", pdf_export.CLOSE


def connect(tab: MeetingsTab) -> None:
    detail = tab.detail
    detail.add_patients_button.clicked.connect(lambda: add_patients(tab))
    detail.new_action_button.clicked.connect(lambda: new_action(tab, _chosen_patient(tab)))
    detail.edit_button.clicked.connect(lambda: edit_meeting(tab))
    detail.held_button.clicked.connect(lambda: mark_held(tab))
    detail.export_button.clicked.connect(lambda: export_pack(tab))
    detail.attendees_saved.connect(lambda people: save_attendees(tab, people))
    detail.patients.outcome_saved.connect(lambda item_id, text: record_outcome(tab, item_id, text))
    detail.patients.action_requested.connect(lambda patient_id: new_action(tab, patient_id))
    detail.open_action_requested.connect(lambda action_id: edit_action(tab, action_id))
    detail.remove_requested.connect(lambda item_id: remove_item(tab, item_id))


def _chosen_patient(tab: MeetingsTab) -> str | None:
    detail = tab.detail
    item = detail.patients.current_item() if detail.tabs.currentWidget() is detail.patients else None
    return item["patient_id"] if item else None


def _attempt(tab: MeetingsTab, title: str, fn, *args) -> bool:
    with messages.reported(tab, title) as failed:
        fn(*args)
    return not failed


def plan_meeting(tab: MeetingsTab) -> None:
    if tab.locality is None:
        return
    db, loc = tab.session.db, tab.locality["id"]
    latest = meetings.latest(db, loc)
    last_people = meetings.attendees(db, latest["id"]) if latest else []
    open_now = len(actions.listing(db, loc, actions.ActionFilter(status="open or in progress"), tab.today()))
    planned: dict[str, Any] = {}

    def save(values: dict[str, Any]) -> None:
        planned["id"], planned["carried"] = mdt_operations.plan_meeting(tab.session, loc, values)
        planned["date"] = values["held_on"]

    def done() -> None:
        tab.reload()
        tab.select(planned["id"])
        tab.status_message(
            f"Meeting planned for {formats.date(planned['date'])}: "
            f"{formats.count(planned['carried'], 'open action')} carried onto its agenda."
        )

    tab.dialog = PlanMeetingDialog(tab.locality["name"], tab.staff, open_now, last_people, save, tab)
    tab.dialog.accepted.connect(done)
    tab.dialog.open()


def edit_meeting(tab: MeetingsTab) -> None:
    """The planning form filled in with the chosen meeting; saving changes it as one undo step."""
    meeting = tab.current_meeting()
    if meeting is None or tab.locality is None:
        return
    meeting_id, day = meeting["id"], meeting["held_on"]

    def save(values: dict[str, Any]) -> None:
        mdt_operations.update_meeting(tab.session, meeting_id, values)

    people = meetings.attendees(tab.session.db, meeting_id)
    tab.dialog = PlanMeetingDialog(tab.locality["name"], tab.staff, 0, people, save, tab, meeting=meeting)
    tab.dialog.accepted.connect(
        lambda: tab.status_message(f"The meeting of {formats.date(day)} is saved. Edit → Undo puts it back.")
    )
    tab.dialog.open()


def add_patients(tab: MeetingsTab) -> None:
    meeting = tab.current_meeting()
    if meeting is None:
        return
    db = tab.session.db
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        frame = cohort.load(db, meeting["locality_id"])
        suggestions = meetings.suggest_agenda(db, meeting["locality_id"], tab.today(), frame)
        on_agenda = {i["patient_id"] for i in meetings.agenda(db, meeting["id"]) if i["kind"] == "patient"}
    finally:
        QApplication.restoreOverrideCursor()
    heading = f"Patients for the {meeting['type']} of {formats.date(meeting['held_on'])}"

    def save(picks: dict[str, list[str]]) -> int:
        return mdt_operations.add_to_agenda(tab.session, meeting["id"], picks)

    tab.dialog = AgendaPicker(heading, suggestions, frame, on_agenda, save, tab)
    tab.dialog.accepted.connect(
        lambda: tab.status_message(f"Added {formats.count(tab.dialog.added, 'patient')} to the agenda.")
    )
    tab.dialog.open()


def _patient_choices(tab: MeetingsTab, meeting_id: str) -> list[tuple[str, str]]:
    items = meetings.agenda(tab.session.db, meeting_id)
    return [
        (i["patient_id"], f"{str(i['family_name']).upper()}, {i['given_name']} · {formats.nhs_number(i['nhs_number'])}")
        for i in items
        if i["kind"] == "patient"
    ]


def new_action(tab: MeetingsTab, patient_id: str | None = None) -> None:
    meeting = tab.current_meeting()
    if meeting is None:
        return
    made: list[str] = []

    def save(values: dict[str, Any]) -> None:
        made.append(mdt_operations.create_action(tab.session, meeting["locality_id"], values, meeting["id"]))

    heading = f"New action from the {meeting['type']} of {formats.date(meeting['held_on'])}"
    tab.dialog = ActionDialog(None, tab.staff, _patient_choices(tab, meeting["id"]), save, heading, tab)
    if patient_id:
        tab.dialog.patient.setCurrentIndex(max(tab.dialog.patient.findData(patient_id), 0))
    tab.dialog.accepted.connect(
        lambda: tab.status_message(
            f"Action {actions.get(tab.session.db, made[-1])['reference']} added; it is in the action log."
        )
    )
    tab.dialog.open()


def edit_action(tab: MeetingsTab, action_id: str) -> None:
    meeting = tab.current_meeting()
    with messages.reported(tab, "Cannot open the action") as failed:
        row = dict(actions.get(tab.session.db, action_id))
        if row["patient_id"]:
            p = caseload.get_patient(tab.session.db, row["patient_id"])
            row["patient_label"] = f"{str(p['family_name']).upper()}, {p['given_name']}"
    if failed:
        # Most often deleted in another window since the list was drawn: show the list as it is now.
        tab.reload()
        tab.status_message("The list has been refreshed.")
        return

    def save(v: dict[str, Any]) -> None:
        mdt_operations.save_action(
            tab.session,
            action_id,
            v["details"],
            v["status"],
            v["completed_on"],
            v["outcome_note"],
            v["escalated_to"],
            v["escalation_reason"],
        )

    choices = _patient_choices(tab, meeting["id"]) if meeting else []
    tab.dialog = ActionDialog(row, tab.staff, choices, save, parent=tab)
    tab.dialog.accepted.connect(lambda: tab.status_message(f"{row['reference']} saved."))
    tab.dialog.open()


def mark_held(tab: MeetingsTab) -> None:
    meeting = tab.current_meeting()
    if meeting and _attempt(
        tab,
        "Cannot mark the meeting as held",
        mdt_operations.update_meeting,
        tab.session,
        meeting["id"],
        {"status": "held"},
    ):
        tab.status_message(f"The meeting of {formats.date(meeting['held_on'])} is marked as held.")


def save_attendees(tab: MeetingsTab, people: list[dict[str, Any]]) -> None:
    meeting = tab.current_meeting()
    if meeting and _attempt(
        tab,
        "Cannot save the attendees",
        mdt_operations.update_meeting,
        tab.session,
        meeting["id"],
        {"attendees": people},
    ):
        tab.status_message(f"Attendees saved: {sum(1 for p in people if p['present'])} present.")


def record_outcome(tab: MeetingsTab, item_id: str, outcome: str) -> None:
    if _attempt(tab, "Cannot save the outcome", mdt_operations.record_outcome, tab.session, item_id, outcome):
        tab.status_message("Outcome saved.")


def remove_item(tab: MeetingsTab, item_id: str) -> None:
    item = tab.detail.patients.items.get(item_id) or tab.detail.carried.items.get(item_id)
    if item is None:
        return
    what = (
        f"{str(item['family_name']).upper()}, {item['given_name']}"
        if item["kind"] == "patient"
        else f"action {item['reference']}"
    )
    note = (
        " Their outcome is removed with them."
        if item["kind"] == "patient" and item["outcome"]
        else " The action itself stays in the log."
        if item["kind"] == "action"
        else ""
    )
    if messages.confirm(
        tab, "Remove from the agenda?", f"Take {what} off this meeting's agenda?{note}", "Remove from the agenda"
    ) and _attempt(tab, "Cannot remove the item", mdt_operations.remove_agenda_item, tab.session, item_id):
        tab.status_message(f"Removed {what} from the agenda.")


def export_pack(tab: MeetingsTab) -> None:
    """Warn that the pack is patient data, ask where, write it off the GUI thread, offer to open it."""
    meeting = tab.current_meeting()
    if meeting is None or tab.locality is None:
        return
    if not messages.confirm(
        tab,
        "Export patient-identifiable data?",
        f"The MDT pack for {formats.date(meeting['held_on'])} holds the names, NHS numbers and dates of birth "
        f"of the {formats.count(meeting['patients'], 'patient')} on the agenda and of those named by open "
        "actions, and is marked OFFICIAL-SENSITIVE. Keep it on an NHS-approved, encrypted device, share it "
        "only by secure e-mail, and delete it after the meeting. The export is recorded in the audit trail.",
        "Export the pack",
    ):
        return
    pdf_export.export_pdf(
        tab,
        tab.settings,
        "MDT pack",
        f"mdt-pack-{tab.locality['code'].lower()}-{meeting['held_on']}.pdf",
        f"Writing the MDT pack for {formats.date(meeting['held_on'])}…",
        tab.session.path,
        mdt_operations.pack_job(tab.session, meeting["id"], tab.today()),
        OPEN_PACK,
    )
