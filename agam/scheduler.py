"""`agam scheduler`: its own process, one APScheduler job per enabled feed, UTC.

Jobs are rebuilt from config.toml at every start (in-memory job store: nothing pickled), with
coalesce, max_instances=1 and a misfire grace. Each run is recorded by the pipeline; a failed
run is recorded and the scheduler carries on.

Supervision: only one scheduler is active per store. Another one started on the same store
waits as a standby on the store's "scheduler" lock (a file lock next to SQLite, an advisory
lock on PostgreSQL) and takes over when the active one dies. The active scheduler beats a
heartbeat row every [scheduler] heartbeat_interval_s; on the same tick it heals what an
interrupted run left (an alert without its list), writes the CAP feed again if it no longer
matches the store, tells the administrators once about each enabled feed gone stale, and
delivers the outbox (retries). A job on the same interval judges any feed's newest forecast
that no evaluation has judged (the one after its run failed, or one `agam feeds fetch`
stored). Losing the lock (e.g. the database restarted) stops it with an error, for systemd
to restart it.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agam.core.errors import AgamError, ConfigError, StoreError
from agam.core.settings import FeedSettings
from agam.pipeline.cap_publish import republish_if_stale
from agam.pipeline.context import AppContext
from agam.pipeline.delivery import deliver_due
from agam.pipeline.evaluate import AlertChange, after_feed_run, judge_unjudged
from agam.pipeline.heal import heal_missing_lists
from agam.pipeline.health import notify_scheduler_down, notify_stale_feeds, scheduler_health
from agam.pipeline.ingest import FeedOutcome, ingest
from agam.pipeline.versions_in_use import check_configured
from agam.pipeline.writer import PIPELINE_LOCK, when_unlocked
from store import heartbeat_repo
from store.locks import HeldLock, LockTimeout, acquire, exclusive, holder_label

log = logging.getLogger(__name__)

DEFAULT_MISFIRE_GRACE_S = 3600
SCHEDULER_LOCK = "scheduler"
MAX_JOB_THREADS = 4
CATCH_UP_JOB = "judge:unjudged"


def feed_trigger(table: FeedSettings, start: datetime | None = None) -> BaseTrigger:
    """cron = "…" (UTC) or interval_minutes / interval_seconds from a validated
    [feeds.<id>] table; `start` anchors intervals (scenario time in accelerated plays)."""
    if table.cron:
        return CronTrigger.from_crontab(table.cron, timezone=UTC)
    return IntervalTrigger(seconds=table.interval_s, timezone=UTC, start_date=start)


def run_feed_job(
    ctx: AppContext, feed_id: str, trigger: str = "scheduler"
) -> tuple[FeedOutcome, list[AlertChange]]:
    """What every scheduled feed job does: one feed run, then judge what it brought."""
    outcome = ingest(ctx, feed_id, trigger=trigger)
    return outcome, after_feed_run(ctx, outcome)


def enabled_feeds(ctx: AppContext) -> dict[str, FeedSettings]:
    return ctx.settings.enabled_feeds()


def build_scheduler(
    ctx: AppContext, on_outcome: Callable[[FeedOutcome], None] | None = None
) -> BackgroundScheduler:
    feeds = enabled_feeds(ctx)
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max(1, min(MAX_JOB_THREADS, len(feeds))))},
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": DEFAULT_MISFIRE_GRACE_S,
        },
    )

    retries = ctx.settings.scheduler.locked_retries
    wait_s = ctx.settings.scheduler.locked_retry_wait_s

    def run(feed_id: str) -> None:
        try:
            outcome, _ = when_unlocked(
                f"feed {feed_id}", lambda: run_feed_job(ctx, feed_id), retries, wait_s
            )
        except AgamError as exc:  # e.g. the store stayed locked: one line, the next run retries
            log.error("feed %s not run (trying again at its next run): %s", feed_id, exc)
            return
        if on_outcome is not None:
            on_outcome(outcome)

    for feed_id, table in feeds.items():
        scheduler.add_job(
            run,
            feed_trigger(table),
            args=[feed_id],
            id=f"feed:{feed_id}",
            name=f"feed {feed_id}",
            replace_existing=True,
            misfire_grace_time=table.misfire_grace_s,
            next_run_time=ctx.now() + timedelta(seconds=1),
        )

    def catch_up() -> None:
        try:
            when_unlocked(
                "judging unjudged forecasts", lambda: judge_unjudged(ctx), retries, wait_s
            )
        except AgamError as exc:  # logged once a heartbeat until a judgement commits
            log.error("forecasts stored but not judged (trying again): %s", exc)

    scheduler.add_job(
        catch_up,
        IntervalTrigger(seconds=ctx.settings.scheduler.heartbeat_interval_s, timezone=UTC),
        id=CATCH_UP_JOB,
        name="judge forecasts stored but not judged",
        replace_existing=True,
    )

    def listen(event: JobExecutionEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
        else:
            log.error("job %s raised %r", event.job_id, event.exception)

    scheduler.add_listener(listen, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    return scheduler


def beat(ctx: AppContext, started_at: datetime, jobs: list[str], state: str = "running") -> None:
    with ctx.store.session() as session:
        heartbeat_repo.beat(
            session,
            holder=holder_label(),
            started_at=started_at,
            at=ctx.now(),
            jobs=jobs,
            state=state,
        )


def tick(ctx: AppContext) -> None:
    """The heartbeat's housekeeping: heal interrupted runs, bring the CAP feed up to date,
    report stale feeds, deliver the outbox. Never raises."""
    try:
        with exclusive(ctx.store, PIPELINE_LOCK, timeout_s=1.0):
            heal_missing_lists(ctx)
    except LockTimeout:
        pass  # an evaluation is running; it heals what it finds itself
    except AgamError as exc:
        log.error("healing missed lists failed (trying again next heartbeat): %s", exc)
    except Exception:
        log.exception("healing missed lists failed; trying again next heartbeat")
    republish_if_stale(ctx)
    try:
        notify_stale_feeds(ctx)
    except AgamError as exc:
        log.error("stale feeds not checked (trying again next heartbeat): %s", exc)
    deliver_due(ctx)


def wait_for_lock(ctx: AppContext, stop: threading.Event) -> HeldLock | None:
    """Become the active scheduler, waiting as standby while another one is; None if told
    to stop first."""
    poll = ctx.settings.scheduler.standby_poll_s
    try:
        return acquire(ctx.store, SCHEDULER_LOCK, timeout_s=0, poll_s=poll)
    except LockTimeout:
        log.warning("another scheduler is active on this store; waiting as standby")
    try:
        return acquire(ctx.store, SCHEDULER_LOCK, timeout_s=None, poll_s=poll, stop=stop)
    except LockTimeout:
        return None


def take_over(ctx: AppContext) -> None:
    """On becoming active: if the previous scheduler died unnoticed, say so to the admins."""
    before = scheduler_health(ctx)
    if before.state == "not_running" and not before.stopped_cleanly:
        notify_scheduler_down(ctx, before)
    log.info("active scheduler (%s); %s before", holder_label(), before.sentence())


def run_scheduler(ctx: AppContext, *, duration_s: float | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `duration_s`); returns the number of feed runs done."""
    if not enabled_feeds(ctx):
        raise ConfigError("no enabled feeds in [feeds.*]; nothing to schedule")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    timer = threading.Timer(duration_s, stop.set) if duration_s is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    ctx.store.upgrade()
    check_configured(ctx)  # a rule set or policy edited without a new version: not started
    held = wait_for_lock(ctx, stop)
    if held is None:
        log.info("stopped while on standby")
        return 0
    runs: list[FeedOutcome] = []
    try:
        return _active(ctx, held, stop, runs)
    finally:
        held.release()
        if timer is not None:
            timer.cancel()


def _active(ctx: AppContext, held: HeldLock, stop: threading.Event, runs: list[FeedOutcome]) -> int:
    take_over(ctx)
    started = ctx.now()
    scheduler = build_scheduler(ctx, on_outcome=runs.append)
    jobs = [j.id for j in scheduler.get_jobs()]
    settings = ctx.settings.scheduler
    when_unlocked(
        "first heartbeat",
        lambda: beat(ctx, started, jobs),
        settings.locked_retries,
        settings.locked_retry_wait_s,
    )
    scheduler.start()
    log.info("scheduler started with jobs %s", jobs)
    interval = ctx.settings.scheduler.heartbeat_interval_s
    try:
        while not stop.wait(timeout=interval):
            if not held.still_held():
                raise StoreError("lost the scheduler lock (database connection gone?); stopping")
            try:
                beat(ctx, started, jobs)
            except StoreError as exc:
                log.error("heartbeat not written: %s", exc)
            tick(ctx)
    finally:
        scheduler.shutdown(wait=True)
        try:
            beat(ctx, started, jobs, state="stopped")
        except StoreError as exc:
            log.error("final heartbeat not written: %s", exc)
        log.info("scheduler stopped after %d runs", len(runs))
    return len(runs)
