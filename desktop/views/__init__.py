"""Qt widgets, Qt item models and dialogs over desktop.models: no SQL and no business rules here."""
