"""Application wiring from settings: store, union layer, feeds, HTTP, built once per process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from agam.core.settings import Settings
from agam.core.timeutil import utc_now
from boundaries.layer import UnionLayer, load_union_layer
from hazard_feeds.http import HttpClient
from hazard_feeds.registry import build_feed
from store.db import Store
from store.raw_artifacts import RawArtifactStore

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    settings: Settings
    # The clock is injectable so replays and accelerated demos run on scenario time.
    clock: Callable[[], datetime] = field(default=utc_now)
    _feeds: dict[str, Any] = field(default_factory=dict, repr=False)
    _http: dict[str, HttpClient] = field(default_factory=dict, repr=False)

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def store(self) -> Store:
        return Store(self.settings.database_url, self.settings.database.busy_timeout_ms)

    @cached_property
    def raw_store(self) -> RawArtifactStore:
        return RawArtifactStore(self.settings.raw_dir)

    def feed(self, feed_id: str) -> Any:
        """The configured feed object (validated from its [feeds.<id>] table)."""
        if feed_id not in self._feeds:
            feed = build_feed(feed_id, self.settings.feeds.get(feed_id))
            if hasattr(feed, "clock"):  # feeds that pick a run by date read our clock
                feed.clock = self.clock
            self._feeds[feed_id] = feed
        return self._feeds[feed_id]

    def http_for(self, feed_id: str) -> HttpClient:
        """One HTTP session per feed, with that feed's timeouts, retries and size limit."""
        if feed_id not in self._http:
            self._http[feed_id] = HttpClient(self.feed(feed_id).config.http_settings())
        return self._http[feed_id]

    def union_layer(self) -> UnionLayer:
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
