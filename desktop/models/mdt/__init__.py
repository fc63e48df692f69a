"""MDT meetings, their agendas and outcomes, and the action log."""
