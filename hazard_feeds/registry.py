"""Feeds by name: build one from its [feeds.<name>] table, or parse a raw file offline."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agam.core.errors import ConfigError, FeedError
from agam.core.timeutil import utc_now
from hazard_feeds.bmd import BmdConfig, BmdFeed
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import HazardForecast, RawArtifact
from hazard_feeds.ffwc import FfwcConfig, FfwcFeed
from hazard_feeds.gdacs import GdacsConfig, GdacsFeed
from hazard_feeds.glofas import GlofasConfig, GlofasFeed
from hazard_feeds.raster import RasterConfig, RasterFeed

FEEDS: dict[str, tuple[type[FeedConfig], Callable[[Any], Any]]] = {
    "bmd": (BmdConfig, BmdFeed),
    "ffwc": (FfwcConfig, FfwcFeed),
    "gdacs": (GdacsConfig, GdacsFeed),
    "glofas": (GlofasConfig, GlofasFeed),
    "raster": (RasterConfig, RasterFeed),
}


def feed_names() -> list[str]:
    return sorted(FEEDS)


def build_feed(name: str, table: dict[str, Any] | None) -> Any:
    """Validate a [feeds.<name>] table (ConfigError names the key) and build the feed."""
    if name not in FEEDS:
        raise FeedError(f"unknown feed {name!r}; known: {', '.join(feed_names())}")
    config_type, feed_type = FEEDS[name]
    # An absent table means "known but not scheduled" (offline parsing still works).
    data = dict(table) if table else {"enabled": False}
    try:
        config = config_type.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(table)"
        raise ConfigError(f"[feeds.{name}.{key}] {first['msg']}") from None
    return feed_type(config)


def raw_from_file(name: str, path: Path) -> RawArtifact:
    content = path.read_bytes()
    return RawArtifact(
        name, path.resolve().as_uri(), content, hashlib.sha256(content).hexdigest(), utc_now()
    )


def parse_file(name: str, path: Path, table: dict[str, Any] | None) -> tuple[HazardForecast, Any]:
    """Parse a raw upstream file offline: (forecast, feed) so callers can print to_json."""
    feed = build_feed(name, table)
    return feed.parse(raw_from_file(name, path)), feed
