"""The scheduler's heartbeat row: written by the active scheduler, read by monitoring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store.models import SchedulerHeartbeat

SCHEDULER = "scheduler"


def get(session: Session, name: str = SCHEDULER) -> SchedulerHeartbeat | None:
    return session.get(SchedulerHeartbeat, name)


def beat(
    session: Session,
    *,
    holder: str,
    started_at: datetime,
    at: datetime,
    jobs: list[Any],
    state: str = "running",
    name: str = SCHEDULER,
) -> SchedulerHeartbeat:
    row = session.get(SchedulerHeartbeat, name, with_for_update=True)
    if row is None:
        row = SchedulerHeartbeat(name=name)
        session.add(row)
    row.holder = holder
    row.started_at = started_at
    row.beat_at = at
    row.state = state
    row.jobs = jobs
    session.flush()
    return row
