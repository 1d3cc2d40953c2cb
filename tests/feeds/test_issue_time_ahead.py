"""A forecast issued hours after it was fetched is refused by name, not hidden.

Every evaluation reads the newest forecast issued at or before its time. A BMD bulletin whose
Dhaka time was written as UTC lies 6 h ahead: it was stored, its run said "success", and no
evaluation saw it until that time. Now the run fails naming the feed, the file and the field,
the last good forecast stays the one judged, and clock skew within
[time] max_issued_after_fetch_minutes is accepted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from agam.pipeline.health import feed_health
from agam.scheduler import run_feed_job
from hazard_feeds.checks import check_issued_before_fetch
from hazard_feeds.contract import RawArtifact
from hazard_feeds.feed_configs import FfwcConfig, FfwcLogsheetConfig, GdacsConfig
from hazard_feeds.ffwc import FfwcFeed
from hazard_feeds.ffwc_logsheet import FfwcLogsheetFeed
from hazard_feeds.gdacs import GdacsFeed
from hazard_feeds.limits import current
from store import feed_repo
from store.models import ForecastRun
from tests.feeds.conftest import BMD_JUDGED_AT, drop_bulletin
from tests.feeds.test_current_forecast import gdacs_lists
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


def test_one_gauge_dated_ahead_costs_its_reading_not_the_run(
    ffwc_bundle: Callable[..., RawArtifact], feeds_dir: Path
) -> None:
    """FFWC's issue time is its newest observation: one gauge's year typed wrong (2062) made
    it decades ahead, and the whole run was refused, every station's data with it."""
    observed = json.loads((feeds_dir / "ffwc" / "observed.json").read_text())
    observed.append(dict(observed[0], wl_date="2062-06-07T06:00:00", waterlevel="17.30"))
    raw = ffwc_bundle(observed=json.dumps(observed))
    forecast = FfwcFeed(FfwcConfig(interval_minutes=60)).parse(raw)
    check_issued_before_fetch(forecast.issued_at, raw.fetched_at, "ffwc", raw.source_uri)
    assert forecast.issued_at == datetime(2020, 6, 7, 0, 0, tzinfo=UTC)  # the real reading
    assert [q.message for q in forecast.quality if q.subject == "SW46.9L"] == [
        "ffwc: observed level at Bahadurabad (SW46.9L) dated 2062-06-07T00:00:00Z, after the "
        "run was fetched (2020-06-07T04:00:00Z): left out"
    ]
    within_skew = dict(observed[0], wl_date="2020-06-07T10:30:00")  # 30 min after the fetch
    raw = ffwc_bundle(observed=json.dumps([*observed[:-1], within_skew]))
    forecast = FfwcFeed(FfwcConfig(interval_minutes=60)).parse(raw)
    assert forecast.issued_at == datetime(2020, 6, 7, 4, 30, tzinfo=UTC)
    assert not [q for q in forecast.quality if q.subject == "SW46.9L"]


def test_a_log_sheet_row_dated_ahead_is_left_out_by_name(
    raw_of: Callable[..., RawArtifact], feeds_dir: Path
) -> None:
    sheet = (feeds_dir / "ffwc" / "logsheet-2020-bahadurabad.csv").read_text(encoding="utf-8")
    typo = sheet.replace("07/06/2020 18:00,,17.26", "07/06/2020 18:00,17.90,17.26")
    feed = FfwcLogsheetFeed(FfwcLogsheetConfig(enabled=False))
    forecast = feed.parse(raw_of("ffwc_logsheet", typo.encode()))
    assert forecast.issued_at == datetime(2020, 6, 7, 0, 0, tzinfo=UTC)  # 07/06 06:00 BST
    assert [q.message for q in forecast.quality if q.code == "partial"] == [
        "ffwc_logsheet: observed level at Bahadurabad (SW46.9L) dated 2020-06-07T12:00:00Z, "
        "after the run was fetched (2020-06-07T04:00:00Z): left out"
    ]


def test_a_world_event_dated_ahead_does_not_date_a_quiet_gdacs_list() -> None:
    """A list without a relevant cyclone is dated by the newest event in the world: one
    event dated after the fetch (any hazard, anywhere) had every run refused."""
    quiet = json.loads(gdacs_lists()[0])
    ahead = json.loads(json.dumps(quiet["features"][0]))  # DERIVED: a drought dated ahead
    ahead["properties"] |= {"eventtype": "DR", "eventid": 1, "todate": "2023-06-30T00:00:00"}
    quiet["features"].append(ahead)
    content = json.dumps(quiet).encode()
    fetched = datetime(2023, 5, 12, 9, 0, tzinfo=UTC)
    raw = RawArtifact("gdacs", "file://x", content, hashlib.sha256(content).hexdigest(), fetched)
    forecast = GdacsFeed(GdacsConfig(interval_minutes=30)).parse(raw)
    assert forecast.issued_at == datetime(2023, 5, 12, 8, 0, tzinfo=UTC)  # FABIEN-23's
    check_issued_before_fetch(forecast.issued_at, raw.fetched_at, "gdacs", raw.source_uri)
