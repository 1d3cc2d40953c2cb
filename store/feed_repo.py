"""Feed runs, forecast runs and feed status: the scheduler writes, everyone reads."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import FeedRun, FeedStatus, ForecastRun


@dataclass(frozen=True)
class NewForecast:
    feed_id: str
    kind: str
    issued_at: datetime
    fetched_at: datetime
    source_uri: str
    raw_sha256: str
    raw_path: str
    processed_path: str | None
    complete: bool
    quality: list[dict[str, Any]]
    summary: dict[str, Any]


def start_run(session: Session, feed_id: str, started_at: datetime, trigger: str) -> FeedRun:
    run = FeedRun(feed_id=feed_id, started_at=started_at, outcome="running", trigger=trigger)
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    finished_at: datetime,
    outcome: str,
    error: str | None = None,
    artifact_sha256: str | None = None,
    issued_at: datetime | None = None,
    forecast_run_id: int | None = None,
    in_force: bool = True,
) -> None:
    """`in_force` False: the run's forecast is older than the one in force (stored, not
    used); `latest_forecast` and the feed's sightings pass over such a run."""
    run = session.get(FeedRun, run_id)
    if run is None:
        raise LookupError(f"feed run {run_id} vanished")
    run.finished_at = finished_at
    run.outcome = outcome
    run.error = error
    run.artifact_sha256 = artifact_sha256
    run.issued_at = issued_at
    run.forecast_run_id = forecast_run_id
    run.in_force = in_force


def hold_back(session: Session, run_id: int, forecast_run_id: int) -> None:
    """Link a run to the forecast it stored, not in force, in the storing transaction: a
    snapshot feed's forecast is otherwise current from the moment it is stored."""
    run = session.get(FeedRun, run_id)
    if run is None:
        raise LookupError(f"feed run {run_id} vanished")
    run.forecast_run_id, run.in_force = forecast_run_id, False


def find_forecast(
    session: Session, feed_id: str, issued_at: datetime, raw_sha256: str
) -> ForecastRun | None:
    stmt = select(ForecastRun).where(
        ForecastRun.feed_id == feed_id,
        ForecastRun.issued_at == issued_at,
        ForecastRun.raw_sha256 == raw_sha256,
    )
    return session.scalars(stmt).first()


def find_forecast_by_sha(session: Session, feed_id: str, sha256: str) -> ForecastRun | None:
    stmt = select(ForecastRun).where(
        ForecastRun.feed_id == feed_id, ForecastRun.raw_sha256 == sha256
    )
    return session.scalars(stmt).first()


def add_forecast(session: Session, new: NewForecast) -> ForecastRun:
    """Insert a forecast run; the same content of the same issue time again returns the
    stored one, also when another process stored it a moment ago (the unique constraint
    decides). Other content at a stored issue time (a re-publication) is a new run; which
    run is current is `latest_forecast`'s to say."""
    existing = find_forecast(session, new.feed_id, new.issued_at, new.raw_sha256)
    if existing is not None:
        return existing
    try:
        with session.begin_nested():
            row = ForecastRun(**new.__dict__)
            session.add(row)
    except IntegrityError:
        existing = find_forecast(session, new.feed_id, new.issued_at, new.raw_sha256)
        if existing is None:
            raise
        return existing
    return row


def status_row(session: Session, feed_id: str) -> FeedStatus:
    row = session.get(FeedStatus, feed_id)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = FeedStatus(feed_id=feed_id)
            session.add(row)
    except IntegrityError:  # another process created it first
        row = session.get(FeedStatus, feed_id, populate_existing=True)
        if row is None:
            raise
    return row


def mark_attempt(session: Session, feed_id: str, at: datetime) -> None:
    status_row(session, feed_id).last_attempt_at = at


