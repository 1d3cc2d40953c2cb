"""Alert lifecycle per rule set and district, as a table-driven, pure state machine.

none -> readiness -> action; observational only where action never fired; an open alert
stands down when its stand-down time (the newest qualifying forecast's window end plus the
rule set's hours) has passed with nothing met, or a person closes it with a reason. An
"unknown" evaluation (stale, partial or missing data) never lowers or closes an alert, unless
the rule set says so for the time after its hazard has passed (cyclones past landfall).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from agam.core.errors import InvalidTransition
from agam.core.transitions import ALERT_TRANSITIONS, AlertChange

Status = Literal["open", "stood_down", "closed"]
Change = AlertChange

# The table lives in agam.core.transitions, beside the list one (the store reads both).
TRANSITIONS: dict[tuple[str | None, str], Change] = ALERT_TRANSITIONS


@dataclass(frozen=True)
class AlertState:
    stage: str | None
    status: Status | None  # None: no alert yet
    window_end: datetime | None = None  # when the alert stands down if nothing is met


@dataclass(frozen=True)
class Decision:
    change: Change
    stage: str | None
    status: Status | None


def transition(current: AlertState, new_stage: str) -> Decision:
    """Apply a met stage to an alert; refuses moves the table does not list."""
    if current.status in ("stood_down", "closed"):
        current = AlertState(stage=None, status=None)
    key = (current.stage, new_stage)
    if key not in TRANSITIONS:
        raise InvalidTransition(f"alert cannot go from {current.stage or 'none'} to {new_stage}")
    change = TRANSITIONS[key]
    if change == "unchanged":
        return Decision("unchanged", current.stage, current.status)
    return Decision(change, new_stage, "open")


def reconcile(
    current: AlertState,
    met_stage: str | None,
    any_unknown: bool,
    as_of: datetime,
    stand_down_when_unknown: bool = False,
) -> Decision:
    """What one evaluation does to an alert: raise, escalate, stand down or nothing."""
    if met_stage is not None:
        return transition(current, met_stage)
    if current.status != "open" or (any_unknown and not stand_down_when_unknown):
        return Decision("unchanged", current.stage, current.status)
    if current.window_end is not None and as_of > current.window_end:
        return Decision("stood_down", current.stage, "stood_down")
    return Decision("unchanged", current.stage, current.status)


def close(current: AlertState, reason: str) -> Decision:
    """A person closes an open alert; the reason is required."""
    if current.status != "open":
        raise InvalidTransition(f"only an open alert can be closed (it is {current.status})")
    if not reason.strip():
        raise InvalidTransition("closing an alert needs a reason")
    return Decision("closed", current.stage, "closed")
