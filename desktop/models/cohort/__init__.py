"""The risk-stratified cohort: reading and checking extracts, importing runs, the stored runs, the cohort frame,
caseload work and worklists."""
