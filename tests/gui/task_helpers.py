"""Waiting for background tasks (desktop.views.kit.tasks), which report by callback once the event loop runs."""

from __future__ import annotations

from desktop.views.kit import tasks


def finish_tasks(qtbot, timeout: int = 120_000) -> None:
    """Let every running task finish and call back (its done, failed or cancelled) before the test looks."""
    qtbot.waitUntil(lambda: not tasks.running(), timeout=timeout)
