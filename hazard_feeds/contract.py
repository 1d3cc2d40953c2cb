"""The contract every feed keeps: `fetch` (network only) -> RawArtifact, `parse` (pure) ->
HazardForecast.

HazardForecast layouts (ARCHITECTURE.md "Data model"):
- kind "station_series": `data` is an xarray Dataset with dims (member, valid_time, station)
  and a variable `discharge_m3s` (GloFAS) or `water_level_m` (FFWC, member size 1);
  station metadata as coordinates on `station` (e.g. `danger_level_m`, `lat`, `lon`, `name`).
  Missing values stay NaN and are listed in `quality`, never filled with zeros.
- kind "track": `data` Dataset with dims (model, valid_time) and `lat`, `lon`, `max_wind_kmh`.
- kind "footprint": `footprints` GeoDataFrame (EPSG:4326) with `wind_kmh`, `valid_time`, `kind`.
- kind "grid": `data` Dataset with dims (valid_time, y, x), e.g. `flood_depth_m`, with CRS attrs.
- kind "bulletin": `payload` holds the normalised BMD bulletin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from agam.core.errors import FeedError
from agam.core.timeutil import utc_now
from hazard_feeds.limits import largest_input_bytes

ForecastKind = Literal["station_series", "track", "footprint", "grid", "bulletin"]


@dataclass(frozen=True)
class RawArtifact:
    """Bytes exactly as received from upstream, with how and when they were obtained."""

    feed_id: str
    source_uri: str
    content: bytes
    sha256: str
    fetched_at: datetime
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # True when the server answered 304: `content` is then empty and nothing new is stored.
    not_modified: bool = False
    # Extra files of one logical fetch (e.g. GDACS event list + geometry), name -> bytes.
    parts: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class QualityIssue:
    """A data-quality finding carried with the forecast (missing member, station, timestep)."""

    code: Literal[
        "missing_member", "missing_station", "missing_timestep", "stale", "partial", "repaired"
    ]
    message: str
    subject: str | None = None


@dataclass(frozen=True)
class HazardForecast:
    feed_id: str
    kind: ForecastKind
    issued_at: datetime  # tz-aware UTC: when upstream issued it, not when we fetched it
    data: Any = None  # xarray.Dataset for station_series / track / grid
    footprints: Any = None  # geopandas.GeoDataFrame for footprint
    payload: Mapping[str, Any] = field(default_factory=dict)
    quality: tuple[QualityIssue, ...] = ()
    source_uri: str | None = None
    raw_sha256: str | None = None

    @property
    def complete(self) -> bool:
        return not self.quality


class Feed(Protocol):
    """What the registry holds for each source."""

    feed_id: str

    def fetch(self, http: Any, since: RawArtifact | None) -> RawArtifact: ...

    def parse(self, raw: RawArtifact) -> HazardForecast: ...

    def to_json(self, forecast: HazardForecast) -> dict[str, Any]: ...


def raw_from_file(name: str, path: Path) -> RawArtifact:
    """A local upstream file as a RawArtifact (offline parsing, file:// mirrors, tests); one
    larger than any parser accepts is refused before it is read."""
    limit = largest_input_bytes()
    try:
        size = path.stat().st_size
        if size > limit:
            raise FeedError(f"{name}: {path} is {size:,} bytes, over the {limit:,}-byte limit")
        content = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"{name}: cannot read {path} ({exc.strerror})") from None
    return RawArtifact(
        name, path.resolve().as_uri(), content, hashlib.sha256(content).hexdigest(), utc_now()
    )
