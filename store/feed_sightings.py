"""When the live system was served each forecast: on arrival, and again when a feed went back
to content it had served before (a correction taken back, GDACS's list after a cyclone left
it). Replays serve forecasts in this order and backtests judge at these times, so both see
what the live system saw (`feed_repo.latest_forecast` counts the same feed runs)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.feed_repo import put_in_force
from store.models import FeedRun, ForecastRun

Return = tuple[str, int, datetime, int]  # feed, forecast run, when, feed run


def returns(session: Session, feed_ids: Iterable[str] | None = None) -> list[Return]:
    """Feed runs that found stored content again after their feed had served other content,
    by when they finished. Re-fetches of the content a feed served last are not returns, nor
    are runs that found content older than the one in force (`FeedRun.in_force`)."""
    stmt = select(FeedRun.feed_id, FeedRun.forecast_run_id, FeedRun.finished_at, FeedRun.id).where(
        FeedRun.forecast_run_id.is_not(None), FeedRun.finished_at.is_not(None), FeedRun.in_force
    )
    if feed_ids is not None:
        stmt = stmt.where(FeedRun.feed_id.in_(sorted(feed_ids)))
    served_last: dict[str, int] = {}
    seen: set[int] = set()
    out: list[Return] = []
    for feed_id, forecast_id, finished, run_id in session.execute(
        stmt.order_by(FeedRun.finished_at, FeedRun.id)
    ):
        if forecast_id is None or finished is None or served_last.get(feed_id) == forecast_id:
            continue
        served_last[feed_id] = forecast_id
        if forecast_id in seen:
            out.append((feed_id, forecast_id, finished, run_id))
        seen.add(forecast_id)
    return out


def sightings(
    session: Session, start: datetime, end: datetime
) -> list[tuple[ForecastRun, datetime]]:
    """Each forecast issued in [start, end] when it was fetched, and again at each return to
    it, in the order the live system was served them."""
    window = (ForecastRun.issued_at >= start, ForecastRun.issued_at <= end)
    runs = {r.id: r for r in session.scalars(select(ForecastRun).where(*window))}
    out = [(r, r.fetched_at, 0) for r in runs.values()]
    out += [(runs[f], at, order) for _, f, at, order in returns(session) if f in runs]
    out.sort(key=lambda seen: (seen[1], seen[2], seen[0].id))
    return [(run, at) for run, at, _ in out]


def arrival_times(
    session: Session, feed_ids: Iterable[str], start: datetime | None, end: datetime | None
) -> list[datetime]:
    """Distinct times a new forecast of these feeds was fetched and put in force, or a feed
    went back to one, within [start, end]."""
    feeds = sorted(feed_ids)
    stmt = select(ForecastRun.fetched_at).where(ForecastRun.feed_id.in_(feeds), put_in_force())
    times = set(session.scalars(stmt)) | {at for _, _, at, _ in returns(session, feeds)}
    return sorted(t for t in times if (start is None or t >= start) and (end is None or t <= end))