def mark_success(
    session: Session,
    feed_id: str,
    at: datetime,
    forecast: ForecastRun | None,
    etag: str | None,
    last_modified: str | None,
    *,
    snapshot: bool,
) -> None:
    """A run that stored or found `forecast` again: it becomes the feed's latest when it is
    the current one as `latest_forecast` decides (of a snapshot feed, always)."""
    row = status_row(session, feed_id)
    row.last_success_at = at
    row.last_error = None
    if etag is not None or last_modified is not None:
        row.etag, row.last_modified = etag, last_modified
    # Of an issue-time feed an older issue never replaces the latest; the same issue seen
    # again (a correction taken back) does.
    if forecast is not None and (
        snapshot or row.latest_issued_at is None or forecast.issued_at >= row.latest_issued_at
    ):
        row.latest_forecast_run_id = forecast.id
        row.latest_issued_at = forecast.issued_at


def mark_failure(session: Session, feed_id: str, at: datetime, error: str) -> None:
    row = status_row(session, feed_id)
    row.last_failure_at = at
    row.last_error = error


def all_status(session: Session) -> list[FeedStatus]:
    return list(session.scalars(select(FeedStatus).order_by(FeedStatus.feed_id)))


def put_in_force() -> ColumnElement[bool]:
    """A forecast stored outside a feed run, or put in force by one: not only found older
    than the forecast in force (`FeedRun.in_force`)."""
    runs = select(FeedRun.id).where(FeedRun.forecast_run_id == ForecastRun.id)
    return ~runs.exists() | runs.where(FeedRun.in_force).exists()


def latest_forecast(
    session: Session, feed_id: str, as_of: datetime | None = None, *, snapshot: bool
) -> ForecastRun | None:
    """The feed's current forecast: issued at or before `as_of` and fetched by then (all of
    them when None), so backtests and replays never see a forecast before it arrived.

    Of a feed whose forecasts have issue times, the newest issue time; of one issue time
    published with other content, the content seen last: a correction, and a correction taken
    back (A, then B, then A again is A). Of a `snapshot` feed (each fetch is the upstream's
    whole current state, as GDACS's event list), the content seen last whatever its issue
    time: a cyclone that enters the list with an advisory older than the stamp of the "no
    relevant cyclone" list before it is current. Seen means stored or fetched again by a feed
    run that put it in force (`_seen_last`; `FeedRun.in_force`): a list older than the one in
    force, served by a lagging mirror, is passed over."""
    arrived = [ForecastRun.feed_id == feed_id]
    if as_of is not None:
        arrived += [ForecastRun.issued_at <= as_of, ForecastRun.fetched_at <= as_of]
    if snapshot:
        by_fetch = select(ForecastRun).where(*arrived, put_in_force())
        by_fetch = by_fetch.order_by(ForecastRun.fetched_at.desc(), ForecastRun.id.desc())
        candidates = list(session.scalars(by_fetch.limit(1)))
        again = _newest_fetched_again(session, feed_id, as_of)
        if again is not None:
            candidates += session.scalars(
                select(ForecastRun).where(*arrived, ForecastRun.id == again)
            )
    else:
        issued = session.scalar(select(func.max(ForecastRun.issued_at)).where(*arrived))
        if issued is None:
            return None
        candidates = list(
            session.scalars(select(ForecastRun).where(*arrived, ForecastRun.issued_at == issued))
        )
    return _seen_last(session, candidates, as_of)


def _newest_fetched_again(session: Session, feed_id: str, as_of: datetime | None) -> int | None:
    """The forecast run the feed's newest run (finished by `as_of`) stored or found again."""
    stmt = select(FeedRun.forecast_run_id).where(
        FeedRun.feed_id == feed_id, FeedRun.forecast_run_id.is_not(None), FeedRun.in_force
    )
    if as_of is not None:
        stmt = stmt.where(FeedRun.finished_at <= as_of)
    newest = stmt.order_by(FeedRun.finished_at.desc(), FeedRun.id.desc()).limit(1)
    found: int | None = session.scalar(newest)
    return found


