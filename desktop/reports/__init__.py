"""PDF reports (reportlab): pure builders over desktop.models query results (DESIGN §11)."""
