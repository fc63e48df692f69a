"""The MDT & actions screen: meetings, agendas, attendees, outcomes and the action log."""
