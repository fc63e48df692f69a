"""The audit log and “Who is using Locality Desk?” at work, for tools.screenshots.shoot: the question as a
returning user sees it (pre-filled), then the log filtered to the returns' sign-offs with one entry's detail,
then one user's entries over a month."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QWidget

from desktop.models import audit
from desktop.views.shell import who_dialog


def audit_at_work(window, shot: Callable[[QWidget, str], None], settle: Callable[[float], None]) -> None:
    session, settings = window.session, window.settings
    who_dialog.remember(settings, session.path, "Dr Priya Shah", "community matron")
    window.set_user_name()
    settle(0.2)
    shot(window.who, "who-is-using")
    window.who.accept()

    window.show_screen("audit")
    page = window.current_page()
    bar = page.filters
    bar.choose(bar.action, "sign-off")
    page.table.selectRow(0)
    settle(0.3)
    shot(window, "audit-log-sign-offs")

    bar.clear()
    people = [u for u in audit.users(session.db) if u != "demo generator"]
    latest = audit.search(session.db, user=people[0], limit=1) if people else []
    if latest:
        bar.choose(bar.user, people[0])
        day = QDate.fromString(latest[0]["at"][:10], "yyyy-MM-dd")
        bar.set_dates(day.addDays(-30), day)
        page.table.selectRow(0)
        settle(0.3)
        shot(window, "audit-log-one-user")
    bar.clear()
