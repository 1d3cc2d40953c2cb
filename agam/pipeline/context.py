"""The application context: settings, clock, store and what is built from them once.

One AppContext per process (the scheduler shares it between its job threads). Its caches
are explicit, bounded and thread-safe: the configured rule sets, the union layer and its
geometry index, and the newest processed forecasts (read back from the processed store,
never re-parsed from raw). `invalidate()` drops them all (e.g. after config or rule-set
files changed); `forget_forecasts()` only the forecasts.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agam.core.settings import Settings
from agam.core.timeutil import utc_now
from hazard_feeds import registry as _feed_registry  # noqa: F401  registers [feeds.*] models

if TYPE_CHECKING:  # the heavy parts are imported when first used (CLI start-up)
    from boundaries.context import LayerUnionContext
    from boundaries.layer import UnionLayer
    from hazard_feeds.contract import HazardForecast
    from hazard_feeds.http import HttpClient
    from store.db import Store
    from store.raw_artifacts import RawArtifactStore
    from triggers.model import RuleSet

log = logging.getLogger(__name__)
FORECAST_CACHE_SIZE = 32  # processed forecasts kept in memory (a few per feed)


def configured_rule_sets(settings: Settings) -> list[RuleSet]:
    """The shipped rule sets plus [triggers] rule_set_files (files or folders, resolved
    against config.toml); where an id comes twice, the newest version is used."""
    from triggers.engine import builtin_rule_set_dir, load_rule_sets, newest_versions

    extra = list(settings.triggers.rule_set_files)
    return newest_versions(load_rule_sets([builtin_rule_set_dir(), *extra]))


class BoundedCache:
    """A small thread-safe LRU map with an explicit `clear()`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: loading may take a while
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class AppContext:
    settings: Settings
    # The clock is injectable so replays and accelerated demos run on scenario time.
    clock: Callable[[], datetime] = field(default=utc_now)
    forecasts: BoundedCache = field(
        default_factory=lambda: BoundedCache(FORECAST_CACHE_SIZE), repr=False
    )
    _feeds: dict[str, Any] = field(default_factory=dict, repr=False)
    _http: dict[str, HttpClient] = field(default_factory=dict, repr=False)
    _built: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._built:
                self._built[key] = make()
            return self._built[key]

    @property
    def store(self) -> Store:
        from store.db import Store

        store: Store = self._once(
            "store",
            lambda: Store(self.settings.database_url, self.settings.database.busy_timeout_ms),
        )
        return store

    @property
    def raw_store(self) -> RawArtifactStore:
        from store.raw_artifacts import RawArtifactStore

        raw: RawArtifactStore = self._once("raw", lambda: RawArtifactStore(self.settings.raw_dir))
        return raw

    @property
    def processed_dir(self) -> Path:
        return self.settings.data_dir / "processed"

    def feed(self, feed_id: str) -> Any:
        """The configured feed object (validated from its [feeds.<id>] table)."""
        from hazard_feeds.registry import build_feed

        with self._lock:
            if feed_id not in self._feeds:
                feed = build_feed(feed_id, self.settings.feeds.get(feed_id))
                if hasattr(feed, "clock"):  # feeds that pick a run by date read our clock
                    feed.clock = self.clock
                self._feeds[feed_id] = feed
            return self._feeds[feed_id]

    def use_feed(self, feed_id: str, feed: Any) -> None:
        """Replace a feed object (replays feed stored artifacts through the pipeline)."""
        with self._lock:
            self._feeds[feed_id] = feed

    def http_for(self, feed_id: str) -> HttpClient:
        """One HTTP session per feed, with that feed's timeouts, retries and size limit."""
        from hazard_feeds.http import HttpClient

        with self._lock:
            if feed_id not in self._http:
                self._http[feed_id] = HttpClient(self.feed(feed_id).config.http_settings())
            return self._http[feed_id]

    def union_layer(self) -> UnionLayer:
        layer: UnionLayer = self._once("layer", self._load_layer)
        return layer

    def union_context(self) -> LayerUnionContext:
        """The union layer as the rules see it (its spatial index built once)."""
        from boundaries.context import LayerUnionContext

        unions: LayerUnionContext = self._once(
            "unions", lambda: LayerUnionContext(self.union_layer())
        )
        return unions

    def rule_sets(self) -> list[RuleSet]:
        sets: list[RuleSet] = self._once("rule_sets", lambda: configured_rule_sets(self.settings))
        return sets

    def cached_forecast(self, key: Any, load: Callable[[], HazardForecast]) -> HazardForecast:
        forecast: HazardForecast = self.forecasts.get(key, load)
        return forecast

    def forget_forecasts(self) -> None:
        self.forecasts.clear()

    def invalidate(self) -> None:
        """Drop every cache except the store (rule sets, union layer, forecasts, feeds)."""
        with self._lock:
            self._built = {k: v for k, v in self._built.items() if k in ("store", "raw")}
            self._feeds.clear()
            self._http.clear()
        self.forecasts.clear()

    def find_union(self, lon: float, lat: float) -> dict[str, Any] | None:
        """The union containing a point. Reads the prepared layer's cache directly when it is
        there (pyarrow and shapely only: a one-shot command starts fast), else loads it."""
        from boundaries.layer_files import (
            cache_paths,
            embedded_path,
            find_in_cache,
            layer_fingerprint,
        )

        b = self.settings.boundaries
        src = embedded_path() if b.source == "embedded" else b.path
        if "layer" not in self._built and src is not None and Path(src).exists():
            data, meta = cache_paths(
                self.settings.cache_dir, layer_fingerprint(Path(src), b.layer, b.repair_invalid)
            )
            if data.exists() and meta.exists():
                try:
                    return find_in_cache(data, lon, lat)
                except Exception as exc:  # a corrupt cache: the full load rebuilds it
                    log.warning("boundary cache %s unreadable (%s); reloading the layer", data, exc)
        return self.union_layer().find(lon, lat)

    def _load_layer(self) -> UnionLayer:
        from boundaries.layer import load_union_layer

        b = self.settings.boundaries
        return load_union_layer(
            source=b.source,
            path=b.path,
            layer=b.layer,
            cache_dir=self.settings.cache_dir,
            repair_invalid=b.repair_invalid,
            parent_min_share=b.parent_containment_min_share,
        )

    def prepare(self) -> dict[str, object]:
        """Create the data dir, migrate the store, prepare the union layer cache; remove
        registry staging left by an import that was killed."""
        from allowances.registry_staging import clean_stale

        for folder in (self.settings.data_dir, self.settings.raw_dir, self.settings.cache_dir):
            folder.mkdir(parents=True, exist_ok=True)
        clean_stale(self.settings.data_dir / "staging")
        self.store.upgrade()
        layer = self.union_layer()
        log.info("prepared data dir %s with %d unions", self.settings.data_dir, len(layer))
        return {"data_dir": str(self.settings.data_dir), "unions": len(layer)}
