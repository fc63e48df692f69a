"""The Cohort screen: the risk-stratified cohort, its import, filters, worklists and the patient panel."""
