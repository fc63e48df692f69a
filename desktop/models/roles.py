"""The roles Locality Desk knows, and who may do what with them (DESIGN §14): a quarterly return is signed off,
and reopened, by the federation manager or the locality lead. The models enforce it, so a screen that forgot to
hide a button, a script or a future command cannot sign a return off in a GP's name.

A role is the one the user gave at start-up (File → Who is using this…), held on the Actor; it is compared
without case, and with hyphens, underscores and runs of spaces read as one space ("Federation-Manager").
"""

from __future__ import annotations

from .clock import Actor
from .errors import ValidationError

FEDERATION_MANAGER = "federation manager"
LOCALITY_LEAD = "locality lead"
SIGN_OFF = (FEDERATION_MANAGER, LOCALITY_LEAD)
WHO_SIGNS_OFF = "a federation manager or a locality lead"


def normal(role: str | None) -> str:
    """*role* as compared: lower case, "-" and "_" as spaces, single spaces."""
    return " ".join((role or "").replace("-", " ").replace("_", " ").split()).casefold()


def may_sign_off(role: str | None) -> bool:
    return normal(role) in SIGN_OFF


def require_sign_off(actor: Actor, doing: str = "sign off", what: str = "a return") -> None:
    """ValidationError (field "role") unless *actor* may sign off and reopen returns, and judge the figures as
    they do (a step change on a KPI); *doing* is what was asked ("sign off", "reopen", "record") and *what* it
    was asked of, for the message."""
    if may_sign_off(actor.role):
        return
    held = f"as {actor.role.strip()}" if actor.role and actor.role.strip() else "with no role"
    raise ValidationError(
        f"Only {WHO_SIGNS_OFF} may {doing} {what}, and {actor.user} is recorded {held}. Ask one of them to "
        f"{doing} it, or, if that is your role, choose it in File → Who is using this… and try again.",
        "role",
    )
