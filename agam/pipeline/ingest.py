"""One feed run: fetch -> keep raw (atomic, by hash) -> parse -> save forecast run -> status.

A failed run is recorded and never replaces the last good forecast; it never raises. A run
whose forecast lacks a station, member or timestep is recorded as "partial": its forecast is
stored and judged (the missing parts are "unknown" to the triggers) and the run row says what
is missing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from agam.core.errors import AgamError
from agam.core.timeutil import ensure_utc
from agam.pipeline import run_notes
from agam.pipeline.context import AppContext
from agam.pipeline.forecasts import current_forecast, keep_forecast, load_forecast
from hazard_feeds.catalog import SNAPSHOT_FEEDS
from hazard_feeds.checks import check_issued_before_fetch
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.gdacs_episodes import EpisodeBehind
from store import feed_repo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedOutcome:
    feed_id: str
    outcome: str  # success | partial | unchanged | not_modified | failed
    run_id: int
    forecast_run_id: int | None = None
    issued_at: datetime | None = None
    artifact_sha256: str | None = None
    error: str | None = None  # failed: why; partial: what is missing

    @property
    def new_forecast(self) -> bool:
        """A new forecast was stored (complete or partial): time to evaluate."""
        return self.outcome in NEW_FORECAST_OUTCOMES


NEW_FORECAST_OUTCOMES = frozenset({"success", "partial"})


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, AgamError) else f"{type(exc).__name__}: {text}"


def partial_summary(forecast: HazardForecast, limit: int = 3) -> str:
    """One line naming what a partial forecast lacks, e.g. "SW93.5L missing_station (…)"."""
    shown = [f"{q.subject or 'all'} {q.code} ({q.message})" for q in forecast.quality[:limit]]
    more = len(forecast.quality) - limit
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def ingest(ctx: AppContext, feed_id: str, *, trigger: str = "manual") -> FeedOutcome:
    """Run one feed end to end. `ctx` is an AppContext (feeds, http, raw store, store, clock)."""
    started = ctx.now()
    with ctx.store.session() as session:
        run_id = feed_repo.start_run(session, feed_id, started, trigger).id
        feed_repo.mark_attempt(session, feed_id, started)
        status = feed_repo.status_row(session, feed_id)
        etag, last_modified = status.etag, status.last_modified
    try:
        return _ingest(ctx, feed_id, run_id, etag, last_modified)
    except Exception as exc:  # a feed failure must never kill the caller (scheduler)
        error = _one_line(exc)
        finished = ctx.now()
        with ctx.store.session() as session:
            feed_repo.finish_run(
                session, run_id, finished_at=finished, outcome="failed", error=error
            )
            feed_repo.mark_failure(session, feed_id, finished, error)
        log.warning("feed %s failed: %s", feed_id, error)
        return FeedOutcome(feed_id, "failed", run_id, error=error)


def _ingest(
    ctx: AppContext, feed_id: str, run_id: int, etag: str | None, last_modified: str | None
) -> FeedOutcome:
    feed = ctx.feed(feed_id)
    since = None
    if etag or last_modified:
        since = RawArtifact(
            feed_id=feed_id,
            source_uri="",
            content=b"",
            sha256="",
            fetched_at=ctx.now(),
            etag=etag,
            last_modified=last_modified,
        )
    raw: RawArtifact = feed.fetch(ctx.http_for(feed_id), since)
    # "When we fetched it" is the pipeline's clock (scenario time in demos and replays).
    raw = dataclasses.replace(raw, fetched_at=ctx.now())
    if raw.not_modified:
        return _finish(ctx, feed_id, run_id, "not_modified", raw, None)
    ctx.raw_store.put(raw)
    with ctx.store.session() as session:
        known = feed_repo.find_forecast_by_sha(session, feed_id, raw.sha256)
        known_id, known_path = (known.id, known.processed_path) if known else (None, None)
    if known_id is not None:  # a lagging mirror may serve an older list again
        with ctx.store.session() as session:
            behind = _behind_in_force(
                ctx, session, feed_id, raw.sha256,
                lambda: load_forecast(ctx, feed_id, raw.sha256, known_path),
            )  # fmt: skip
        if behind is not None:
            log.warning("feed %s: %s", feed_id, behind)
        return _finish(
            ctx, feed_id, run_id, "unchanged", raw, known_id, note=behind, in_force=not behind
        )
    forecast: HazardForecast = feed.parse(raw)
    check_issued_before_fetch(forecast.issued_at, raw.fetched_at, feed_id, raw.source_uri)
    processed = keep_forecast(ctx, forecast, raw)
    new = feed_repo.NewForecast(
        feed_id=feed_id,
        kind=forecast.kind,
        issued_at=forecast.issued_at,
        fetched_at=raw.fetched_at,
        source_uri=raw.source_uri,
        raw_sha256=raw.sha256,
        raw_path=str(ctx.raw_store.path_for(raw)),
        processed_path=str(processed),
        complete=forecast.complete,
        quality=[
            {"code": q.code, "message": q.message, "subject": q.subject} for q in forecast.quality
        ],
        summary={"quality_issues": len(forecast.quality)},
    )
    with ctx.store.session() as session:
        behind = _behind_in_force(ctx, session, feed_id, raw.sha256, lambda: forecast)
        row = feed_repo.add_forecast(session, new)
        forecast_id = row.id
        if behind is not None:  # held back in the transaction that stores it
            feed_repo.hold_back(session, run_id, forecast_id)
        older = behind or _older_than_in_force(session, feed_id, forecast.issued_at, ctx.now())
    notes = [n for n in (older, None if forecast.complete else partial_summary(forecast)) if n]
    for note in notes:
        log.warning("feed %s: %s", feed_id, note)
    outcome = "success" if forecast.complete else "partial"
    told = "; ".join(notes) or None
    return _finish(
        ctx, feed_id, run_id, outcome, raw, forecast_id, forecast.issued_at, told, not older
    )


def _behind_in_force(
    ctx: AppContext,
    session: Session,
    feed_id: str,
    sha: str,
    fetched: Callable[[], HazardForecast],
) -> str | None:
    """Why a snapshot feed's list is not put in force: a cyclone it shares with the list in
    force is at an earlier episode there (a lagging mirror; `hazard_feeds.gdacs_episodes`).
    Either list is read only when the two differ."""
    judge = getattr(ctx.feed(feed_id), "behind_in_force", None)
    if feed_id not in SNAPSHOT_FEEDS or judge is None:
        return None
    current = current_forecast(session, feed_id, ctx.now())
    if current is None or current.raw_sha256 == sha:
        return None
    try:
        in_force = load_forecast(ctx, feed_id, current.raw_sha256, current.processed_path)
        this = fetched()
    except (AgamError, OSError) as exc:  # never let a damaged copy block the feed
        log.warning("feed %s: the two lists cannot be read to compare (%s)", feed_id, exc)
        return None
    behind: list[EpisodeBehind] = judge(this, in_force)
    return run_notes.behind(behind) if behind else None


def _older_than_in_force(
    session: Session, feed_id: str, issued_at: datetime, now: datetime
) -> str | None:
    """Why a new forecast of an issue-time feed is not used: one issued later is in force (a
    bulletin entered or dropped with yesterday's date, an operator's backfill)."""
    if feed_id in SNAPSHOT_FEEDS:
        return None
    current = current_forecast(session, feed_id, now)
    if current is None or ensure_utc(current.issued_at) <= ensure_utc(issued_at):
        return None
    return run_notes.not_used(issued_at, current.issued_at)


def _finish(
    ctx: AppContext,
    feed_id: str,
    run_id: int,
    outcome: str,
    raw: RawArtifact,
    forecast_id: int | None,
    issued_at: datetime | None = None,
    note: str | None = None,
    in_force: bool = True,
) -> FeedOutcome:
    finished = ctx.now()
    with ctx.store.session() as session:
        forecast = feed_repo.get_forecast(session, forecast_id) if forecast_id else None
        issued = issued_at or (forecast.issued_at if forecast is not None else None)
        feed_repo.finish_run(
            session,
            run_id,
            finished_at=finished,
            outcome=outcome,
            error=note,
            artifact_sha256=raw.sha256 or None,
            issued_at=issued,
            forecast_run_id=forecast_id,
            in_force=in_force,
        )
        feed_repo.mark_success(
            session,
            feed_id,
            finished,
            forecast if in_force else None,
            raw.etag,
            raw.last_modified,
            snapshot=feed_id in SNAPSHOT_FEEDS,
        )
    log.info("feed %s: %s", feed_id, outcome)
    return FeedOutcome(feed_id, outcome, run_id, forecast_id, issued, raw.sha256 or None, note)
