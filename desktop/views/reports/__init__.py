"""The Reports screen: a locality's KPIs with their SPC charts, and the PDF reports."""
