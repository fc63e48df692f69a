"""The Returns screen: a quarter's KPI return, its checklist, sign-off and revisions."""
