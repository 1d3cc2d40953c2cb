"""A forecast issued hours after it was fetched is refused by name, not hidden.

Every evaluation reads the newest forecast issued at or before its time. A BMD bulletin whose
Dhaka time was written as UTC lies 6 h ahead: it was stored, its run said "success", and no
evaluation saw it until that time. Now the run fails naming the feed, the file and the field,
the last good forecast stays the one judged, and clock skew within
[time] max_issued_after_fetch_minutes is accepted.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from agam.pipeline.health import feed_health
from agam.scheduler import run_feed_job
from hazard_feeds.limits import current
from store import feed_repo
from store.models import ForecastRun
from tests.feeds.conftest import BMD_JUDGED_AT, drop_bulletin
from tests.season.conftest import constructed_bulletin

FETCHED = BMD_JUDGED_AT  # the site's clock: when each run fetches


def stored_forecasts(ctx: AppContext) -> int:
    with ctx.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(ForecastRun)) or 0)


def test_a_bulletin_issued_hours_ahead_fails_by_name(bmd_site: tuple[AppContext, Path]) -> None:
    ctx, drop = bmd_site
    good = FETCHED - timedelta(hours=1)
    drop_bulletin(drop, "good.json", constructed_bulletin(1, good, 60.0, 48), 1_000)
    assert run_feed_job(ctx, "bmd")[0].outcome == "success"

    assert isinstance(ctx.clock, SteppedClock)
    ctx.clock.now = later = FETCHED + timedelta(minutes=10)  # the next run
    dhaka_as_utc = BMD_JUDGED_AT + timedelta(hours=5)  # 11:00 in Dhaka, written as 11:00 UTC
    drop_bulletin(drop, "wrong_zone.json", constructed_bulletin(2, dhaka_as_utc, 150.0, 48), 2_000)
    outcome, changes = run_feed_job(ctx, "bmd")
    assert outcome.outcome == "failed"
    assert changes == []
    assert outcome.error is not None
    assert outcome.error.startswith("bmd: file://")
    assert "wrong_zone.json: issued_at: 2026-05-20T11:00:00Z is 4.8 h after it was fetched" in (
        outcome.error
    )
    assert stored_forecasts(ctx) == 1  # nothing of it stored
    with ctx.store.read() as session:
        latest = feed_repo.latest_forecast(session, "bmd", later, snapshot=False)
        assert latest is not None
        assert latest.issued_at == good  # the last good forecast is still the one judged
    (health,) = [h for h in feed_health(ctx) if h.feed_id == "bmd"]
    assert health.failing
    assert health.last_error == outcome.error


def test_clock_skew_within_the_limit_is_accepted(bmd_site: tuple[AppContext, Path]) -> None:
    ctx, drop = bmd_site
    allowed = current().time.max_issued_after_fetch_minutes
    skewed = FETCHED + timedelta(minutes=allowed)
    drop_bulletin(drop, "skewed.json", constructed_bulletin(3, skewed, 60.0, 48), 1_000)
    assert run_feed_job(ctx, "bmd")[0].outcome == "success"
    assert stored_forecasts(ctx) == 1
