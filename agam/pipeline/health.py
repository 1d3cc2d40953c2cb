"""Feed freshness: a stale, failed or missing forecast means "unknown" downstream."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from agam.core.timeutil import iso_utc
from store import feed_repo

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

    def missing_subjects(self) -> list[str]:
        """What the latest forecast lacks, e.g. ["SW93.5L", "observed"] (codes if no subject)."""
        return list(dict.fromkeys(str(q.get("subject") or q.get("code")) for q in self.quality))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = iso_utc(value)
        return data


def feed_health(ctx: Any, as_of: datetime | None = None) -> list[FeedHealth]:
    """One row per configured feed (and any feed with history), judged at `as_of`."""
    now = as_of or ctx.now()
    configured = ctx.settings.feeds
    with ctx.store.session() as session:
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
    out = []
    for feed_id in sorted(set(configured) | set(rows)):
        table = configured.get(feed_id, {})
        max_age = float(table.get("max_age_hours", DEFAULT_MAX_AGE_HOURS))
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
                enabled=bool(table.get("enabled", bool(table))),
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
            )
        )
    return out
