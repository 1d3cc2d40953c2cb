"""Forecasts as the pipeline keeps them: parsed once at ingest, read back ever after.

`keep_forecast` writes the processed forecast next to the raw store (the ForecastRun row
holds its folder) plus the feed's JSON summary for people; `load_forecast` reads it back.
A run stored before processed folders existed is parsed from its raw artifact once and kept.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from agam.pipeline.context import AppContext
from hazard_feeds.catalog import SNAPSHOT_FEEDS
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.guard import json_ready
from hazard_feeds.processed import read_forecast, write_forecast
from store import feed_repo
from store.models import ForecastRun
from store.raw_artifacts import atomic_write_bytes

log = logging.getLogger(__name__)
SUMMARY = "summary.json"


def current_forecast(
    session: Session, feed_id: str, as_of: datetime | None = None
) -> ForecastRun | None:
    """The feed's forecast in force as of `as_of` (`feed_repo.latest_forecast`), read as its
    feed is: the content seen last of a snapshot feed, the newest issue of the others."""
    return feed_repo.latest_forecast(session, feed_id, as_of, snapshot=feed_id in SNAPSHOT_FEEDS)


def processed_folder(ctx: AppContext, feed_id: str, issued_at: datetime, sha256: str) -> Path:
    return ctx.processed_dir / feed_id / f"{issued_at:%Y%m%dT%H%MZ}-{sha256[:12]}"


def keep_forecast(ctx: AppContext, forecast: HazardForecast, raw: RawArtifact) -> Path:
    """Write the processed forecast (and its human-readable summary) once."""
    folder = processed_folder(ctx, forecast.feed_id, forecast.issued_at, raw.sha256)
    write_forecast(forecast, folder)
    feed = ctx.feed(forecast.feed_id)
    body = json.dumps(json_ready(feed.to_json(forecast)), ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(folder / SUMMARY, body.encode("utf-8"))
    return folder


def load_forecast(
    ctx: AppContext, feed_id: str, sha256: str, processed: str | None
) -> HazardForecast:
    """The stored forecast of one run, from its processed folder (cached in the context)."""

    def load() -> HazardForecast:
        folder = Path(processed) if processed else None
        if folder is not None and (folder / "meta.json").is_file():
            return read_forecast(folder)
        return _reparse(ctx, feed_id, sha256)

    return ctx.cached_forecast((feed_id, sha256), load)


def _reparse(ctx: AppContext, feed_id: str, sha256: str) -> HazardForecast:
    stored = ctx.raw_store.get(feed_id, sha256)
    raw = RawArtifact(
        feed_id,
        stored.source_uri,
        stored.content,
        stored.sha256,
        stored.fetched_at,
        stored.content_type,
        stored.etag,
        stored.last_modified,
        parts=stored.parts,
    )
    forecast: HazardForecast = ctx.feed(feed_id).parse(raw)
    log.info("forecast %s %s had no processed copy; parsed from raw once", feed_id, sha256[:12])
    write_forecast(forecast, processed_folder(ctx, feed_id, forecast.issued_at, sha256))
    return forecast
