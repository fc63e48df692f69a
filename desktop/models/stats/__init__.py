"""Statistics for charts and reports: SPC, confidence intervals, funnel limits, small-number suppression.

Pure Python over numpy, with special functions of its own (special.py), no Qt; each module cites the section of
REFERENCE.md its formulas come from.
"""
