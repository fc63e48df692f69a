"""My work as a community matron sees it, for tools.screenshots.shoot: the pictures are taken as the locality's
matron with the most reviews due (so the screen the window opens on is full), with one patient a colleague flagged
for the MDT."""

from __future__ import annotations

from pathlib import Path

from desktop.models import clock
from desktop.models.db import open_workspace
from desktop.settings import Settings
from desktop.views.shell import who_dialog

FLAG_REASON = "Daughter worried about night-time confusion; two falls since the last review"


def as_a_matron(settings: Settings, db_path: Path, locality_code: str) -> None:
    """Remember the matron as the workspace's user (as the start-up question would), and flag one of her patients
    for the MDT in a colleague's name."""
    from desktop.models.clock import Actor
    from desktop.models.mdt import meetings

    db = open_workspace(db_path)
    try:
        today = clock.today().isoformat()
        row = db.execute(
            "SELECT s.id, s.name FROM staff s JOIN localities l ON l.id = s.locality_id WHERE l.code = ? "
            "AND s.role = 'community matron' ORDER BY (SELECT COUNT(*) FROM patients p WHERE p.case_manager_id = s.id "
            "AND p.status = 'on caseload' AND p.next_review_due IS NOT NULL) DESC LIMIT 1",
            [locality_code],
        ).fetchone()
        if row is None:
            return
        patient = db.execute(
            "SELECT id FROM patients WHERE case_manager_id = ? AND status = 'on caseload' AND next_review_due > ? "
            "ORDER BY next_review_due DESC LIMIT 1",
            [row[0], today],
        ).fetchone()
        if patient is not None:
            colleague = Actor("Dr Priya Shah", "screenshots", role="GP")
            meetings.flag_for_mdt(db, colleague, patient[0], FLAG_REASON)
    finally:
        db.close()
    who_dialog.remember(settings, db_path, row[1], "community matron")
