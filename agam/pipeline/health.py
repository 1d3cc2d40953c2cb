"""Feed freshness and scheduler liveness: what `agam feeds status` and the dashboard show.

A stale, failed or missing forecast means "unknown" downstream. A scheduler whose
heartbeat is older than [scheduler] stale_after_s is "not running since ..." - and
`check_scheduler` tells the administrators through the outbox, once per outage.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from agam.core.errors import StoreError
from agam.core.timeutil import format_dhaka, iso_utc
from agam.pipeline.context import AppContext
from agam.pipeline.delivery import deliver_due
from agam.pipeline.notify import admins, enqueue_to
from agam.pipeline.writer import locked_store
from hazard_feeds.catalog import SNAPSHOT_FEEDS
from store import feed_repo, heartbeat_repo, outbox_repo

log = logging.getLogger(__name__)

DEFAULT_MAX_AGE_HOURS = 36.0


@dataclass(frozen=True)
class FeedHealth:
    feed_id: str
    enabled: bool
    state: Literal["fresh", "stale", "never"]
    failing: bool  # the most recent attempt failed
    max_age_hours: float
    age_hours: float | None
    latest_issued_at: datetime | None
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    # The latest forecast lacks a station, member or timestep (those parts are "unknown").
    partial: bool = False
    quality: tuple[dict[str, Any], ...] = ()
    # No evaluation has judged the latest forecast yet (the scheduler's catch-up job will).
    unjudged: bool = False

    def missing_subjects(self) -> list[str]:
        """What the latest forecast lacks, e.g. ["SW93.5L", "observed"] (codes if no subject)."""
        return list(dict.fromkeys(str(q.get("subject") or q.get("code")) for q in self.quality))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso_utc(value)
        return data


def feed_health(ctx: AppContext, as_of: datetime | None = None) -> list[FeedHealth]:
    """One row per configured feed (and any feed with history), judged at `as_of`."""
    now = as_of or ctx.now()
    configured = ctx.settings.feeds
    with ctx.store.read() as session:
        rows = {row.feed_id: row for row in feed_repo.all_status(session)}
        latest = {
            feed_id: feed_repo.get_forecast(session, row.latest_forecast_run_id)
            for feed_id, row in rows.items()
            if row.latest_forecast_run_id is not None
        }
        quality = {
            feed_id: (not run.complete, tuple(run.quality or ()))
            for feed_id, run in latest.items()
            if run is not None
        }
        waiting = {run.feed_id for run in feed_repo.unjudged_latest(session, now, SNAPSHOT_FEEDS)}
    out = []
    for feed_id in sorted(set(configured) | set(rows)):
        table = configured.get(feed_id)
        max_age = table.max_age_hours if table is not None else DEFAULT_MAX_AGE_HOURS
        row = rows.get(feed_id)
        issued = row.latest_issued_at if row else None
        age = (now - issued).total_seconds() / 3600 if issued else None
        state: Literal["fresh", "stale", "never"]
        state = "never" if age is None else ("fresh" if age <= max_age else "stale")
        failing = bool(
            row
            and row.last_failure_at
            and (row.last_success_at is None or row.last_failure_at > row.last_success_at)
        )
        out.append(
            FeedHealth(
                feed_id=feed_id,
                enabled=table is not None and table.enabled,
                state=state,
                failing=failing,
                max_age_hours=max_age,
                age_hours=round(age, 2) if age is not None else None,
                latest_issued_at=issued,
                last_attempt_at=row.last_attempt_at if row else None,
                last_success_at=row.last_success_at if row else None,
                last_failure_at=row.last_failure_at if row else None,
                last_error=row.last_error if row else None,
                partial=quality.get(feed_id, (False, ()))[0],
                quality=quality.get(feed_id, (False, ()))[1],
                unjudged=feed_id in waiting,
            )
        )
    return out


SchedulerState = Literal["running", "not_running", "never"]


@dataclass(frozen=True)
class SchedulerHealth:
    state: SchedulerState
    holder: str | None
    started_at: datetime | None
    beat_at: datetime | None
    stopped_cleanly: bool
    stale_after_s: float

    @property
    def running(self) -> bool:
        return self.state == "running"

    def sentence(self) -> str:
        if self.state == "never" or self.beat_at is None:
            return "scheduler has never run on this store"
        if self.state == "running":
            return (
                f"scheduler running on {self.holder} (last heartbeat {format_dhaka(self.beat_at)})"
            )
        how = "stopped" if self.stopped_cleanly else "no heartbeat"
        return (
            f"scheduler not running since {format_dhaka(self.beat_at)} ({how}; was {self.holder})"
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self) | {"running": self.running, "message": self.sentence()}
        for key in ("started_at", "beat_at"):
            data[key] = iso_utc(data[key]) if data[key] else None
        return data


def scheduler_health(ctx: AppContext, as_of: datetime | None = None) -> SchedulerHealth:
    """Is a scheduler beating on this store? Judged against [scheduler] stale_after_s."""
    now = as_of or ctx.now()
    stale_after = ctx.settings.scheduler.stale_after_s
    with ctx.store.read() as session:
        row = heartbeat_repo.get(session)
        if row is None:
            return SchedulerHealth("never", None, None, None, False, stale_after)
        fresh = (now - row.beat_at).total_seconds() <= stale_after
        state: SchedulerState = "running" if fresh and row.state == "running" else "not_running"
        return SchedulerHealth(
            state, row.holder, row.started_at, row.beat_at, row.state == "stopped", stale_after
        )


def outage_key(health: SchedulerHealth) -> str:
    beat = iso_utc(health.beat_at) if health.beat_at else "never"
    return f"scheduler:down:{beat}"


def _already_told(session: Any, key: str) -> bool:
    return outbox_repo.exists(session, f"{key}:none") or any(
        outbox_repo.exists(session, f"{key}:email:{u.username}") for u in admins(session)
    )


def notify_stale_feeds(ctx: AppContext) -> list[str]:
    """Tell the administrators, once per outage of each enabled feed (keyed by the feed and its
    newest issue time), that its newest forecast is older than its max_age_hours: the triggers
    that read it are unknown. Data of a played scenario are not an outage. Returns the feeds
    newly reported (a write transaction only then)."""
    stale = [h for h in feed_health(ctx) if h.enabled and h.state == "stale"]
    if not stale:
        return []
    due: list[tuple[FeedHealth, datetime, str]] = []
    with ctx.store.read() as session:
        latest = {r.feed_id: r.latest_forecast_run_id for r in feed_repo.all_status(session)}
        for h in stale:
            run_id, issued = latest.get(h.feed_id), h.latest_issued_at
            if run_id is None or issued is None:
                continue
            if any(t.startswith("scenario:") for t in feed_repo.brought_by(session, [run_id])):
                continue
            key = f"feed:stale:{h.feed_id}:{iso_utc(issued)}"
            if not _already_told(session, key):
                due.append((h, issued, key))
    if not due:
        return []
    with ctx.store.session() as session:  # the outbox's keys keep a racing heartbeat's out
        for h, issued, key in due:
            enqueue_to(
                session,
                admins(session),
                key=key,
                kind="feed",
                subject=f"[Agam] feed {h.feed_id} has no new forecast since {format_dhaka(issued)}",
                body=_stale_body(h, issued),
                settings=ctx.settings.notifications,
                at=ctx.now(),
            )
    return [h.feed_id for h, _, _ in due]


def _stale_body(h: FeedHealth, issued: datetime) -> str:
    return (
        f"The newest {h.feed_id} forecast was issued {format_dhaka(issued)}, "
        f"{h.age_hours or 0:.0f} h ago; the limit is {h.max_age_hours:.0f} h. Triggers that "
        "read it are UNKNOWN until fresh data arrive (never read as 'no hazard').\n"
        f"Last error: {h.last_error or 'none recorded'}.\n\n"
        "See `agam feeds status` and the data health page (docs/operations.md).\n"
    )


def notify_scheduler_down(ctx: AppContext, health: SchedulerHealth) -> bool:
    """Tell the administrators, once per outage (keyed by the last heartbeat); True if new."""
    key = outage_key(health)
    with ctx.store.session() as session:
        if _already_told(session, key):
            return False
        enqueue_to(
            session,
            admins(session),
            key=key,
            kind="scheduler",
            subject=f"[Agam] {health.sentence()}",
            body=(
                f"{health.sentence()}.\n\nNo feed is fetched and no trigger is judged until a "
                "scheduler runs again: restart the agam-scheduler service (see "
                "docs/operations.md). Alerts shown meanwhile may be out of date.\n"
            ),
            settings=ctx.settings.notifications,
            at=ctx.now(),
        )
    return True


def check_scheduler(ctx: AppContext, *, notify: bool = True) -> SchedulerHealth:
    """The scheduler's health; when it is not running, the admins are told (via the outbox)."""
    health = scheduler_health(ctx)
    if not notify or health.state != "not_running":
        return health
    try:
        queued = notify_scheduler_down(ctx, health)
    except StoreError as exc:
        if not locked_store(exc):
            raise
        log.warning("scheduler outage notice not queued now (%s); the next check queues it", exc)
        return health  # a status read never fails because a writer holds the store
    if queued:
        deliver_due(ctx)
    return health
