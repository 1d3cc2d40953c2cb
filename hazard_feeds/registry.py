"""Feeds by name: build one from its [feeds.<name>] table, or parse a raw file offline."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agam.core.config_sections import FeedSettings, register_feed_model
from agam.core.errors import ConfigError, FeedError
from agam.core.settings import validate_feed_table
from hazard_feeds.catalog import FEED_KINDS
from hazard_feeds.config import FeedConfig
from hazard_feeds.contract import Feed, HazardForecast, raw_from_file
from hazard_feeds.feed_configs import (
    BmdConfig,
    FfwcConfig,
    FfwcLogsheetConfig,
    GdacsConfig,
    GlofasConfig,
    RasterConfig,
)

FeedFactory = Callable[..., Any]
FEEDS: dict[str, tuple[type[FeedConfig], FeedFactory]] = {}


def register(
    name: str, config_type: type[FeedConfig], factory: FeedFactory, kind: str | None = None
) -> None:
    """Make a feed known by name (its config model validates the [feeds.<name>] table;
    rule sets may read it). `kind`: the forecast kind it produces, for a feed not in the
    catalog."""
    if name in FEEDS:
        raise ValueError(f"feed {name!r} is already registered")
    if name not in FEED_KINDS:
        if kind is None:
            raise ValueError(f"feed {name!r} is not in hazard_feeds.catalog; give its kind")
        FEED_KINDS[name] = kind
    FEEDS[name] = (config_type, factory)
    register_feed_model(name, config_type)


def deferred(module: str, name: str) -> FeedFactory:
    """`module.name`, imported when first called: a feed's parser libraries (xarray,
    rasterio, geopandas, requests) load only in a process that builds that feed."""

    def build(*args: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args)

    build.__qualname__ = f"{module}.{name}"
    return build


for _name, _config, _factory in (
    ("bmd", BmdConfig, deferred("hazard_feeds.bmd", "BmdFeed")),
    ("ffwc", FfwcConfig, deferred("hazard_feeds.ffwc", "FfwcFeed")),
    (
        "ffwc_logsheet",
        FfwcLogsheetConfig,
        deferred("hazard_feeds.ffwc_logsheet", "FfwcLogsheetFeed"),
    ),
    ("gdacs", GdacsConfig, deferred("hazard_feeds.gdacs", "GdacsFeed")),
    ("glofas", GlofasConfig, deferred("hazard_feeds.glofas", "GlofasFeed")),
    ("raster", RasterConfig, deferred("hazard_feeds.raster", "RasterFeed")),
):
    register(_name, _config, _factory)


# Formats `agam feeds parse` reads offline that are not scheduled feeds: name -> parser.
OFFLINE_PARSERS: dict[str, Callable[[], Any]] = {
    "atcf": deferred("hazard_feeds.atcf", "AtcfParser")
}


def feed_names() -> list[str]:
    return sorted(FEEDS)


def parse_names() -> list[str]:
    """What `agam feeds parse` accepts: every feed and the offline-only formats."""
    return sorted(set(FEEDS) | set(OFFLINE_PARSERS))


FeedTable = FeedSettings | Mapping[str, Any] | None


def validate_table(name: str, table: FeedTable) -> FeedConfig:
    """The validated config of [feeds.<name>] (already typed when it comes from Settings);
    ConfigError names feeds.<name>.<key>."""
    if name not in FEEDS:
        raise FeedError(f"unknown feed {name!r}; known: {', '.join(feed_names())}")
    config_type, _ = FEEDS[name]
    if isinstance(table, config_type):
        return table
    if isinstance(table, FeedSettings):
        raise ConfigError(f"[feeds.{name}] holds a {type(table).__name__}")
    try:
        # An absent table means "known but not scheduled" (offline parsing still works).
        config: FeedConfig = validate_feed_table(name, table, Path.cwd())
        return config
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        key = ".".join(str(p) for p in first["loc"]) or "(table)"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"[feeds.{name}.{key}] {first['msg']}{more}") from None


def build_feed(name: str, table: FeedTable) -> Any:
    """Validate a [feeds.<name>] table and build the feed (a `Feed`, with `.config`)."""
    config = validate_table(name, table)
    feed: Feed = FEEDS[name][1](config)
    return feed


def parse_file(name: str, path: Path, table: FeedTable) -> tuple[HazardForecast, Any]:
    """Parse a raw upstream file offline -> (forecast, feed), so callers can print to_json.

    Returns the feed too because `agam feeds parse` needs its `to_json`;
    `parse_file_forecast` gives the HazardForecast alone.
    """
    if name not in parse_names():
        raise FeedError(f"unknown feed {name!r}; known: {', '.join(parse_names())}")
    if name in OFFLINE_PARSERS:
        parser = OFFLINE_PARSERS[name]()
        return parser.parse(raw_from_file(name, path)), parser
    feed = build_feed(name, table)
    return feed.parse(raw_from_file(name, path)), feed


def parse_file_forecast(name: str, path: Path, table: FeedTable) -> HazardForecast:
    forecast, _ = parse_file(name, path, table)
    return forecast
