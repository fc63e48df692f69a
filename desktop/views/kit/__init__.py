"""What every screen builds with: the session, page base, table models, widgets, formats, messages and tasks."""