def _seen_last(
    session: Session, candidates: list[ForecastRun], as_of: datetime | None
) -> ForecastRun | None:
    """Of `candidates`, the one a feed run (finished by `as_of`) last stored or found again;
    a forecast stored without a feed run counts as seen when it was fetched."""
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    stmt = (
        select(FeedRun.forecast_run_id, func.max(FeedRun.finished_at), func.max(FeedRun.id))
        .where(FeedRun.forecast_run_id.in_([c.id for c in candidates]), FeedRun.in_force)
        .group_by(FeedRun.forecast_run_id)
    )
    if as_of is not None:
        stmt = stmt.where(FeedRun.finished_at <= as_of)
    seen = {rid: (at, run) for rid, at, run in session.execute(stmt) if rid and at is not None}

    def last_seen(forecast: ForecastRun) -> tuple[datetime, int, datetime, int]:
        at, feed_run = seen.get(forecast.id, (forecast.fetched_at, 0))  # feed runs in order
        return (max(at, forecast.fetched_at), feed_run, forecast.fetched_at, forecast.id)

    return max(candidates, key=last_seen)


def stored_feed_ids(session: Session) -> list[str]:
    """Feeds with at least one stored forecast (configured now or not)."""
    stmt = select(ForecastRun.feed_id).distinct()
    return sorted(session.scalars(stmt))


def record_judged(session: Session, judged: dict[str, int], at: datetime) -> None:
    """Record, per feed, the forecast run an evaluation judged (in its transaction)."""
    for feed_id, run_id in judged.items():
        row = status_row(session, feed_id)
        row.judged_forecast_run_id = run_id
        row.judged_at = at


def unjudged_latest(
    session: Session, as_of: datetime, snapshot_feeds: Collection[str]
) -> list[ForecastRun]:
    """Per feed, the current forecast as of `as_of` when no evaluation has judged it since it
    arrived (the evaluation after its run failed, or a manual fetch stored it)."""
    judged = {row.feed_id: row.judged_forecast_run_id for row in all_status(session)}
    runs = (
        latest_forecast(session, feed_id, as_of, snapshot=feed_id in snapshot_feeds)
        for feed_id in stored_feed_ids(session)
    )
    return [r for r in runs if r is not None and judged.get(r.feed_id) != r.id]


def forecasts_issued_between(session: Session, start: datetime, end: datetime) -> list[ForecastRun]:
    """Forecast runs issued in [start, end], by issue time, then fetch time, then feed."""
    stmt = (
        select(ForecastRun)
        .where(ForecastRun.issued_at >= start, ForecastRun.issued_at <= end)
        .order_by(ForecastRun.issued_at, ForecastRun.fetched_at, ForecastRun.feed_id)
    )
    return list(session.scalars(stmt))


def brought_by(session: Session, forecast_run_ids: Iterable[int]) -> set[str]:
    """How these forecasts arrived: the `trigger` of every feed run that recorded one
    ("scheduler", "cli", "replay", "scenario:<id>" …)."""
    ids = sorted(set(forecast_run_ids))
    if not ids:
        return set()
    stmt = select(FeedRun.trigger).where(FeedRun.forecast_run_id.in_(ids))
    return {str(t) for t in session.scalars(stmt.distinct())}


def recent_runs(session: Session, feed_id: str | None = None, limit: int = 50) -> list[FeedRun]:
    stmt = select(FeedRun)
    if feed_id is not None:
        stmt = stmt.where(FeedRun.feed_id == feed_id)
    return list(session.scalars(stmt.order_by(FeedRun.id.desc()).limit(limit)))


def quality_of_runs(session: Session, runs: list[FeedRun]) -> dict[int, list[dict[str, str]]]:
    """The quality issues of the partial runs among `runs`, by run id (one query)."""
    wanted = {r.forecast_run_id: r.id for r in runs if r.outcome == "partial" and r.forecast_run_id}
    if not wanted:
        return {}
    stmt = select(ForecastRun.id, ForecastRun.quality).where(ForecastRun.id.in_(wanted))
    return {wanted[fid]: list(quality or []) for fid, quality in session.execute(stmt)}


def get_forecast(session: Session, forecast_id: int) -> ForecastRun | None:
    return session.get(ForecastRun, forecast_id)
