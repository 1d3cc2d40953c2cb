"""A forecast re-published at the same issue time with other content is judged, not dropped.

Forecast runs were unique on (feed, issue time): the second publication was taken for the
first, its run said "success" and the first content went on being judged. GDACS does this
when a cyclone enters the Bay of Bengal at the synoptic hour of the stored "no relevant
cyclone" list; here the same happens with a BMD bulletin corrected under its issue time.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from agam.core.errors import StoreError
from agam.pipeline.context import AppContext
from agam.scheduler import run_feed_job
from store import alert_repo, feed_repo
from store.db import Store, migrate
from tests.feeds.conftest import BMD_JUDGED_AT, drop_bulletin
from tests.season.conftest import constructed_bulletin

ISSUED = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)
JUDGED_AT = BMD_JUDGED_AT


def publish(drop: Path, name: str, wind_kmh: float, mtime: int) -> None:
    drop_bulletin(drop, name, constructed_bulletin(7, ISSUED, wind_kmh, 48), mtime)


def test_a_correction_under_the_same_issue_time_is_judged(
    bmd_site: tuple[AppContext, Path],
) -> None:
    ctx, drop = bmd_site
    publish(drop, "first.json", 60.0, 1_000)  # nothing met
    outcome, changes = run_feed_job(ctx, "bmd")
    assert outcome.outcome == "success"
    assert changes == []
    first = outcome.forecast_run_id

    publish(drop, "corrected.json", 150.0, 2_000)  # same issue time: action at 48 h
    outcome, changes = run_feed_job(ctx, "bmd")
    assert outcome.outcome == "success"
    assert outcome.forecast_run_id != first  # before 0018: the first run, judged again
    assert changes
    assert {c.change for c in changes} == {"raised"}
    with ctx.store.read() as session:
        latest = feed_repo.latest_forecast(session, "bmd", JUDGED_AT, snapshot=False)
        assert latest is not None
        assert latest.id == outcome.forecast_run_id
        assert latest.issued_at == ISSUED
        assert len(alert_repo.open_alerts(session)) == len(changes)

    outcome, changes = run_feed_job(ctx, "bmd")  # the same file again: nothing new
    assert outcome.outcome == "unchanged"
    assert changes == []


def test_the_same_content_twice_is_one_run(bmd_site: tuple[AppContext, Path]) -> None:
    ctx, drop = bmd_site
    publish(drop, "first.json", 60.0, 1_000)
    run_feed_job(ctx, "bmd")
    with ctx.store.session() as session:
        stored = feed_repo.latest_forecast(session, "bmd", snapshot=False)
        assert stored is not None
        again = feed_repo.NewForecast(
            **{name: getattr(stored, name) for name in feed_repo.NewForecast.__dataclass_fields__}
        )
        assert feed_repo.add_forecast(session, again).id == stored.id  # another process's
        count = session.scalar(text("SELECT count(*) FROM forecast_runs"))
    assert count == 1


def test_upgrade_keeps_every_reference_to_a_rebuilt_table(tmp_path: Path) -> None:
    """SQLite rebuilds forecast_runs for 0018 with foreign keys off; feed runs and the feed
    status still refer to the same runs, and foreign keys are on again afterwards."""
    store = Store(f"sqlite:///{tmp_path / 'agam.sqlite3'}")
    migrate(store.engine, "0017")
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO forecast_runs (id, feed_id, kind, issued_at, fetched_at, "
                "source_uri, raw_sha256, raw_path, complete, quality, summary) VALUES "
                "(5, 'bmd', 'track', '2026-05-20 05:00:00', '2026-05-20 05:30:00', 'file:x', "
                "'ab', 'raw/x', 1, '[]', '{}')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO feed_status (feed_id, latest_forecast_run_id, judged_forecast_run_id)"
                " VALUES ('bmd', 5, 5)"
            )
        )
    store.upgrade()
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        row = conn.execute(text("SELECT latest_forecast_run_id FROM feed_status")).one()
        assert row[0] == 5
    store.dispose()


def test_a_migration_that_breaks_a_reference_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "agam.sqlite3"
    store = Store(f"sqlite:///{path}")
    migrate(store.engine, "0017")
    raw = sqlite3.connect(path)  # a reference broken behind the store's back
    raw.execute("PRAGMA foreign_keys=OFF")
    raw.execute("INSERT INTO feed_status (feed_id, latest_forecast_run_id) VALUES ('bmd', 99)")
    raw.commit()
    raw.close()
    with pytest.raises(StoreError, match="broken reference"):
        migrate(store.engine)
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0017"
    store.dispose()
