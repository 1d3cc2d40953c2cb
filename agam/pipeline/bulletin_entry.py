"""Checks on a BMD bulletin an officer enters in the dashboard, before it is saved for the
feed to pick up. Saving is not judging: a bulletin whose issue time is wrong would be saved
("the next BMD run will pick it up") and then refused by the feed run (ahead of the clock)
or stored and never used (older than the bulletin in force), and the officer would not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from agam.core.timeutil import ensure_utc
from agam.pipeline.forecasts import current_forecast
from hazard_feeds.checks import latest_issue_time
from store.db import Store

FEED = "bmd"


@dataclass(frozen=True)
class EntryProblem:
    key: str  # "ahead" or "older"
    issued_at: datetime  # as entered
    other_at: datetime  # now (ahead) or the issue time of the bulletin in force (older)


def entry_problem(store: Store, issued_at: datetime, now: datetime) -> EntryProblem | None:
    """Why an entered bulletin would not be used: issued more than the feed limits allow
    after now (the feed run would refuse it), or before the bulletin in force."""
    issued_at, now = ensure_utc(issued_at), ensure_utc(now)
    if issued_at > latest_issue_time(now):
        return EntryProblem("ahead", issued_at, now)
    with store.read() as session:
        in_force = current_forecast(session, FEED, now)
        in_force_at = ensure_utc(in_force.issued_at) if in_force is not None else None
    if in_force_at is not None and in_force_at > issued_at:
        return EntryProblem("older", issued_at, in_force_at)
    return None
