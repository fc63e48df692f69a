"""KPIs: the catalogue, their computation and monthly series, the quarterly returns, the commissioner's import and
consolidation, and the locality figures reports share."""
