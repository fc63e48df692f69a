"""The Making Data Count look shared by the PDF charts (spc_chart, mdc_icons) and the app's SPC view, so screen
and paper never disagree: colours as hex strings, each point type's marker shape, and the icon wording.
No reportlab and no Qt here: each side turns these into its own colours and shapes."""

from __future__ import annotations

IMPROVEMENT = "#41B6E6"  # NHS light blue, MDC's improvement blue (chart points)
IMPROVEMENT_ICON = "#005EB8"  # NHS blue: the improvement and pass icons
CONCERN = "#ED8B00"  # NHS orange, MDC's concern
NEUTRAL = "#330072"  # NHS purple, MDC's "neither"
COMMON = "#768692"  # NHS mid grey
INK = "#231F20"  # NHS black: the mean and axis text
TARGET = "#DA291C"  # NHS red, as MDC draws the target
OUTLINE = "#003087"  # dark rim so a light-blue marker still shows when printed in grey

# Point type → (shape, fill); the shape carries the meaning in greyscale.
MARKERS = {
    "common_cause": ("circle", COMMON),
    "special_cause_improvement": ("square", IMPROVEMENT),
    "special_cause_concern": ("triangle", CONCERN),
    "special_cause_neutral_high": ("diamond", NEUTRAL),
    "special_cause_neutral_low": ("diamond", NEUTRAL),
}
# The words of the chart legend, per shape.
SHAPE_WORDS = {
    "circle": "common cause",
    "square": "improvement",
    "triangle": "concern",
    "diamond": "neither (no better/worse)",
}

LABELS = {
    "common_cause": "Common cause: no significant change",
    "improvement_high": "Special cause: improvement, higher values",
    "improvement_low": "Special cause: improvement, lower values",
    "concern_high": "Special cause: concern, higher values",
    "concern_low": "Special cause: concern, lower values",
    "neutral_high": "Special cause: higher, neither better nor worse",
    "neutral_low": "Special cause: lower, neither better nor worse",
    "consistent_pass": "Will consistently meet the target",
    "consistent_fail": "Will consistently fail the target",
    "inconsistent": "Will hit and miss the target at random",
}
# The same icons in a few words, for a table column.
SHORT = {
    "common_cause": "Common cause",
    "improvement_high": "Improvement (H)",
    "improvement_low": "Improvement (L)",
    "concern_high": "Concern (H)",
    "concern_low": "Concern (L)",
    "neutral_high": "Neither (H)",
    "neutral_low": "Neither (L)",
    "consistent_pass": "Pass (P)",
    "consistent_fail": "Fail (F)",
    "inconsistent": "Hit and miss (?)",
}
# Icon → (colour, letter, filled): concern and fail are filled discs with a white letter, the rest rings, so the
# two read apart without colour.
ICONS = {
    "common_cause": (COMMON, "", False),
    "improvement_high": (IMPROVEMENT_ICON, "H", False),
    "improvement_low": (IMPROVEMENT_ICON, "L", False),
    "concern_high": (CONCERN, "H", True),
    "concern_low": (CONCERN, "L", True),
    "neutral_high": (NEUTRAL, "H", False),
    "neutral_low": (NEUTRAL, "L", False),
    "consistent_pass": (IMPROVEMENT_ICON, "P", False),
    "consistent_fail": (CONCERN, "F", True),
    "inconsistent": (COMMON, "?", False),
}


def brief(note: str) -> str:
    """An assurance_note (why a KPI has no assurance icon) cut to its first clause, for a line under a chart or
    a tooltip: "the quarter's figure lies beyond the process limits"."""
    text = note.strip()
    cut = min((i for i in (text.find(": "), text.find("; "), text.find(" (")) if i > 0), default=len(text))
    return text[:cut].rstrip(" .,")


def step_label(label: str, monthly: bool) -> str:
    """The period a step change starts, as a sentence names it: 'Jun 2025' for 'June 2025', a quarter as held."""
    if monthly and len(label) >= 8 and label[-4:].isdigit():
        return f"{label[:3]} {label[-4:]}"
    return label
