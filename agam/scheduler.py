"""`agam scheduler`: its own process, one APScheduler job per enabled feed, UTC.

Jobs are rebuilt from config.toml at every start (in-memory job store: nothing pickled), with
coalesce, max_instances=1 and a misfire grace. Each run is recorded by the pipeline; a failed
run is recorded and the scheduler carries on. A lock file keeps it to one instance per data dir.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agam.core.errors import AgamError, ConfigError
from agam.pipeline.context import AppContext
from agam.pipeline.evaluate import AlertChange, after_feed_run
from agam.pipeline.ingest import FeedOutcome, ingest

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE_S = 3600


class SchedulerBusy(AgamError):
    """Another scheduler already runs on this data dir."""


@contextmanager
def single_instance(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "scheduler.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SchedulerBusy(f"another scheduler holds {path}") from None
    handle.truncate(0)
    handle.write(str(os.getpid()))
    handle.flush()
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def feed_trigger(feed_id: str, table: dict[str, Any], start: datetime | None = None) -> BaseTrigger:
    """cron = "…" (UTC) or interval_minutes / interval_seconds from [feeds.<id>]; `start`
    anchors intervals (scenario time in accelerated plays; default: now)."""
    if table.get("cron"):
        try:
            return CronTrigger.from_crontab(str(table["cron"]), timezone=UTC)
        except ValueError as exc:
            raise ConfigError(f"[feeds.{feed_id}.cron] {exc}") from exc
    seconds = float(table.get("interval_seconds") or 0) + 60 * float(
        table.get("interval_minutes") or 0
    )
    if seconds <= 0:
        raise ConfigError(f"[feeds.{feed_id}] needs cron, interval_minutes or interval_seconds")
    return IntervalTrigger(seconds=seconds, timezone=UTC, start_date=start)


def run_feed_job(
    ctx: AppContext, feed_id: str, trigger: str = "scheduler"
) -> tuple[FeedOutcome, list[AlertChange]]:
    """What every scheduled feed job does: one feed run, then judge what it brought."""
    outcome = ingest(ctx, feed_id, trigger=trigger)
    return outcome, after_feed_run(ctx, outcome)


def enabled_feeds(ctx: AppContext) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in sorted(ctx.settings.feeds.items()) if v.get("enabled", True)}


def build_scheduler(
    ctx: AppContext, on_outcome: Callable[[FeedOutcome], None] | None = None
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": DEFAULT_MISFIRE_GRACE_S,
        },
    )

    def run(feed_id: str) -> None:
        outcome, _ = run_feed_job(ctx, feed_id)
        if on_outcome is not None:
            on_outcome(outcome)

    for feed_id, table in enabled_feeds(ctx).items():
        scheduler.add_job(
            run,
            feed_trigger(feed_id, table),
            args=[feed_id],
            id=f"feed:{feed_id}",
            name=f"feed {feed_id}",
            replace_existing=True,
            misfire_grace_time=int(table.get("misfire_grace_s", DEFAULT_MISFIRE_GRACE_S)),
            next_run_time=ctx.now() + timedelta(seconds=1),
        )

    def listen(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        else:
            log.error("job %s raised %r", event.job_id, event.exception)

    scheduler.add_listener(listen, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def run_scheduler(ctx: AppContext, *, duration_s: float | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `duration_s`); returns the number of feed runs done."""
    if not enabled_feeds(ctx):
        raise ConfigError("no enabled feeds in [feeds.*]; nothing to schedule")
    stop = threading.Event()
    runs: list[FeedOutcome] = []
    with single_instance(ctx.settings.data_dir):
        ctx.store.upgrade()
        scheduler = build_scheduler(ctx, on_outcome=runs.append)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        scheduler.start()
        log.info("scheduler started with jobs %s", [j.id for j in scheduler.get_jobs()])
        try:
            stop.wait(timeout=duration_s)
        finally:
            scheduler.shutdown(wait=True)
            log.info("scheduler stopped after %d runs", len(runs))
    return len(runs)
