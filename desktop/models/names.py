"""A patient's name as NHS lists print it: "SURNAME, Given"."""

from __future__ import annotations


def patient_name(family: object, given: object) -> str:
    """ "SURNAME, Given"; the one part there is when the other is missing; empty when neither is."""
    family, given = str(family or "").strip(), str(given or "").strip()
    if family and given:
        return f"{family.upper()}, {given}"
    return family.upper() or given
