"""Forecasts as the pipeline keeps them: parsed once at ingest, read back ever after.

`keep_forecast` writes the processed forecast next to the raw store (the ForecastRun row
holds its folder) plus the feed's JSON summary for people; `load_forecast` reads it back.
A run stored before processed folders existed is parsed from its raw artifact once and kept.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import datetime
from pathlib import Path
from typing import Any

from agam.core.timeutil import iso_utc
from agam.pipeline.context import AppContext
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.processed import read_forecast, write_forecast
from store.raw_artifacts import atomic_write_bytes

log = logging.getLogger(__name__)
SUMMARY = "summary.json"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def processed_folder(ctx: AppContext, feed_id: str, issued_at: datetime, sha256: str) -> Path:
    return ctx.processed_dir / feed_id / f"{issued_at:%Y%m%dT%H%MZ}-{sha256[:12]}"


def keep_forecast(ctx: AppContext, forecast: HazardForecast, raw: RawArtifact) -> Path:
    """Write the processed forecast (and its human-readable summary) once."""
    folder = processed_folder(ctx, forecast.feed_id, forecast.issued_at, raw.sha256)
    write_forecast(forecast, folder)
    feed = ctx.feed(forecast.feed_id)
    body = json.dumps(feed.to_json(forecast), default=_json_default, ensure_ascii=False)
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
