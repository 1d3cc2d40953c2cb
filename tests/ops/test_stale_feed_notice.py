"""A feed gone stale is told to the administrators once per outage, by the scheduler's
heartbeat.

A stale feed makes every trigger that reads it "unknown". It was shown on the data health page
and by `agam feeds status`, and nobody was told: in a monsoon, FFWC down for a day and a half
was noticed when someone looked. Now each heartbeat queues one e-mail per admin per outage
(keyed by the feed and its newest issue time); data of a played scenario are not an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agam.core.settings import load_settings
from agam.core.timeutil import SteppedClock
from agam.pipeline.context import AppContext
from agam.pipeline.health import notify_stale_feeds
from agam.pipeline.ingest import ingest
from agam.scheduler import tick
from store.models import OutboxMessage
from store.user_repo import add_user

FETCHED = datetime(2025, 5, 25, 9, 30, tzinfo=UTC)  # the Remal-like bulletin: issued 09:00


@pytest.fixture
def site(remal_site: Callable[..., AppContext]) -> AppContext:
    ctx: AppContext = remal_site(SteppedClock(FETCHED))
    with ctx.store.session() as session:
        add_user(
            session,
            username="admin.one",
            role="admin",
            districts=[],
            password="a long test password",
            display_name="Admin",
            at=FETCHED,
        )
    return ctx


def feed_notices(ctx: AppContext) -> list[OutboxMessage]:
    with ctx.store.read() as session:
        stmt = select(OutboxMessage).where(OutboxMessage.kind == "feed")
        return list(session.scalars(stmt.order_by(OutboxMessage.id)))


def later(ctx: AppContext, hours: float) -> None:
    assert isinstance(ctx.clock, SteppedClock)
    ctx.clock.now = FETCHED + timedelta(hours=hours)


def test_a_stale_feed_is_told_once_per_outage(site: AppContext) -> None:
    assert ingest(site, "bmd", trigger="scheduler").outcome == "success"
    later(site, 6)
    tick(site)
    assert feed_notices(site) == []  # fresh: nothing to tell

    later(site, 13)  # issued 09:00, 12 h allowed
    tick(site)
    (notice,) = feed_notices(site)
    assert notice.recipient == "admin.one"
    assert notice.subject == ("[Agam] feed bmd has no new forecast since 2025-05-25 15:00 UTC+6")
    assert "UNKNOWN until fresh data arrive" in notice.body

    later(site, 14)
    tick(site)
    assert notify_stale_feeds(site) == []
    assert len(feed_notices(site)) == 1  # one outage, one notice


def test_a_played_scenario_is_not_an_outage(site: AppContext) -> None:
    assert ingest(site, "bmd", trigger="scenario:cyclone").outcome == "success"
    later(site, 13)
    assert notify_stale_feeds(site) == []
    assert feed_notices(site) == []


def test_a_disabled_feed_is_not_watched(site: AppContext, config_path: Path) -> None:
    assert ingest(site, "bmd", trigger="scheduler").outcome == "success"
    config_path.write_text(
        config_path.read_text().replace("[feeds.bmd]\n", "[feeds.bmd]\nenabled = false\n"),
        encoding="utf-8",
    )
    ctx = AppContext(load_settings(config_path), clock=SteppedClock(FETCHED + timedelta(hours=13)))
    assert notify_stale_feeds(ctx) == []
    ctx.store.dispose()
