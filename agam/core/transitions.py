"""The two state machines as pure tables: alerts (triggers) and allowance lists (store).

They live here, below every other layer, so the trigger engine, the store and the database
guards generated from them (store/list_guards.py) read one table and cannot drift apart.
Changing LIST_TRANSITIONS or LIST_ACTION_ROLES needs a migration that re-creates the guards.
"""

from __future__ import annotations

from typing import Literal

AlertChange = Literal["raised", "escalated", "stood_down", "closed", "unchanged"]

# (current stage or None, new stage) -> change. Missing pairs are illegal.
ALERT_TRANSITIONS: dict[tuple[str | None, str], AlertChange] = {
    (None, "readiness"): "raised",
    (None, "action"): "raised",
    (None, "observational"): "raised",
    ("readiness", "readiness"): "unchanged",
    ("readiness", "action"): "escalated",
    ("readiness", "observational"): "escalated",
    ("action", "readiness"): "unchanged",
    ("action", "action"): "unchanged",
    # Observational applies only where action never fired: it never follows or replaces action.
    ("action", "observational"): "unchanged",
    ("observational", "action"): "unchanged",
    ("observational", "readiness"): "unchanged",
    ("observational", "observational"): "unchanged",
}

LIST_STATUSES = ("draft", "submitted", "approved", "rejected", "superseded", "exported")

# (status, action) -> new status. Anything else is refused, by the store and the database.
LIST_TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "submit"): "submitted",
    ("submitted", "approve"): "approved",
    # With a second approver: the first approval is recorded, the list stays submitted.
    ("submitted", "approve_first"): "submitted",
    ("submitted", "reject"): "rejected",
    ("approved", "export"): "exported",
    ("exported", "export"): "exported",
    # An edit makes a new revision; the old one is kept, marked superseded. Never after approval.
    ("draft", "edit"): "superseded",
    ("submitted", "edit"): "superseded",
    ("rejected", "edit"): "superseded",
    # The system withdraws its own draft, untouched by anyone, when the alert it was proposed
    # for moved to a newer evaluation (its unions changed); a fresh draft replaces it.
    ("draft", "withdraw"): "superseded",
}

# Which roles may take each action; every role but admin also needs the list's district.
LIST_ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "submit": ("officer", "admin"),
    "approve": ("district_admin",),
    "approve_first": ("district_admin",),
    "reject": ("district_admin",),
    "export": ("district_admin",),
    "edit": ("officer", "admin"),
}

# Decisions the list's preparer and submitter may not take (four eyes).
FOUR_EYES_ACTIONS = ("approve", "approve_first", "reject")
# Steps the system itself takes (as SYSTEM_ACTOR), only on a list it prepared and nobody
# has decided on yet; the database checks both.
SYSTEM_ACTIONS = ("withdraw",)
SYSTEM_ACTOR = "system"
# Roles not bound to a district.
NATIONAL_ROLES = ("admin",)


def next_list_status(status: str, action: str) -> str | None:
    """The status `action` leads to from `status`, or None when the table does not allow it."""
    return LIST_TRANSITIONS.get((status, action))
